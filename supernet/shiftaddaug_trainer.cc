#include "supernet/shiftaddaug_trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "core/sealed_file.h"
#include "core/progress.h"
#include "supernet/subnet_extraction.h"
#include "supernet/tensor_table.h"
#include "supernet/tiny_ops.h"

namespace nas {

namespace {

// 2: per-step schedule, sort statistics; 3: checksum trailer; 4: the standard FNV-1a basis;
// 5: our sealed container (core/sealed_file.h: magic NASCKPT5, header JSON {format,
// checkpoint_version, state, tensors}, raw tensors, FNV-1a 64) instead of a LibTorch archive,
// whose reader crashed on a crafted file behind a valid checksum (issue 13's fuzzer).
constexpr int kCheckpointVersion = 5;
constexpr char kCheckpointMagic[8] = {'N', 'A', 'S', 'C', 'K', 'P', 'T', '5'};
// Versions 3 and 4 ended with this trailer (8 bytes of magic, then the checksum).
constexpr char kArchiveTrailerMagic[8] = {'N', 'A', 'S', 'C', 'K', 'P', 'T', '3'};
constexpr const char* kCheckpointFormat = "nas-trainer-checkpoint";
constexpr uint64_t kMaxCheckpointBytes = uint64_t{8} << 30;

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace

namespace {

int64_t stop_step(bool augment, double fraction, int64_t total_steps) {
  if (!augment) return 0;
  return std::llround(fraction * static_cast<double>(total_steps));
}

}  // namespace

int64_t TrainerOptions::width_aug_stop_step(int64_t total_steps) const {
  return stop_step(augment, stop_width_aug_fraction, total_steps);
}

int64_t TrainerOptions::expand_aug_stop_step(int64_t total_steps) const {
  return stop_step(augment, stop_expand_aug_fraction, total_steps);
}

void TrainerOptions::validate() const {
  NAS_CHECK(epochs >= 1, "trainer.epochs must be >= 1, got " << epochs);
  NAS_CHECK(lr > 0 && std::isfinite(lr), "trainer.lr must be > 0, got " << lr);
  NAS_CHECK(momentum >= 0 && momentum < 1, "trainer.momentum must be in [0, 1), got " << momentum);
  NAS_CHECK(weight_decay >= 0 && std::isfinite(weight_decay),
            "trainer.weight_decay must be >= 0, got " << weight_decay);
  NAS_CHECK(label_smoothing >= 0 && label_smoothing < 1,
            "trainer.label_smoothing must be in [0, 1), got " << label_smoothing);
  NAS_CHECK(warmup_epochs >= 0 && warmup_epochs <= static_cast<double>(epochs),
            "trainer.warmup_epochs must be in [0, epochs], got " << warmup_epochs);
  NAS_CHECK(alpha >= 0 && std::isfinite(alpha), "trainer.alpha must be >= 0, got " << alpha);
  NAS_CHECK(stop_width_aug_fraction >= 0 && stop_width_aug_fraction <= 1,
            "trainer.stop_width_aug_fraction must be in [0, 1], got " << stop_width_aug_fraction);
  NAS_CHECK(stop_expand_aug_fraction >= 0 && stop_expand_aug_fraction <= 1,
            "trainer.stop_expand_aug_fraction must be in [0, 1], got " << stop_expand_aug_fraction);
  NAS_CHECK(remap_kl_weight >= 0, "trainer.remap_kl_weight must be >= 0, got " << remap_kl_weight);
  NAS_CHECK(bn_batches >= 0, "trainer.bn_batches must be >= 0, got " << bn_batches);
  NAS_CHECK(checkpoint_every_steps >= 0, "trainer.checkpoint_every_steps must be >= 0");
  NAS_CHECK(sandwich >= 1 && sandwich <= 64, "trainer.sandwich must be in [1, 64], got " << sandwich);
  NAS_CHECK(single_op_fraction >= 0 && single_op_fraction <= 1,
            "trainer.single_op_fraction must be in [0, 1], got " << single_op_fraction);
  NAS_CHECK(micro_batches >= 1 && micro_batches <= 1024,
            "trainer.micro_batches must be in [1, 1024], got " << micro_batches);
  NAS_CHECK(aug_micro_batches >= 1 && aug_micro_batches <= 1024,
            "trainer.aug_micro_batches must be in [1, 1024], got " << aug_micro_batches);
}

TrainerOptions TrainerOptions::supernet_defaults() {
  TrainerOptions o;
  o.inplace_distillation = true;
  return o;
}

json TrainerOptions::to_json() const {
  json j = {{"epochs", epochs},
          {"lr", lr},
          {"momentum", momentum},
          {"nesterov", true},
          {"weight_decay", weight_decay},
          {"label_smoothing", label_smoothing},
          {"warmup_epochs", warmup_epochs},
          {"augment", augment},
          {"alpha", alpha},
          {"stop_width_aug_fraction", stop_width_aug_fraction},
          {"stop_expand_aug_fraction", stop_expand_aug_fraction},
          // The fraction of training without any augmentation (the older single-stop field).
          {"aug_stop_fraction", augment ? 1.0 - std::max(stop_width_aug_fraction, stop_expand_aug_fraction) : 1.0},
          {"sort_channels", sort_channels},
          {"sort_mode", channel_sort_name(sort_mode)},
          {"remap_kl_weight", remap_kl_weight},
          {"sandwich", sandwich},
          {"bn_batches", bn_batches},
          {"seed", seed}};
  // Recorded only when used, so that runs made before the field existed keep their fingerprint.
  if (micro_batches != 1) j["micro_batches"] = micro_batches;
  if (aug_micro_batches != 1) j["aug_micro_batches"] = aug_micro_batches;
  if (single_op_fraction != 0) j["single_op_fraction"] = single_op_fraction;
  if (inplace_distillation) j["distill"] = "inplace";
  return j;
}

json EpochRecord::to_json() const {
  return {{"epoch", epoch},
          {"augmented", augmented},
          {"width_augmented", width_augmented},
          {"sorted_tiny_channels", sorted_tiny_channels},
          {"channels_moved_into_tiny", channels_moved_into_tiny},
          {"train_loss", train_loss},
          {"train_aug_loss", train_aug_loss},
          {"train_top1", train_top1},
          {"val_top1", val_top1},
          {"val_subnets", val_subnets},
          {"lr_last", lr_last},
          {"train_seconds", train_seconds},
          {"eval_seconds", eval_seconds},
          {"images_per_s", images_per_s}};
}

EpochRecord EpochRecord::from_json(const json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int64_t>();
  r.augmented = j.at("augmented").get<bool>();
  r.width_augmented = j.value("width_augmented", false);
  r.sorted_tiny_channels = j.value("sorted_tiny_channels", int64_t{0});
  r.channels_moved_into_tiny = j.value("channels_moved_into_tiny", int64_t{0});
  r.train_loss = j.at("train_loss").get<double>();
  r.train_aug_loss = j.at("train_aug_loss").get<double>();
  r.train_top1 = j.at("train_top1").get<double>();
  r.val_top1 = j.at("val_top1").get<double>();
  if (j.contains("val_subnets")) r.val_subnets = j.at("val_subnets");
  r.lr_last = j.at("lr_last").get<double>();
  r.train_seconds = j.at("train_seconds").get<double>();
  r.eval_seconds = j.at("eval_seconds").get<double>();
  r.images_per_s = j.at("images_per_s").get<double>();
  return r;
}

torch::Tensor smoothed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                     double smoothing) {
  const torch::Tensor logp = torch::log_softmax(logits, 1);
  const torch::Tensor nll = -logp.gather(1, labels.unsqueeze(1)).squeeze(1);
  if (smoothing == 0.0) return nll.mean();
  return ((1.0 - smoothing) * nll - smoothing * logp.mean(1)).mean();
}

torch::Tensor soft_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target_probs) {
  TORCH_CHECK(logits.sizes() == target_probs.sizes(), "soft_cross_entropy: logits ", logits.sizes(),
              " and targets ", target_probs.sizes(), " differ");
  return -(target_probs.detach() * torch::log_softmax(logits, 1)).sum(1).mean();
}

ShiftAddAugTrainer::ShiftAddAugTrainer(HybridNet net, TrainerOptions options,
                                       const datasets::DataLoader& train,
                                       const datasets::DataLoader* val)
    : net_(std::move(net)),
      options_(std::move(options)),
      train_(train),
      val_(val),
      device_(options_.device),
      rng_(options_.seed ^ 0x5ADDA06ULL) {
  options_.validate();
  NAS_CHECK(train_.num_batches() >= 1, "the training set gives no batches (too small for the batch size?)");
  net_->to(device_);
  net_->train();
  std::vector<SgdParamGroup> groups(2);
  groups[0].params = net_->decay_parameters();
  groups[0].weight_decay = options_.weight_decay;
  groups[1].params = net_->no_decay_parameters();
  groups[1].weight_decay = 0.0;
  optimizer_ = std::make_unique<SgdNesterov>(std::move(groups), options_.momentum, true);
  if (net_->is_supernet()) {
    const ArchSpace& space = *net_->space();
    eval_subnets_ = {space.largest(), space.smallest()};
  }
}

void ShiftAddAugTrainer::set_eval_subnets(std::vector<ArchConfig> subnets) {
  for (const ArchConfig& a : subnets) {
    const std::string why = net_->subnet_violation(a);
    NAS_CHECK(why.empty(), "evaluation subnet " << a.key() << " is not in the net: " << why);
  }
  eval_subnets_ = std::move(subnets);
}

std::vector<ArchConfig> ShiftAddAugTrainer::step_subnets() {
  if (!net_->is_supernet()) return {net_->largest_arch()};
  const ArchSpace& space = *net_->space();
  // The extremes of every dimension, with each block's op (and the head's) drawn uniformly, so
  // that every op is trained at both ends of the space.
  auto random_ops = [&](ArchConfig a) {
    for (StageConfig& st : a.stages)
      for (BlockConfig& b : st.blocks) b.op = space.ops[rng_.index(space.ops.size())];
    if (a.head.channels > 0) a.head.op = space.head_ops[rng_.index(space.head_ops.size())];
    return a;
  };
  // Progressive op mixing: early on, one op per subnet (the single-op supernets first).
  const auto single_op_steps =
      static_cast<int64_t>(std::llround(options_.single_op_fraction * static_cast<double>(options_.epochs * steps_per_epoch())));
  const bool one_op = step_ < single_op_steps;
  auto one_op_of = [&](ArchConfig a) {
    const OpKind op = space.ops[rng_.index(space.ops.size())];
    for (StageConfig& st : a.stages)
      for (BlockConfig& b : st.blocks) b.op = op;
    if (a.head.channels > 0) {
      const bool head_can = std::find(space.head_ops.begin(), space.head_ops.end(), op) != space.head_ops.end();
      a.head.op = head_can ? op : space.head_ops[rng_.index(space.head_ops.size())];
    }
    return a;
  };
  std::vector<ArchConfig> subnets;
  subnets.push_back(one_op ? one_op_of(space.largest()) : random_ops(space.largest()));
  if (options_.sandwich >= 2) subnets.push_back(one_op ? one_op_of(space.smallest()) : random_ops(space.smallest()));
  for (int64_t i = 2; i < options_.sandwich; ++i)
    subnets.push_back(one_op ? one_op_of(space.sample(rng_)) : space.sample(rng_));
  return subnets;
}

int64_t ShiftAddAugTrainer::steps_per_epoch() const { return train_.num_batches(); }

double ShiftAddAugTrainer::learning_rate(int64_t step) const {
  const int64_t total = options_.epochs * steps_per_epoch();
  const auto warmup = static_cast<int64_t>(
      std::llround(options_.warmup_epochs * static_cast<double>(steps_per_epoch())));
  if (step < warmup) return options_.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const double t = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return 0.5 * options_.lr * (1.0 + std::cos(M_PI * std::min(1.0, t)));
}

double ShiftAddAugTrainer::train_seconds() const {
  double s = 0;
  for (const EpochRecord& r : history_) s += r.train_seconds;
  return s;
}

double augmented_backward(HybridNet& net, const torch::Tensor& x, const torch::Tensor& y,
                          double scale, int64_t pieces, double label_smoothing) {
  const int64_t rows = x.size(0);
  NAS_CHECK(pieces >= 1, "augmented_backward: pieces must be >= 1, got " << pieces);
  NAS_CHECK(rows >= 1 && y.size(0) == rows, "augmented_backward: " << rows << " images, " << y.size(0) << " labels");
  pieces = std::min(pieces, rows);
  // One piece is the whole batch (a full view, share 1): exactly scale * CE(x).backward().
  double loss_sum = 0;
  for (int64_t p = 0; p < pieces; ++p) {
    const int64_t begin = p * rows / pieces, end = (p + 1) * rows / pieces;
    const double share = static_cast<double>(end - begin) / static_cast<double>(rows);
    // One slice's graph at a time: it is freed by its backward before the next forward.
    const torch::Tensor loss =
        smoothed_cross_entropy(net->forward(x.narrow(0, begin, end - begin)), y.narrow(0, begin, end - begin),
                               label_smoothing);
    (loss * (scale * share)).backward();
    loss_sum += share * loss.item<double>();
  }
  return loss_sum;
}

torch::Tensor ShiftAddAugTrainer::loss_fn(const torch::Tensor& logits,
                                          const torch::Tensor& labels) const {
  return smoothed_cross_entropy(logits, labels, options_.label_smoothing);
}

void ShiftAddAugTrainer::reestimate_bn() {
  net_->set_tiny();
  recalibrate_bn(*net_, train_, options_.bn_batches, device_);
}

double ShiftAddAugTrainer::evaluate(const datasets::DataLoader& loader, bool reestimate) {
  if (reestimate) reestimate_bn();
  return evaluate_active(*net_, loader, device_);
}

void ShiftAddAugTrainer::set_data_parallel(DataParallel* group) {
  NAS_CHECK(!group || (group->world_size() >= 1 && group->rank() >= 0 && group->rank() < group->world_size()),
            "data parallel: rank " << group->rank() << " of " << group->world_size());
  group_ = group;
}

void ShiftAddAugTrainer::sum_over_ranks(double& loss_value, double& aug_loss_value, double& correct) {
  // The gradients defined on this rank are the same tensors on every rank: the same subnets and
  // augmentations ran everywhere. The step's statistics travel in the same call.
  std::vector<torch::Tensor> tensors;
  for (const torch::Tensor& p : net_->parameters())
    if (p.grad().defined()) tensors.push_back(p.grad());
  tensors.push_back(torch::tensor({loss_value, aug_loss_value, correct}, torch::kDouble).to(device_));
  group_->all_reduce_sum(tensors);
  const torch::Tensor sums = tensors.back().cpu();
  loss_value = sums[0].item<double>();
  aug_loss_value = sums[1].item<double>();
  correct = sums[2].item<double>();
}

bool ShiftAddAugTrainer::train() {
  if (group_) {
    const int64_t chunks = group_->world_size() * options_.micro_batches;
    NAS_CHECK(train_.options().batch_size >= chunks,
              "data parallel: a batch of " << train_.options().batch_size << " rows cannot be cut into "
                                           << group_->world_size() << " ranks x " << options_.micro_batches
                                           << " micro-batches");
    // Evaluation and export read BN running statistics, which each rank keeps for its own rows:
    // they must be re-estimated (on the same batches on every rank) before they are used.
    NAS_CHECK(options_.bn_batches > 0, "data parallel: trainer.bn_batches must be > 0 (the running BN statistics "
                                       "are re-estimated, identically on every rank, before evaluation and export)");
    // Every rank must be at the same point of the same run: a rank that resumed from another
    // checkpoint (or none) would draw other subnets and add unrelated gradients.
    const uint64_t rng_digest = fnv1a64(rng_.state()) ^ fnv1a64(fingerprint_.dump());
    const torch::Tensor mine = torch::tensor({epoch_, batch_, step_, static_cast<int64_t>(rng_digest >> 1)}, torch::kLong);
    std::vector<torch::Tensor> theirs = {mine.clone()};
    group_->broadcast_from_rank0(theirs);
    NAS_CHECK(torch::equal(mine, theirs[0]),
              "data parallel: rank " << group_->rank() << " is at epoch " << epoch_ << " step " << step_
                                     << " of its run, rank 0 at epoch " << theirs[0][0].item<int64_t>() << " step "
                                     << theirs[0][2].item<int64_t>()
                                     << " (or another run): every rank must resume the same checkpoint");
    // Every rank starts from rank 0's weights and statistics (resumed or freshly initialised).
    std::vector<torch::Tensor> state = net_->parameters();
    for (const torch::Tensor& b : net_->buffers()) state.push_back(b);
    torch::NoGradGuard no_grad;
    group_->broadcast_from_rank0(state);
  }
  const int64_t spe = steps_per_epoch();
  const int64_t total_steps = options_.epochs * spe;
  const int64_t width_stop = options_.width_aug_stop_step(total_steps);
  const int64_t expand_stop = options_.expand_aug_stop_step(total_steps);
  while (epoch_ < options_.epochs) {
    const int64_t first_step = epoch_ * spe;
    const bool augmented = first_step < std::max(width_stop, expand_stop);
    const bool width_augmented = first_step < width_stop;
    if (batch_ == 0) {
      sum_loss_ = sum_aug_loss_ = sum_seconds_ = 0;
      sum_correct_ = sum_images_ = sum_aug_images_ = 0;
      sort_tiny_channels_ = sort_moved_into_tiny_ = 0;
      // NetAug sorts while width augmentation runs: afterwards the tiny network is what is trained.
      // Not before the first epoch: at initialisation the importance order is noise, and a sort
      // would only undo the tiny network's same start as the directly trained one.
      if (width_augmented && options_.sort_channels && epoch_ > 0) {
        const HybridNetImpl::ChannelSortResult sorted = net_->sort_channels(options_.sort_mode);
        for (const HybridNetImpl::ParamPermutation& p : sorted.permutations)
          optimizer_->permute(p.param, p.dim, p.perm);
        sort_tiny_channels_ = sorted.tiny_channels;
        sort_moved_into_tiny_ = sorted.moved_into_tiny;
      }
    }
    net_->train();
    const std::string label = "epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(options_.epochs);
    Progress progress(label, train_.images_per_epoch(), "img");
    double lr = learning_rate(step_);
    for (datasets::Batch& batch : train_.epoch(epoch_, batch_)) {
      const auto t0 = std::chrono::steady_clock::now();
      lr = learning_rate(step_);
      // This rank's chunks of the batch (data_parallel.h); all of it without a group and with
      // one micro-batch. A batch with fewer rows than chunks (a last partial one) is skipped by
      // every rank alike.
      const int64_t world = group_ ? group_->world_size() : 1;
      const int64_t chunks = world * options_.micro_batches;
      const int64_t rows = batch.size();
      if (rows < chunks) {
        batch_ = batch.index + 1;
        continue;
      }
      const torch::Tensor x_all = batch.images.to(device_);
      const torch::Tensor y_all = batch.labels.to(device_);
      struct Chunk {
        torch::Tensor x, y;
        double weight;  // share of the batch's rows
      };
      std::vector<Chunk> my_chunks;
      const int64_t rank = group_ ? group_->rank() : 0;
      for (int64_t c = rank * options_.micro_batches; c < (rank + 1) * options_.micro_batches; ++c) {
        const int64_t begin = c * rows / chunks, end = (c + 1) * rows / chunks;
        my_chunks.push_back({chunks == 1 ? x_all : x_all.narrow(0, begin, end - begin),
                             chunks == 1 ? y_all : y_all.narrow(0, begin, end - begin),
                             static_cast<double>(end - begin) / static_cast<double>(rows)});
      }
      // Weighted by the chunk's share; exactly the plain loss when the batch is one chunk.
      auto weighted = [&](const torch::Tensor& loss, double weight) { return chunks == 1 ? loss : loss * weight; };
      optimizer_->zero_grad();
      // Several chunks on this rank: each chunk's gradients (over every subnet, tiny then
      // augmented) accumulate apart and are summed at the end, chunk after chunk: the same
      // additions, in the same order, as ranks of one chunk each summing theirs in an all-reduce,
      // so that the two give the same weights (floating-point addition is not associative, and
      // AdderNet's normalised gradients amplify any difference).
      const std::vector<torch::Tensor> params = my_chunks.size() > 1 ? net_->parameters() : std::vector<torch::Tensor>();
      std::vector<std::vector<torch::Tensor>> chunk_grads(my_chunks.size(), std::vector<torch::Tensor>(params.size()));
      auto swap_in = [&](size_t c) {
        for (size_t k = 0; k < params.size(); ++k) params[k].mutable_grad() = chunk_grads[c][k];
      };
      auto swap_out = [&](size_t c) {
        for (size_t k = 0; k < params.size(); ++k) chunk_grads[c][k] = params[k].grad();
      };
      double loss_value = 0, aug_loss_value = 0;
      double correct = 0;
      bool step_augmented = false;
      const std::vector<ArchConfig> subnets = step_subnets();
      // In-place distillation: the first subnet's predictions, per chunk, teach the others.
      const bool distill = options_.inplace_distillation && subnets.size() > 1;
      std::vector<torch::Tensor> teacher_probs(distill ? my_chunks.size() : 0);
      for (size_t i = 0; i < subnets.size(); ++i) {
        net_->set_subnet(subnets[i]);
        // The subnet's augmentation, drawn once for the step (every chunk and rank alike).
        // Sampled in full every step (the RNG stream does not depend on the schedule), then the
        // stopped dimensions are set back to the tiny ones.
        std::optional<AugConfig> aug;
        if (step_ < std::max(width_stop, expand_stop) && options_.alpha > 0) {
          AugConfig config = net_->sample_aug(rng_);
          if (step_ >= width_stop) {
            config.stem_width = config.head_width = 1.0;
            std::fill(config.stage_width.begin(), config.stage_width.end(), 1.0);
          }
          if (step_ >= expand_stop) std::fill(config.block_expand.begin(), config.block_expand.end(), 1.0);
          if (!config.is_tiny()) aug = config;
        }
        for (size_t c = 0; c < my_chunks.size(); ++c) {
          const Chunk& chunk = my_chunks[c];
          if (!params.empty()) swap_in(c);
          const torch::Tensor xs = resize_input(chunk.x, subnets[i].resolution);
          const torch::Tensor logits = net_->forward(xs);
          torch::Tensor loss = distill && i > 0 ? soft_cross_entropy(logits, teacher_probs[c]) : loss_fn(logits, chunk.y);
          if (distill && i == 0) teacher_probs[c] = torch::softmax(logits.detach(), 1);
          loss_value += chunk.weight * loss.item<double>() / static_cast<double>(subnets.size());
          if (options_.remap_kl_weight > 0 && net_->options().remap == RemapKind::Piecewise)
            loss = loss + options_.remap_kl_weight * net_->remap_kl();
          weighted(loss, chunk.weight).backward();
          if (i == 0) correct += static_cast<double>(logits.argmax(1).eq(chunk.y).sum().item<int64_t>());
          if (aug) {
            step_augmented = true;
            net_->set_active(*aug);
            const double aug_loss = augmented_backward(net_, xs, chunk.y, options_.alpha * chunk.weight,
                                                       options_.aug_micro_batches, options_.label_smoothing);
            aug_loss_value += chunk.weight * aug_loss / static_cast<double>(subnets.size());
            net_->set_tiny();
          }
          if (!params.empty()) swap_out(c);
        }
      }
      if (!params.empty()) {
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < params.size(); ++k) {
          torch::Tensor sum;
          for (size_t c = 0; c < my_chunks.size(); ++c) {
            const torch::Tensor& g = chunk_grads[c][k];
            if (g.defined()) sum = sum.defined() ? sum + g : g;
          }
          params[k].mutable_grad() = sum;
        }
      }
      if (group_) sum_over_ranks(loss_value, aug_loss_value, correct);
      // A diverged run stops here, before the step: the weights of the last checkpoint are the
      // last finite ones, and a run must not spend hours training NaNs (every rank sees the same sums).
      NAS_CHECK(std::isfinite(loss_value) && std::isfinite(aug_loss_value),
                "training diverged: the loss of step " << step_ + 1 << " (epoch " << epoch_ + 1 << ", lr "
                    << fmt("%.4g", lr) << ") is not finite (MF " << loss_value << ", augmented " << aug_loss_value
                    << "); the last checkpoint is left as it was: resume it, or lower trainer.lr");
      // AdderNet's adaptive scaling, once, on the gradient accumulated over both passes (and
      // every chunk and rank).
      net_->scale_adder_gradients();
      optimizer_->step(lr);
      for (const HybridNetImpl::ParamBlockDivision& d : net_->renormalize_adder_weights())
        optimizer_->divide_leading_block(d.param, d.block, d.divisor);

      const auto n = batch.size();
      sum_loss_ += loss_value * static_cast<double>(n);
      sum_aug_loss_ += aug_loss_value * static_cast<double>(n);
      sum_correct_ += static_cast<int64_t>(std::llround(correct));
      sum_images_ += n;
      if (step_augmented) sum_aug_images_ += n;
      sum_seconds_ += seconds_since(t0);
      ++step_;
      batch_ = batch.index + 1;
      if (options_.progress) {
        std::string extra = "loss " + fmt("%.4f", sum_loss_ / static_cast<double>(sum_images_));
        if (sum_aug_images_ > 0)
          extra += " aug " + fmt("%.4f", sum_aug_loss_ / static_cast<double>(sum_aug_images_));
        extra += " acc " + fmt("%.2f%%", 100.0 * static_cast<double>(sum_correct_) / static_cast<double>(sum_images_)) +
                 " lr " + fmt("%.4g", lr);
        progress.update(batch_ * train_.options().batch_size, extra);
      }
      if (options_.stop_after_steps > 0 && step_ >= options_.stop_after_steps) return false;
      if (options_.checkpoint_every_steps > 0 && step_ % options_.checkpoint_every_steps == 0 &&
          batch_ < spe)
        save_checkpoint();
    }

    EpochRecord r;
    r.epoch = epoch_ + 1;
    r.augmented = augmented;
    r.width_augmented = width_augmented;
    r.sorted_tiny_channels = sort_tiny_channels_;
    r.channels_moved_into_tiny = sort_moved_into_tiny_;
    const double images = static_cast<double>(std::max<int64_t>(1, sum_images_));
    r.train_loss = sum_loss_ / images;
    // Mean over the images that ran an augmented network.
    r.train_aug_loss = sum_aug_images_ > 0 ? sum_aug_loss_ / static_cast<double>(sum_aug_images_) : 0.0;
    r.train_top1 = 100.0 * static_cast<double>(sum_correct_) / images;
    r.lr_last = lr;
    r.train_seconds = sum_seconds_;
    r.images_per_s = sum_seconds_ > 0 ? static_cast<double>(sum_images_) / sum_seconds_ : 0;
    const auto t_eval = std::chrono::steady_clock::now();
    if (val_ && net_->is_supernet()) {
      for (const ArchConfig& a : eval_subnets_) {
        net_->set_subnet(a);
        const double top1 = evaluate(*val_);
        r.val_subnets.push_back({{"arch_key", a.key()}, {"val_top1", top1}});
        if (r.val_top1 < 0) r.val_top1 = top1;
      }
      net_->set_subnet(net_->largest_arch());
    } else if (val_) {
      r.val_top1 = evaluate(*val_);
    }
    r.eval_seconds = seconds_since(t_eval);
    if (options_.progress) {
      std::string extra = "loss " + fmt("%.4f", r.train_loss) + " acc " + fmt("%.2f%%", r.train_top1);
      if (val_) extra += " val " + fmt("%.2f%%", r.val_top1);
      extra += " " + fmt("%.0f img/s", r.images_per_s);
      const double remaining = static_cast<double>(options_.epochs - epoch_ - 1) *
                               (r.train_seconds + r.eval_seconds);
      extra += " ETA " + Progress::format_duration(remaining);
      progress.finish(extra);
    }
    history_.push_back(r);
    ++epoch_;
    batch_ = 0;
    if (epoch_ >= options_.epochs) reestimate_bn();  // final statistics of the tiny network
    save_checkpoint();
    if (on_epoch) on_epoch(r);
  }
  return true;
}

void ShiftAddAugTrainer::save_checkpoint() const {
  if (options_.checkpoint_path.empty() || (group_ && group_->rank() != 0)) return;
  json state;
  state["checkpoint_version"] = kCheckpointVersion;
  state["fingerprint"] = fingerprint_;
  state["epoch"] = epoch_;
  state["batch"] = batch_;
  state["step"] = step_;
  state["world_size"] = group_ ? group_->world_size() : 1;
  state["sums"] = {{"loss", sum_loss_},       {"aug_loss", sum_aug_loss_}, {"seconds", sum_seconds_},
                   {"correct", sum_correct_}, {"images", sum_images_},     {"aug_images", sum_aug_images_},
                   {"sort_tiny", sort_tiny_channels_}, {"sort_moved", sort_moved_into_tiny_}};
  state["rng"] = rng_.state();
  json history = json::array();
  for (const EpochRecord& r : history_) history.push_back(r.to_json());
  state["history"] = history;
  json tensors = json::array();
  std::string data;
  for (const auto& item : net_->named_parameters()) append_tensor(tensors, data, "model/" + item.key(), item.value());
  for (const auto& item : net_->named_buffers()) append_tensor(tensors, data, "model/" + item.key(), item.value());
  const std::vector<torch::Tensor>& momentum = optimizer_->momentum_buffers();
  for (size_t i = 0; i < momentum.size(); ++i) append_tensor(tensors, data, "sgd/" + std::to_string(i), momentum[i]);
  {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    append_tensor(tensors, data, "torch_cpu_rng", gen.get_state());
  }
  const json header = {{"format", kCheckpointFormat}, {"checkpoint_version", kCheckpointVersion},
                       {"state", state}, {"tensors", tensors}};
  write_file_atomic(options_.checkpoint_path,
                    seal(std::string_view(kCheckpointMagic, sizeof kCheckpointMagic), header.dump(), data));
}

namespace {

struct CheckpointFile {
  json state;
  std::map<std::string, torch::Tensor> tensors;
};

// Reads and checks a checkpoint file: magic, checksum, format, version, tensor table (bounded,
// overflow-checked); no LibTorch deserializer runs on its bytes. One-line errors name the file.
CheckpointFile read_checkpoint(const std::string& path) {
  const std::string where = "checkpoint '" + path + "'";
  const std::string bytes = read_file(path, kMaxCheckpointBytes);
  NAS_CHECK(!(bytes.size() > 16 && std::equal(kArchiveTrailerMagic, kArchiveTrailerMagic + 8, bytes.end() - 16)),
            where << " was written by an earlier build (checkpoint version 3 or 4, a LibTorch archive, which this "
                     "build no longer reads: its reader is not safe on damaged files); finish the run with that "
                     "build or start it again");
  const SealedFile sealed =
      open_sealed(bytes, std::string_view(kCheckpointMagic, sizeof kCheckpointMagic), where, "a trainer checkpoint",
                  "nas_retrain / nas_train_supernet");
  NAS_CHECK(!sealed.legacy_checksum, where << ": checksum mismatch: the file is corrupt or truncated");
  const json& header = sealed.header;
  NAS_CHECK(header.is_object() && header.contains("format") && header["format"] == kCheckpointFormat,
            where << ": header does not describe a " << kCheckpointFormat);
  const json version = header.value("checkpoint_version", json());
  NAS_CHECK(version == kCheckpointVersion, where << " has an unsupported version (" << json_excerpt(version)
                                                 << "; this build reads " << kCheckpointVersion << ")");
  NAS_CHECK(header.contains("state") && header["state"].is_object(), where << ": field 'state' must be an object");
  NAS_CHECK(header.contains("tensors"), where << ": field 'tensors' is missing");
  return {header["state"], read_tensor_table(header["tensors"], sealed.data, where)};
}

// Copies the checkpoint's "model/<name>" tensors into the net's parameters and buffers: every one
// present with its exact shape and type, nothing left over.
void load_model_tensors(torch::nn::Module& net, const std::map<std::string, torch::Tensor>& tensors,
                        const std::string& where, const std::string& mismatch_hint) {
  torch::NoGradGuard no_grad;
  size_t used = 0;
  auto load = [&](const std::string& name, torch::Tensor& target) {
    const auto it = tensors.find("model/" + name);
    NAS_CHECK(it != tensors.end(), where << " holds no tensor for " << quoted_excerpt(name) << mismatch_hint);
    NAS_CHECK(it->second.sizes() == target.sizes() && it->second.scalar_type() == target.scalar_type(),
              where << ": tensor " << quoted_excerpt(name) << " has shape " << it->second.sizes()
                    << ", the network's is " << target.sizes() << mismatch_hint);
    target.copy_(it->second);
    ++used;
  };
  for (auto& item : net.named_parameters()) load(item.key(), item.value());
  for (auto& item : net.named_buffers()) load(item.key(), item.value());
  size_t model_tensors = 0;
  for (const auto& item : tensors) model_tensors += item.first.rfind("model/", 0) == 0;
  NAS_CHECK(model_tensors == used, where << " holds " << model_tensors << " model tensors, the network has " << used
                                         << mismatch_hint);
}

}  // namespace

bool ShiftAddAugTrainer::resume(const json& fingerprint) {
  fingerprint_ = fingerprint;
  const std::string& path = options_.checkpoint_path;
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return false;
  const CheckpointFile file = read_checkpoint(path);
  // Behind the checksum a file can still be malformed (written by hand, or a crafted one): any
  // missing or mistyped field is a one-line error naming the file, not a library exception.
  try {
    restore(file.state, file.tensors, fingerprint);
  } catch (const nas::Error&) {
    throw;
  } catch (const std::exception& e) {
    NAS_THROW("checkpoint '" << path << "' is malformed (" << first_line_excerpt(e.what()) << ")");
  }
  return true;
}

void ShiftAddAugTrainer::restore(const json& state, const std::map<std::string, torch::Tensor>& tensors,
                                 const json& fingerprint) {
  const std::string where = "checkpoint '" + options_.checkpoint_path + "'";
  // The ranks' chunks of each batch depend on the world size: a run resumes with the one it had.
  const int64_t saved_world = state.value("world_size", int64_t{1});
  const int64_t world = group_ ? group_->world_size() : 1;
  NAS_CHECK(saved_world == world, where << " was written by a run of " << saved_world
                                                 << " process(es) (world size); resume it with " << saved_world
                                                 << " process(es), not " << world);
  const std::string diff = first_json_difference(state.at("fingerprint"), fingerprint, "settings");
  NAS_CHECK(diff.empty(), where << " was made with different settings (" << diff
                                 << " differs); use another output directory or the same settings");
  load_model_tensors(*net_, tensors, where, " (space or options differ)");
  std::vector<torch::Tensor> momentum;
  for (int64_t i = 0; tensors.count("sgd/" + std::to_string(i)); ++i) momentum.push_back(tensors.at("sgd/" + std::to_string(i)));
  optimizer_->set_momentum_buffers(momentum, where);
  epoch_ = state.at("epoch").get<int64_t>();
  batch_ = state.at("batch").get<int64_t>();
  step_ = state.at("step").get<int64_t>();
  const json& sums = state.at("sums");
  sum_loss_ = sums.at("loss").get<double>();
  sum_aug_loss_ = sums.at("aug_loss").get<double>();
  sum_seconds_ = sums.at("seconds").get<double>();
  sum_correct_ = sums.at("correct").get<int64_t>();
  sum_images_ = sums.at("images").get<int64_t>();
  sum_aug_images_ = sums.at("aug_images").get<int64_t>();
  sort_tiny_channels_ = sums.at("sort_tiny").get<int64_t>();
  sort_moved_into_tiny_ = sums.at("sort_moved").get<int64_t>();
  rng_.restore(state.at("rng").get<std::string>());
  history_.clear();
  for (const json& r : state.at("history")) history_.push_back(EpochRecord::from_json(r));
  NAS_CHECK(tensors.count("torch_cpu_rng"), where << " holds no 'torch_cpu_rng'");
  const torch::Tensor gen_state = tensors.at("torch_cpu_rng");
  {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(gen_state.to(torch::kCPU));
  }
}

json load_checkpoint_weights(HybridNetImpl& net, const std::string& path) {
  std::error_code ec;
  NAS_CHECK(std::filesystem::exists(path, ec), "checkpoint '" << path << "' does not exist");
  const CheckpointFile file = read_checkpoint(path);
  // The tensors are read on the CPU; copy_ moves them to the net's device.
  load_model_tensors(net, file.tensors, "checkpoint '" + path + "'",
                     " (it holds weights of another network: space or options differ)");
  return file.state;
}

}  // namespace nas
