#pragma once
// EvolutionSearch: NSGA-II (Deb et al. 2002) over the architectures of an ArchSpace, maximising
// the predicted top-1 accuracy and minimising the energy per image, with the energy budget as a
// hard constraint (DESIGN.md §7). It sees architectures only: an AccuracyScorer (batched
// predictions) and an EnergyScorer (per architecture, thread-safe); never a network.
//
// Method:
//   initial   sample the space until `population` distinct architectures within the budget are
//             found, at most population x max_attempts_per_child draws; then add the space's
//             cheapest architectures (energy_range()) if still short. Generation 0.
//   per gen   parents = the best max(2, round(parent_fraction x |population|)) members in
//             selection order; `population` child slots: the first round(mutation_fraction x
//             population) by mutation (ArchSpace::mutate, mutation_prob) of a uniform parent, the
//             rest by crossover of two distinct uniform parents. A draw is rejected when its key
//             is already in the population or among this generation's children (duplicate), or
//             when its energy exceeds the budget (over budget); a slot redraws up to
//             max_attempts_per_child times, then stays empty.
//             All children of a generation are predicted in ONE AccuracyScorer::predict call;
//             energies are computed in parallel (TBB), each written to its own index.
//   selection population u children, in key order, ranked; the first `population` survive.
//   Selection order: Pareto: non-dominated rank ascending, crowding distance descending, key
//             ascending (nsga2_order of pareto.h). MaxAccuracy: predicted top-1 descending, energy
//             ascending, key ascending.
// Every choice is a function of the seed, the scores and keys, so the same seed gives the same
// result with any number of threads, and a resumed search gives the result of an uninterrupted
// one.
//
// State and resume (search_state.h): after every generation (0 included) the state is written
// atomically to state_path, then on_generation is called. A resumed search checks that the state
// was made for this space (fingerprint), with these options (all but `generations` and `threads`,
// which do not change the course of a search: a state may be resumed with more generations to
// extend the search) and with scorers that describe themselves the same (every describe() field
// but "file", where a scorer was loaded from), and that every member is in the space and within
// the budget.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "core/rng.h"
#include "evolution/energy_scorer.h"
#include "evolution/generation_record.h"
#include "evolution/scored_arch.h"
#include "evolution/search_options.h"
#include "evolution/search_state.h"
#include "predictors/accuracy_scorer.h"
#include "search_space/arch_space.h"

namespace nas {

// The energies the space spans, for the feasibility check and for the app to print.
struct EnergyRange {
  struct PerOp {
    OpKind op = OpKind::Shift;
    double smallest_mj = 0;  // energy of space.smallest(op)
    double largest_mj = 0;   // energy of space.largest(op)
  };
  std::vector<PerOp> per_op;  // in the order of space.ops
  // The cheapest / most expensive architecture found: the cheapest (most expensive) of
  // smallest(op) (largest(op)) over the ops, then improved one block op and the head op at a
  // time over every op the space allows. Exact when the energy is a sum of per-layer terms that
  // grow with every size choice (the energy model's is, as far as measured): mixing ops can be
  // cheaper or dearer than any single op (with the default space and the Eyeriss model, the most
  // expensive architecture keeps stage 0's depthwise block on shift and the rest on add).
  ArchConfig cheapest;
  double cheapest_mj = 0;
  ArchConfig most_expensive;
  double most_expensive_mj = 0;
  double budget_mj = 0;       // options.budget_mj (infinity: none)
  bool budget_binds = false;  // budget_mj < most_expensive_mj: some architecture is excluded

  // {"per_op": [{"op", "smallest_mj", "largest_mj"}], "cheapest_mj", "cheapest_key",
  //  "most_expensive_mj", "most_expensive_key", "budget_mj" (null: none), "budget_binds"}
  json to_json() const;
};

// The energies `space` spans under `energy` (the cheapest and most expensive architecture as
// EnergyRange describes), with `budget_mj` (infinity: none) and whether it binds. Used by the
// search and by the baseline arms (workflow/baseline_arms.h), which draw from the same space.
EnergyRange space_energy_range(const ArchSpace& space, const EnergyScorer& energy,
                               double budget_mj);
// Throws nas::Error when range.cheapest_mj exceeds range.budget_mj:
// "budget 5 uJ is below the cheapest architecture of the space (shift: 12.3 uJ, add: 20.1 uJ)"
// (plus "mixed ops: ..." when a mix of ops is cheaper than every single op).
void check_budget_feasible(const EnergyRange& range);
// One line on the budget against the range: "no budget", "the budget 35 uJ binds (the space spans
// 12 uJ .. 80 uJ)" or "the budget ... is above the most expensive architecture of the space
// (80 uJ): it does not bind" (pareto.json's budget_note).
std::string budget_note(const EnergyRange& range);

class EvolutionSearch {
 public:
  using GenerationCallback = std::function<void(const GenerationRecord&)>;

  // Keeps references: space and scorers must outlive the search. Validates options and space.
  EvolutionSearch(const ArchSpace& space, const AccuracyScorer& accuracy,
                  const EnergyScorer& energy, SearchOptions options = {});

  // Scores the extremes of the space with the energy scorer (a few dozen architectures).
  EnergyRange energy_range() const;
  // Throws nas::Error when even the cheapest architecture exceeds the budget:
  // "budget 5 uJ is below the cheapest architecture of the space (shift: 12.3 uJ, add: 20.1 uJ)"
  // (plus "mixed ops: ..." when a mix of ops is cheaper than every single op).
  void check_feasible() const;

  // Runs the search to options.generations (check_feasible first).
  //   state_path     "" = no state file; else written after every generation
  //   resume         continue from state_path when that file exists (a missing file starts a
  //                  fresh search; resumed() tells which); a state already at
  //                  options.generations returns at once; one beyond it is an error
  //   on_generation  called after each generation's state is written (may be empty); an
  //                  exception it throws stops the search, which can then be resumed
  void run(const std::string& state_path = "", bool resume = false,
           const GenerationCallback& on_generation = {});

  // Pareto: the non-dominated members of the population (all within the budget) by energy
  // ascending, ties by key; equal points are all kept. MaxAccuracy: the best member (selection
  // order) alone. Empty before run().
  std::vector<ScoredArch> pareto_front() const;
  // In selection order (best first).
  const std::vector<ScoredArch>& population() const { return state_.population; }
  // One record per generation, 0 (the initial population) .. generation().
  const std::vector<GenerationRecord>& history() const { return state_.history; }
  int generation() const { return state_.generation; }
  int64_t archs_scored() const { return state_.counters.archs_scored; }
  const SearchCounters& counters() const { return state_.counters; }
  bool resumed() const { return resumed_; }
  const SearchOptions& options() const { return options_; }
  // Energy corner of the hypervolume: min(budget, most expensive energy of the space); set by
  // run().
  double hypervolume_reference_mj() const { return hypervolume_reference_mj_; }
  // {"accuracy": accuracy.describe(), "energy": energy.describe()}
  json describe_scorers() const;

 private:
  struct Draws;  // rejected-draw counts of one generation

  void start_fresh();
  void restore(const std::string& state_path);
  void initial_population(Draws& draws);
  void next_generation(Draws& draws);
  // Scores `archs` (in order) and returns them as ScoredArch; energies are known already.
  std::vector<ScoredArch> score(std::vector<ArchConfig> archs,
                                const std::vector<double>& energy_mj);
  // Energies of `archs`, in parallel, index for index.
  std::vector<double> energies(const std::vector<ArchConfig>& archs);
  // Indices of `members` in selection order.
  std::vector<size_t> selection_order(const std::vector<ScoredArch>& members) const;
  GenerationRecord make_record(int generation, int children_scored, const Draws& draws,
                               double seconds) const;

  const ArchSpace& space_;
  const AccuracyScorer& accuracy_;
  const EnergyScorer& energy_;
  SearchOptions options_;
  SearchState state_;
  Rng rng_;
  bool resumed_ = false;
  double hypervolume_reference_mj_ = 0;
  ArchConfig cheapest_;  // seed of a population sampling cannot fill
  std::vector<ArchConfig> cheapest_per_op_;
};

}  // namespace nas
