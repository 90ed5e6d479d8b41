#include "datasets/data_loader.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/dataset_info.h"

namespace nas::datasets {

namespace {

// splitmix64 finaliser: a well-mixed, portable hash for counter-based randomness.
uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

uint64_t hash3(uint64_t a, uint64_t b, uint64_t c) { return mix64(mix64(mix64(a) ^ b) ^ c); }

constexpr uint64_t kShuffleStream = 0x73687566666C65ULL;  // "shuffle"
constexpr uint64_t kAugmentStream = 0x6175676D656E74ULL;  // "augment"

// Uniform integer in [0, n) from 32 random bits (multiply-shift; bias below 2^-27 for small n).
int64_t draw(uint64_t bits32, int64_t n) {
  return static_cast<int64_t>(((bits32 & 0xFFFFFFFFULL) * static_cast<uint64_t>(n)) >> 32);
}

std::vector<double> broadcast(const std::vector<double>& v, int64_t channels, const char* what,
                              const std::string& name) {
  NAS_CHECK(v.size() == 1 || static_cast<int64_t>(v.size()) == channels,
            name << ": normalisation " << what << " has " << v.size() << " values for "
                 << channels << " channels");
  return v.size() == 1 ? std::vector<double>(static_cast<size_t>(channels), v[0]) : v;
}

}  // namespace

DataLoaderOptions DataLoaderOptions::training(const std::string& dataset_name, int64_t batch_size,
                                              uint64_t seed) {
  DataLoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = true;
  o.drop_last = true;
  o.seed = seed;
  const DatasetInfo* info = builtin_dataset_info(dataset_name);
  const bool augment = info != nullptr && info->augment_by_default;
  o.augment.random_crop = augment;
  o.augment.horizontal_flip = augment;
  return o;
}

DataLoaderOptions DataLoaderOptions::evaluation(int64_t batch_size) {
  DataLoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = false;
  o.drop_last = false;
  return o;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> data, DataLoaderOptions options)
    : data_(std::move(data)), options_(std::move(options)) {
  init();
}

DataLoader::DataLoader(Dataset data, DataLoaderOptions options)
    : data_(std::make_shared<const Dataset>(std::move(data))), options_(std::move(options)) {
  init();
}

void DataLoader::init() {
  NAS_CHECK(data_ != nullptr, "DataLoader: no data set");
  const Dataset& d = *data_;
  NAS_CHECK(!d.empty(), d.name() << ": DataLoader over an empty data set");
  NAS_CHECK(options_.batch_size > 0, d.name() << ": batch size must be positive, got "
                                              << options_.batch_size);
  NAS_CHECK(options_.augment.crop_padding >= 0,
            d.name() << ": crop padding must be >= 0, got " << options_.augment.crop_padding);
  NAS_CHECK(options_.resolution >= 0,
            d.name() << ": resolution must be >= 0, got " << options_.resolution);
  NAS_CHECK(!options_.drop_last || d.size() >= options_.batch_size,
            d.name() << ": " << d.size() << " images make no full batch of " << options_.batch_size
                     << " (drop_last is on)");

  // Normalisation constants.
  std::vector<double> mean = options_.mean, std = options_.std;
  NAS_CHECK(mean.empty() == std.empty(),
            d.name() << ": give both normalisation mean and std, or neither");
  if (mean.empty()) {
    const DatasetInfo* info = builtin_dataset_info(d.name());
    if (info != nullptr && info->channels == d.channels()) {
      mean = info->mean;
      std = info->std;
    } else {
      const ChannelStats stats = compute_channel_stats(d);
      mean = stats.mean;
      std = stats.std;
      for (double& s : std) s = s > 0 ? s : 1.0;  // constant channel: centre only
    }
  }
  mean_ = broadcast(mean, d.channels(), "mean", d.name());
  std_ = broadcast(std, d.channels(), "std", d.name());
  lut_.resize(static_cast<size_t>(d.channels() * 256));
  for (int64_t c = 0; c < d.channels(); ++c) {
    NAS_CHECK(std_[c] > 0, d.name() << ": normalisation std of channel " << c
                                    << " must be positive, got " << std_[c]);
    for (int v = 0; v < 256; ++v) {
      lut_[static_cast<size_t>(c * 256 + v)] =
          static_cast<float>((v / 255.0 - mean_[c]) / std_[c]);
    }
  }

  out_h_ = options_.resolution > 0 ? options_.resolution : d.height();
  out_w_ = options_.resolution > 0 ? options_.resolution : d.width();
  // Floor division (centred; an odd surplus goes to the bottom/right, an odd deficit is cut there).
  auto half = [](int64_t diff) { return diff >= 0 ? diff / 2 : -((-diff + 1) / 2); };
  origin_y_ = half(out_h_ - d.height());
  origin_x_ = half(out_w_ - d.width());
}

int64_t DataLoader::images_per_epoch() const {
  const int64_t n = data_->size();
  return options_.drop_last ? n - n % options_.batch_size : n;
}

int64_t DataLoader::num_batches() const {
  return (images_per_epoch() + options_.batch_size - 1) / options_.batch_size;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  NAS_CHECK(epoch >= 0, "epoch must be >= 0, got " << epoch);
  if (options_.shuffle) {
    return seeded_permutation(data_->size(),
                              hash3(options_.seed, kShuffleStream, static_cast<uint64_t>(epoch)));
  }
  std::vector<int64_t> order(static_cast<size_t>(data_->size()));
  for (int64_t i = 0; i < data_->size(); ++i) order[static_cast<size_t>(i)] = i;
  return order;
}

SampleTransform DataLoader::sample_transform(int64_t epoch, int64_t index) const {
  SampleTransform t;
  t.offset_y = -origin_y_;
  t.offset_x = -origin_x_;
  const AugmentOptions& a = options_.augment;
  if (!a.enabled()) return t;
  const uint64_t h = hash3(options_.seed ^ kAugmentStream, static_cast<uint64_t>(epoch),
                           static_cast<uint64_t>(index));
  if (a.random_crop && a.crop_padding > 0) {
    const int64_t p = a.crop_padding;
    t.offset_y += draw(h, 2 * p + 1) - p;
    t.offset_x += draw(h >> 32, 2 * p + 1) - p;
  }
  if (a.horizontal_flip) t.flip = (mix64(h) >> 63) != 0;
  return t;
}

at::Tensor DataLoader::new_images(int64_t n) const {
  auto opts = at::TensorOptions().dtype(at::kFloat);
  if (options_.channels_last) opts = opts.memory_format(at::MemoryFormat::ChannelsLast);
  return at::empty({n, data_->channels(), out_h_, out_w_}, opts);
}

void DataLoader::fill(int64_t epoch, const int64_t* indices, int64_t n, const at::Tensor& images,
                      const at::Tensor& labels) const {
  const Dataset& d = *data_;
  TORCH_CHECK(images.scalar_type() == at::kFloat && images.dim() == 4 && images.size(0) == n &&
                  images.size(1) == d.channels() && images.size(2) == out_h_ &&
                  images.size(3) == out_w_ && images.device().is_cpu(),
              "DataLoader::fill: images must be a CPU float32 tensor of shape [", n, ", ",
              d.channels(), ", ", out_h_, ", ", out_w_, "], got ", images.sizes());
  TORCH_CHECK(labels.scalar_type() == at::kLong && labels.dim() == 1 && labels.size(0) == n &&
                  labels.is_contiguous() && labels.device().is_cpu(),
              "DataLoader::fill: labels must be a contiguous CPU int64 tensor of size ", n);
  for (int64_t k = 0; k < n; ++k) {
    NAS_CHECK(indices[k] >= 0 && indices[k] < d.size(),
              d.name() << ": image index " << indices[k] << " is outside [0, " << d.size() << ")");
  }
  float* out = images.data_ptr<float>();
  int64_t* out_labels = labels.data_ptr<int64_t>();
  const int64_t sn = images.stride(0), sc = images.stride(1), sy = images.stride(2),
                sx = images.stride(3);
  const int64_t C = d.channels(), H = d.height(), W = d.width(), OH = out_h_, OW = out_w_;
  const float* lut = lut_.data();

  auto fill_one = [&](int64_t k) {
    const int64_t i = indices[k];
    out_labels[k] = d.label(i);
    const SampleTransform t = sample_transform(epoch, i);
    // Output columns [x0, x1) read the image; the rest are padding. Source column of x:
    //   unflipped: x + offset_x;  flipped: (OW - 1 - x) + offset_x.
    int64_t x0, x1;
    if (!t.flip) {
      x0 = std::max<int64_t>(0, -t.offset_x);
      x1 = std::min<int64_t>(OW, W - t.offset_x);
    } else {
      x0 = std::max<int64_t>(0, OW + t.offset_x - W);
      x1 = std::min<int64_t>(OW, OW + t.offset_x);
    }
    x1 = std::max(x0, x1);
    const uint8_t* src = d.image(i);
    float* dst_image = out + k * sn;
    for (int64_t c = 0; c < C; ++c) {
      const float* table = lut + c * 256;
      const float pad = table[0];
      for (int64_t y = 0; y < OH; ++y) {
        float* dst = dst_image + c * sc + y * sy;
        const int64_t src_y = y + t.offset_y;
        if (src_y < 0 || src_y >= H) {
          for (int64_t x = 0; x < OW; ++x) dst[x * sx] = pad;
          continue;
        }
        const uint8_t* row = src + (c * H + src_y) * W;
        for (int64_t x = 0; x < x0; ++x) dst[x * sx] = pad;
        if (!t.flip) {
          const uint8_t* p = row + t.offset_x;
          if (sx == 1) {
            for (int64_t x = x0; x < x1; ++x) dst[x] = table[p[x]];
          } else {
            for (int64_t x = x0; x < x1; ++x) dst[x * sx] = table[p[x]];
          }
        } else {
          const uint8_t* p = row + (OW - 1 + t.offset_x);
          for (int64_t x = x0; x < x1; ++x) dst[x * sx] = table[*(p - x)];
        }
        for (int64_t x = x1; x < OW; ++x) dst[x * sx] = pad;
      }
    }
  };
  // Per-image work is independent and its randomness is keyed by the image, so the result is the
  // same for any thread count.
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) fill_one(k);
  });
}

DataLoader::Epoch DataLoader::epoch(int64_t epoch, int64_t first_batch) const {
  return Epoch(this, epoch, first_batch);
}

Batch DataLoader::batch(int64_t epoch, int64_t b) const { return this->epoch(epoch).batch(b); }

Batch DataLoader::load(const std::vector<int64_t>& indices, int64_t epoch) const {
  NAS_CHECK(epoch >= 0, "epoch must be >= 0, got " << epoch);
  Batch batch;
  const int64_t n = static_cast<int64_t>(indices.size());
  batch.images = new_images(n);
  batch.labels = at::empty({n}, at::TensorOptions().dtype(at::kLong));
  batch.indices = indices;
  batch.epoch = epoch;
  fill(epoch, indices.data(), n, batch.images, batch.labels);
  return batch;
}

DataLoader::Epoch::Epoch(const DataLoader* loader, int64_t epoch, int64_t first_batch)
    : loader_(loader), epoch_(epoch), first_batch_(first_batch), order_(loader->epoch_order(epoch)) {
  NAS_CHECK(first_batch >= 0 && first_batch <= loader->num_batches(),
            "first batch " << first_batch << " is outside [0, " << loader->num_batches() << "]");
}

Batch DataLoader::Epoch::batch(int64_t b) {
  const int64_t batches = num_batches();
  NAS_CHECK(b >= 0 && b < batches, "batch " << b << " is outside [0, " << batches << ") of epoch "
                                            << epoch_);
  const int64_t bs = loader_->options_.batch_size;
  const int64_t start = b * bs;
  const int64_t n = std::min(bs, loader_->images_per_epoch() - start);
  // Reuse the buffers only when nobody else holds them (nor a view of them): a batch the caller
  // kept (or that autograd saved) is never overwritten.
  auto reusable = [](const at::Tensor& t) {
    return t.defined() && t.use_count() == 1 && t.storage().use_count() == 1;
  };
  if (!reusable(images_buffer_)) images_buffer_ = loader_->new_images(bs);
  if (!reusable(labels_buffer_)) labels_buffer_ = at::empty({bs}, at::TensorOptions().dtype(at::kLong));
  Batch batch;
  batch.images = n == bs ? images_buffer_ : images_buffer_.narrow(0, 0, n);
  batch.labels = n == bs ? labels_buffer_ : labels_buffer_.narrow(0, 0, n);
  batch.indices.assign(order_.begin() + start, order_.begin() + start + n);
  batch.epoch = epoch_;
  batch.index = b;
  loader_->fill(epoch_, batch.indices.data(), n, batch.images, batch.labels);
  return batch;
}

Batch& DataLoader::Epoch::iterator::operator*() {
  if (!loaded_) {
    current_ = Batch();  // release the previous batch first so that its buffer can be reused
    current_ = epoch_->batch(b_);
    loaded_ = true;
  }
  return current_;
}

DataLoader::Epoch::iterator& DataLoader::Epoch::iterator::operator++() {
  ++b_;
  current_ = Batch();
  loaded_ = false;
  return *this;
}

Top1Count count_top1(const DataLoader& loader, const at::Device& device,
                     const std::function<at::Tensor(const at::Tensor&)>& logits_of) {
  Top1Count count;
  for (Batch& batch : loader.epoch(0)) {
    count.correct += logits_of(batch.images.to(device)).argmax(1).eq(batch.labels.to(device)).sum().item<int64_t>();
    count.total += batch.size();
  }
  return count;
}

}  // namespace nas::datasets

