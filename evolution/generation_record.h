#pragma once
// GenerationRecord: what one generation of the search did, for progress lines, the search
// history in pareto.json and the resumable state. Generation 0 is the initial population.
#include <string>

#include "core/json_util.h"

namespace nas {

struct GenerationRecord {
  int generation = 0;
  int population = 0;                   // size after selection (< options.population only when
                                        // the space or the budget leaves too few architectures)
  int feasible_count = 0;               // members within the budget (all of them: the budget is
                                        // a hard constraint)
  double best_top1_within_budget = 0;   // best predicted top-1 of the population
  double hypervolume = 0;               // of the population (pareto.h), in top-1 x mJ, w.r.t.
                                        // (EvolutionSearch::hypervolume_reference_mj(), top-1 0)
  int children_scored = 0;              // new architectures scored this generation
  int failed_children = 0;              // child slots left empty after max_attempts_per_child
  int duplicate_draws = 0;              // draws rejected as already in population or children
  int over_budget_draws = 0;            // draws rejected for exceeding the budget
  double seconds = 0;                   // wall time of the generation (the only
                                        // non-deterministic field)

  // {"generation", "population", "feasible_count", "best_top1_within_budget", "hypervolume",
  //  "children_scored", "failed_children", "duplicate_draws", "over_budget_draws", "seconds"}
  json to_json() const;
  // Strict: every field required and typed, counts >= 0.
  static GenerationRecord from_json(const json& j, const std::string& where);
};

}  // namespace nas
