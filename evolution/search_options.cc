#include "evolution/search_options.h"

#include <cmath>

#include "core/error.h"
#include "search_space/strict_json.h"

namespace nas {

void SearchOptions::validate() const {
  NAS_CHECK(population >= 2 && population <= kMaxPopulation,
            "search.population must be in 2.." << kMaxPopulation << ", got " << population);
  NAS_CHECK(generations >= 0 && generations <= kMaxGenerations,
            "search.generations must be in 0.." << kMaxGenerations << ", got " << generations);
  NAS_CHECK(parent_fraction > 0 && parent_fraction <= 1,
            "search.parent_fraction must be in (0, 1], got " << parent_fraction);
  NAS_CHECK(mutation_fraction >= 0 && mutation_fraction <= 1,
            "search.mutation_fraction must be in [0, 1], got " << mutation_fraction);
  NAS_CHECK(mutation_prob >= 0 && mutation_prob <= 1,
            "search.mutation_prob must be in [0, 1], got " << mutation_prob);
  NAS_CHECK(budget_mj > 0 && !std::isnan(budget_mj),
            "search.budget_mj must be > 0 (infinity = no budget), got " << budget_mj);
  NAS_CHECK(objective == Objective::Pareto || objective == Objective::MaxAccuracy,
            "search.objective is not a valid objective");
  NAS_CHECK(threads >= 0 && threads <= kMaxSearchThreads,
            "search.threads must be in 0.." << kMaxSearchThreads << " (0 = default), got "
                                            << threads);
  NAS_CHECK(max_attempts_per_child >= 1 && max_attempts_per_child <= kMaxAttemptsPerChild,
            "search.max_attempts_per_child must be in 1.." << kMaxAttemptsPerChild << ", got "
                                                           << max_attempts_per_child);
}

json SearchOptions::to_json() const {
  return {{"population", population},
          {"generations", generations},
          {"parent_fraction", parent_fraction},
          {"mutation_fraction", mutation_fraction},
          {"mutation_prob", mutation_prob},
          // JSON has no infinity.
          {"budget_mj", std::isinf(budget_mj) ? json(nullptr) : json(budget_mj)},
          {"objective", objective_name(objective)},
          {"seed", seed},
          {"threads", threads},
          {"max_attempts_per_child", max_attempts_per_child}};
}

SearchOptions SearchOptions::from_json(const json& j, const std::string& where) {
  strict::check_fields(j, where, "options",
                       {"budget_mj", "generations", "max_attempts_per_child", "mutation_fraction",
                        "mutation_prob", "objective", "parent_fraction", "population", "seed",
                        "threads"});
  SearchOptions o;
  o.population = strict::get_int(j, "population", where, "options");
  o.generations = strict::get_int(j, "generations", where, "options");
  o.parent_fraction = strict::get_number(j, "parent_fraction", where, "options");
  o.mutation_fraction = strict::get_number(j, "mutation_fraction", where, "options");
  o.mutation_prob = strict::get_number(j, "mutation_prob", where, "options");
  const json& budget = j.at("budget_mj");
  o.budget_mj = budget.is_null() ? std::numeric_limits<double>::infinity()
                                 : strict::get_number(j, "budget_mj", where, "options");
  const json& objective = j.at("objective");
  NAS_CHECK(objective.is_string(), where << ": options.objective must be a string, got "
                                         << json_excerpt(objective));
  o.objective = parse_objective(objective.get<std::string>());
  const json& seed = j.at("seed");
  NAS_CHECK(seed.is_number_unsigned() || (seed.is_number_integer() && seed.get<int64_t>() >= 0),
            where << ": options.seed must be a non-negative integer, got " << json_excerpt(seed));
  o.seed = seed.get<uint64_t>();
  o.threads = strict::get_int(j, "threads", where, "options");
  o.max_attempts_per_child = strict::get_int(j, "max_attempts_per_child", where, "options");
  try {
    o.validate();
  } catch (const Error& e) {
    NAS_THROW(where << ": " << e.message());
  }
  return o;
}

const char* objective_name(SearchOptions::Objective objective) {
  switch (objective) {
    case SearchOptions::Objective::Pareto:
      return "pareto";
    case SearchOptions::Objective::MaxAccuracy:
      return "max-accuracy";
  }
  return "?";
}

SearchOptions::Objective parse_objective(const std::string& name) {
  if (name == "pareto") return SearchOptions::Objective::Pareto;
  if (name == "max-accuracy") return SearchOptions::Objective::MaxAccuracy;
  NAS_THROW("unknown search objective '" << name.substr(0, 40)
                                         << "' (accepted: pareto, max-accuracy)");
}

}  // namespace nas
