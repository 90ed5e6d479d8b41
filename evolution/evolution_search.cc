#include "evolution/evolution_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/energy_units.h"
#include "core/error.h"
#include "core/progress.h"
#include "evolution/pareto.h"

namespace nas {

namespace {

// energy(arch) checked against the EnergyScorer contract.
double checked_energy(const EnergyScorer& scorer, const ArchConfig& arch) {
  const double e = scorer.energy_mj(arch);
  NAS_CHECK(std::isfinite(e) && e >= 0,
            "energy scorer returned " << e << " mJ for " << arch.key()
                                      << "; energies must be finite and >= 0");
  return e;
}

// Changes one block op or the head op at a time to every op the space allows and keeps a change
// when `better(new, old)`; one pass (enough when the energy is a sum over layers).
template <typename Better>
void improve_ops(const ArchSpace& space, const EnergyScorer& scorer, Better better,
                 ArchConfig& arch, double& energy_mj) {
  auto consider = [&](OpKind& slot, const std::vector<OpKind>& choices) {
    for (OpKind op : choices) {
      if (op == slot) continue;
      const OpKind old = slot;
      slot = op;
      const double e = checked_energy(scorer, arch);
      if (better(e, energy_mj))
        energy_mj = e;
      else
        slot = old;
    }
  };
  for (StageConfig& stage : arch.stages)
    for (BlockConfig& block : stage.blocks) consider(block.op, space.ops);
  consider(arch.head.op, space.head_ops);
}

// Where two scorer descriptions differ ("" when they agree), ignoring "file": where a scorer was
// loaded from does not change its scores. "kendall_tau: 0.81 there, 0.79 now".
std::string scorer_difference(const json& there, const json& now) {
  if (!there.is_object() || !now.is_object())
    return there == now ? "" : json_excerpt(there) + " there, " + json_excerpt(now) + " now";
  auto field = [](const json& j, const std::string& key) {
    return j.contains(key) ? json_excerpt(j[key]) : std::string("absent");
  };
  for (const json* side : {&there, &now})
    for (auto it = side->begin(); it != side->end(); ++it) {
      const std::string& key = it.key();
      if (key == "file" || (there.contains(key) && now.contains(key) && there[key] == now[key]))
        continue;
      return json_excerpt(json(key)) + ": " + field(there, key) + " there, " + field(now, key) +
             " now";
    }
  return "";
}

std::vector<ParetoPoint> points_of(const std::vector<ScoredArch>& members) {
  std::vector<ParetoPoint> points;
  points.reserve(members.size());
  for (const ScoredArch& m : members) points.push_back({m.predicted_top1, m.energy_mj});
  return points;
}

}  // namespace

json EnergyRange::to_json() const {
  json ops = json::array();
  for (const PerOp& p : per_op)
    ops.push_back({{"op", op_kind_name(p.op)},
                   {"smallest_mj", p.smallest_mj},
                   {"largest_mj", p.largest_mj}});
  return {{"per_op", std::move(ops)},
          {"cheapest_mj", cheapest_mj},
          {"cheapest_key", cheapest.key()},
          {"most_expensive_mj", most_expensive_mj},
          {"most_expensive_key", most_expensive.key()},
          {"budget_mj", std::isinf(budget_mj) ? json(nullptr) : json(budget_mj)},
          {"budget_binds", budget_binds}};
}

struct EvolutionSearch::Draws {
  int failed = 0;       // slots left empty
  int duplicates = 0;   // draws already in the population or among the children
  int over_budget = 0;  // draws above the budget
};

EvolutionSearch::EvolutionSearch(const ArchSpace& space, const AccuracyScorer& accuracy,
                                 const EnergyScorer& energy, SearchOptions options)
    : space_(space), accuracy_(accuracy), energy_(energy), options_(options), rng_(options.seed) {
  options_.validate();
  space_.validate();
}

json EvolutionSearch::describe_scorers() const {
  return {{"accuracy", accuracy_.describe()}, {"energy", energy_.describe()}};
}

EnergyRange space_energy_range(const ArchSpace& space, const EnergyScorer& energy,
                               double budget_mj) {
  EnergyRange range;
  range.budget_mj = budget_mj;
  for (OpKind op : space.ops) {
    EnergyRange::PerOp p;
    p.op = op;
    p.smallest_mj = checked_energy(energy, space.smallest(op));
    p.largest_mj = checked_energy(energy, space.largest(op));
    if (range.per_op.empty() || p.smallest_mj < range.cheapest_mj) {
      range.cheapest = space.smallest(op);
      range.cheapest_mj = p.smallest_mj;
    }
    if (range.per_op.empty() || p.largest_mj > range.most_expensive_mj) {
      range.most_expensive = space.largest(op);
      range.most_expensive_mj = p.largest_mj;
    }
    range.per_op.push_back(p);
  }
  improve_ops(space, energy, std::less<double>(), range.cheapest, range.cheapest_mj);
  improve_ops(space, energy, std::greater<double>(), range.most_expensive,
              range.most_expensive_mj);
  range.budget_binds = budget_mj < range.most_expensive_mj;
  return range;
}

void check_budget_feasible(const EnergyRange& range) {
  if (range.cheapest_mj <= range.budget_mj) return;
  std::string per_op;
  double cheapest_single = range.per_op.front().smallest_mj;
  for (const EnergyRange::PerOp& p : range.per_op) {
    per_op += std::string(per_op.empty() ? "" : ", ") + op_kind_name(p.op) + ": " +
              format_energy_mj(p.smallest_mj);
    cheapest_single = std::min(cheapest_single, p.smallest_mj);
  }
  if (range.cheapest_mj < cheapest_single)
    per_op += ", mixed ops: " + format_energy_mj(range.cheapest_mj);
  NAS_THROW("budget " << format_energy_mj(range.budget_mj)
                      << " is below the cheapest architecture of the space (" << per_op << ")");
}

std::string budget_note(const EnergyRange& range) {
  if (std::isinf(range.budget_mj)) return "no budget";
  if (!range.budget_binds)
    return "the budget " + format_energy_mj(range.budget_mj) +
           " is above the most expensive architecture of the space (" +
           format_energy_mj(range.most_expensive_mj) + "): it does not bind";
  return "the budget " + format_energy_mj(range.budget_mj) + " binds (the space spans " +
         format_energy_mj(range.cheapest_mj) + " .. " + format_energy_mj(range.most_expensive_mj) + ")";
}

EnergyRange EvolutionSearch::energy_range() const {
  return space_energy_range(space_, energy_, options_.budget_mj);
}

void EvolutionSearch::check_feasible() const { check_budget_feasible(energy_range()); }

std::vector<double> EvolutionSearch::energies(const std::vector<ArchConfig>& archs) {
  std::vector<double> out(archs.size());
  tbb::task_arena arena(options_.threads > 0 ? options_.threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, archs.size()),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t i = r.begin(); i != r.end(); ++i)
                          out[i] = checked_energy(energy_, archs[i]);
                      });
  });
  state_.counters.energy_evaluations += static_cast<int64_t>(archs.size());
  return out;
}

std::vector<ScoredArch> EvolutionSearch::score(std::vector<ArchConfig> archs,
                                               const std::vector<double>& energy_mj) {
  std::vector<ScoredArch> out;
  if (archs.empty()) return out;
  const std::vector<double> top1 = accuracy_.predict(archs);
  ++state_.counters.predict_calls;
  state_.counters.archs_scored += static_cast<int64_t>(archs.size());
  NAS_CHECK(top1.size() == archs.size(), "accuracy scorer returned "
                                             << top1.size() << " predictions for "
                                             << archs.size() << " architectures");
  out.reserve(archs.size());
  for (size_t i = 0; i < archs.size(); ++i) {
    NAS_CHECK(top1[i] >= 0 && top1[i] <= 1,
              "accuracy scorer predicted " << top1[i] << " for " << archs[i].key()
                                           << "; predictions must be top-1 in [0, 1]");
    std::string key = archs[i].key();
    out.push_back({std::move(archs[i]), std::move(key), top1[i], energy_mj[i]});
  }
  return out;
}

std::vector<size_t> EvolutionSearch::selection_order(
    const std::vector<ScoredArch>& members) const {
  std::vector<size_t> by_key(members.size());
  std::iota(by_key.begin(), by_key.end(), size_t{0});
  std::sort(by_key.begin(), by_key.end(),
            [&](size_t a, size_t b) { return members[a].key < members[b].key; });
  if (options_.objective == SearchOptions::Objective::MaxAccuracy) {
    std::stable_sort(by_key.begin(), by_key.end(), [&](size_t a, size_t b) {
      const ScoredArch &x = members[a], &y = members[b];
      if (x.predicted_top1 != y.predicted_top1) return x.predicted_top1 > y.predicted_top1;
      return x.energy_mj < y.energy_mj;
    });
    return by_key;
  }
  std::vector<ParetoPoint> points;
  points.reserve(members.size());
  for (size_t i : by_key) points.push_back({members[i].predicted_top1, members[i].energy_mj});
  std::vector<size_t> order;
  order.reserve(members.size());
  for (size_t position : nsga2_order(points)) order.push_back(by_key[position]);
  return order;
}

GenerationRecord EvolutionSearch::make_record(int generation, int children_scored,
                                              const Draws& draws, double seconds) const {
  GenerationRecord r;
  r.generation = generation;
  r.population = static_cast<int>(state_.population.size());
  for (const ScoredArch& m : state_.population) {
    if (m.energy_mj > options_.budget_mj) continue;
    ++r.feasible_count;
    r.best_top1_within_budget = std::max(r.best_top1_within_budget, m.predicted_top1);
  }
  r.hypervolume = hypervolume_2d(points_of(state_.population), hypervolume_reference_mj_);
  r.children_scored = children_scored;
  r.failed_children = draws.failed;
  r.duplicate_draws = draws.duplicates;
  r.over_budget_draws = draws.over_budget;
  r.seconds = seconds;
  return r;
}

void EvolutionSearch::start_fresh() {
  state_ = SearchState();
  state_.space_fingerprint = space_.fingerprint();
  state_.options = options_;
  state_.scorers = describe_scorers();
  rng_ = Rng(options_.seed);
}

void EvolutionSearch::restore(const std::string& state_path) {
  SearchState s = read_search_state(state_path);
  const std::string where = "search state '" + state_path + "'";
  const std::string fingerprint = space_.fingerprint();
  NAS_CHECK(s.space_fingerprint == fingerprint,
            where << " was made for another search space (" << json_excerpt(s.space_fingerprint)
                  << ", this space " << fingerprint << ")");
  // generations may grow (extending a search) and threads do not change the result.
  const json theirs = s.options.to_json(), ours = options_.to_json();
  for (auto it = ours.begin(); it != ours.end(); ++it) {
    if (it.key() == "generations" || it.key() == "threads") continue;
    NAS_CHECK(theirs.at(it.key()) == it.value(),
              where << " was made with other options: search." << it.key() << " is "
                    << json_excerpt(theirs.at(it.key())) << " there, " << json_excerpt(it.value())
                    << " now");
  }
  const json scorers = describe_scorers();
  for (const char* which : {"accuracy", "energy"}) {
    const std::string diff =
        scorer_difference(s.scorers.contains(which) ? s.scorers[which] : json(), scorers[which]);
    NAS_CHECK(diff.empty(), where << " was made with another " << which << " scorer (" << diff
                                  << ")");
  }
  NAS_CHECK(s.generation <= options_.generations,
            where << " is at generation " << s.generation << ", beyond search.generations "
                  << options_.generations);
  for (size_t i = 0; i < s.population.size(); ++i) {
    const ScoredArch& m = s.population[i];
    const std::string why = space_.violation(m.arch);
    NAS_CHECK(why.empty(),
              where << ": population[" << i << "] is not in the search space: " << why);
    NAS_CHECK(m.energy_mj <= options_.budget_mj,
              where << ": population[" << i << "] exceeds the budget (" << format_energy_mj(m.energy_mj)
                    << " > " << format_energy_mj(options_.budget_mj) << ")");
  }
  state_ = std::move(s);
  state_.options = options_;
  rng_.restore(state_.rng);
}

void EvolutionSearch::initial_population(Draws& draws) {
  const size_t target = static_cast<size_t>(options_.population);
  const int64_t max_draws = int64_t{options_.population} * options_.max_attempts_per_child;
  std::set<std::string> seen;  // drawn so far (accepted or over budget)
  std::vector<ArchConfig> accepted;
  std::vector<double> accepted_mj;
  int64_t drawn = 0;
  // Rounds: draw the missing number of new architectures, cost them in parallel, keep those
  // within the budget (in draw order).
  while (accepted.size() < target && drawn < max_draws) {
    std::vector<ArchConfig> round;
    while (accepted.size() + round.size() < target && drawn < max_draws) {
      ArchConfig a = space_.sample(rng_);
      ++drawn;
      if (!seen.insert(a.key()).second) {
        ++draws.duplicates;
        continue;
      }
      round.push_back(std::move(a));
    }
    const std::vector<double> e = energies(round);
    for (size_t i = 0; i < round.size(); ++i) {
      if (e[i] > options_.budget_mj) {
        ++draws.over_budget;
        continue;
      }
      accepted.push_back(std::move(round[i]));
      accepted_mj.push_back(e[i]);
    }
  }
  // Sampling rarely hits a tight budget: fall back on the cheapest architectures.
  std::vector<ArchConfig> seeds = {cheapest_};
  seeds.insert(seeds.end(), cheapest_per_op_.begin(), cheapest_per_op_.end());
  for (const ArchConfig& a : seeds) {
    if (accepted.size() >= target || !seen.insert(a.key()).second) continue;
    const double e = checked_energy(energy_, a);
    ++state_.counters.energy_evaluations;
    if (e > options_.budget_mj) continue;
    accepted.push_back(a);
    accepted_mj.push_back(e);
  }
  draws.failed = static_cast<int>(target - accepted.size());
  std::vector<ScoredArch> members = score(std::move(accepted), accepted_mj);
  for (size_t i : selection_order(members)) state_.population.push_back(std::move(members[i]));
}

void EvolutionSearch::next_generation(Draws& draws) {
  std::vector<ScoredArch>& population = state_.population;
  const size_t n = population.size();
  const size_t wanted =
      static_cast<size_t>(std::llround(options_.parent_fraction * static_cast<double>(n)));
  const size_t n_parents = std::min(n, std::max<size_t>(2, wanted));
  std::vector<const ArchConfig*> parents;
  for (size_t i : selection_order(population)) {
    if (parents.size() == n_parents) break;
    parents.push_back(&population[i].arch);
  }
  const size_t slots = static_cast<size_t>(options_.population);
  const size_t n_mutations =
      static_cast<size_t>(std::llround(options_.mutation_fraction * static_cast<double>(slots)));
  auto make_child = [&](size_t slot) {
    if (slot < n_mutations)
      return space_.mutate(*parents[rng_.index(n_parents)], rng_, options_.mutation_prob);
    const size_t a = rng_.index(n_parents);
    size_t b = a;
    if (n_parents > 1) {
      b = rng_.index(n_parents - 1);
      if (b >= a) ++b;  // two distinct parents
    }
    return space_.crossover(*parents[a], *parents[b], rng_);
  };

  std::set<std::string> taken;        // population and pending / accepted children
  std::set<std::string> over_budget;  // drawn this generation and found above the budget
  for (const ScoredArch& m : population) taken.insert(m.key);
  std::vector<ArchConfig> child(slots);
  std::vector<double> child_mj(slots, 0.0);
  std::vector<bool> filled(slots, false);
  std::vector<int> attempts(slots, 0);
  std::vector<size_t> open(slots);
  std::iota(open.begin(), open.end(), size_t{0});
  // Rounds: each open slot draws until it has a new candidate (or runs out of attempts), the
  // round's candidates are costed in parallel, and slots whose candidate is above the budget
  // stay open for the next round.
  while (!open.empty()) {
    std::vector<size_t> round_slots;
    std::vector<ArchConfig> round;
    for (size_t slot : open) {
      while (attempts[slot] < options_.max_attempts_per_child) {
        ++attempts[slot];
        ArchConfig candidate = make_child(slot);
        const std::string key = candidate.key();
        if (taken.count(key)) {
          ++draws.duplicates;
        } else if (over_budget.count(key)) {
          ++draws.over_budget;
        } else {
          taken.insert(key);
          round_slots.push_back(slot);
          round.push_back(std::move(candidate));
          break;
        }
      }
    }
    const std::vector<double> e = energies(round);
    std::vector<size_t> still_open;
    for (size_t i = 0; i < round.size(); ++i) {
      const size_t slot = round_slots[i];
      if (e[i] <= options_.budget_mj) {
        child[slot] = std::move(round[i]);
        child_mj[slot] = e[i];
        filled[slot] = true;
        continue;
      }
      ++draws.over_budget;
      const std::string key = round[i].key();
      taken.erase(key);
      over_budget.insert(key);
      if (attempts[slot] < options_.max_attempts_per_child) still_open.push_back(slot);
    }
    open = std::move(still_open);
  }

  std::vector<ArchConfig> children;
  std::vector<double> children_mj;
  for (size_t slot = 0; slot < slots; ++slot) {
    if (!filled[slot]) {
      ++draws.failed;
      continue;
    }
    children.push_back(std::move(child[slot]));
    children_mj.push_back(child_mj[slot]);
  }
  std::vector<ScoredArch> pool = score(std::move(children), children_mj);
  pool.insert(pool.end(), std::make_move_iterator(population.begin()),
              std::make_move_iterator(population.end()));
  const std::vector<size_t> order = selection_order(pool);
  std::vector<ScoredArch> survivors;
  for (size_t k = 0; k < order.size() && k < slots; ++k)
    survivors.push_back(std::move(pool[order[k]]));
  population = std::move(survivors);
}

void EvolutionSearch::run(const std::string& state_path, bool resume,
                          const GenerationCallback& on_generation) {
  NAS_CHECK(!resume || !state_path.empty(), "resuming a search needs a state path");
  const EnergyRange range = energy_range();
  check_budget_feasible(range);
  cheapest_ = range.cheapest;
  cheapest_per_op_.clear();
  for (OpKind op : space_.ops) cheapest_per_op_.push_back(space_.smallest(op));
  hypervolume_reference_mj_ = std::min(options_.budget_mj, range.most_expensive_mj);

  auto finish_generation = [&](int children_scored, const Draws& draws,
                               std::chrono::steady_clock::time_point t0) {
    state_.history.push_back(
        make_record(state_.generation, children_scored, draws, seconds_since(t0)));
    if (!state_path.empty()) {
      state_.rng = rng_.state();
      write_search_state(state_path, state_);
    }
    if (on_generation) on_generation(state_.history.back());
  };

  std::error_code ec;
  resumed_ = resume && std::filesystem::exists(state_path, ec);
  if (resumed_) {
    restore(state_path);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    start_fresh();
    Draws draws;
    initial_population(draws);
    finish_generation(static_cast<int>(state_.counters.archs_scored), draws, t0);
  }
  while (state_.generation < options_.generations) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t scored_before = state_.counters.archs_scored;
    Draws draws;
    next_generation(draws);
    ++state_.generation;
    finish_generation(static_cast<int>(state_.counters.archs_scored - scored_before), draws, t0);
  }
}

std::vector<ScoredArch> EvolutionSearch::pareto_front() const {
  const std::vector<ScoredArch>& members = state_.population;
  std::vector<ScoredArch> front;
  if (members.empty()) return front;
  if (options_.objective == SearchOptions::Objective::MaxAccuracy) {
    front.push_back(members[selection_order(members).front()]);
    return front;
  }
  for (size_t i : pareto_front_indices(points_of(members)))
    if (members[i].energy_mj <= options_.budget_mj) front.push_back(members[i]);
  std::sort(front.begin(), front.end(), [](const ScoredArch& a, const ScoredArch& b) {
    return a.energy_mj != b.energy_mj ? a.energy_mj < b.energy_mj : a.key < b.key;
  });
  return front;
}

}  // namespace nas
