// nas_retrain: trains one architecture's multiplication-free tiny network with ShiftAddAug (or
// alone, --aug none), then exports it and reports its test accuracy, size and energy.
//
// Output directory (--out): config.json, log.txt, checkpoint.pt (every epoch, atomic; --resume
// continues exactly), tiny_model.nasm (the exported MF network) and result.json.
//
// --pareto SEARCH_DIR/pareto.json (nas_search) retrains points of a Pareto set instead, each with
// its own ops (as --op keep) and the same recipe: --top K (the K best by predicted top-1),
// --spread K (K points evenly spread over the front's energy range), --keys K1,K2 or --all (the
// default). One run directory per point, --out/point-NN (NN = the point's
// index in pareto.json), and --out/retrain_summary.json {context, pareto {file, fingerprint},
// init, dataset, selection, selected [{key, point_index}] (every point chosen, finished or not),
// runs: [{key, dir, point_index, predicted_top1, val_top1, test_top1,
// energy_mj, macs, params, train_seconds}], best_by_val {key, dir, ...}}, rewritten after every
// point; the best point on the validation split is copied to --out/best_tiny_model.nasm. Rerunning
// the command continues: finished points are skipped, an interrupted one resumes. The same command
// may run several times at once (one process per core, --threads 1 each): each point's directory is
// claimed (core/run_lock.h), a process skips the points another one is training and waits for them
// at the end, so every point is trained once and the last process writes the full summary. --init supernet
// starts every point from the supernet's inherited weights (the MF slice exactly as the subnet ran
// in the supernet, the augmented channels from the supernet's next channels; inherit_subnet_weights
// in supernet/subnet_extraction.h) instead of from scratch; the supernet is the one pareto.json
// records (or --supernet DIR), its remap kind is kept, and each result.json says how it started.
#include <torch/utils.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <cstdlib>
#include <string>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "cli/launcher.h"
#include "workflow/retrain_run.h"
#include "workflow/trained_supernet.h"
#include "cli/training_flags.h"
#include "core/error.h"
#include "datasets/dataset_info.h"
#include "search_space/op_kind.h"
#include "supernet/malloc_tuning.h"
#include "supernet/weight_remap.h"

namespace {

namespace po = nas::cli::po;

constexpr const char* kProgram = "nas_retrain";

int run(int argc, char** argv) {
  nas::tune_malloc_for_training();
  const auto wall_start = std::chrono::steady_clock::now();
  nas::cli::CommonFlags common;
  nas::cli::RetrainFlags f;
  nas::datasets::ExperimentDataOptions& d = f.data;
  po::options_description desc("Options");
  desc.add_options()
      ("arch", po::value(&f.arch)->default_value(f.arch), "architecture: a name (mbv2-tiny, mbv2-micro) or an ArchConfig JSON file")
      ("op", po::value(&f.op)->default_value(f.op), "op of every block and the head conv: shift | add | mult (stem and classifier stay mult) | keep (the ops of the --arch file as written)")
      ("remap", po::value(&f.remap)->default_value(f.remap), "weight remap of the MF slice: none | quantile | piecewise | fc")
      ("dataset", po::value(&d.dataset)->default_value(d.dataset), "fashion-mnist | mnist | cifar10 | cifar100")
      ("data-dir", po::value(&d.data_dir), "data set directory (default: the system location of (Fashion-)MNIST; required for CIFAR)")
      ("batch-size", po::value(&d.batch_size)->default_value(d.batch_size), "training batch size")
      ("eval-batch-size", po::value(&d.eval_batch_size)->default_value(d.eval_batch_size), "evaluation batch size")
      ("aug-stop-fraction", po::value(&f.aug_stop_fraction), "no augmentation at all in the last fraction of training (sets both stop fractions to 1 - x)")
      ("limit-train", po::value(&d.limit_train)->default_value(0), "use only N training images (class-balanced; 0: all)")
      ("limit-test", po::value(&d.limit_test)->default_value(0), "use only N test images (class-balanced; 0: all)")
      ("val-size", po::value(&d.val_size)->default_value(-1), "validation images carved from the training set (-1: 10% up to 5000; 0: none)")
      ("split-seed", po::value(&d.split_seed)->default_value(-1), "seed of the train / validation carve alone (-1: --seed); runs with different --seed and one --split-seed share their validation images")
      ("resolution", po::value(&d.resolution)->default_value(0), "input size (0: the data set's; larger pads)")
      ("pareto", po::value(&f.pareto), "retrain points of this pareto.json of nas_search (one run per point under --out)")
      ("top", po::value(&f.top), "with --pareto: the K points of highest predicted top-1")
      ("spread", po::value(&f.spread), "with --pareto: K points spread evenly over the front's energy range (cheapest, dearest, between)")
      ("keys", po::value(&f.keys), "with --pareto: these points, by key, comma-separated")
      ("all", po::bool_switch(&f.all), "with --pareto: every point (the default)")
      ("seeds", po::value(&f.seeds), "with --pareto: train every selected point once per seed, e.g. 1,2 (run directories point-NN-seedS; the summary gives mean / std over seeds; all seeds share the split of the first unless --split-seed is given)")
      ("init", po::value(&f.init)->default_value(f.init), "with --pareto: scratch, or supernet (start every point from the supernet's inherited weights, MF and augmented channels)")
      ("supernet", po::value(&f.supernet), "with --init supernet: the supernet directory (default: the one pareto.json records)");
  nas::cli::add_training_flags(desc, f);
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kThreads | nas::cli::kOut);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram,
                             "train a multiplication-free tiny network with ShiftAddAug and export it",
                             desc, vm))
    return 0;

  // ---- validation (one-line errors) -----------------------------------------------------------
  NAS_CHECK(!common.out_dir.empty(), "--out DIR is required");
  const bool keep_ops = f.op == "keep";
  const nas::OpKind op = keep_ops ? nas::OpKind::Mult : nas::parse_op_kind(f.op);
  const nas::workflow::RecipeChoice recipe = nas::cli::choose_retrain_recipe(f, !vm["aug"].defaulted());
  f.aug = recipe.aug;
  f.recipe = recipe.to_json();
  if (recipe.chosen_by == "rule") std::cerr << kProgram << ": " << recipe.reason << "\n";
  const nas::RemapKind remap = nas::parse_remap_kind(f.remap);
  NAS_CHECK(nas::datasets::is_known_dataset(d.dataset),
            "unknown --dataset '" << d.dataset << "' (accepted: fashion-mnist, mnist, cifar10, cifar100)");
  NAS_CHECK(f.trainer.epochs >= 1, "--epochs must be >= 1, got " << f.trainer.epochs);
  NAS_CHECK(vm.count("aug-stop-fraction") == 0 || (f.aug_stop_fraction >= 0 && f.aug_stop_fraction <= 1),
            "--aug-stop-fraction must be in [0, 1], got " << f.aug_stop_fraction);
  NAS_CHECK(vm.count("aug-stop-fraction") == 0 ||
                (vm["stop-width-aug-fraction"].defaulted() && vm["stop-expand-aug-fraction"].defaulted()),
            "--aug-stop-fraction sets both stop fractions: do not combine it with "
            "--stop-width-aug-fraction / --stop-expand-aug-fraction");
  if (vm.count("aug-stop-fraction"))
    f.trainer.stop_width_aug_fraction = f.trainer.stop_expand_aug_fraction = 1.0 - f.aug_stop_fraction;
  nas::cli::apply_training_flags(f, common.seed);
  d.seed = common.seed;
  try {
    d.validate();
  } catch (const nas::Error& e) {
    throw nas::cli::with_flag_names(e, {"data"});
  }

  const int threads = nas::cli::resolve_threads(common);
  torch::set_num_threads(threads);
  nas::cli::warn_if_oversubscribed(kProgram, threads);
  const std::vector<nas::InputPath> inputs = {
      {"--pareto", f.pareto}, {"--supernet", f.supernet, true, false, nas::cli::trained_supernet_files()}, {"--data-dir", f.data.data_dir, true, true}};
  // --pareto claims its points one by one (processes share them); one architecture's run
  // directory is claimed by rank 0, the one rank that writes there.
  const char* rank = std::getenv("RANK");
  const bool writer_rank = nas::cli::is_distributed_worker() ? rank != nullptr && std::string(rank) == "0" : f.nproc == 1;
  const nas::cli::OutputGuard guard =
      nas::cli::guard_outputs(kProgram, {{"--out", common.out_dir, true, {}}}, inputs, f.pareto.empty() && writer_rank);
  if (f.pareto.empty()) {
    NAS_CHECK(f.top == 0 && f.spread == 0 && f.keys.empty() && !f.all && vm["init"].defaulted() && f.seeds.empty(),
              "--top, --spread, --keys, --all, --init and --seeds select points of a --pareto set");
    if (const std::optional<int> job = nas::cli::launch_ranks_if_requested(f, kProgram, argc, argv)) return *job;
    const std::unique_ptr<nas::GlooDataParallel> group = nas::cli::join_process_group(f, vm);
    f.group = group.get();
    nas::cli::RetrainTarget target;
    target.op = op;
    target.keep_ops = keep_ops;
    target.remap = remap;
    target.arch_name = f.arch;
    target.out_dir = common.out_dir;
    target.resume = f.resume;
    nas::cli::retrain_architecture(kProgram, f, common, argc, argv, target, wall_start);
    return 0;
  }
  NAS_CHECK(f.nproc == 1 && !nas::cli::is_distributed_worker(),
            "--nproc with --pareto is not supported yet: retrain the points one by one (--keys) with --nproc");
  const auto explicit_flag = [&](const std::string& name) { return vm.count(name) > 0 && !vm[name].defaulted(); };
  return nas::cli::retrain_pareto(kProgram, f, explicit_flag, common, argc, argv, remap);
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
