#pragma once
// AccuracyPredictor: OFA's accuracy predictor, an MLP on ArchSpace::encode (3 hidden layers of
// 400, ReLU, Adam 1e-3, MSE on targets in [0, 1] = val_top1 / 100, output bias initialised to
// the targets' mean), learnt from an accuracy data set (predictors/accuracy_dataset.h). It is the
// search's AccuracyScorer. LibTorch lives in the .cc only (target nas_accuracy_predictor).
//
// File format (one file, little endian):
//   8 bytes  magic "NASPRED1"
//   u64      header length H
//   H bytes  header JSON: {"format": "nas-accuracy-predictor", "format_version": 1,
//            "space": ArchSpace JSON, "space_fingerprint", "layer_sizes": [in, 400, 400, 400, 1],
//            "meta": {...training report...}, "tensors": [{"name", "shape", "offset", "nbytes"}]}
//   data     float32 weights and biases, at the offsets above
//   u64      FNV-1a 64 checksum of everything before it
// load() checks all of it (bounded sizes, overflow-checked arithmetic) with one-line errors
// naming the file; a predictor used with another space is an error naming both fingerprints.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/accuracy_scorer.h"
#include "search_space/arch_space.h"

namespace nas {

constexpr int kAccuracyPredictorFormatVersion = 2;  // 2: the standard FNV-1a basis (1 is refused)

struct PredictorTrainOptions {
  int hidden_size = 400;
  int hidden_layers = 3;
  double lr = 1e-3;
  int epochs = 200;
  int batch_size = 64;
  double weight_decay = 0;
  uint64_t seed = 0;

  void validate() const;
  json to_json() const;
};

// After each epoch: (epoch 1-based, train MSE, validation RMSE of top-1 in % or NaN without one).
using PredictorEpochCallback = std::function<void(int epoch, double train_mse, double val_rmse_top1)>;

struct PredictorEvaluation {
  int64_t count = 0;
  double rmse_top1 = 0;            // percentage points
  double kendall_tau = 0;          // predicted vs measured top-1
  double macs_kendall_tau = 0;     // baseline: MACs alone as a ranking of top-1
  double energy_kendall_tau = 0;   // baseline: energy alone
  double params_kendall_tau = 0;   // baseline: parameters alone

  json to_json() const;
};

class AccuracyPredictor final : public AccuracyScorer {
 public:
  // Trains on `train`; when `val` is not empty, the weights of the epoch with the lowest
  // validation RMSE are kept (the epoch count is chosen on validation data, never on a hold-out).
  static AccuracyPredictor train(const ArchSpace& space, const std::vector<AccuracyRecord>& train,
                                 const std::vector<AccuracyRecord>& val, const PredictorTrainOptions& options,
                                 const PredictorEpochCallback& on_epoch = {});
  static AccuracyPredictor load(const std::string& path);

  AccuracyPredictor(AccuracyPredictor&&) noexcept;
  AccuracyPredictor& operator=(AccuracyPredictor&&) noexcept;
  ~AccuracyPredictor() override;

  void save(const std::string& path) const;
  std::string to_bytes() const;

  // Predicted top-1 in [0, 1] (clamped). Throws nas::Error naming the first architecture that is
  // not in the predictor's space.
  std::vector<double> predict(const std::vector<ArchConfig>& archs) const override;
  std::vector<double> predict_encodings(const std::vector<std::vector<float>>& encodings) const;
  // {"file" (when loaded), "fingerprint" (the space's), "weights_checksum", "kendall_tau"
  //  (hold-out, when recorded), "rmse_top1", "layer_sizes"}
  json describe() const override;

  const ArchSpace& space() const;
  // Free-form training report saved with the predictor (nas_train_predictor records the data
  // set, the options, the hold-out evaluation).
  json& meta();
  const json& meta() const;
  // Throws nas::Error when `space` is not the predictor's ("<where>: the predictor was trained for
  // space fnv1a64:..., not fnv1a64:...").
  void check_space(const ArchSpace& space, const std::string& where) const;

 private:
  struct Impl;
  explicit AccuracyPredictor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Evaluation on records the predictor was not trained on.
PredictorEvaluation evaluate_predictor(const AccuracyPredictor& predictor, const std::vector<AccuracyRecord>& records);

}  // namespace nas
