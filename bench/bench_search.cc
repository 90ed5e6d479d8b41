// bench_search: speed of the evolutionary search (issue 10 goal: population 100 x 500
// generations in < 10 s on 2 cores) with the real scorers: the LibTorch MLP accuracy predictor
// (3 x 400, as nas_train_predictor makes it) and the Eyeriss energy model (cold cache at the
// start of every run). The predictor is trained for one epoch on synthetic accuracies of the
// space (its cost per prediction does not depend on its weights), or loaded with --predictor.
// Prints JSON {context, space, population, generations, seconds (median), seconds_runs,
// archs_scored, archs_per_s, predict_calls, ..., peak_rss_mib (the peak resident memory of the
// search runs), rss_before_search_mib}.
//
//   build/bench/bench_search --threads 2 --json results/search/bench/search.json
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/memory_usage.h"
#include "core/progress.h"
#include "core/rng.h"
#include "evolution/evolution_search.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/accuracy_predictor.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_space.h"

namespace {

constexpr const char* kProgram = "bench_search";

// An accuracy that rises with the network's size: a stand-in signal so that the search moves.
double synthetic_top1(const nas::ArchConfig& arch) {
  double score = 30.0 + 40.0 * arch.width_mult + 0.2 * arch.resolution;
  for (const auto& stage : arch.stages)
    for (const auto& block : stage.blocks) score += 0.1 + 0.05 * block.kernel + 0.1 * block.expand;
  return std::min(99.0, score);
}

int run(int argc, char** argv) {
  namespace po = nas::cli::po;
  nas::cli::CommonFlags common;
  int population = 100, generations = 500, repeats = 3, resolution = 28, in_channels = 1;
  std::string predictor_path, budget_text, write_predictor;
  po::options_description desc("Options");
  desc.add_options()
      ("population", po::value(&population)->default_value(population), "population size")
      ("generations", po::value(&generations)->default_value(generations), "generations")
      ("repeats", po::value(&repeats)->default_value(repeats), "runs (median)")
      ("resolution", po::value(&resolution)->default_value(resolution), "input size of default_space (without --predictor)")
      ("in-channels", po::value(&in_channels)->default_value(in_channels), "input channels of default_space")
      ("budget", po::value(&budget_text), "energy budget per image (default: none)")
      ("predictor", po::value(&predictor_path), "an accuracy predictor file (its space is searched)")
      ("write-predictor", po::value(&write_predictor), "also save the synthetic predictor to this file (for CLI tests of nas_search)");
  nas::cli::add_common_flags(desc, common, nas::cli::kJson | nas::cli::kSeed | nas::cli::kThreads);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "evolutionary search speed with the MLP predictor and the Eyeriss model",
                             desc, vm))
    return 0;
  NAS_CHECK(repeats >= 1 && repeats <= 100, "--repeats must be in [1, 100]");
  const int threads = nas::cli::resolve_threads(common);
  torch::set_num_threads(threads);

  nas::ArchSpace space = nas::default_space(resolution, in_channels, 10);
  std::vector<nas::AccuracyPredictor> holder;
  if (!predictor_path.empty()) {
    holder.push_back(nas::AccuracyPredictor::load(predictor_path));
    space = holder.back().space();
  } else {
    std::vector<nas::AccuracyRecord> records;
    nas::Rng rng(common.seed);
    for (int i = 0; i < 256; ++i) {
      const nas::ArchConfig a = space.sample(rng);
      records.push_back(nas::make_accuracy_record(space, a, synthetic_top1(a), 0));
    }
    nas::PredictorTrainOptions o;
    o.epochs = 1;
    o.seed = common.seed;
    holder.push_back(nas::AccuracyPredictor::train(space, records, {}, o));
  }
  const nas::AccuracyPredictor& predictor = holder.back();
  if (!write_predictor.empty()) predictor.save(write_predictor);

  nas::SearchOptions options;
  options.population = population;
  options.generations = generations;
  options.seed = common.seed;
  options.threads = threads;
  if (!budget_text.empty()) options.budget_mj = nas::joules_to_mj(nas::parse_energy_j(budget_text));
  options.validate();

  const nas::EnergyTable table = nas::resolve_energy_table("");
  // The search's own peak: the predictor and the table are already resident.
  const bool peak_reset = nas::reset_peak_rss();
  const int64_t rss_before_search = nas::peak_rss_bytes();
  std::vector<double> seconds;
  int64_t archs_scored = 0, predict_calls = 0, energy_evaluations = 0;
  double hypervolume = 0;
  size_t front = 0;
  for (int r = 0; r < repeats; ++r) {
    const nas::EnergyModel model(table);  // cold cache every run
    const nas::ModelEnergyScorer energy(model);
    nas::EvolutionSearch search(space, predictor, energy, options);
    const auto t0 = std::chrono::steady_clock::now();
    search.run();
    seconds.push_back(nas::seconds_since(t0));
    archs_scored = search.archs_scored();
    predict_calls = search.counters().predict_calls;
    energy_evaluations = search.counters().energy_evaluations;
    hypervolume = search.history().back().hypervolume;
    front = search.pareto_front().size();
  }
  const double s = nas::cli::median(seconds);
  nas::json out;
  out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  out["space"] = {{"log10_size", space.log10_size()}, {"encoding_size", space.encoding_size()},
                  {"fingerprint", space.fingerprint()},
                  {"source", predictor_path.empty() ? "default_space(" + std::to_string(resolution) + ", " +
                                                          std::to_string(in_channels) + ", 10)"
                                                    : predictor_path}};
  out["predictor"] = predictor.describe();
  out["energy_model"] = "eyeriss, default table, 32 bit, batch 1";
  out["population"] = population;
  out["generations"] = generations;
  out["budget_mj"] = budget_text.empty() ? nas::json() : nas::json(options.budget_mj);
  out["repeats"] = repeats;
  out["seconds"] = s;
  out["seconds_runs"] = seconds;
  out["archs_scored"] = archs_scored;
  out["archs_per_s"] = static_cast<double>(archs_scored) / s;
  out["predict_calls"] = predict_calls;
  out["energy_evaluations"] = energy_evaluations;
  out["final_hypervolume"] = hypervolume;
  out["front_size"] = front;
  out["peak_rss_mib"] = nas::bytes_to_mib(nas::peak_rss_bytes());
  out["rss_before_search_mib"] = nas::bytes_to_mib(rss_before_search);
  out["peak_rss_is_search_only"] = peak_reset;  // false: the peak counts from the process start
  out["targets"] = {{"seconds_max", 10}};
  nas::cli::emit_json(out, common);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
