#pragma once
// SearchOptions: every setting of the evolutionary search, with the defaults of DESIGN.md §7
// (OFA's EvolutionFinder: population 100, 500 generations, parents 25 %, mutation 50 % /
// crossover 50 %, mutation probability 0.1). Defaults live here only; the CLI maps its flags to
// these fields, and errors name the fields ("search.population must be >= 2, got 1").
#include <cstdint>
#include <limits>
#include <string>

#include "core/json_util.h"

namespace nas {

struct SearchOptions {
  enum class Objective {
    Pareto,       // NSGA-II over (predicted top-1 up, energy down); the result is a Pareto front
    MaxAccuracy,  // the best predicted top-1 within the budget; the result is one architecture
  };

  int population = 100;             // population size kept after every generation
  int generations = 500;            // generations after the initial population
  double parent_fraction = 0.25;    // parents = the best fraction of the population (>= 2)
  double mutation_fraction = 0.5;   // of the `population` children per generation; the rest are
                                    // crossovers
  double mutation_prob = 0.1;       // per-choice resampling probability of a mutation
  double budget_mj = std::numeric_limits<double>::infinity();  // per image; hard constraint
  Objective objective = Objective::Pareto;
  uint64_t seed = 0;
  int threads = 0;                  // TBB workers for energy scoring; 0 = TBB's default
  int max_attempts_per_child = 100; // draws per child slot (duplicates and over-budget children
                                    // are redrawn); then the slot stays empty

  // Throws nas::Error naming the first bad field.
  void validate() const;

  // {"population", "generations", "parent_fraction", "mutation_fraction", "mutation_prob",
  //  "budget_mj" (null = no budget), "objective", "seed", "threads", "max_attempts_per_child"}
  json to_json() const;
  // Strict: every field required and typed; validates. `where` prefixes errors.
  static SearchOptions from_json(const json& j, const std::string& where);
};

// Limits of validate(): far above a real search, they keep sizes and products exact.
constexpr int kMaxPopulation = 100000;
constexpr int kMaxGenerations = 10000000;
constexpr int kMaxAttemptsPerChild = 1000000;
constexpr int kMaxSearchThreads = 4096;

// "pareto" | "max-accuracy"
const char* objective_name(SearchOptions::Objective objective);
// Throws nas::Error listing the accepted names.
SearchOptions::Objective parse_objective(const std::string& name);

}  // namespace nas
