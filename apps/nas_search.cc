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
#include "cli/energy_flags.h"
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
#include "workflow/baseline_arms.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_search";
constexpr const char* kStateFile = "search_state.json";
constexpr const char* kPredictorInSupernet = "predictor.pt";

struct Flags {
  std::string supernet, predictor, objective = "pareto";
  nas::cli::EnergyFlags energy;
  bool resume = false;
  nas::SearchOptions search;
};

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  Flags f;
  po::options_description desc("Options");
  desc.add_options()
      ("supernet", po::value(&f.supernet), "a trained supernet directory holding predictor.pt (nas_train_predictor --out DIR/predictor.pt)")
      ("predictor", po::value(&f.predictor), "the accuracy predictor file (instead of --supernet)");
  nas::cli::add_energy_flags(desc, f.energy);
  desc.add_options()
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
  nas::cli::check_energy_flags(f.energy);
  f.search.objective = nas::parse_objective(f.objective);
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", common.out_dir, true, {"pareto.json", "history.json", kStateFile}}},
      {{"--supernet", f.supernet, true, false, {"space.json", "supernet.json", kPredictorInSupernet}}, {"--predictor", f.predictor}, {"--energy-table", f.energy.energy_table}});
  f.search.seed = common.seed;
  f.search.threads = nas::cli::resolve_threads(common);
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
  const nas::EnergyModel energy_model(nas::cli::energy_table(f.energy), nas::cli::energy_model_options(f.energy));
  const nas::ModelEnergyScorer energy(energy_model);
  const nas::cli::Budget budget = nas::cli::resolve_budget(f.energy, space, energy);
  f.search.budget_mj = budget.budget_mj;
  f.search.validate();
  if (budget.baseline)
    std::cerr << kProgram << ": budget " << nas::format_energy_mj(budget.budget_mj) << ": " << budget.note() << "\n";

  const fs::path out(common.out_dir);
  const std::string state_path = nas::cli::prepare_run_dir(common.out_dir, kStateFile, f.resume);

  nas::EvolutionSearch search(space, predictor, energy, f.search);
  const nas::EnergyRange range = search.energy_range();
  std::cerr << kProgram << ": space of 10^" << nas::format_double(space.log10_size(), 1) << " architectures; energy per image ("
            << f.energy.energy_model << ", " << f.energy.bits << " bit): ";
  for (const auto& op : range.per_op)
    std::cerr << nas::op_kind_name(op.op) << " " << nas::format_energy_mj(op.smallest_mj) << " .. " << nas::format_energy_mj(op.largest_mj) << "; ";
  std::cerr << "all " << nas::format_energy_mj(range.cheapest_mj) << " .. " << nas::format_energy_mj(range.most_expensive_mj) << "\n";
  search.check_feasible();
  std::string budget_note = nas::budget_note(range);
  if (!std::isinf(f.search.budget_mj) && !range.budget_binds) std::cerr << kProgram << ": note: " << budget_note << "\n";
  if (budget.baseline) budget_note += "; " + budget.note();

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
  for (const nas::ScoredArch& p : front)
    pareto.points.push_back(nas::costed_pareto_point(p.arch, p.key, nas::artifacts::top1_percent(p.predicted_top1),
                                                     p.energy_mj, energy_model, f.energy.bits));
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
  details["search"]["budget"] = budget.to_json(f.energy.budget);
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
    std::cout << "  " << nas::format_energy_mj(p.energy_mj) << "  predicted top-1 " << nas::format_double(nas::artifacts::top1_percent(p.predicted_top1), 2)
              << "%  " << p.key << "\n";
  std::cout << kProgram << ": wrote " << (out / "pareto.json").string() << " and " << (out / "history.json").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
