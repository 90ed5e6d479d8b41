#include "cli/training_flags.h"

#include "cli/launcher.h"

#include <torch/cuda.h>

#include <algorithm>

#include "core/error.h"
#include "core/string_format.h"
#include "supernet/aug_config.h"

namespace nas::cli {

namespace {

std::string join_multipliers(const std::vector<double>& values) {
  std::string out;
  for (const double v : values) out += (out.empty() ? "" : ",") + format_double(v, 1);
  return out;
}

}  // namespace

TrainingFlags::TrainingFlags() {
  expand_list = join_multipliers(net.aug.expand_mults);
  width_list = join_multipliers(net.aug.width_mults);
  sort_mode = channel_sort_name(trainer.sort_mode);
  memory_format = nas::memory_format_name(net.channels_last);
}

void add_training_flags(po::options_description& desc, TrainingFlags& f) {
  TrainerOptions& t = f.trainer;
  HybridNetOptions& n = f.net;
  desc.add_options()
      ("epochs", po::value(&t.epochs)->default_value(t.epochs), "training epochs")
      ("lr", po::value(&t.lr)->default_value(t.lr), "peak learning rate (SGD, Nesterov momentum 0.9, cosine schedule)")
      ("warmup-epochs", po::value(&f.warmup_epochs)->default_value(f.warmup_epochs), "linear warm-up epochs (-1: 5% of the epochs, at most 5)")
      ("weight-decay", po::value(&t.weight_decay)->default_value(t.weight_decay), "weight decay of conv/linear weights (none on BN, biases, remap)")
      ("label-smoothing", po::value(&t.label_smoothing)->default_value(t.label_smoothing), "label smoothing")
      ("aug", po::value(&f.aug)->default_value(f.aug), "shiftaddaug (the MF network + one sampled augmented hybrid network per step) | none (the MF network alone) | auto (nas_retrain: the recipe the committed evidence supports for the op and --epochs, docs/DESIGN.md; the default of --pareto)")
      ("alpha", po::value(&t.alpha)->default_value(t.alpha), "weight of the augmented loss")
      ("stop-width-aug-fraction", po::value(&t.stop_width_aug_fraction)->default_value(t.stop_width_aug_fraction), "width augmentation runs for this fraction of the training steps (NetAug: the first half)")
      ("stop-expand-aug-fraction", po::value(&t.stop_expand_aug_fraction)->default_value(t.stop_expand_aug_fraction), "expand augmentation runs for this fraction of the training steps (NetAug: 1, to the end)")
      ("expand-list", po::value(&f.expand_list)->default_value(f.expand_list), "expand augmentation multipliers")
      ("width-list", po::value(&f.width_list)->default_value(f.width_list), "width augmentation multipliers")
      ("no-cross-term", po::bool_switch(&f.no_cross_term), "tiny outputs do not see the augmented inputs (pure channel split)")
      ("sort-channels", po::value(&f.sort_mode)->default_value(f.sort_mode), "channel sorting by L1 importance while width augmentation runs: all (NetAug: tiny channels included, weights can tear) | augmented (tiny channels stay)")
      ("no-sort", po::bool_switch(&f.no_sort), "do not sort channels")
      ("eta", po::value(&n.eta)->default_value(n.eta), "AdderNet adaptive gradient scaling eta, once per step: the adder weights' step is about lr * eta per element (0: off)")
      ("remap-eta", po::value(&n.remap_eta)->default_value(n.remap_eta), "adaptive gradient scaling eta of the remap parameters of adder layers (-1: --eta)")
      ("shift-bits", po::value(&n.shift_bits)->default_value(n.shift_bits), "DeepShift-Q weight bits")
      ("remap-kl-weight", po::value(&t.remap_kl_weight)->default_value(t.remap_kl_weight), "weight of the piecewise remap's KL term")
      ("bn-batches", po::value(&t.bn_batches)->default_value(t.bn_batches), "training batches for BN re-estimation before each evaluation")
      ("device", po::value(&f.device)->default_value(f.device), "cpu | cuda")
      ("memory-format", po::value(&f.memory_format)->default_value(f.memory_format), "layout of the activations of CPU training steps: channels-last (faster: oneDNN's NHWC depthwise and 1x1 kernels) | nchw (the layout of runs before the option; evaluation is NCHW either way)")
      ("checkpoint-every", po::value(&f.checkpoint_every)->default_value(0), "also checkpoint every N steps (0: each epoch only)")
      ("resume", po::bool_switch(&f.resume), "continue the run in --out from its checkpoint")
      ("nproc", po::value(&f.nproc)->default_value(f.nproc), "data-parallel training: N processes on this machine, the batch split among them (Gloo over loopback; several machines: see README)")
      ("micro-batches", po::value(&t.micro_batches)->default_value(t.micro_batches), "cut each batch into N chunks run one after another, gradients summed (BN statistics per chunk; 1 process x N = N processes x 1)")
      ("aug-micro-batches", po::value(&t.aug_micro_batches)->default_value(t.aug_micro_batches), "run each augmented forward + backward in N row slices: its saved activations, the peak of a step, shrink N-fold (the augmented network's BN statistics per slice; the tiny network's pass is unchanged)");
}

void apply_training_flags(TrainingFlags& f, uint64_t seed) {
  NAS_CHECK(f.aug == "shiftaddaug" || f.aug == "none", "unknown --aug '" << f.aug << "' (accepted: shiftaddaug, none)");
  f.net.channels_last = nas::parse_memory_format(f.memory_format);
  NAS_CHECK(f.device == "cpu" || f.device == "cuda", "unknown --device '" << f.device << "' (accepted: cpu, cuda)");
  NAS_CHECK(f.device != "cuda" || torch::cuda::is_available(),
            "--device cuda: no CUDA device is available (this LibTorch build or machine has none)");
  NAS_CHECK(f.net.shift_bits >= 2 && f.net.shift_bits <= 8, "--shift-bits must be in [2, 8], got " << f.net.shift_bits);
  const bool augment = f.aug == "shiftaddaug";
  AugOptions& aug = f.net.aug;
  aug.expand_mults = parse_multiplier_list(f.expand_list, "--expand-list");
  aug.width_mults = parse_multiplier_list(f.width_list, "--width-list");
  aug.cross_term = !f.no_cross_term;
  if (!augment) aug.expand_mults = aug.width_mults = {1.0};  // the layers are the tiny ones
  TrainerOptions& t = f.trainer;
  t.warmup_epochs = f.warmup_epochs >= 0 ? f.warmup_epochs : std::min(5.0, 0.05 * static_cast<double>(t.epochs));
  t.augment = augment;
  t.sort_channels = !f.no_sort;
  t.sort_mode = parse_channel_sort(f.sort_mode);
  t.seed = seed;
  t.device = f.device;
  t.checkpoint_every_steps = f.checkpoint_every;
  try {
    t.validate();
  } catch (const Error& e) {
    // The library names fields (trainer.stop_width_aug_fraction); the CLI names its flags.
    throw with_flag_names(e, {"trainer"});
  }
}

std::optional<int> launch_ranks_if_requested(const TrainingFlags& f, const std::string& program, int argc,
                                             char** argv) {
  NAS_CHECK(f.nproc >= 1 && f.nproc <= 256, "--nproc must be in 1..256, got " << f.nproc);
  if (f.nproc == 1 || is_distributed_worker()) return std::nullopt;
  return launch_local_ranks(program, f.nproc, argc, argv);
}

std::unique_ptr<GlooDataParallel> join_process_group(const TrainingFlags& f, const po::variables_map& vm) {
  if (!is_distributed_worker()) return nullptr;
  const DistOptions options = DistOptions::from_env();
  NAS_CHECK(vm["nproc"].defaulted() || f.nproc == options.world_size,
            "--nproc " << f.nproc << " but WORLD_SIZE is " << options.world_size);
  NAS_CHECK(f.device == "cpu", "--device " << f.device << ": data-parallel training runs on the CPU (Gloo) in this build");
  return std::make_unique<GlooDataParallel>(options);
}

}  // namespace nas::cli
