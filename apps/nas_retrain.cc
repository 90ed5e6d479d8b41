// nas_retrain: trains one architecture's multiplication-free tiny network with ShiftAddAug (or
// alone, --aug none), then exports it and reports its test accuracy, size and energy.
//
// Output directory (--out): config.json, log.txt, checkpoint.pt (every epoch, atomic; --resume
// continues exactly), tiny_model.nasm (the exported MF network) and result.json.
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <string>

#include "apps/cli_common.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/memory_usage.h"
#include "core/string_format.h"
#include "datasets/data_loader.h"
#include "datasets/dataset_info.h"
#include "datasets/load_dataset.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "search_space/named_archs.h"
#include "supernet/aug_config.h"
#include "supernet/hybrid_net.h"
#include "supernet/malloc_tuning.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/tiny_net.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_retrain";
constexpr const char* kModelFile = "tiny_model.nasm";

// Defaults of the training and network fields come from the options structs (one place); only
// what exists at the CLI alone is defaulted here.
struct Flags {
  std::string arch = "mbv2-tiny", op = "shift", aug = "shiftaddaug", remap = "none";
  std::string dataset = "fashion-mnist", data_dir, device = "cpu";
  int64_t batch_size = 128, eval_batch_size = 256;
  int64_t limit_train = 0, limit_test = 0, val_size = -1, resolution = 0;
  double warmup_epochs = -1;
  double aug_stop_fraction = -1;  // the older single stop (both stops at 1 - x); -1: not given
  std::string expand_list, width_list, sort_mode;
  bool no_cross_term = false, no_sort = false, resume = false;
  int64_t checkpoint_every = 0;
  nas::TrainerOptions trainer;
  nas::HybridNetOptions net;
};

std::string join_multipliers(const std::vector<double>& values) {
  std::string out;
  for (const double v : values) out += (out.empty() ? "" : ",") + nas::format_double(v, 1);
  return out;
}

std::string fmt(double v, int precision = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

double evaluate_tiny(const nas::TinyNet& tiny, const nas::datasets::DataLoader& loader,
                     const torch::Device& device) {
  int64_t correct = 0, total = 0;
  for (nas::datasets::Batch& b : loader.epoch(0)) {
    correct += tiny.forward(b.images.to(device)).argmax(1).eq(b.labels.to(device)).sum().item<int64_t>();
    total += b.size();
  }
  return total > 0 ? 100.0 * static_cast<double>(correct) / static_cast<double>(total) : 0.0;
}

int run(int argc, char** argv) {
  nas::tune_malloc_for_training();
  const auto wall_start = std::chrono::steady_clock::now();
  nas::cli::CommonFlags common;
  Flags f;
  f.expand_list = join_multipliers(f.net.aug.expand_mults);
  f.width_list = join_multipliers(f.net.aug.width_mults);
  f.sort_mode = nas::channel_sort_name(f.trainer.sort_mode);
  nas::TrainerOptions& t = f.trainer;
  nas::HybridNetOptions& n = f.net;
  po::options_description desc("Options");
  desc.add_options()
      ("arch", po::value(&f.arch)->default_value(f.arch), "architecture: a name (mbv2-tiny, mbv2-micro) or an ArchConfig JSON file")
      ("op", po::value(&f.op)->default_value(f.op), "op of every block and the head conv: shift | add | mult (stem and classifier stay mult)")
      ("aug", po::value(&f.aug)->default_value(f.aug), "shiftaddaug (tiny + one sampled augmented hybrid net per step) | none (the tiny net alone)")
      ("remap", po::value(&f.remap)->default_value(f.remap), "weight remap of the MF slice: none | quantile | piecewise | fc")
      ("dataset", po::value(&f.dataset)->default_value(f.dataset), "fashion-mnist | mnist | cifar10 | cifar100")
      ("data-dir", po::value(&f.data_dir), "data set directory (default: the system location of (Fashion-)MNIST; required for CIFAR)")
      ("epochs", po::value(&t.epochs)->default_value(t.epochs), "training epochs")
      ("batch-size", po::value(&f.batch_size)->default_value(f.batch_size), "training batch size")
      ("eval-batch-size", po::value(&f.eval_batch_size)->default_value(f.eval_batch_size), "evaluation batch size")
      ("lr", po::value(&t.lr)->default_value(t.lr), "peak learning rate (SGD, Nesterov momentum 0.9, cosine schedule)")
      ("warmup-epochs", po::value(&f.warmup_epochs)->default_value(f.warmup_epochs), "linear warm-up epochs (-1: 5% of the epochs, at most 5)")
      ("weight-decay", po::value(&t.weight_decay)->default_value(t.weight_decay), "weight decay of conv/linear weights (none on BN, biases, remap)")
      ("label-smoothing", po::value(&t.label_smoothing)->default_value(t.label_smoothing), "label smoothing")
      ("alpha", po::value(&t.alpha)->default_value(t.alpha), "weight of the augmented loss")
      ("stop-width-aug-fraction", po::value(&t.stop_width_aug_fraction)->default_value(t.stop_width_aug_fraction), "width augmentation runs for this fraction of the training steps (NetAug: the first half)")
      ("stop-expand-aug-fraction", po::value(&t.stop_expand_aug_fraction)->default_value(t.stop_expand_aug_fraction), "expand augmentation runs for this fraction of the training steps (NetAug: 1, to the end)")
      ("aug-stop-fraction", po::value(&f.aug_stop_fraction), "no augmentation at all in the last fraction of training (sets both stop fractions to 1 - x)")
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
      ("limit-train", po::value(&f.limit_train)->default_value(0), "use only N training images (class-balanced; 0: all)")
      ("limit-test", po::value(&f.limit_test)->default_value(0), "use only N test images (class-balanced; 0: all)")
      ("val-size", po::value(&f.val_size)->default_value(-1), "validation images carved from the training set (-1: 10% up to 5000; 0: none)")
      ("resolution", po::value(&f.resolution)->default_value(0), "input size (0: the data set's; larger pads)")
      ("device", po::value(&f.device)->default_value(f.device), "cpu | cuda")
      ("checkpoint-every", po::value(&f.checkpoint_every)->default_value(0), "also checkpoint every N steps (0: each epoch only)")
      ("resume", po::bool_switch(&f.resume), "continue the run in --out from its checkpoint");
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kThreads | nas::cli::kOut);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram,
                             "train a multiplication-free tiny network with ShiftAddAug and export it",
                             desc, vm))
    return 0;

  // ---- validation (one-line errors) -----------------------------------------------------------
  NAS_CHECK(!common.out_dir.empty(), "--out DIR is required");
  const nas::OpKind op = nas::parse_op_kind(f.op);
  NAS_CHECK(f.aug == "shiftaddaug" || f.aug == "none",
            "unknown --aug '" << f.aug << "' (accepted: shiftaddaug, none)");
  const bool augment = f.aug == "shiftaddaug";
  const nas::RemapKind remap = nas::parse_remap_kind(f.remap);
  NAS_CHECK(nas::datasets::is_known_dataset(f.dataset),
            "unknown --dataset '" << f.dataset << "' (accepted: fashion-mnist, mnist, cifar10, cifar100)");
  const std::string dataset = nas::datasets::canonical_dataset_name(f.dataset);
  NAS_CHECK(t.epochs >= 1, "--epochs must be >= 1, got " << t.epochs);
  NAS_CHECK(f.batch_size >= 1, "--batch-size must be >= 1, got " << f.batch_size);
  NAS_CHECK(f.eval_batch_size >= 1, "--eval-batch-size must be >= 1, got " << f.eval_batch_size);
  NAS_CHECK(f.limit_train >= 0 && f.limit_test >= 0, "--limit-train / --limit-test must be >= 0");
  NAS_CHECK(f.resolution >= 0, "--resolution must be >= 0, got " << f.resolution);
  NAS_CHECK(n.shift_bits >= 2 && n.shift_bits <= 8, "--shift-bits must be in [2, 8], got " << n.shift_bits);
  NAS_CHECK(vm.count("aug-stop-fraction") == 0 || (f.aug_stop_fraction >= 0 && f.aug_stop_fraction <= 1),
            "--aug-stop-fraction must be in [0, 1], got " << f.aug_stop_fraction);
  NAS_CHECK(vm.count("aug-stop-fraction") == 0 ||
                (vm["stop-width-aug-fraction"].defaulted() && vm["stop-expand-aug-fraction"].defaulted()),
            "--aug-stop-fraction sets both stop fractions: do not combine it with "
            "--stop-width-aug-fraction / --stop-expand-aug-fraction");
  const nas::ChannelSort sort_mode = nas::parse_channel_sort(f.sort_mode);
  NAS_CHECK(f.device == "cpu" || f.device == "cuda", "unknown --device '" << f.device << "' (accepted: cpu, cuda)");
  NAS_CHECK(f.device != "cuda" || torch::cuda::is_available(),
            "--device cuda: no CUDA device is available (this LibTorch build or machine has none)");
  if (!f.data_dir.empty()) {
    std::error_code ec;
    NAS_CHECK(fs::is_directory(f.data_dir, ec), "--data-dir " << f.data_dir << ": no such directory");
  }
  nas::AugOptions aug;
  aug.expand_mults = nas::parse_multiplier_list(f.expand_list, "--expand-list");
  aug.width_mults = nas::parse_multiplier_list(f.width_list, "--width-list");
  aug.cross_term = !f.no_cross_term;
  if (!augment) aug.expand_mults = aug.width_mults = {1.0};  // the layers are the tiny ones

  nas::HybridNetOptions net_options = f.net;
  net_options.aug = aug;
  net_options.remap = op == nas::OpKind::Mult ? nas::RemapKind::None : remap;

  nas::TrainerOptions topt = f.trainer;
  topt.warmup_epochs = f.warmup_epochs >= 0 ? f.warmup_epochs
                                            : std::min(5.0, 0.05 * static_cast<double>(topt.epochs));
  topt.augment = augment;
  if (vm.count("aug-stop-fraction"))
    topt.stop_width_aug_fraction = topt.stop_expand_aug_fraction = 1.0 - f.aug_stop_fraction;
  topt.sort_channels = !f.no_sort;
  topt.sort_mode = sort_mode;
  topt.seed = common.seed;
  topt.device = f.device;
  topt.checkpoint_every_steps = f.checkpoint_every;
  try {
    topt.validate();
  } catch (const nas::Error& e) {
    // The library names fields (trainer.stop_width_aug_fraction); the CLI names its flags.
    std::string message = std::regex_replace(e.message(), std::regex("trainer\\.([a-z_]+)"), "--$1");
    for (size_t i = message.find("--"); i < message.size() && message[i] != ' '; ++i)
      if (message[i] == '_') message[i] = '-';
    throw nas::Error(message, e.file().c_str(), e.line());
  }

  const int threads = nas::cli::resolve_threads(common);
  torch::set_num_threads(threads);
  const fs::path out(common.out_dir);
  const std::string checkpoint_path = (out / "checkpoint.pt").string();
  topt.checkpoint_path = checkpoint_path;
  {
    std::error_code ec;
    NAS_CHECK(f.resume || !fs::exists(checkpoint_path, ec),
              common.out_dir << " already holds a run (checkpoint.pt): pass --resume to continue it, "
                                "or choose another --out");
    fs::create_directories(out, ec);
    NAS_CHECK(!ec, "cannot create --out " << common.out_dir << ": " << ec.message());
  }

  // ---- data -----------------------------------------------------------------------------------
  const nas::datasets::DatasetInfo& info = nas::datasets::dataset_info(dataset);
  nas::datasets::Dataset train_full =
      nas::datasets::load_dataset(dataset, f.data_dir, nas::datasets::Split::Train, f.limit_train);
  nas::datasets::Dataset test_set =
      nas::datasets::load_dataset(dataset, f.data_dir, nas::datasets::Split::Test, f.limit_test);
  int64_t val_size = f.val_size;
  if (val_size < 0) val_size = std::min<int64_t>(5000, train_full.size() / 10);
  NAS_CHECK(val_size == 0 || val_size < train_full.size(),
            "--val-size " << val_size << " leaves no training images (the training set has "
                          << train_full.size() << ")");
  std::shared_ptr<const nas::datasets::Dataset> train_data, val_data;
  if (val_size > 0) {
    nas::datasets::TrainValSplit split = nas::datasets::split_train_val(train_full, val_size, common.seed);
    train_data = std::make_shared<const nas::datasets::Dataset>(std::move(split.train));
    val_data = std::make_shared<const nas::datasets::Dataset>(std::move(split.val));
  } else {
    train_data = std::make_shared<const nas::datasets::Dataset>(std::move(train_full));
  }
  const auto test_data = std::make_shared<const nas::datasets::Dataset>(std::move(test_set));

  const int resolution = static_cast<int>(f.resolution > 0 ? f.resolution : info.height);
  nas::ArchConfig arch = nas::resolve_arch(f.arch, resolution, static_cast<int>(info.channels),
                                           static_cast<int>(info.num_classes));
  nas::set_all_ops(arch, op);
  arch.validate();

  nas::datasets::DataLoaderOptions train_options =
      nas::datasets::DataLoaderOptions::training(dataset, f.batch_size, common.seed);
  train_options.resolution = arch.resolution;
  const nas::datasets::DataLoader train_loader(train_data, train_options);
  NAS_CHECK(train_loader.num_batches() >= 1,
            "the training set (" << train_data->size() << " images) is smaller than --batch-size " << f.batch_size);
  nas::datasets::DataLoaderOptions eval_options = nas::datasets::DataLoaderOptions::evaluation(f.eval_batch_size);
  eval_options.resolution = arch.resolution;
  eval_options.mean = train_loader.mean();
  eval_options.std = train_loader.std();
  std::unique_ptr<nas::datasets::DataLoader> val_loader;
  if (val_data) val_loader = std::make_unique<nas::datasets::DataLoader>(val_data, eval_options);
  const nas::datasets::DataLoader test_loader(test_data, eval_options);

  // ---- configuration --------------------------------------------------------------------------

  const nas::RunContext run_context = nas::cli::make_run_context(kProgram, argc, argv, common, f.device);
  // What must match for --resume: everything that changes the trained weights.
  nas::json fingerprint;
  fingerprint["arch"] = arch.to_json();
  fingerprint["op"] = nas::op_kind_name(op);
  fingerprint["aug"] = f.aug;
  fingerprint["net"] = net_options.to_json();
  fingerprint["trainer"] = topt.to_json();
  fingerprint["data"] = {{"dataset", dataset},     {"limit_train", f.limit_train},
                         {"val_size", val_size},   {"resolution", arch.resolution},
                         {"batch_size", f.batch_size}, {"train_images", train_data->size()}};
  nas::json config = fingerprint;
  config["context"] = nas::make_context(run_context);
  config["arch_name"] = f.arch;
  config["arch_key"] = arch.key();
  config["data"]["limit_test"] = f.limit_test;
  config["data"]["test_images"] = test_data->size();
  config["data"]["val_images"] = val_data ? val_data->size() : 0;
  config["data"]["mean"] = train_loader.mean();
  config["data"]["std"] = train_loader.std();
  config["device"] = f.device;
  config["threads"] = threads;
  nas::write_json_file((out / "config.json").string(), config);

  std::ofstream log((out / "log.txt").string(), std::ios::app);
  auto log_line = [&](const std::string& line) {
    log << "[" << nas::utc_now_iso8601() << "] " << line << "\n";
    log.flush();
  };
  std::cerr << kProgram << ": " << arch.key() << " | op " << nas::op_kind_name(op) << " | aug " << f.aug
            << " | remap " << nas::remap_kind_name(net_options.remap) << " | " << dataset << " train "
            << train_data->size() << " val " << (val_data ? val_data->size() : 0) << " test "
            << test_data->size() << " | " << f.device << " " << threads << " thread(s)\n";

  // ---- training -------------------------------------------------------------------------------
  torch::manual_seed(common.seed);
  nas::HybridNet net(arch, net_options);
  nas::ShiftAddAugTrainer trainer(net, topt, train_loader, val_loader.get());
  const bool resumed = trainer.resume(fingerprint);
  log_line(std::string(resumed ? "resumed" : "started") + ": " + nas::join_command_line(run_context.argv) +
           (resumed ? " (at step " + std::to_string(trainer.global_step()) + ")" : ""));
  trainer.on_epoch = [&](const nas::EpochRecord& r) {
    log_line("epoch " + std::to_string(r.epoch) + "/" + std::to_string(topt.epochs) + (r.augmented ? " aug" : " tiny") +
             " loss " + fmt(r.train_loss, 4) + (r.augmented ? " aug_loss " + fmt(r.train_aug_loss, 4) : "") +
             " train_top1 " + fmt(r.train_top1) + "%" + (r.val_top1 >= 0 ? " val_top1 " + fmt(r.val_top1) + "%" : "") +
             " " + fmt(r.images_per_s, 1) + " img/s " + fmt(r.train_seconds, 1) + "s");
  };
  trainer.train();

  // ---- export, evaluation, result -------------------------------------------------------------
  const torch::Device device(f.device);
  nas::HybridNet& trained = trainer.net();
  double val_top1 = -1;
  if (val_loader) val_top1 = trainer.evaluate(*val_loader, /*reestimate=*/false);  // BN re-estimated at the end
  const double hybrid_test_top1 = trainer.evaluate(test_loader, /*reestimate=*/false);

  nas::TinyPreprocessing pre{dataset, arch.resolution, train_loader.mean(), train_loader.std()};
  nas::json meta = {{"arch_name", f.arch},           {"op", nas::op_kind_name(op)},
                    {"aug", f.aug},                  {"remap", nas::remap_kind_name(net_options.remap)},
                    {"limit_test", f.limit_test},    {"eval_batch_size", f.eval_batch_size},
                    {"epochs", topt.epochs},         {"seed", common.seed},
                    {"device", f.device},            {"val_top1", val_top1}};
  nas::TinyNet exported = nas::TinyNet::from_hybrid(*trained, pre, meta);
  exported.meta()["test_top1"] = hybrid_test_top1;
  const std::string model_path = (out / kModelFile).string();
  exported.save(model_path);
  nas::TinyNet reloaded = nas::TinyNet::load(model_path);
  reloaded.to(device);
  const double test_top1 = evaluate_tiny(reloaded, test_loader, device);
  // The export is bit-exact by construction (checked by the tests); a difference here would mean
  // the device picked different kernels for the two runs. Report it, keep the exported number
  // (the one nas_eval reproduces).
  const bool export_exact = test_top1 == hybrid_test_top1;
  if (!export_exact)
    std::cerr << kProgram << ": warning: the exported model's test top-1 " << test_top1
              << "% differs from the hybrid net's tiny top-1 " << hybrid_test_top1 << "%\n";

  const nas::LayerCounts counts = nas::count_layers(arch);
  const std::vector<nas::LayerSpec> layers = nas::to_layer_specs(arch, 32);
  nas::json energy;
  for (nas::EnergyTier tier : {nas::EnergyTier::Eyeriss, nas::EnergyTier::Unit}) {
    nas::EnergyModelOptions eo;
    eo.tier = tier;
    eo.bits = 32;
    nas::EnergyModel model(nas::resolve_energy_table(""), eo);
    const nas::EnergyReport report = model.report(layers);
    energy[std::string(nas::energy_tier_name(tier)) + "_mj"] = report.energy_per_image_mj();
    nas::json per_op;
    for (const auto& [key, totals] : report.per_op) per_op[key] = totals.energy_mj;
    energy[std::string(nas::energy_tier_name(tier)) + "_per_op_mj"] = per_op;
    if (tier == nas::EnergyTier::Eyeriss) energy["table"] = nas::energy_table_summary(model.table());
  }
  energy["bits"] = 32;

  const auto& history = trainer.history();
  nas::json history_json = nas::json::array();
  double images = 0, seconds = 0;
  for (const nas::EpochRecord& r : history) {
    history_json.push_back(r.to_json());
    images += r.images_per_s * r.train_seconds;
    seconds += r.train_seconds;
  }
  nas::json result;
  result["context"] = nas::make_context(run_context);
  result["arch"] = f.arch;
  result["arch_key"] = arch.key();
  result["arch_config"] = arch.to_json();
  result["op"] = nas::op_kind_name(op);
  result["aug"] = f.aug;
  result["remap"] = nas::remap_kind_name(net_options.remap);
  result["dataset"] = dataset;
  result["epochs"] = topt.epochs;
  result["seed"] = common.seed;
  result["test_top1"] = test_top1;
  result["hybrid_test_top1"] = hybrid_test_top1;
  result["export_exact"] = export_exact;
  result["val_top1"] = val_top1;
  result["test_images"] = test_data->size();
  result["val_images"] = val_data ? val_data->size() : 0;
  result["train_images"] = train_data->size();
  result["params"] = counts.params;
  result["macs"] = counts.macs;
  result["counts"] = counts.to_json();
  result["energy_mj"] = energy["eyeriss_mj"];
  result["energy"] = energy;
  result["train_seconds"] = seconds;
  result["images_per_s"] = seconds > 0 ? images / seconds : 0.0;
  // Peak resident set of the whole process (this invocation; a resumed run counts from its resume).
  result["peak_rss_mib"] = nas::bytes_to_mib(nas::peak_rss_bytes());
  result["allocator"] = nas::malloc_implementation();
  result["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result["history"] = history_json;
  result["model_file"] = kModelFile;
  result["model_bytes"] = exported.stored_bytes();
  result["trainer"] = topt.to_json();
  // Weight tearing: the MF slices' distributions before and after the remap, per layer.
  result["weight_statistics"] = trained->weight_statistics();
  result["net"] = net_options.to_json();
  nas::write_json_file((out / "result.json").string(), result);

  const std::string summary = "test top-1 " + fmt(test_top1) + "%" +
                              (val_top1 >= 0 ? " (val " + fmt(val_top1) + "%)" : std::string()) + ", " +
                              std::to_string(counts.params) + " params, " + fmt(counts.macs / 1e6) +
                              " MMAC, " + fmt(energy["eyeriss_mj"].get<double>(), 4) + " mJ (eyeriss), train " +
                              fmt(seconds, 1) + " s";
  log_line("done: " + summary);
  std::cout << kProgram << ": " << summary << "\n"
            << kProgram << ": wrote " << (out / "result.json").string() << " and " << model_path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
