#include "predictors/accuracy_predictor.h"

#include <torch/optim/adam.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/atomic_file.h"
#include "core/checked_math.h"
#include "core/error.h"
#include "core/sealed_file.h"
#include "core/fnv1a.h"
#include "core/rng.h"
#include "predictors/ranking_stats.h"

namespace nas {

namespace {

constexpr char kMagic[8] = {'N', 'A', 'S', 'P', 'R', 'E', 'D', '1'};
constexpr const char* kFormat = "nas-accuracy-predictor";
// Bounds on untrusted files: a 3 x 400 MLP on the largest sane encoding is a few MB.
constexpr uint64_t kMaxPredictorFileBytes = uint64_t{256} << 20;
constexpr int64_t kMaxLayerSize = 1 << 16;
constexpr size_t kMaxLayers = 16;

torch::Tensor encodings_tensor(const std::vector<std::vector<float>>& encodings, int64_t width) {
  const auto rows = static_cast<int64_t>(encodings.size());
  torch::Tensor x = torch::empty({rows, width}, torch::kFloat32);
  float* data = x.data_ptr<float>();
  for (int64_t i = 0; i < rows; ++i) {
    const auto& e = encodings[static_cast<size_t>(i)];
    NAS_CHECK(static_cast<int64_t>(e.size()) == width,
              "accuracy predictor: encoding of length " << e.size() << ", expected " << width);
    std::memcpy(data + i * width, e.data(), sizeof(float) * static_cast<size_t>(width));
  }
  return x;
}

}  // namespace

struct AccuracyPredictor::Impl {
  ArchSpace space;
  std::vector<int64_t> layer_sizes;           // input, hidden..., 1
  std::vector<torch::Tensor> weights, biases;  // per linear layer: [out, in], [out]
  json meta = json::object();
  std::string file;

  torch::Tensor forward(torch::Tensor x) const {
    for (size_t l = 0; l < weights.size(); ++l) {
      x = torch::addmm(biases[l], x, weights[l].t());
      if (l + 1 < weights.size()) x = torch::relu(x);
    }
    return x.squeeze(1);
  }

  std::vector<double> predict(const std::vector<std::vector<float>>& encodings) const {
    if (encodings.empty()) return {};
    torch::NoGradGuard no_grad;
    const torch::Tensor y = forward(encodings_tensor(encodings, layer_sizes.front())).clamp(0.0, 1.0).contiguous();
    const float* p = y.data_ptr<float>();
    return std::vector<double>(p, p + y.numel());
  }
};

void PredictorTrainOptions::validate() const {
  NAS_CHECK(hidden_size >= 1 && hidden_size <= kMaxLayerSize, "predictor: hidden size must be in [1, " << kMaxLayerSize << "]");
  NAS_CHECK(hidden_layers >= 1 && hidden_layers <= 8, "predictor: hidden layers must be in [1, 8]");
  NAS_CHECK(std::isfinite(lr) && lr > 0 && lr <= 1, "predictor: learning rate must be in (0, 1]");
  NAS_CHECK(epochs >= 1 && epochs <= 100000, "predictor: epochs must be in [1, 100000]");
  NAS_CHECK(batch_size >= 1 && batch_size <= 65536, "predictor: batch size must be in [1, 65536]");
  NAS_CHECK(std::isfinite(weight_decay) && weight_decay >= 0 && weight_decay < 1,
            "predictor: weight decay must be in [0, 1)");
}

json PredictorTrainOptions::to_json() const {
  return {{"hidden_size", hidden_size}, {"hidden_layers", hidden_layers}, {"lr", lr},       {"epochs", epochs},
          {"batch_size", batch_size},   {"weight_decay", weight_decay},   {"seed", seed}};
}

json PredictorEvaluation::to_json() const {
  return {{"count", count},
          {"rmse_top1", rmse_top1},
          {"kendall_tau", kendall_tau},
          {"baselines",
           {{"macs_kendall_tau", macs_kendall_tau},
            {"energy_kendall_tau", energy_kendall_tau},
            {"params_kendall_tau", params_kendall_tau}}}};
}

AccuracyPredictor::AccuracyPredictor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AccuracyPredictor::AccuracyPredictor(AccuracyPredictor&&) noexcept = default;
AccuracyPredictor& AccuracyPredictor::operator=(AccuracyPredictor&&) noexcept = default;
AccuracyPredictor::~AccuracyPredictor() = default;

const ArchSpace& AccuracyPredictor::space() const { return impl_->space; }
json& AccuracyPredictor::meta() { return impl_->meta; }
const json& AccuracyPredictor::meta() const { return impl_->meta; }

void AccuracyPredictor::check_space(const ArchSpace& space, const std::string& where) const {
  const std::string mine = impl_->space.fingerprint(), theirs = space.fingerprint();
  NAS_CHECK(mine == theirs, where << ": the predictor was trained for space " << mine << ", not " << theirs
                                  << " (train one on a data set of this space)");
}

AccuracyPredictor AccuracyPredictor::train(const ArchSpace& space, const std::vector<AccuracyRecord>& train,
                                           const std::vector<AccuracyRecord>& val,
                                           const PredictorTrainOptions& options,
                                           const PredictorEpochCallback& on_epoch) {
  options.validate();
  NAS_CHECK(train.size() >= 2, "predictor: at least 2 training records are needed, got " << train.size());
  auto impl = std::make_unique<Impl>();
  impl->space = space;
  const auto width = static_cast<int64_t>(space.encoding_size());
  impl->layer_sizes.push_back(width);
  for (int l = 0; l < options.hidden_layers; ++l) impl->layer_sizes.push_back(options.hidden_size);
  impl->layer_sizes.push_back(1);

  auto stack = [&](const std::vector<AccuracyRecord>& records, torch::Tensor& x, torch::Tensor& y) {
    std::vector<std::vector<float>> enc;
    std::vector<float> targets;
    for (const AccuracyRecord& r : records) {
      enc.push_back(space.encode(r.arch));
      targets.push_back(static_cast<float>(r.val_top1 / 100.0));
    }
    x = encodings_tensor(enc, width);
    y = torch::tensor(targets, torch::kFloat32);
  };
  torch::Tensor x_train, y_train, x_val, y_val;
  stack(train, x_train, y_train);
  if (!val.empty()) stack(val, x_val, y_val);

  // PyTorch's nn.Linear initialisation (uniform, bound 1/sqrt(fan_in)), drawn from our own seeded
  // stream so that a predictor does not depend on LibTorch's global generator.
  Rng rng(options.seed);
  for (size_t l = 0; l + 1 < impl->layer_sizes.size(); ++l) {
    const int64_t in = impl->layer_sizes[l], out = impl->layer_sizes[l + 1];
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    auto uniform = [&](int64_t n) {
      std::vector<float> v(static_cast<size_t>(n));
      for (float& e : v) e = static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
      return v;
    };
    impl->weights.push_back(torch::tensor(uniform(out * in), torch::kFloat32).reshape({out, in}).set_requires_grad(true));
    impl->biases.push_back(torch::tensor(uniform(out), torch::kFloat32).set_requires_grad(true));
  }
  {
    torch::NoGradGuard no_grad;
    impl->biases.back().fill_(y_train.mean().item<float>());  // OFA: start at the mean accuracy
  }
  std::vector<torch::Tensor> params;
  for (size_t l = 0; l < impl->weights.size(); ++l) {
    params.push_back(impl->weights[l]);
    params.push_back(impl->biases[l]);
  }
  torch::optim::Adam adam(params, torch::optim::AdamOptions(options.lr).weight_decay(options.weight_decay));

  auto val_rmse_top1 = [&]() -> double {
    if (val.empty()) return std::numeric_limits<double>::quiet_NaN();
    torch::NoGradGuard no_grad;
    const torch::Tensor p = impl->forward(x_val).clamp(0.0, 1.0);
    return 100.0 * std::sqrt((p - y_val).pow(2).mean().item<double>());
  };
  double best_val = std::numeric_limits<double>::infinity();
  int best_epoch = 0;
  std::vector<torch::Tensor> best;
  const auto n = static_cast<int64_t>(train.size());
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    rng.shuffle(order);
    const torch::Tensor perm = torch::tensor(order, torch::kInt64);
    double loss_sum = 0;
    for (int64_t start = 0; start < n; start += options.batch_size) {
      const torch::Tensor idx = perm.slice(0, start, std::min(n, start + options.batch_size));
      const torch::Tensor loss = (impl->forward(x_train.index_select(0, idx)) - y_train.index_select(0, idx)).pow(2).mean();
      adam.zero_grad();
      loss.backward();
      adam.step();
      loss_sum += loss.item<double>() * static_cast<double>(idx.size(0));
    }
    const double v = val_rmse_top1();
    if (!val.empty() && v < best_val) {
      best_val = v;
      best_epoch = epoch;
      best.clear();
      for (const torch::Tensor& p : params) best.push_back(p.detach().clone());
    }
    if (on_epoch) on_epoch(epoch, loss_sum / static_cast<double>(n), v);
  }
  torch::NoGradGuard no_grad;
  if (!best.empty())
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  for (auto* list : {&impl->weights, &impl->biases})
    for (torch::Tensor& t : *list) t = t.detach().contiguous();
  impl->meta["train_options"] = options.to_json();
  impl->meta["train_records"] = train.size();
  impl->meta["val_records"] = val.size();
  if (!val.empty()) {
    impl->meta["best_epoch"] = best_epoch;
    impl->meta["val_rmse_top1"] = best_val;
  }
  return AccuracyPredictor(std::move(impl));
}

std::vector<double> AccuracyPredictor::predict_encodings(const std::vector<std::vector<float>>& encodings) const {
  return impl_->predict(encodings);
}

std::vector<double> AccuracyPredictor::predict(const std::vector<ArchConfig>& archs) const {
  std::vector<std::vector<float>> encodings;
  encodings.reserve(archs.size());
  for (size_t i = 0; i < archs.size(); ++i) {
    const std::string why = impl_->space.violation(archs[i]);
    NAS_CHECK(why.empty(), "accuracy predictor: architecture " << i << " is not in the predictor's space: " << why);
    encodings.push_back(impl_->space.encode(archs[i]));
  }
  return impl_->predict(encodings);
}

json AccuracyPredictor::describe() const {
  // The weights' checksum tells two predictors of one space apart (a resumed search refuses a
  // state made with another predictor).
  std::string weight_bytes;
  for (auto* list : {&impl_->weights, &impl_->biases})
    for (const torch::Tensor& t : *list)
      weight_bytes.append(reinterpret_cast<const char*>(t.data_ptr<float>()), sizeof(float) * static_cast<size_t>(t.numel()));
  json d = {{"fingerprint", impl_->space.fingerprint()},
            {"layer_sizes", impl_->layer_sizes},
            {"weights_checksum", fnv1a64_text(weight_bytes)}};
  if (!impl_->file.empty()) d["file"] = impl_->file;
  const json& m = impl_->meta;
  if (m.contains("holdout") && m["holdout"].is_object()) {
    d["kendall_tau"] = m["holdout"].value("kendall_tau", json());
    d["rmse_top1"] = m["holdout"].value("rmse_top1", json());
  }
  return d;
}

std::string AccuracyPredictor::to_bytes() const {
  json header;
  header["format"] = kFormat;
  header["format_version"] = kAccuracyPredictorFormatVersion;
  header["space"] = impl_->space.to_json();
  header["space_fingerprint"] = impl_->space.fingerprint();
  header["layer_sizes"] = impl_->layer_sizes;
  header["meta"] = impl_->meta;
  std::string data;
  json tensors = json::array();
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    const size_t nbytes = sizeof(float) * static_cast<size_t>(c.numel());
    tensors.push_back({{"name", name}, {"shape", c.sizes().vec()}, {"offset", data.size()}, {"nbytes", nbytes}});
    data.append(reinterpret_cast<const char*>(c.data_ptr<float>()), nbytes);
  };
  for (size_t l = 0; l < impl_->weights.size(); ++l) {
    add("layer" + std::to_string(l) + ".weight", impl_->weights[l]);
    add("layer" + std::to_string(l) + ".bias", impl_->biases[l]);
  }
  header["tensors"] = tensors;
  return seal(std::string_view(kMagic, sizeof kMagic), header.dump(), data);
}

void AccuracyPredictor::save(const std::string& path) const { write_file_atomic(path, to_bytes()); }

AccuracyPredictor AccuracyPredictor::load(const std::string& path) {
  const std::string& where = path;
  const std::string bytes = read_file(path, kMaxPredictorFileBytes);
  const SealedFile sealed =
      open_sealed(bytes, std::string_view(kMagic, sizeof kMagic), where, "an accuracy predictor", "nas_train_predictor");
  const json& header = sealed.header;
  NAS_CHECK(header.is_object() && header.contains("format") && header["format"] == kFormat, where << ": header does not describe a " << kFormat);
  const int64_t version = json_int(header, "format_version", where);
  NAS_CHECK(version != 1, where << ": format_version 1, written by an earlier build whose checksum used a "
                                   "non-standard FNV-1a basis; train the predictor again (nas_train_predictor)");
  NAS_CHECK(version == kAccuracyPredictorFormatVersion,
            where << ": format_version " << version << " (this build reads " << kAccuracyPredictorFormatVersion << ")");
  NAS_CHECK(!sealed.legacy_checksum, where << ": checksum mismatch: the file is corrupt or truncated");
  auto impl = std::make_unique<Impl>();
  impl->file = path;
  NAS_CHECK(header.contains("space"), where << ": field 'space' is missing");
  impl->space = ArchSpace::from_json(header["space"], where + ": space");
  NAS_CHECK(json_string(header, "space_fingerprint", where) == impl->space.fingerprint(),
            where << ": space_fingerprint does not match the space");
  NAS_CHECK(header.contains("layer_sizes") && header["layer_sizes"].is_array() && header["layer_sizes"].size() >= 2 &&
                header["layer_sizes"].size() <= kMaxLayers,
            where << ": layer_sizes must be an array of 2.." << kMaxLayers << " sizes");
  for (const json& s : header["layer_sizes"]) {
    NAS_CHECK(s.is_number_integer() && s.get<int64_t>() >= 1 && s.get<int64_t>() <= kMaxLayerSize,
              where << ": layer_sizes entries must be integers in [1, " << kMaxLayerSize << "]");
    impl->layer_sizes.push_back(s.get<int64_t>());
  }
  NAS_CHECK(impl->layer_sizes.front() == static_cast<int64_t>(impl->space.encoding_size()) &&
                impl->layer_sizes.back() == 1,
            where << ": layer_sizes do not fit the space's encoding (" << impl->space.encoding_size() << " -> ... -> 1)");
  if (header.contains("meta")) impl->meta = header["meta"];
  NAS_CHECK(header.contains("tensors") && header["tensors"].is_array() &&
                header["tensors"].size() == 2 * (impl->layer_sizes.size() - 1),
            where << ": tensors must list a weight and a bias per layer");
  const uint64_t data_bytes = sealed.data.size();
  size_t i = 0;
  for (size_t l = 0; l + 1 < impl->layer_sizes.size(); ++l) {
    for (const bool is_weight : {true, false}) {
      const json& e = header["tensors"][i++];
      const std::string name = "layer" + std::to_string(l) + (is_weight ? ".weight" : ".bias");
      const std::string w = where + ": tensor " + name;
      NAS_CHECK(e.is_object() && json_string(e, "name", w) == name, w << ": missing or out of order");
      const std::vector<int64_t> shape = is_weight ? std::vector<int64_t>{impl->layer_sizes[l + 1], impl->layer_sizes[l]}
                                                   : std::vector<int64_t>{impl->layer_sizes[l + 1]};
      NAS_CHECK(e.contains("shape") && e["shape"] == json(shape), w << ": shape does not match layer_sizes");
      const auto elements = checked_product({shape.front(), shape.size() > 1 ? shape[1] : 1, int64_t{4}});
      NAS_CHECK(elements.has_value(), w << ": size overflows");
      const int64_t offset = json_int(e, "offset", w), nbytes = json_int(e, "nbytes", w);
      NAS_CHECK(nbytes == *elements && offset >= 0 && static_cast<uint64_t>(offset) <= data_bytes &&
                    static_cast<uint64_t>(nbytes) <= data_bytes - static_cast<uint64_t>(offset),
                w << ": bytes out of range");
      torch::Tensor t = torch::empty(shape, torch::kFloat32);
      std::memcpy(t.data_ptr<float>(), sealed.data.data() + offset, static_cast<size_t>(nbytes));
      NAS_CHECK(torch::isfinite(t).all().item<bool>(), w << ": not finite");
      (is_weight ? impl->weights : impl->biases).push_back(t);
    }
  }
  return AccuracyPredictor(std::move(impl));
}

PredictorEvaluation evaluate_predictor(const AccuracyPredictor& predictor, const std::vector<AccuracyRecord>& records) {
  NAS_CHECK(!records.empty(), "evaluate_predictor: no records");
  std::vector<ArchConfig> archs;
  std::vector<double> measured, macs, energy, params;
  for (const AccuracyRecord& r : records) {
    archs.push_back(r.arch);
    measured.push_back(r.val_top1);
    macs.push_back(static_cast<double>(r.macs));
    energy.push_back(r.energy_mj);
    params.push_back(static_cast<double>(r.params));
  }
  std::vector<double> predicted = predictor.predict(archs);
  for (double& p : predicted) p *= 100.0;
  PredictorEvaluation e;
  e.count = static_cast<int64_t>(records.size());
  e.rmse_top1 = rmse(predicted, measured);
  e.kendall_tau = kendall_tau(predicted, measured);
  e.macs_kendall_tau = kendall_tau(macs, measured);
  e.energy_kendall_tau = kendall_tau(energy, measured);
  e.params_kendall_tau = kendall_tau(params, measured);
  return e;
}

}  // namespace nas
