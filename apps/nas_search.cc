// nas_search: the evolutionary search under an energy budget (DESIGN.md §7). Scores
// architectures of the accuracy predictor's space with the predictor (predicted top-1) and the
// energy model (energy per image), runs NSGA-II (or the single-objective max-accuracy mode) and
// writes the Pareto set that nas_retrain --pareto takes.
//
// Output directory (--out):
//   pareto.json        {context, objective, budget_mj, budget_binds, energy_model {tier, table,
//                      bits, batch}, energy_range, space, predictor {file, fingerprint,
//                      kendall_tau, ...}, supernet (directory or null), search {...}, population
//                      (final population: [{key, predicted_top1, energy_mj}]), points: [{key,
//                      arch, predicted_top1 (%), energy_mj, macs, params, per_op_energy_mj}]}:
//                      points sorted by energy, every one within the budget, none dominated
//   history.json       per generation: feasible count, best predicted top-1 within the budget,
//                      hypervolume, draws, seconds
//   search_state.json  the search's state after every generation (--resume continues it; the
//                      result equals an uninterrupted run's)
// Everything but the context (date, command line) and timings is a function of the inputs and
// --seed: the same seed gives the same pareto.json points with any --threads.
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "artifacts/pareto_file.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/progress.h"
#include "core/string_format.h"
#include "evolution/evolution_search.h"
#include "predictors/accuracy_predictor.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_layers.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_search";
constexpr const char* kStateFile = "search_state.json";
constexpr const char* kPredictorInSupernet = "predictor.pt";

struct Flags {
  std::string supernet, predictor, budget, energy_model = "eyeriss", energy_table, objective = "pareto";
  int bits = 32;
  int64_t energy_batch = 1;
  bool resume = false;
  nas::SearchOptions search;
};

std::string mj_text(double mj) { return nas::format_energy(nas::mj_to_joules(mj)); }

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  Flags f;
  po::options_description desc("Options");
  desc.add_options()
      ("supernet", po::value(&f.supernet), "a trained supernet directory holding predictor.pt (nas_train_predictor --out DIR/predictor.pt)")
      ("predictor", po::value(&f.predictor), "the accuracy predictor file (instead of --supernet)")
      ("budget", po::value(&f.budget), "energy budget per image, e.g. 10mJ, 250uJ (default: none)")
      ("energy-model", po::value(&f.energy_model)->default_value(f.energy_model), "eyeriss | unit")
      ("energy-table", po::value(&f.energy_table), "energy table JSON (default: $NAS_ENERGY_TABLE, then the built-in default_v1)")
      ("bits", po::value(&f.bits)->default_value(f.bits), "precision of every layer: 32 | 8")
      ("energy-batch", po::value(&f.energy_batch)->default_value(f.energy_batch), "inference batch the energy is costed at (reported per image)")
      ("population", po::value(&f.search.population)->default_value(f.search.population), "population size")
      ("generations", po::value(&f.search.generations)->default_value(f.search.generations), "generations after the initial population")
      ("objective", po::value(&f.objective)->default_value(f.objective), "pareto (NSGA-II) | max-accuracy (the best architecture under the budget)")
      ("parent-fraction", po::value(&f.search.parent_fraction)->default_value(f.search.parent_fraction), "parents: the best fraction of the population")
      ("mutation-fraction", po::value(&f.search.mutation_fraction)->default_value(f.search.mutation_fraction), "fraction of children made by mutation (the rest: crossover)")
      ("mutation-prob", po::value(&f.search.mutation_prob)->default_value(f.search.mutation_prob), "per-choice resampling probability of a mutation")
      ("max-attempts", po::value(&f.search.max_attempts_per_child)->default_value(f.search.max_attempts_per_child), "draws per child before its slot stays empty (duplicates, over budget)")
      ("resume", po::bool_switch(&f.resume), "continue the search in --out from its search_state.json");
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kThreads | nas::cli::kOut);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "evolutionary search for the Pareto set under an energy budget",
                             desc, vm))
    return 0;
  NAS_CHECK(f.supernet.empty() != f.predictor.empty(), "give exactly one of --supernet DIR or --predictor FILE");
  NAS_CHECK(!common.out_dir.empty(), "--out DIR is required");
  NAS_CHECK(f.bits == 32 || f.bits == 8, "--bits must be 32 or 8, got " << f.bits);
  NAS_CHECK(f.energy_batch >= 1 && f.energy_batch <= nas::kMaxEnergyBatch,
            "--energy-batch must be in [1, " << nas::kMaxEnergyBatch << "], got " << f.energy_batch);
  f.search.objective = nas::parse_objective(f.objective);
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", common.out_dir, true, {"pareto.json", "history.json", kStateFile}}},
      {{"--supernet", f.supernet, true, false, {"space.json", "supernet.json", kPredictorInSupernet}}, {"--predictor", f.predictor}, {"--energy-table", f.energy_table}});
  f.search.seed = common.seed;
  f.search.threads = nas::cli::resolve_threads(common);
  if (!f.budget.empty()) {
    const double budget_j = nas::parse_energy_j(f.budget);
    NAS_CHECK(budget_j > 0, "--budget must be > 0, got " << f.budget);
    f.search.budget_mj = nas::joules_to_mj(budget_j);
  }
  f.search.validate();
  torch::set_num_threads(f.search.threads);
  nas::cli::warn_if_oversubscribed(kProgram, f.search.threads);

  // ---- predictor, space, energy model ---------------------------------------------------------
  std::string predictor_path = f.predictor;
  if (!f.supernet.empty()) {
    predictor_path = (fs::path(f.supernet) / kPredictorInSupernet).string();
    std::error_code ec;
    NAS_CHECK(fs::exists(predictor_path, ec), "--supernet " << f.supernet << ": no " << kPredictorInSupernet
                                              << " (build one: nas_build_acc_dataset, then nas_train_predictor --out "
                                              << predictor_path << ")");
  }
  const nas::AccuracyPredictor predictor = nas::AccuracyPredictor::load(predictor_path);
  const nas::ArchSpace& space = predictor.space();
  if (!f.supernet.empty()) {
    const std::string space_path = (fs::path(f.supernet) / "space.json").string();
    predictor.check_space(nas::read_space_file(space_path), predictor_path);
  }
  nas::EnergyModelOptions energy_options;
  energy_options.tier = nas::parse_energy_tier(f.energy_model);
  energy_options.bits = f.bits;
  energy_options.batch = f.energy_batch;
  const nas::EnergyModel energy_model(nas::resolve_energy_table(f.energy_table), energy_options);
  const nas::ModelEnergyScorer energy(energy_model);

  const fs::path out(common.out_dir);
  const std::string state_path = nas::cli::prepare_run_dir(common.out_dir, kStateFile, f.resume);

  nas::EvolutionSearch search(space, predictor, energy, f.search);
  const nas::EnergyRange range = search.energy_range();
  std::cerr << kProgram << ": space of 10^" << nas::format_double(space.log10_size(), 1) << " architectures; energy per image ("
            << f.energy_model << ", " << f.bits << " bit): ";
  for (const auto& op : range.per_op)
    std::cerr << nas::op_kind_name(op.op) << " " << mj_text(op.smallest_mj) << " .. " << mj_text(op.largest_mj) << "; ";
  std::cerr << "all " << mj_text(range.cheapest_mj) << " .. " << mj_text(range.most_expensive_mj) << "\n";
  search.check_feasible();
  std::string budget_note;
  if (std::isinf(f.search.budget_mj)) {
    budget_note = "no budget";
  } else if (!range.budget_binds) {
    budget_note = "the budget " + mj_text(f.search.budget_mj) + " is above the most expensive architecture of the space (" +
                  mj_text(range.most_expensive_mj) + "): it does not bind";
    std::cerr << kProgram << ": note: " << budget_note << "\n";
  } else {
    budget_note = "the budget " + mj_text(f.search.budget_mj) + " binds (the space spans " + mj_text(range.cheapest_mj) +
                  " .. " + mj_text(range.most_expensive_mj) + ")";
  }

  // ---- search ---------------------------------------------------------------------------------
  const auto t0 = std::chrono::steady_clock::now();
  const int generations = f.search.generations;
  search.run(state_path, f.resume, [&](const nas::GenerationRecord& r) {
    const double elapsed = nas::seconds_since(t0);
    std::cerr << kProgram << ": generation " << r.generation << "/" << generations << " feasible " << r.feasible_count
              << " best top-1 " << nas::format_double(nas::artifacts::top1_percent(r.best_top1_within_budget), 2) << "% hypervolume "
              << nas::format_double(r.hypervolume, 6) << " scored " << r.children_scored << " ("
              << nas::format_double(r.seconds, 3) << " s)";
    if (r.generation > 0 && r.generation < generations)
      std::cerr << " ETA " << nas::Progress::format_duration(elapsed / r.generation * (generations - r.generation));
    std::cerr << "\n";
  });
  if (search.resumed()) std::cerr << kProgram << ": resumed from " << state_path << "\n";
  const double seconds = nas::seconds_since(t0);

  // ---- outputs --------------------------------------------------------------------------------
  const nas::RunContext run_context = nas::cli::make_run_context(kProgram, argc, argv, common, "cpu");
  nas::artifacts::ParetoFile pareto;
  const std::vector<nas::ScoredArch> front = search.pareto_front();
  for (const nas::ScoredArch& p : front) {
    const std::vector<nas::LayerSpec> layers = nas::to_layer_specs(p.arch, f.bits);
    const nas::EnergyReport report = energy_model.report(layers);
    const nas::LayerCounts counts = nas::count_layers(layers);
    nas::json per_op = nas::json::object();
    for (const auto& [op, totals] : report.per_op)
      if (totals.energy_mj > 0) per_op[op] = totals.energy_mj / static_cast<double>(report.batch);
    pareto.points.push_back(
        {p.key, p.arch, nas::artifacts::top1_percent(p.predicted_top1), p.energy_mj, counts.macs, counts.params, per_op});
  }
  pareto.objective = nas::objective_name(f.search.objective);
  if (!std::isinf(f.search.budget_mj)) pareto.budget_mj = f.search.budget_mj;
  pareto.energy_model = energy.describe();
  nas::json& details = pareto.search_details;
  details["budget_binds"] = range.budget_binds;
  details["budget_note"] = budget_note;
  details["energy_range"] = range.to_json();
  details["space"] = space.to_json();
  details["predictor"] = predictor.describe();
  details["search"] = {{"options", f.search.to_json()},
                       {"generations_run", search.generation()},
                       {"archs_scored", search.archs_scored()},
                       {"hypervolume_reference_mj", search.hypervolume_reference_mj()},
                       {"final_hypervolume", search.history().empty() ? 0.0 : search.history().back().hypervolume}};
  details["search"]["options"].erase("threads");  // the result does not depend on it
  // Where the predictor's accuracies came from: nas_retrain --pareto --init supernet starts there.
  if (!f.supernet.empty()) {
    pareto.supernet = fs::absolute(f.supernet).string();
  } else {
    const nas::json& meta = predictor.meta();
    if (meta.contains("data") && meta["data"].contains("source") && meta["data"]["source"].contains("supernet") &&
        meta["data"]["source"]["supernet"].is_string())
      pareto.supernet = meta["data"]["source"]["supernet"].get<std::string>();
  }
  // The final population (the explored region the front came from), for plots.
  pareto.population.emplace();
  for (const nas::ScoredArch& p : search.population())
    pareto.population->push_back({p.key, nas::artifacts::top1_percent(p.predicted_top1), p.energy_mj});
  const nas::json context = nas::make_context(run_context);
  nas::artifacts::write_pareto_file((out / "pareto.json").string(), pareto, context);

  nas::json history;
  history["context"] = context;
  history["seconds"] = seconds;
  history["generations"] = nas::json::array();
  for (const nas::GenerationRecord& r : search.history()) history["generations"].push_back(r.to_json());
  nas::write_json_file((out / "history.json").string(), history);

  std::cout << kProgram << ": " << front.size() << " architectures on the front (" << budget_note << "); "
            << search.archs_scored() << " scored in " << nas::format_double(seconds, 2) << " s\n";
  for (const nas::ScoredArch& p : front)
    std::cout << "  " << mj_text(p.energy_mj) << "  predicted top-1 " << nas::format_double(nas::artifacts::top1_percent(p.predicted_top1), 2)
              << "%  " << p.key << "\n";
  std::cout << kProgram << ": wrote " << (out / "pareto.json").string() << " and " << (out / "history.json").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
