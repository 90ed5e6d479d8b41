#include "evolution/generation_record.h"

#include <cmath>
#include <iterator>

#include "core/error.h"
#include "search_space/strict_json.h"

namespace nas {

json GenerationRecord::to_json() const {
  return {{"generation", generation},
          {"population", population},
          {"feasible_count", feasible_count},
          {"best_top1_within_budget", best_top1_within_budget},
          {"hypervolume", hypervolume},
          {"children_scored", children_scored},
          {"failed_children", failed_children},
          {"duplicate_draws", duplicate_draws},
          {"over_budget_draws", over_budget_draws},
          {"seconds", seconds}};
}

GenerationRecord GenerationRecord::from_json(const json& j, const std::string& where) {
  strict::check_fields(j, where, "",
                       {"best_top1_within_budget", "children_scored", "duplicate_draws",
                        "failed_children", "feasible_count", "generation", "hypervolume",
                        "over_budget_draws", "population", "seconds"});
  GenerationRecord r;
  int* const counts[] = {&r.generation,      &r.population,      &r.feasible_count,
                         &r.children_scored, &r.failed_children, &r.duplicate_draws,
                         &r.over_budget_draws};
  const char* const count_names[] = {"generation",      "population",      "feasible_count",
                                     "children_scored", "failed_children", "duplicate_draws",
                                     "over_budget_draws"};
  for (size_t i = 0; i < std::size(counts); ++i) {
    *counts[i] = strict::get_int(j, count_names[i], where, "");
    NAS_CHECK(*counts[i] >= 0, where << ": " << count_names[i] << " must be >= 0, got "
                                     << *counts[i]);
  }
  double* const numbers[] = {&r.best_top1_within_budget, &r.hypervolume, &r.seconds};
  const char* const number_names[] = {"best_top1_within_budget", "hypervolume", "seconds"};
  for (size_t i = 0; i < std::size(numbers); ++i) {
    *numbers[i] = strict::get_number(j, number_names[i], where, "");
    NAS_CHECK(std::isfinite(*numbers[i]) && *numbers[i] >= 0,
              where << ": " << number_names[i] << " must be finite and >= 0, got " << *numbers[i]);
  }
  return r;
}

}  // namespace nas
