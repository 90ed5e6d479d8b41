#pragma once
// The work of nas_retrain, as library calls (docs/DESIGN.md, "workflow/"; the app parses and checks
// flags, then calls these):
//   retrain_architecture  trains one architecture's MF network with ShiftAddAug (or alone) in a
//                         run directory: config.json, log.txt, checkpoint.pt (every epoch, atomic;
//                         resume continues exactly), tiny_model.nasm (the exported MF network,
//                         read back and evaluated) and result.json, which it returns.
//   retrain_pareto        the selected points of a nas_search Pareto set, one run directory each
//                         (out/point-NN) and out/retrain_summary.json (see nas_retrain.cc's top).
// Errors are nas::Error with one line naming the flag or file; `program` prefixes progress lines.
#include <chrono>
#include <functional>
#include <string>

#include "cli/cli_common.h"
#include "cli/training_flags.h"
#include "core/json_util.h"
#include "datasets/experiment_data.h"
#include "search_space/arch_config.h"
#include "workflow/recipe_rule.h"
#include "supernet/data_parallel.h"
#include "supernet/subnet_extraction.h"
#include "supernet/weight_remap.h"

namespace nas::cli {

// nas_retrain's flags. Defaults of the training and network fields come from the options structs
// (one place); only what exists at the CLI alone is defaulted here.
struct RetrainFlags : TrainingFlags {
  std::string arch = "mbv2-tiny", op = "shift", remap = "none";
  double aug_stop_fraction = -1;  // the older single stop (both stops at 1 - x); -1: not given
  datasets::ExperimentDataOptions data;
  // --pareto mode
  std::string pareto, keys, init = "scratch", supernet;
  std::string seeds;  // "1,2": one run per point and seed (point-NN-seedS); "": the one --seed
  int top = 0, spread = 0;
  bool all = false;
  DataParallel* group = nullptr;  // data-parallel ranks (--nproc); not owned
  // How --aug was chosen (choose_retrain_recipe's to_json): result.json and retrain_summary.json
  // record it; null: not recorded.
  json recipe;
};

// --aug for this command (issue 33, workflow/recipe_rule.h): `aug_given` false with --pareto, or
// --aug auto, applies the recipe rule to the ops of the network (--op; with --pareto every point
// of the set, so that processes sharing --out with other --keys train with one recipe) at
// --epochs on --dataset, from the evidence file in the data directory; else --aug as given.
// --aug auto with --op keep is refused (give --aug).
workflow::RecipeChoice choose_retrain_recipe(const RetrainFlags& flags, bool aug_given);

// How a run's network starts when not from scratch (--init supernet): what goes into the run's
// fingerprint and result, and the step that writes the weights.
struct NetInit {
  json description;
  std::function<InheritReport(HybridNetImpl&)> apply;
};

// One architecture's run: `given_arch` as it is (keep_ops: its own ops, else every block and the
// head conv set to `op`), or when null the architecture named by flags.arch at the data set's
// resolution.
struct RetrainTarget {
  OpKind op = OpKind::Shift;
  bool keep_ops = false;
  RemapKind remap = RemapKind::None;
  const ArchConfig* given_arch = nullptr;
  std::string arch_name;  // what config/result call it (a name, a file, "pareto:point-NN")
  std::string out_dir;
  bool resume = false;
  const NetInit* init = nullptr;  // null: from scratch
  // --init supernet: the supernet's options, whose adder representation (adder_unit_rms,
  // relative_adder_scaling) the network keeps: its inherited adder weights are on that scale.
  const HybridNetOptions* supernet_options = nullptr;
};

// Trains, exports and evaluates one architecture; returns its result.json (an empty object on a
// data-parallel rank other than 0, which writes nothing). argc / argv go into the run context.
json retrain_architecture(const char* program, RetrainFlags flags, const CommonFlags& common, int argc, char** argv,
                          const RetrainTarget& target, std::chrono::steady_clock::time_point wall_start);

// --pareto: retrains the selected points of flags.pareto under common.out_dir, skipping finished
// points and resuming an interrupted one. `explicit_flags(name)` says whether a flag was given on
// the command line (--op / --arch do not apply; --remap must agree with the supernet's).
int retrain_pareto(const char* program, const RetrainFlags& flags, const std::function<bool(const std::string&)>& explicit_flag,
                   const CommonFlags& common, int argc, char** argv, RemapKind remap);

}  // namespace nas::cli
