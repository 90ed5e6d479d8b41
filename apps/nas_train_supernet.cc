// nas_train_supernet: trains the weight-sharing ShiftAddAug supernet over a search space, once.
// Each step trains --sandwich subnets (the largest, the smallest, random ones), each as its MF
// network plus one augmented version of it (DESIGN.md §5).
//
// Output directory (--out): space.json (the ArchSpace), supernet.json (everything needed to
// rebuild the net and its data split: nas_extract reads it), log.txt, supernet.ckpt (every epoch,
// atomic; --resume continues exactly) and result.json.
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "cli/training_flags.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/memory_usage.h"
#include "core/string_format.h"
#include "datasets/experiment_data.h"
#include "search_space/arch_space.h"
#include "supernet/aug_config.h"
#include "supernet/hybrid_net.h"
#include "supernet/malloc_tuning.h"
#include "supernet/shiftaddaug_trainer.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_train_supernet";

struct Flags : nas::cli::TrainingFlags {
  std::string space = "default", remap = "none";
  // The string flags' defaults follow HybridNetOptions::supernet_defaults() (one place).
  std::string adder_scaling = nas::HybridNetOptions::supernet_defaults().relative_adder_scaling ? "relative" : "absolute";
  std::string adder_weights = nas::HybridNetOptions::supernet_defaults().adder_unit_rms ? "unit-rms" : "raw";
  std::string op_weights = nas::HybridNetOptions::supernet_defaults().separate_adder_weights ? "separate-adder" : "shared";
  std::string adder_renorm = nas::HybridNetOptions::supernet_defaults().adder_weight_renorm ? "every-step" : "off";
  std::string distill = nas::TrainerOptions::supernet_defaults().inplace_distillation ? "inplace" : "none";
  bool shared_bn = false;
  nas::datasets::ExperimentDataOptions data;
};

int run(int argc, char** argv) {
  nas::tune_malloc_for_training();
  const auto wall_start = std::chrono::steady_clock::now();
  nas::cli::CommonFlags common;
  Flags f;
  f.trainer.lr = 0.1;  // the supernet's recipe (an lr grid on validation chooses per data set)
  nas::TrainerOptions& t = f.trainer;
  nas::HybridNetOptions& n = f.net;
  nas::datasets::ExperimentDataOptions& d = f.data;
  po::options_description desc("Options");
  desc.add_options()
      ("space", po::value(&f.space)->default_value(f.space), "search space: default (default_space() for the data set) or an ArchSpace JSON file")
      ("dataset", po::value(&d.dataset)->default_value(d.dataset), "fashion-mnist | mnist | cifar10 | cifar100")
      ("data-dir", po::value(&d.data_dir), "data set directory (default: the system location of (Fashion-)MNIST; required for CIFAR)")
      ("batch-size", po::value(&d.batch_size)->default_value(d.batch_size), "training batch size")
      ("eval-batch-size", po::value(&d.eval_batch_size)->default_value(d.eval_batch_size), "evaluation batch size")
      ("sandwich", po::value(&t.sandwich)->default_value(t.sandwich), "subnets per step: the largest, the smallest and N-2 random ones")
      ("single-op-fraction", po::value(&t.single_op_fraction)->default_value(t.single_op_fraction), "progressive op mixing: for this fraction of the steps each subnet runs one op in every block, then each block draws its own")
      ("distill", po::value(&f.distill)->default_value(f.distill), "none | inplace: the subnets after the largest learn from its predictions (in-place distillation, BigNAS); augmented passes keep the labels")
      ("remap", po::value(&f.remap)->default_value(f.remap), "weight remap of the MF slices (one per op): none | quantile | piecewise | fc")
      ("shared-bn", po::bool_switch(&f.shared_bn), "one BN per layer for every op (default: one BN per op)")
      ("adder-weights", po::value(&f.adder_weights)->default_value(f.adder_weights), "what the adder op sees of the shared weights: unit-rms (scaled to RMS 1, AdderNet's scale) | raw")
      ("op-weights", po::value(&f.op_weights)->default_value(f.op_weights), "weights of a block that may run shift or add: shared (one tensor, heterogeneous sharing through the remap) | separate-adder (the adder view has a tensor of its own; shift and mult share one)")
      ("adder-scaling", po::value(&f.adder_scaling)->default_value(f.adder_scaling), "relative (the scaled gradient's RMS is eta x the weights' RMS: adder and shift share Kaiming-scale weights) | absolute (AdderNet's: RMS eta)")
      ("adder-renorm", po::value(&f.adder_renorm)->default_value(f.adder_renorm), "every-step (the adder's unit-RMS weights are divided by their RMS, with their momentum, after every step: an exact reparameterisation that keeps them from growing geometrically under relative scaling) | off (the behaviour before; the weights' RMS can overflow float in long runs); needs --adder-weights unit-rms and --adder-scaling relative")
      ("limit-train", po::value(&d.limit_train)->default_value(0), "use only N training images (class-balanced; 0: all)")
      ("val-size", po::value(&d.val_size)->default_value(-1), "validation images carved from the training set (-1: 10% up to 5000)")
      ("split-seed", po::value(&d.split_seed)->default_value(-1), "seed of the train / validation carve alone (-1: --seed); runs with different --seed and one --split-seed share their validation images");
  nas::cli::add_training_flags(desc, f);
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kThreads | nas::cli::kOut);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "train the weight-sharing ShiftAddAug supernet", desc, vm))
    return 0;

  // ---- validation (one-line errors) -----------------------------------------------------------
  NAS_CHECK(!common.out_dir.empty(), "--out DIR is required");
  nas::cli::apply_training_flags(f, common.seed);
  n.remap = nas::parse_remap_kind(f.remap);
  n.bn_per_op = !f.shared_bn;
  NAS_CHECK(f.adder_scaling == "relative" || f.adder_scaling == "absolute",
            "unknown --adder-scaling '" << f.adder_scaling << "' (accepted: relative, absolute)");
  n.relative_adder_scaling = f.adder_scaling == "relative";
  NAS_CHECK(f.adder_weights == "unit-rms" || f.adder_weights == "raw",
            "unknown --adder-weights '" << f.adder_weights << "' (accepted: unit-rms, raw)");
  n.adder_unit_rms = f.adder_weights == "unit-rms";
  NAS_CHECK(f.adder_renorm == "every-step" || f.adder_renorm == "off",
            "unknown --adder-renorm '" << f.adder_renorm << "' (accepted: every-step, off)");
  n.adder_weight_renorm = f.adder_renorm == "every-step";
  NAS_CHECK(!n.adder_weight_renorm || (n.adder_unit_rms && n.relative_adder_scaling),
            "--adder-renorm every-step needs --adder-weights unit-rms and --adder-scaling relative (or --adder-renorm off)");
  NAS_CHECK(f.op_weights == "shared" || f.op_weights == "separate-adder",
            "unknown --op-weights '" << f.op_weights << "' (accepted: shared, separate-adder)");
  n.separate_adder_weights = f.op_weights == "separate-adder";
  NAS_CHECK(f.distill == "none" || f.distill == "inplace",
            "unknown --distill '" << f.distill << "' (accepted: none, inplace)");
  t.inplace_distillation = f.distill == "inplace";
  if (const std::optional<int> job = nas::cli::launch_ranks_if_requested(f, kProgram, argc, argv)) return *job;
  const std::unique_ptr<nas::GlooDataParallel> group = nas::cli::join_process_group(f, vm);
  // Rank 0 writes every file and line; the other ranks train beside it.
  const bool writer = !group || group->rank() == 0;
  t.progress = writer;
  d.seed = common.seed;
  d.load_test = false;  // the supernet never sees the test split
  try {
    d.validate();
  } catch (const nas::Error& e) {
    throw nas::cli::with_flag_names(e, {"data"});
  }

  const nas::datasets::DatasetInfo& info = nas::datasets::dataset_info(nas::datasets::canonical_dataset_name(d.dataset));
  nas::ArchSpace space;
  if (f.space == "default") {
    space = nas::default_space(static_cast<int>(info.height), static_cast<int>(info.channels),
                               static_cast<int>(info.num_classes));
  } else {
    space = nas::read_space_file(f.space);
  }
  space.validate(f.space == "default" ? "space" : f.space);
  NAS_CHECK(space.in_channels == info.channels && space.num_classes == info.num_classes,
            "--space: the space is for " << space.in_channels << " input channels and " << space.num_classes
                                         << " classes; " << info.name << " has " << info.channels << " and "
                                         << info.num_classes);
  d.resolution = space.resolutions.back();  // the loader gives the largest; subnets resize down

  const int threads = nas::cli::resolve_threads(common);
  torch::set_num_threads(threads);
  nas::cli::warn_if_oversubscribed(kProgram, threads);
  // Rank 0 claims the run directory; the other ranks write nothing there.
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", common.out_dir, true, {}}},
      {{"--space", f.space == "default" ? std::string() : f.space}, {"--data-dir", d.data_dir, true, true}}, writer);
  const fs::path out(common.out_dir);
  const std::string checkpoint_path = writer ? nas::cli::prepare_run_dir(common.out_dir, "supernet.ckpt", f.resume)
                                             : (out / "supernet.ckpt").string();
  t.checkpoint_path = checkpoint_path;

  // ---- data, configuration --------------------------------------------------------------------
  const nas::datasets::ExperimentData data = [&] {
    try {
      return nas::datasets::load_experiment_data(d);
    } catch (const nas::Error& e) {
      throw nas::cli::with_flag_names(e, {"data"});
    }
  }();
  const nas::RunContext run_context = nas::cli::make_run_context(kProgram, argc, argv, common, f.device);
  // What must match for --resume: everything that changes the trained weights.
  nas::json fingerprint;
  fingerprint["space"] = space.to_json();
  fingerprint["aug"] = f.aug;
  fingerprint["net"] = n.to_json();
  fingerprint["trainer"] = t.to_json();
  fingerprint["data"] = data.to_json(d);
  fingerprint["data"]["data_dir_given"] = !d.data_dir.empty();
  nas::json config = fingerprint;
  config["context"] = nas::make_context(run_context);
  config["data_options"] = d.to_json();  // what nas_extract rebuilds the split from
  config["checkpoint"] = "supernet.ckpt";
  config["world_size"] = group ? group->world_size() : 1;
  if (writer) {
    nas::write_json_file((out / "space.json").string(), space.to_json());
    nas::write_json_file((out / "supernet.json").string(), config);
  }

  nas::cli::RunLog run_log((out / "log.txt").string(), writer);
  if (writer)
    std::cerr << kProgram << ": space of 10^" << nas::format_double(space.log10_size(), 1) << " architectures | aug "
            << f.aug << " | sandwich " << t.sandwich << " | remap " << nas::remap_kind_name(n.remap) << " | "
            << info.name << " train " << data.train->size() << " val " << (data.val ? data.val->size() : 0)
            << " | " << f.device << " " << threads << " thread(s)"
            << (group ? " x " + std::to_string(group->world_size()) + " processes" : std::string()) << "\n";

  // ---- training -------------------------------------------------------------------------------
  torch::manual_seed(common.seed);
  nas::HybridNet net(space, n);
  nas::ShiftAddAugTrainer trainer(net, t, *data.train_loader, data.val_loader.get());
  trainer.set_data_parallel(group.get());
  const bool resumed = trainer.resume(fingerprint);
  run_log.line(std::string(resumed ? "resumed" : "started") + ": " + nas::join_command_line(run_context.argv) +
           (resumed ? " (at step " + std::to_string(trainer.global_step()) + ")" : ""));
  trainer.on_epoch = [&](const nas::EpochRecord& r) {
    std::string line = "epoch " + std::to_string(r.epoch) + "/" + std::to_string(t.epochs) + " loss " +
                       nas::format_double(r.train_loss, 4) + " train_top1(largest) " +
                       nas::format_double(r.train_top1, 2) + "%";
    for (const nas::json& v : r.val_subnets)
      line += " val[" + v.at("arch_key").get<std::string>() + "] " +
              nas::format_double(v.at("val_top1").get<double>(), 2) + "%";
    run_log.line(line + " " + nas::format_double(r.images_per_s, 1) + " img/s " + nas::format_double(r.train_seconds, 1) + "s");
  };
  trainer.train();
  if (!writer) return 0;

  // ---- result ---------------------------------------------------------------------------------
  nas::json history = nas::json::array();
  double images = 0, seconds = 0;
  for (const nas::EpochRecord& r : trainer.history()) {
    history.push_back(r.to_json());
    images += r.images_per_s * r.train_seconds;
    seconds += r.train_seconds;
  }
  nas::json result;
  result["context"] = nas::make_context(run_context);
  result["supernet"] = {{"epochs", t.epochs},
                        {"sandwich", t.sandwich},
                        {"aug", f.aug},
                        {"train_seconds", seconds},
                        {"images_per_s", seconds > 0 ? images / seconds : 0.0},
                        {"steps", trainer.global_step()},
                        {"world_size", group ? group->world_size() : 1},
                        {"micro_batches", t.micro_batches},
                        {"aug_micro_batches", t.aug_micro_batches},
                        {"checkpoint", "supernet.ckpt"},
                        {"final_val", trainer.history().empty() ? nas::json::array() : trainer.history().back().val_subnets}};
  result["space"] = space.to_json();
  result["space_log10_size"] = space.log10_size();
  result["net"] = n.to_json();
  result["trainer"] = t.to_json();
  result["data"] = data.to_json(d);
  result["peak_rss_mib"] = nas::bytes_to_mib(nas::peak_rss_bytes());
  result["allocator"] = nas::malloc_implementation();
  result["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result["history"] = history;
  nas::write_json_file((out / "result.json").string(), result);
  run_log.line("done: " + std::to_string(trainer.global_step()) + " steps, train " + nas::format_double(seconds, 1) + " s");
  std::cout << kProgram << ": trained " << t.epochs << " epochs (" << nas::format_double(seconds, 1) << " s)\n"
            << kProgram << ": wrote " << (out / "result.json").string() << " and " << checkpoint_path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
