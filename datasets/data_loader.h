#pragma once
// DataLoader: turns a Dataset into normalised float batches for training and evaluation.
//
// Determinism and exact resume: the order of epoch e is a permutation seeded by (seed, e), and the
// augmentation of an image by (seed, e, image index). Batch b of epoch e is therefore a pure
// function of (dataset, options, e, b): it does not depend on what was loaded before, on the
// number of threads, or on the batch size (augmentation only), so a run resumed mid-epoch sees
// exactly the batches of an uninterrupted one.
//
// Speed: batches are filled straight from the uint8 storage into one float tensor with plain
// loops and a per-channel 256-entry lookup table (normalisation folded in), in parallel over the
// images of a batch (at::parallel_for). No per-image tensors; the batch buffer is reused whenever
// the caller no longer holds the previous batch.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace nas::datasets {

struct AugmentOptions {
  bool random_crop = false;     // random crop of the native size from the image zero-padded by
  int64_t crop_padding = 4;     // crop_padding pixels on every side (torchvision RandomCrop(32, 4))
  bool horizontal_flip = false; // mirror with probability 1/2
  bool enabled() const { return (random_crop && crop_padding > 0) || horizontal_flip; }
};

struct DataLoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;     // seeded permutation per epoch; false: file order
  bool drop_last = false;  // drop the last partial batch (else it is smaller)
  uint64_t seed = 0;
  AugmentOptions augment;  // off unless set (training() sets the data set's default)
  // Per-channel normalisation, (x / 255 - mean) / std. Empty: the data set's published constants
  // (builtin_dataset_info) for a built-in name, else (an image folder) the statistics of the data
  // itself. One value applies to every channel.
  std::vector<double> mean;
  std::vector<double> std;
  // Output size H = W = resolution; 0 keeps the native size. A larger size zero-pads the image
  // (centred; an odd difference puts the extra row/column at the bottom/right), a smaller one
  // crops its centre. Padding pixels are raw 0 (black), normalised like any other pixel.
  int64_t resolution = 0;
  bool channels_last = false;  // allocate batches in channels-last memory format

  // Shuffled, drop_last, and the data set's default augmentation (crop + flip for CIFAR, none
  // for (Fashion-)MNIST).
  static DataLoaderOptions training(const std::string& dataset_name, int64_t batch_size,
                                    uint64_t seed);
  // File order, no augmentation, every image (last batch may be partial).
  static DataLoaderOptions evaluation(int64_t batch_size);
};

struct Batch {
  at::Tensor images;             // float32 [B, C, H, W], normalised
  at::Tensor labels;             // int64 [B]
  std::vector<int64_t> indices;  // data set index of each image
  int64_t epoch = 0;
  int64_t index = 0;             // batch number within the epoch
  int64_t size() const { return static_cast<int64_t>(indices.size()); }
};

// The random transform applied to one image (exposed for tests and debugging).
struct SampleTransform {
  int64_t offset_y = 0;  // output (y, x) reads source (y + offset_y, x' + offset_x), x' = x or
  int64_t offset_x = 0;  // W_out - 1 - x when flipped; outside the image: raw pixel 0
  bool flip = false;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> data, DataLoaderOptions options);
  DataLoader(Dataset data, DataLoaderOptions options);

  const Dataset& dataset() const { return *data_; }
  const DataLoaderOptions& options() const { return options_; }
  // Normalisation in use (one entry per channel).
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& std() const { return std_; }
  int64_t channels() const { return data_->channels(); }
  int64_t height() const { return out_h_; }
  int64_t width() const { return out_w_; }

  int64_t num_batches() const;
  // Images per epoch (fewer than dataset().size() with drop_last).
  int64_t images_per_epoch() const;

  // Data set indices in the order of epoch `epoch` (shuffled or file order).
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  SampleTransform sample_transform(int64_t epoch, int64_t index) const;

  // One epoch: holds its order (computed once) and the reusable batch buffers. Must not outlive
  // the DataLoader. Iterate with `for (Batch& b : loader.epoch(e))`, or index batch(b) directly
  // (any order; resume with loader.epoch(e, first_batch)).
  class Epoch {
   public:
    int64_t epoch() const { return epoch_; }
    int64_t num_batches() const { return loader_->num_batches(); }
    const std::vector<int64_t>& order() const { return order_; }
    Batch batch(int64_t b);

    class iterator {
     public:
      iterator(Epoch* epoch, int64_t b) : epoch_(epoch), b_(b) {}
      Batch& operator*();
      iterator& operator++();
      bool operator!=(const iterator& other) const { return b_ != other.b_; }
      bool operator==(const iterator& other) const { return b_ == other.b_; }

     private:
      Epoch* epoch_;
      int64_t b_;
      Batch current_;
      bool loaded_ = false;
    };
    iterator begin() { return iterator(this, first_batch_); }
    iterator end() { return iterator(this, num_batches()); }

   private:
    friend class DataLoader;
    Epoch(const DataLoader* loader, int64_t epoch, int64_t first_batch);
    const DataLoader* loader_;
    int64_t epoch_;
    int64_t first_batch_;
    std::vector<int64_t> order_;
    at::Tensor images_buffer_;
    at::Tensor labels_buffer_;
  };

  Epoch epoch(int64_t epoch, int64_t first_batch = 0) const;
  // Batch b of epoch e in one call (computes the epoch order: O(dataset size)).
  Batch batch(int64_t epoch, int64_t b) const;
  // The given images (any indices, any count), transformed as in epoch `epoch`.
  Batch load(const std::vector<int64_t>& indices, int64_t epoch = 0) const;

  // Writes the transformed images `indices` of epoch `epoch` into `images` (float32
  // [n, C, H, W] of this loader's output shape, any strides) and their labels into `labels`
  // (int64 [n], contiguous).
  void fill(int64_t epoch, const int64_t* indices, int64_t n, const at::Tensor& images,
            const at::Tensor& labels) const;

 private:
  void init();
  at::Tensor new_images(int64_t n) const;

  std::shared_ptr<const Dataset> data_;
  DataLoaderOptions options_;
  std::vector<double> mean_;
  std::vector<double> std_;
  std::vector<float> lut_;  // channels x 256: normalised value of every raw pixel value
  int64_t out_h_ = 0;
  int64_t out_w_ = 0;
  int64_t origin_y_ = 0;  // where the image's top-left pixel sits in the output canvas
  int64_t origin_x_ = 0;
};

// Top-1 of a classifier over every image of `loader` (one epoch-0 pass): logits_of(images on
// `device`) -> [B, classes]. The caller sets eval mode and disables autograd.
struct Top1Count {
  int64_t correct = 0, total = 0;
  double percent() const {
    return total > 0 ? 100.0 * static_cast<double>(correct) / static_cast<double>(total) : 0.0;
  }
};
Top1Count count_top1(const DataLoader& loader, const at::Device& device,
                     const std::function<at::Tensor(const at::Tensor&)>& logits_of);

}  // namespace nas::datasets
