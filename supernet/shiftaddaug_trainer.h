#pragma once
// ShiftAddAugTrainer: trains the tiny MF network inside a HybridNet (DESIGN.md §5).
//
// Each step: loss = CE_ls(tiny) [+ kl_weight * remap KL] + alpha * CE_ls(one sampled augmented
// network) (the augmented term only while augmentation is on; augment = false trains the tiny
// network alone). Two backward passes accumulate into the shared weights; AdderNet's adaptive
// gradient scaling is then applied once to the accumulated gradient
// (HybridNetImpl::scale_adder_gradients). SGD with Nesterov momentum, cosine learning rate with
// linear warm-up (per step), label smoothing, weight decay on conv weights only.
//
// NetAug's schedule: width augmentation (stem, stage and head widths) runs for the first
// stop_width_aug_fraction of the steps, expand augmentation (block expand ratios) for the first
// stop_expand_aug_fraction (1: to the end); the augmented network of a step is sampled in full
// and the stopped dimensions are then set to 1, so the RNG stream does not depend on the schedule.
// While width augmentation runs, channels are sorted by L1 importance at the start of every epoch
// but the first (sort_mode; NetAug ranks all channels, tiny ones included). Before every evaluation (and at the
// end of training) the tiny network's BN statistics are re-estimated.
//
// Supernet training (the net is a supernet, HybridNetImpl::is_supernet()): each step trains
// `sandwich` subnets with the loss above, each on the batch resized to its resolution (the
// sandwich rule: the largest and the smallest architecture of the space, each with its block ops
// drawn uniformly, then random subnets), all gradients accumulated into one optimiser step;
// with inplace_distillation the subnets after the first learn from the first's predictions.
// Validation then reports every evaluation subnet (set_eval_subnets; default: the largest and the
// smallest with the space's first op); val_top1 is the first one's.
//
// Checkpoints (atomic) after every epoch and every checkpoint_every_steps steps hold the model,
// the optimizer, the position (epoch, batch, step), the epoch's running sums, the history and the
// RNG states; resume() continues exactly: the DataLoader's batches are pure functions of
// (seed, epoch, batch), so a resumed run ends with the same weights as an uninterrupted one.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/json_util.h"
#include "core/rng.h"
#include "datasets/data_loader.h"
#include "supernet/hybrid_net.h"
#include "supernet/data_parallel.h"
#include "supernet/sgd_nesterov.h"


namespace nas {

struct TrainerOptions {
  int64_t epochs = 10;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 4e-5;
  double label_smoothing = 0.1;
  double warmup_epochs = 0.0;
  bool augment = true;             // false: the tiny network alone (baseline)
  double alpha = 1.0;              // weight of the augmented loss
  double stop_width_aug_fraction = 0.5;   // width augmentation for this fraction of the steps
  double stop_expand_aug_fraction = 1.0;  // expand augmentation for this fraction of the steps
  bool sort_channels = true;
  ChannelSort sort_mode = ChannelSort::All;
  double remap_kl_weight = 1e-3;   // weight of the piecewise remap's KL term
  int64_t sandwich = 4;            // subnets per step of a supernet (ignored for a fixed net)
  // Progressive op mixing (supernet): for this fraction of the steps every sampled subnet runs
  // one op in all its blocks (and in the head conv when the head may run it), drawn per subnet;
  // afterwards each block draws its own. 0: per block from the start.
  double single_op_fraction = 0.0;
  // In-place distillation (BigNAS / OFA's sandwich rule, supernet): the first subnet of a step
  // (the largest) learns from the labels, every other subnet's MF network from the largest's
  // predictions on the same images (soft cross entropy against its detached softmax). Augmented
  // passes keep the labels. No effect on a fixed net (one subnet per step).
  bool inplace_distillation = false;
  // Each step's batch is cut into micro_batches chunks (x the data-parallel ranks), forwarded and
  // backpropagated one by one (BN statistics per chunk), gradients summed: the same step as
  // micro_batches ranks of one chunk each (data_parallel.h). 1: the whole batch at once.
  int64_t micro_batches = 1;
  // The augmented forward + backward of each chunk runs in this many consecutive row slices
  // (augmented_backward): the saved activations of the augmented network, the peak of a step,
  // are bounded by one slice's. The tiny network's pass is untouched (its BN statistics stay
  // those of the whole chunk); the augmented network's BN normalises per slice. 1: no slicing.
  int64_t aug_micro_batches = 1;
  int64_t bn_batches = 20;         // batches for BN re-estimation (0: none)
  uint64_t seed = 0;
  std::string device = "cpu";
  std::string checkpoint_path;     // empty: no checkpoints
  int64_t checkpoint_every_steps = 0;  // 0: only at the end of each epoch
  int64_t stop_after_steps = 0;    // > 0: stop (without a checkpoint) after this global step
  bool progress = true;            // progress lines on stderr

  // The options a supernet trains with unless told otherwise (nas_train_supernet's defaults):
  // in-place distillation on (measured at the ranking recipe: +12 points of inherited validation
  // top-1 on average over 12 architectures; results/supernet/README.md).
  static TrainerOptions supernet_defaults();

  // The first step without width (expand) augmentation, of total_steps; 0 when !augment.
  int64_t width_aug_stop_step(int64_t total_steps) const;
  int64_t expand_aug_stop_step(int64_t total_steps) const;
  // Errors name the field ("trainer.epochs must be >= 1, got 0").
  void validate() const;
  json to_json() const;
};

struct EpochRecord {
  int64_t epoch = 0;             // 1-based
  bool augmented = false;        // some step of the epoch ran an augmented network
  bool width_augmented = false;  // some step of the epoch ran width augmentation
  int64_t sorted_tiny_channels = 0;     // channel sort at the start of the epoch (0: none):
  int64_t channels_moved_into_tiny = 0;  // tiny channels, and those that were augmented before
  double train_loss = 0;         // tiny CE (label-smoothed), mean over images
  double train_aug_loss = 0;     // augmented CE, mean over the augmented steps' images (0: none)
  double train_top1 = 0;         // tiny network, on the training batches (train-mode BN), %
  double val_top1 = -1;          // tiny network after BN re-estimation, % (-1: no validation)
  json val_subnets = json::array();  // supernet: [{"arch_key", "val_top1"}] per evaluation subnet
  double lr_last = 0;
  double train_seconds = 0;      // training steps only
  double eval_seconds = 0;       // BN re-estimation + validation
  double images_per_s = 0;       // training images per second

  json to_json() const;
  static EpochRecord from_json(const json& j);
};

// The augmented term of a step on rows x (labels y): forward + backward of the net's active
// network in `pieces` consecutive row slices, each backpropagating
// scale * CE_ls(slice) * rows(slice) / rows(x), so the accumulated gradients are those of
// scale * CE_ls(x) but for BN's per-slice batch statistics, and the saved activations are one
// slice's. Returns CE_ls(x) (the row-weighted mean over the slices). pieces is capped at rows(x);
// pieces = 1 is exactly scale * CE_ls(x).backward().
double augmented_backward(HybridNet& net, const torch::Tensor& x, const torch::Tensor& y,
                          double scale, int64_t pieces, double label_smoothing);

class ShiftAddAugTrainer {
 public:
  // `train` must be a training loader (shuffled); `val` may be null. The loaders must outlive the
  // trainer. The net is moved to options.device.
  ShiftAddAugTrainer(HybridNet net, TrainerOptions options, const datasets::DataLoader& train,
                     const datasets::DataLoader* val);

  // Loads options.checkpoint_path if it exists. `fingerprint` describes the run's settings; a
  // checkpoint made with a different fingerprint is an error naming the first differing field.
  // Returns true when a checkpoint was loaded.
  bool resume(const json& fingerprint);
  // Trains to the end (returns true), or until stop_after_steps (returns false). A step whose
  // loss is not finite throws (nas::Error) before the optimiser step; nothing is saved from it.
  bool train();

  // Tiny-network top-1 (%) on `loader` (eval mode, BN re-estimated first unless told not to) of
  // the active subnet (a fixed net: its architecture).
  double evaluate(const datasets::DataLoader& loader, bool reestimate = true);
  // Re-estimates the active subnet's tiny-network BN statistics on bn_batches training batches.
  void reestimate_bn();
  // The subnets validated after every epoch (a supernet; ignored for a fixed net).
  void set_eval_subnets(std::vector<ArchConfig> subnets);
  const std::vector<ArchConfig>& eval_subnets() const { return eval_subnets_; }
  // The subnets of the current step (a fixed net: its architecture); draws from the trainer's
  // RNG. Within single_op_fraction of the steps each subnet has one op (see TrainerOptions).
  std::vector<ArchConfig> step_subnets();

  HybridNet& net() { return net_; }
  const std::vector<EpochRecord>& history() const { return history_; }
  int64_t global_step() const { return step_; }
  int64_t steps_per_epoch() const;
  double train_seconds() const;  // sum over epochs
  double learning_rate(int64_t step) const;
  bool finished() const { return epoch_ >= options_.epochs; }

  // Called after every epoch (after validation and the checkpoint).
  std::function<void(const EpochRecord&)> on_epoch;

  // Data-parallel training over a process group (data_parallel.h); the group must outlive the
  // trainer. Only rank 0 writes checkpoints. Call before resume() and train().
  void set_data_parallel(DataParallel* group);

  void save_checkpoint() const;

 private:
  torch::Tensor loss_fn(const torch::Tensor& logits, const torch::Tensor& labels) const;
  // Sums the step's gradients and statistics over the ranks of group_.
  void sum_over_ranks(double& loss_value, double& aug_loss_value, double& correct);
  // resume()'s second half: the trainer's state from a checked checkpoint.
  void restore(const json& state, const std::map<std::string, torch::Tensor>& tensors, const json& fingerprint);

  HybridNet net_;
  TrainerOptions options_;
  const datasets::DataLoader& train_;
  const datasets::DataLoader* val_;
  torch::Device device_;
  std::unique_ptr<SgdNesterov> optimizer_;
  Rng rng_;
  json fingerprint_ = json::object();
  DataParallel* group_ = nullptr;

  // Position: the next batch to run is (epoch_, batch_); step_ steps are done.
  int64_t epoch_ = 0, batch_ = 0, step_ = 0;
  // Running sums of the current epoch.
  double sum_loss_ = 0, sum_aug_loss_ = 0, sum_seconds_ = 0;
  int64_t sum_correct_ = 0, sum_images_ = 0, sum_aug_images_ = 0;
  int64_t sort_tiny_channels_ = 0, sort_moved_into_tiny_ = 0;  // the sort at the epoch's start
  std::vector<EpochRecord> history_;
  std::vector<ArchConfig> eval_subnets_;
};

// Loads the model weights of a trainer checkpoint (nas_retrain's checkpoint.pt, nas_train_supernet's
// supernet.ckpt) into `net`, built with the same architecture or space and options; returns the
// checkpoint's state (epoch, step, fingerprint, history). One-line errors name the file.
json load_checkpoint_weights(HybridNetImpl& net, const std::string& path);

// Label-smoothed cross entropy, mean over the batch (PyTorch's label_smoothing semantics).
torch::Tensor smoothed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                     double smoothing);

// Cross entropy against target distributions (rows of `target_probs`, no gradient to them), mean
// over the batch: -sum_k p_k log softmax(logits)_k.
torch::Tensor soft_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target_probs);

}  // namespace nas
