// evolution/: Pareto utilities, the NSGA-II search against mock scorers (NNI style: pure
// functions of the architecture, no network), the search state and exact resume.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "core/json_util.h"
#include "core/rng.h"
#include "evolution/energy_scorer.h"
#include "evolution/evolution_search.h"
#include "evolution/pareto.h"
#include "evolution/search_options.h"
#include "evolution/search_state.h"
#include "predictors/accuracy_scorer.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_layers.h"
#include "search_space/arch_space.h"

using nas::ArchConfig;
using nas::ArchSpace;
using nas::EvolutionSearch;
using nas::json;
using nas::OpKind;
using nas::ParetoPoint;
using nas::ScoredArch;
using nas::SearchOptions;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "nas_test_evolution";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// A space small enough to enumerate: 2 resolutions x 2 widths x 2 head ops x stage 0 (one block,
// 2 ops) x stage 1 (depth 1 or 2, blocks of 2 ops x 3 kernels x 2 expands: 12 + 144) = 2496.
ArchSpace small_space() {
  ArchSpace s;
  s.in_channels = 1;
  s.num_classes = 4;
  s.stem = nas::StemConfig{OpKind::Mult, 8, 3, 1};
  s.stages = {nas::StageSpace{1, 8, {1}, {3}, {1}},
              nas::StageSpace{2, 16, {1, 2}, {3, 5, 7}, {2, 4}}};
  s.head_channels = 32;
  s.classifier_op = OpKind::Mult;
  s.resolutions = {8, 12};
  s.widths = {0.5, 1.0};
  s.ops = {OpKind::Shift, OpKind::Add};
  s.head_ops = {OpKind::Shift, OpKind::Add};
  s.validate();
  return s;
}

// Every architecture of `space` (each stage's block lists, then the cartesian product).
std::vector<ArchConfig> enumerate(const ArchSpace& space) {
  std::vector<std::vector<std::vector<nas::BlockConfig>>> stage_choices;
  for (const nas::StageSpace& st : space.stages) {
    std::vector<nas::BlockConfig> blocks;
    for (OpKind op : space.ops)
      for (int k : st.kernels)
        for (int e : st.expands) blocks.push_back({op, k, e});
    std::vector<std::vector<nas::BlockConfig>> lists;
    for (int depth : st.depths) {
      std::vector<std::vector<nas::BlockConfig>> partial = {{}};
      for (int d = 0; d < depth; ++d) {
        std::vector<std::vector<nas::BlockConfig>> longer;
        for (const auto& p : partial)
          for (const nas::BlockConfig& b : blocks) {
            longer.push_back(p);
            longer.back().push_back(b);
          }
        partial = std::move(longer);
      }
      lists.insert(lists.end(), partial.begin(), partial.end());
    }
    stage_choices.push_back(std::move(lists));
  }
  std::vector<ArchConfig> out;
  ArchConfig base = space.smallest();
  std::function<void(size_t, ArchConfig&)> fill = [&](size_t s, ArchConfig& a) {
    if (s == space.stages.size()) {
      out.push_back(a);
      return;
    }
    for (const auto& blocks : stage_choices[s]) {
      a.stages[s].blocks = blocks;
      fill(s + 1, a);
    }
  };
  for (int r : space.resolutions)
    for (double w : space.widths)
      for (OpKind head : space.head_ops) {
        base.resolution = r;
        base.width_mult = w;
        base.head.op = head;
        fill(0, base);
      }
  return out;
}

double op_energy(OpKind op) { return op == OpKind::Add ? 1.6 : 1.0; }
double op_quality(OpKind op) { return op == OpKind::Add ? 1.25 : 1.0; }

// Synthetic energy (mJ): grows with resolution^2, width, kernel^2 and expand per block; add costs
// more than shift.
double mock_energy_mj(const ArchConfig& a) {
  const double scale = (a.resolution / 8.0) * (a.resolution / 8.0) * a.width_mult;
  double e = 2.0 * op_energy(a.head.op);
  for (const nas::StageConfig& st : a.stages)
    for (const nas::BlockConfig& b : st.blocks)
      e += op_energy(b.op) * (1.0 + 0.05 * b.kernel * b.kernel) * b.expand;
  return 1e-3 * scale * e;
}

// Synthetic accuracy: saturating in a capacity that weighs the same features differently from
// the energy (add is worth more than it costs, kernels less), plus a small deterministic
// per-architecture term from the key's hash, so that the true front is irregular.
double mock_top1(const ArchConfig& a) {
  double capacity = std::sqrt(a.resolution / 8.0) * std::sqrt(a.width_mult) * op_quality(a.head.op);
  for (const nas::StageConfig& st : a.stages)
    for (const nas::BlockConfig& b : st.blocks)
      capacity += op_quality(b.op) * (1.0 + 0.02 * b.kernel) * std::sqrt(b.expand);
  // The legacy basis: the front sizes quoted in the tests below were measured with this noise.
  const double noise = static_cast<double>(nas::fnv1a64_legacy(a.key()) % 1000) / 1000.0;
  return 0.4 + 0.5 * (1.0 - std::exp(-capacity / 4.0)) + 0.01 * noise;
}

// Energy scorer of a function. With fail_at = k its k-th call throws (NNI's failing mock
// engine), from whichever TBB worker makes it.
class MockEnergy : public nas::EnergyScorer {
 public:
  using Fn = std::function<double(const ArchConfig&)>;
  explicit MockEnergy(Fn fn = mock_energy_mj, json description = {{"mock", "energy"}})
      : fn_(std::move(fn)), description_(std::move(description)) {}
  double energy_mj(const ArchConfig& a) const override {
    if (fail_at > 0 && ++calls_ == fail_at) NAS_THROW("mock energy failure");
    return fn_(a);
  }
  json describe() const override { return description_; }
  int64_t fail_at = 0;

 private:
  Fn fn_;
  json description_;
  mutable std::atomic<int64_t> calls_{0};
};

// Accuracy scorer of a function; records every batch and key; with fail_at = k its k-th call
// throws.
class MockAccuracy : public nas::AccuracyScorer {
 public:
  using Fn = std::function<double(const ArchConfig&)>;
  explicit MockAccuracy(Fn fn = mock_top1) : fn_(std::move(fn)) {}
  std::vector<double> predict(const std::vector<ArchConfig>& archs) const override {
    ++calls;
    if (fail_at > 0 && calls == fail_at) NAS_THROW("mock accuracy failure");
    batch_sizes.push_back(archs.size());
    std::vector<double> out;
    for (const ArchConfig& a : archs) {
      keys.insert(a.key());
      out.push_back(fn_(a));
    }
    return out;
  }
  int fail_at = 0;
  mutable int calls = 0;
  mutable std::vector<size_t> batch_sizes;
  mutable std::set<std::string> keys;

 private:
  Fn fn_;
};

std::vector<ParetoPoint> truth_points(const std::vector<ArchConfig>& archs) {
  std::vector<ParetoPoint> points;
  for (const ArchConfig& a : archs) points.push_back({mock_top1(a), mock_energy_mj(a)});
  return points;
}

json front_json(const EvolutionSearch& s) {
  json out = json::array();
  for (const ScoredArch& m : s.pareto_front()) out.push_back(m.to_json());
  return out;
}

json population_json(const EvolutionSearch& s) {
  json out = json::array();
  for (const ScoredArch& m : s.population()) out.push_back(m.to_json());
  return out;
}

json history_json(const EvolutionSearch& s) {
  json out = json::array();
  for (const nas::GenerationRecord& r : s.history()) {
    json j = r.to_json();
    j.erase("seconds");
    out.push_back(j);
  }
  return out;
}

SearchOptions small_options(int population = 40, int generations = 30, uint64_t seed = 1) {
  SearchOptions o;
  o.population = population;
  o.generations = generations;
  o.seed = seed;
  return o;
}

}  // namespace


// ---- pareto.h ----------------------------------------------------------------------------------

TEST_CASE("pareto: dominance, equal points, non-dominated sort, crowding, NSGA-II order") {
  CHECK(nas::dominates({0.9, 1.0}, {0.8, 2.0}));
  CHECK(nas::dominates({0.9, 1.0}, {0.9, 2.0}));  // better in one, equal in the other
  CHECK(nas::dominates({0.9, 1.0}, {0.8, 1.0}));
  CHECK_FALSE(nas::dominates({0.9, 1.0}, {0.9, 1.0}));  // equal points: neither dominates
  CHECK_FALSE(nas::dominates({0.9, 2.0}, {0.8, 1.0}));  // a trade-off

  // 4 is dominated by 0; 3 by 1, 2 and 5; 5 equals 1.
  const std::vector<ParetoPoint> p = {{0.9, 5}, {0.5, 1}, {0.6, 2}, {0.4, 2}, {0.8, 6}, {0.5, 1}};
  const auto fronts = nas::non_dominated_sort(p);
  REQUIRE(fronts.size() == 2);
  CHECK(fronts[0] == std::vector<size_t>{0, 1, 2, 5});
  CHECK(fronts[1] == std::vector<size_t>{3, 4});
  CHECK(nas::pareto_front_indices(p) == fronts[0]);

  // Front 0 by top-1: 1, 5 (tie: index order), 2, 0; by energy: 1, 5, 2, 0 (ranges 0.4 and 4):
  // point 2 lies between 5 and 0 in both, point 5 between 1 and 2.
  const std::vector<double> d = nas::crowding_distance(p, fronts[0]);
  REQUIRE(d.size() == 4);
  CHECK(std::isinf(d[0]));
  CHECK(std::isinf(d[1]));
  CHECK(d[2] == doctest::Approx(0.4 / 0.4 + 4.0 / 4.0));
  CHECK(d[3] == doctest::Approx(0.1 / 0.4 + 1.0 / 4.0));
  CHECK(nas::crowding_distance(p, {3, 4}) == std::vector<double>{kInf, kInf});
  // A front whose objectives do not spread adds nothing for them.
  const std::vector<ParetoPoint> same = {{0.5, 1}, {0.5, 1}, {0.5, 1}};
  CHECK(nas::crowding_distance(same, {0, 1, 2}) == std::vector<double>{kInf, 0.0, kInf});

  CHECK(nas::nsga2_order(p) == std::vector<size_t>{0, 1, 2, 5, 3, 4});
  CHECK(nas::non_dominated_sort({}).empty());
  CHECK(nas::pareto_front_indices({}).empty());
  CHECK_THROWS_WITH_AS(nas::non_dominated_sort({{std::nan(""), 1}}),
                       doctest::Contains("point 0 is not finite"), nas::Error);
}

TEST_CASE("pareto: the O(n log n) front equals front 0 of the fast non-dominated sort") {
  nas::Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<ParetoPoint> p;
    // Coarse values: many ties and equal points.
    for (int i = 0; i < 200; ++i)
      p.push_back({static_cast<double>(rng.uniform_int(0, 15)) / 16.0,
                   static_cast<double>(rng.uniform_int(1, 12))});
    const auto fronts = nas::non_dominated_sort(p);
    CHECK(nas::pareto_front_indices(p) == fronts.front());
    // Nothing in its own or a later front dominates a member; something in the previous does.
    size_t total = 0, violations = 0;
    for (size_t k = 0; k < fronts.size(); ++k) {
      total += fronts[k].size();
      for (size_t i : fronts[k]) {
        for (size_t l = k; l < fronts.size(); ++l)
          for (size_t j : fronts[l]) violations += nas::dominates(p[j], p[i]);
        bool dominated = k == 0;
        if (k > 0)
          for (size_t j : fronts[k - 1]) dominated = dominated || nas::dominates(p[j], p[i]);
        violations += !dominated;
      }
    }
    CHECK(violations == 0);
    CHECK(total == p.size());
  }
}

// The textbook fast non-dominated sort (Deb et al. 2002; O(n^2) memory), which the search used
// before the sort-based one: the reference the new sort must match exactly.
std::vector<std::vector<size_t>> reference_non_dominated_sort(const std::vector<ParetoPoint>& points) {
  const size_t n = points.size();
  std::vector<std::vector<size_t>> dominated(n);
  std::vector<size_t> dominators(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      if (nas::dominates(points[i], points[j])) {
        dominated[i].push_back(j);
        ++dominators[j];
      } else if (nas::dominates(points[j], points[i])) {
        dominated[j].push_back(i);
        ++dominators[i];
      }
    }
  std::vector<std::vector<size_t>> fronts;
  std::vector<size_t> current;
  for (size_t i = 0; i < n; ++i)
    if (dominators[i] == 0) current.push_back(i);
  while (!current.empty()) {
    std::vector<size_t> next;
    for (size_t i : current)
      for (size_t j : dominated[i])
        if (--dominators[j] == 0) next.push_back(j);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

TEST_CASE("pareto: the sort-based non-dominated sort gives the textbook sort's fronts, crowding and order") {
  nas::Rng rng(11);
  size_t fronts_seen = 0;
  for (int trial = 0; trial < 60; ++trial) {
    // Coarse grids (many ties and equal points), fine values, a chain (one point per front),
    // anti-correlated (one front), negative and zero values: each trial its own mix.
    const int n = static_cast<int>(rng.uniform_int(0, 300));
    const int grid = trial % 3 == 0 ? 4 : trial % 3 == 1 ? 16 : 100000;
    std::vector<ParetoPoint> p;
    for (int i = 0; i < n; ++i) {
      if (trial % 10 == 7) {
        p.push_back({static_cast<double>(i % 50), static_cast<double>(-(i % 50))});  // 50 fronts of duplicates
      } else if (trial % 10 == 8) {
        p.push_back({static_cast<double>(i), static_cast<double>(i)});  // a trade-off: all in front 0
      } else {
        p.push_back({static_cast<double>(rng.uniform_int(-grid, grid)) / grid,
                     static_cast<double>(rng.uniform_int(0, grid)) / grid});
      }
      if (i > 0 && rng.uniform_int(0, 9) == 0) p.push_back(p[static_cast<size_t>(rng.uniform_int(0, i - 1))]);
    }
    const auto expected = reference_non_dominated_sort(p);
    const auto fronts = nas::non_dominated_sort(p);
    REQUIRE(fronts == expected);
    fronts_seen += fronts.size();
    // nsga2_order (crowding within each front) from the reference fronts, as before.
    std::vector<size_t> order;
    for (const auto& front : expected) {
      const std::vector<double> distance = nas::crowding_distance(p, front);
      std::vector<size_t> positions(front.size());
      for (size_t k = 0; k < positions.size(); ++k) positions[k] = k;
      std::stable_sort(positions.begin(), positions.end(), [&](size_t a, size_t b) { return distance[a] > distance[b]; });
      for (size_t k : positions) order.push_back(front[k]);
    }
    CHECK(nas::nsga2_order(p) == order);
  }
  CHECK(fronts_seen > 300);  // the trials had many fronts, not only front 0
}

TEST_CASE("pareto: 2-D hypervolume") {
  // A staircase: (energy 1, top-1 0.5), (2, 0.6), (3, 0.8); reference energy 4.
  std::vector<ParetoPoint> p = {{0.5, 1}, {0.8, 3}, {0.6, 2}};
  CHECK(nas::hypervolume_2d(p, 4.0) == doctest::Approx(1 * 0.5 + 1 * 0.6 + 1 * 0.8));
  CHECK(nas::hypervolume_2d(p, 4.0, 0.5) == doctest::Approx(0 + 1 * 0.1 + 1 * 0.3));
  const double base = nas::hypervolume_2d(p, 4.0);
  p.push_back({0.4, 2.5});   // dominated: adds nothing
  p.push_back({0.99, 5});    // beyond the reference energy: adds nothing
  p.push_back({0.95, 4});    // on the reference energy: zero width
  p.push_back({0.5, 1});     // an equal point: counted once
  CHECK(nas::hypervolume_2d(p, 4.0) == doctest::Approx(base));
  CHECK(nas::hypervolume_2d(p, 0.5) == 0.0);  // every point beyond the reference
  CHECK(nas::hypervolume_2d({}, 4.0) == 0.0);
  CHECK(nas::hypervolume_2d({{1.0, 0.0}}, 2.0) == doctest::Approx(2.0));
  CHECK_THROWS_AS(nas::hypervolume_2d(p, kInf), nas::Error);
}

// ---- options, scorers --------------------------------------------------------------------------

TEST_CASE("search options: validation names the field, JSON round trip, objective names") {
  SearchOptions o;
  o.validate();  // the defaults
  CHECK(o.population == 100);
  CHECK(o.generations == 500);
  const json j = o.to_json();
  CHECK(j.at("budget_mj").is_null());  // no budget
  CHECK(SearchOptions::from_json(j, "t").to_json() == j);
  o.budget_mj = 0.0125;
  o.objective = SearchOptions::Objective::MaxAccuracy;
  o.seed = UINT64_MAX;
  CHECK(SearchOptions::from_json(o.to_json(), "t").to_json() == o.to_json());
  CHECK(nas::parse_objective("pareto") == SearchOptions::Objective::Pareto);
  CHECK(nas::parse_objective(nas::objective_name(SearchOptions::Objective::MaxAccuracy)) ==
        SearchOptions::Objective::MaxAccuracy);
  CHECK_THROWS_WITH_AS(nas::parse_objective("best"),
                       doctest::Contains("accepted: pareto, max-accuracy"), nas::Error);

  auto bad = [](std::function<void(SearchOptions&)> edit, const char* fragment) {
    SearchOptions b;
    edit(b);
    CHECK_THROWS_WITH_AS(b.validate(), doctest::Contains(fragment), nas::Error);
  };
  bad([](SearchOptions& b) { b.population = 1; }, "search.population must be in 2..");
  bad([](SearchOptions& b) { b.generations = -1; }, "search.generations");
  bad([](SearchOptions& b) { b.parent_fraction = 0; }, "search.parent_fraction");
  bad([](SearchOptions& b) { b.mutation_fraction = 1.5; }, "search.mutation_fraction");
  bad([](SearchOptions& b) { b.mutation_prob = std::nan(""); }, "search.mutation_prob");
  bad([](SearchOptions& b) { b.budget_mj = 0; }, "search.budget_mj must be > 0");
  bad([](SearchOptions& b) { b.budget_mj = std::nan(""); }, "search.budget_mj");
  bad([](SearchOptions& b) { b.threads = -1; }, "search.threads");
  bad([](SearchOptions& b) { b.max_attempts_per_child = 0; }, "search.max_attempts_per_child");

  json extra = j;
  extra["elitism"] = true;
  CHECK_THROWS_WITH_AS(SearchOptions::from_json(extra, "f"),
                       doctest::Contains("unknown field 'elitism'"), nas::Error);
  json typo = j;
  typo["population"] = "100";
  CHECK_THROWS_WITH_AS(SearchOptions::from_json(typo, "f"),
                       doctest::Contains("options.population must be an integer"), nas::Error);
}

TEST_CASE("ModelEnergyScorer: energy per image of the model, precision, description") {
  const ArchSpace space = small_space();
  const ArchConfig arch = space.largest(OpKind::Add);
  auto model = [](nas::EnergyTier tier, int bits, int64_t batch) {
    nas::EnergyModelOptions o;
    o.tier = tier;
    o.bits = bits;
    o.batch = batch;
    return std::make_unique<nas::EnergyModel>(nas::EnergyTable::builtin(), o);
  };
  const auto eyeriss = model(nas::EnergyTier::Eyeriss, 0, 1);
  const nas::ModelEnergyScorer scorer(*eyeriss);
  CHECK(scorer.bits() == 32);  // model bits 0: every layer at the LayerSpec default
  CHECK(scorer.energy_mj(arch) == eyeriss->total_energy_mj(nas::to_layer_specs(arch, 32)));
  const json d = scorer.describe();
  CHECK(d.at("tier") == "eyeriss");
  CHECK(d.at("table").at("name") == nas::EnergyTable::builtin().name);
  CHECK(d.at("table").at("version") == nas::EnergyTable::builtin().version);
  CHECK(d.at("bits") == 32);
  CHECK(d.at("batch") == 1);

  // The unit tier is linear in the batch, so the energy per image does not depend on it.
  const auto unit1 = model(nas::EnergyTier::Unit, 8, 1);
  const auto unit4 = model(nas::EnergyTier::Unit, 8, 4);
  const nas::ModelEnergyScorer s1(*unit1), s4(*unit4);
  CHECK(s1.bits() == 8);
  CHECK(s4.energy_mj(arch) == doctest::Approx(s1.energy_mj(arch)));
  CHECK(unit4->total_energy_mj(nas::to_layer_specs(arch, 8)) ==
        doctest::Approx(4 * s4.energy_mj(arch)));
  CHECK(s4.describe().at("batch") == 4);
  CHECK(s1.energy_mj(space.smallest(OpKind::Shift)) < s1.energy_mj(arch));
}

// ---- the search --------------------------------------------------------------------------------

TEST_CASE("search: NSGA-II recovers the true Pareto front of an enumerable space") {
  const ArchSpace space = small_space();
  const std::vector<ArchConfig> archs = enumerate(space);
  REQUIRE(archs.size() == 2496);
  std::set<std::string> keys;
  for (const ArchConfig& a : archs) keys.insert(a.key());
  REQUIRE(keys.size() == archs.size());
  const std::vector<ParetoPoint> points = truth_points(archs);
  std::set<std::string> truth;
  for (size_t i : nas::pareto_front_indices(points)) truth.insert(archs[i].key());
  REQUIRE(truth.size() == 38);

  // Population 60 over 40 generations scores about a third of the space (distinct); with seeds
  // 1..8 it returned 34..38 of the 38 front points and never a dominated one. Bound: >= 90 %.
  for (uint64_t seed : {1, 2, 3}) {
    CAPTURE(seed);
    MockAccuracy accuracy;
    MockEnergy energy;
    EvolutionSearch search(space, accuracy, energy, small_options(60, 40, seed));
    search.run();
    const std::vector<ScoredArch> front = search.pareto_front();
    size_t found = 0;
    for (const ScoredArch& m : front) {
      CAPTURE(m.key);
      CHECK(truth.count(m.key) == 1);  // nothing the space dominates
      found += truth.count(m.key);
      CHECK(m.predicted_top1 == mock_top1(m.arch));
      CHECK(m.energy_mj == mock_energy_mj(m.arch));
    }
    CHECK(found >= 35);
    CHECK(accuracy.keys.size() < archs.size() / 2);  // a search, not an enumeration
    // Sorted by energy, mutually non-dominated.
    for (size_t i = 1; i < front.size(); ++i) CHECK(front[i - 1].energy_mj <= front[i].energy_mj);
    for (const ScoredArch& a : front)
      for (const ScoredArch& b : front)
        CHECK_FALSE(
            nas::dominates({a.predicted_top1, a.energy_mj}, {b.predicted_top1, b.energy_mj}));
    // The hypervolume never falls (the front only improves under elitist selection).
    for (size_t g = 1; g < search.history().size(); ++g)
      CHECK(search.history()[g].hypervolume >= search.history()[g - 1].hypervolume);
  }
}

TEST_CASE("search: one predict call per generation, counters and records agree") {
  const ArchSpace space = small_space();
  MockAccuracy accuracy;
  MockEnergy energy;
  EvolutionSearch search(space, accuracy, energy, small_options(20, 6));
  std::vector<int> seen;
  search.run("", false, [&](const nas::GenerationRecord& r) { seen.push_back(r.generation); });
  CHECK(seen == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  REQUIRE(search.history().size() == 7);
  CHECK(accuracy.calls == 7);
  CHECK(search.counters().predict_calls == 7);
  int64_t scored = 0;
  for (size_t g = 0; g < search.history().size(); ++g) {
    const nas::GenerationRecord& r = search.history()[g];
    CHECK(r.generation == static_cast<int>(g));
    CHECK(static_cast<size_t>(r.children_scored) == accuracy.batch_sizes[g]);
    CHECK(r.children_scored + r.failed_children == 20);
    CHECK(r.population == 20);
    CHECK(r.feasible_count == 20);
    scored += r.children_scored;
  }
  CHECK(search.archs_scored() == scored);
  CHECK(search.counters().energy_evaluations >= scored);
  CHECK(search.population().size() == 20);
  std::set<std::string> keys;
  for (const ScoredArch& m : search.population()) keys.insert(m.key);
  CHECK(keys.size() == 20);  // no duplicates
  CHECK(search.hypervolume_reference_mj() ==
        doctest::Approx(mock_energy_mj(space.largest(OpKind::Add))));
}

TEST_CASE("search: the same seed gives the same result with 1 or 2 threads") {
  const ArchSpace space = small_space();
  nas::EnergyModelOptions mo;
  mo.tier = nas::EnergyTier::Eyeriss;
  const nas::EnergyModel model(nas::EnergyTable::builtin(), mo);
  const nas::ModelEnergyScorer energy(model);
  auto run = [&](int threads, uint64_t seed) {
    MockAccuracy accuracy;
    SearchOptions o = small_options(30, 10, seed);
    o.threads = threads;
    EvolutionSearch search(space, accuracy, energy, o);
    search.run();
    return json{{"front", front_json(search)},
                {"population", population_json(search)},
                {"history", history_json(search)}}
        .dump();
  };
  const std::string one = run(1, 5);
  CHECK(one == run(2, 5));
  CHECK(one == run(0, 5));
  CHECK(one != run(2, 6));
}

TEST_CASE("search: killed and resumed gives the uninterrupted result") {
  const ArchSpace space = small_space();
  const std::string full_path = temp_path("full.json"), cut_path = temp_path("cut.json");
  std::filesystem::remove(full_path);
  std::filesystem::remove(cut_path);
  MockEnergy energy;
  SearchOptions o = small_options(24, 12, 3);
  o.threads = 2;

  MockAccuracy accuracy;
  EvolutionSearch full(space, accuracy, energy, o);
  full.run(full_path);
  CHECK_FALSE(full.resumed());
  const std::string want_front = front_json(full).dump();
  const std::string want_population = population_json(full).dump();
  const std::string want_history = history_json(full).dump();
  // The state file without what may differ: timings and the thread count.
  auto comparable_state = [](const std::string& path) {
    json state = nas::read_json_file(path).at("state");
    for (json& r : state.at("history")) r.erase("seconds");
    state.at("options").erase("threads");
    return state.dump();
  };

  auto check_same = [&](const EvolutionSearch& s) {
    CHECK(s.resumed());
    CHECK(front_json(s).dump() == want_front);
    CHECK(population_json(s).dump() == want_population);
    CHECK(history_json(s).dump() == want_history);
    CHECK(s.archs_scored() == full.archs_scored());
    const bool same_state = comparable_state(cut_path) == comparable_state(full_path);
    CHECK(same_state);
  };

  SUBCASE("stopped by the generation callback") {
    struct Killed {};
    {
      EvolutionSearch first(space, accuracy, energy, o);
      CHECK_THROWS_AS(first.run(cut_path, true,
                                [](const nas::GenerationRecord& r) {
                                  if (r.generation == 5) throw Killed{};
                                }),
                      Killed);
      CHECK(first.generation() == 5);
    }
    std::vector<int> seen;
    EvolutionSearch second(space, accuracy, energy, o);
    const auto record = [&](const nas::GenerationRecord& r) { seen.push_back(r.generation); };
    second.run(cut_path, true, record);
    CHECK(seen == std::vector<int>{6, 7, 8, 9, 10, 11, 12});
    check_same(second);

    // A finished state returns at once.
    seen.clear();
    EvolutionSearch third(space, accuracy, energy, o);
    third.run(cut_path, true, record);
    CHECK(seen.empty());
    check_same(third);
  }

  SUBCASE("stopped by a failing scorer (from a TBB worker)") {
    MockEnergy failing;
    failing.fail_at = 150;  // in the middle of a generation
    {
      EvolutionSearch first(space, accuracy, failing, o);
      CHECK_THROWS_WITH_AS(first.run(cut_path), doctest::Contains("mock energy failure"),
                           nas::Error);
      CHECK(first.generation() >= 1);
      CHECK(first.generation() < 12);
    }
    EvolutionSearch second(space, accuracy, energy, o);
    second.run(cut_path, true);
    check_same(second);
  }

  SUBCASE("more generations extend a finished search") {
    SearchOptions shorter = o;
    shorter.generations = 7;
    EvolutionSearch first(space, accuracy, energy, shorter);
    first.run(cut_path);
    SearchOptions one_thread = o;  // threads may differ too
    one_thread.threads = 1;
    EvolutionSearch second(space, accuracy, energy, one_thread);
    second.run(cut_path, true);
    check_same(second);

    // Fewer generations than the state has is an error.
    EvolutionSearch third(space, accuracy, energy, shorter);
    CHECK_THROWS_WITH_AS(third.run(cut_path, true),
                         doctest::Contains("is at generation 12, beyond search.generations 7"),
                         nas::Error);
  }

  SUBCASE("resume without a state file starts afresh") {
    EvolutionSearch s(space, accuracy, energy, o);
    s.run(cut_path, true);
    CHECK_FALSE(s.resumed());
    CHECK(front_json(s).dump() == want_front);
  }
  CHECK_THROWS_WITH_AS(EvolutionSearch(space, accuracy, energy, o).run("", true),
                       doctest::Contains("needs a state path"), nas::Error);
}

TEST_CASE("search state: corrupt, other version, other space, options or scorer, bad content") {
  const ArchSpace space = small_space();
  const std::string path = temp_path("state.json"), bad = temp_path("bad_state.json");
  std::filesystem::remove(path);
  MockAccuracy accuracy;
  MockEnergy energy;
  SearchOptions o = small_options(10, 2);
  o.budget_mj = 0.05;
  EvolutionSearch(space, accuracy, energy, o).run(path);
  const json file = nas::read_json_file(path);
  CHECK(file.at("format") == "nas-search-state");
  CHECK(file.at("version") == 2);
  CHECK(file.at("checksum") == nas::fnv1a64_text(file.at("state").dump()));
  CHECK(file.at("state").at("space_fingerprint") == space.fingerprint());

  auto resume_error = [&](const std::string& state_path, const SearchOptions& options,
                          const ArchSpace& sp = small_space()) {
    try {
      EvolutionSearch(sp, accuracy, energy, options).run(state_path, true);
    } catch (const nas::Error& e) {
      CHECK(e.message().find('\n') == std::string::npos);
      CHECK(e.message().find(state_path) != std::string::npos);  // names the file
      return e.message();
    }
    FAIL("no error");
    return std::string();
  };
  auto write = [&](const json& j) { nas::write_file_atomic(bad, j.dump()); };
  // Edits the state and seals it again, so that only the content checks can object.
  auto resealed = [&](const std::function<void(json&)>& edit) {
    json j = file;
    edit(j.at("state"));
    j["checksum"] = nas::fnv1a64_text(j.at("state").dump());
    return j;
  };
  auto contains = [](const std::string& message, const char* fragment) {
    CAPTURE(message);
    CHECK(message.find(fragment) != std::string::npos);
  };

  json edited = file;
  edited["state"]["generation"] = 1;
  write(edited);
  contains(resume_error(bad, o), "is corrupt (checksum mismatch)");
  nas::write_file_atomic(bad, file.dump().substr(0, 500));
  contains(resume_error(bad, o), "invalid JSON");
  edited = file;
  edited["version"] = 3;
  write(edited);
  contains(resume_error(bad, o), "has version 3; this build reads version 2");
  edited["version"] = 1;  // the first version's checksums used another FNV basis
  write(edited);
  contains(resume_error(bad, o), "has version 1, written by an earlier build whose checksums used a non-standard FNV-1a basis");
  write(json{{"format", "nas-predictor"}});
  contains(resume_error(bad, o), "is not a search state");

  ArchSpace other = small_space();
  other.resolutions = {8};
  contains(resume_error(path, o, other), "was made for another search space");
  SearchOptions seed = o;
  seed.seed = 2;
  contains(resume_error(path, seed), "other options: search.seed is 1 there, 2 now");
  SearchOptions prob = o;
  prob.mutation_prob = 0.2;
  contains(resume_error(path, prob), "search.mutation_prob is 0.1 there, 0.2 now");
  SearchOptions budget = o;
  budget.budget_mj = kInf;
  contains(resume_error(path, budget), "search.budget_mj is 0.05 there, null now");
  auto scorer_error = [&](const json& description) {
    MockEnergy described(mock_energy_mj, description);
    try {
      EvolutionSearch(space, accuracy, described, o).run(path, true);
    } catch (const nas::Error& e) {
      return e.message();
    }
    return std::string();
  };
  contains(scorer_error({{"mock", "energy v2"}}),
           "was made with another energy scorer (\"mock\": \"energy\" there, \"energy v2\" now)");
  contains(scorer_error({{"mock", "energy"}, {"bits", 8}}),
           "another energy scorer (\"bits\": absent there, 8 now)");
  // Where a scorer was loaded from does not matter.
  CHECK(scorer_error({{"mock", "energy"}, {"file", "elsewhere/energy.json"}}).empty());

  write(resealed([](json& s) { s["population"][0]["predicted_top1"] = 1.5; }));
  contains(resume_error(bad, o), "population[0]: predicted_top1 must be in [0, 1]");
  write(resealed([](json& s) { s["population"][0]["energy_mj"] = 0.06; }));
  contains(resume_error(bad, o), "population[0] exceeds the budget");
  write(resealed([](json& s) { s["population"][1] = s["population"][0]; }));
  contains(resume_error(bad, o), "population[1] repeats an architecture");
  write(resealed([](json& s) { s["population"][0]["key"] = "r8"; }));
  contains(resume_error(bad, o), "does not match the architecture");
  write(resealed([](json& s) {
    json& arch = s["population"][0]["arch"];
    arch["resolution"] = 16;
    s["population"][0]["key"] = ArchConfig::from_json(arch).key();
  }));
  contains(resume_error(bad, o), "population[0] is not in the search space");
  write(resealed([](json& s) { s["population"].push_back(s["population"][0]); }));
  contains(resume_error(bad, o), "expected 1..10 (options.population)");
  write(resealed([](json& s) { s["history"].erase(1); }));
  contains(resume_error(bad, o), "state.history has 2 records, expected 3");
  write(resealed([](json& s) { s["rng"] = "not a state"; }));
  contains(resume_error(bad, o), "state.rng is not a valid generator state");
  write(resealed([](json& s) { s["population"] = json::array(); }));
  contains(resume_error(bad, o), "state.population has 0 architectures");

  // Size is bounded before reading: a sparse file just over the limit.
  std::filesystem::resize_file(bad, static_cast<uintmax_t>(nas::kMaxSearchStateBytes) + 1);
  contains(resume_error(bad, o), "bytes, more than the 268435456 bytes this file may have");
  std::filesystem::remove(bad);
}

TEST_CASE("search: an infeasible budget names the cheapest energies of the space") {
  const ArchSpace space = small_space();
  MockAccuracy accuracy;
  MockEnergy energy;
  SearchOptions o = small_options();
  o.budget_mj = 2e-6;
  EvolutionSearch search(space, accuracy, energy, o);
  const double shift_mj = mock_energy_mj(space.smallest(OpKind::Shift));
  const double add_mj = mock_energy_mj(space.smallest(OpKind::Add));
  const std::string want = "budget " + nas::format_energy(nas::mj_to_joules(o.budget_mj)) +
                           " is below the cheapest architecture of the space (shift: " +
                           nas::format_energy(nas::mj_to_joules(shift_mj)) + ", add: " +
                           nas::format_energy(nas::mj_to_joules(add_mj)) + ")";
  CHECK_THROWS_WITH_AS(search.check_feasible(), doctest::Contains(want.c_str()), nas::Error);
  CHECK_THROWS_WITH_AS(search.run(), doctest::Contains(want.c_str()), nas::Error);
  CHECK(accuracy.calls == 0);

  // A mix of ops can be cheaper than every single op: shift blocks with an add head conv.
  MockEnergy cheap_add_head([](const ArchConfig& a) {
    return mock_energy_mj(a) + (a.head.op == OpKind::Add ? -0.0015 : 0.0);
  });
  EvolutionSearch mixed(space, accuracy, cheap_add_head, o);
  const nas::EnergyRange range = mixed.energy_range();
  CHECK(range.cheapest.head.op == OpKind::Add);
  CHECK(range.cheapest.stages[1].blocks[0].op == OpKind::Shift);
  ArchConfig expected = space.smallest(OpKind::Shift);
  expected.head.op = OpKind::Add;
  CHECK(range.cheapest.key() == expected.key());
  CHECK(range.cheapest_mj == doctest::Approx(mock_energy_mj(expected) - 0.0015));
  CHECK(range.cheapest_mj < range.per_op[0].smallest_mj);
  CHECK(range.cheapest_mj < range.per_op[1].smallest_mj);
  CHECK_THROWS_WITH_AS(mixed.check_feasible(), doctest::Contains(", mixed ops: "), nas::Error);
  // A budget only the mix meets is feasible, and the search starts from that architecture.
  o.budget_mj = range.cheapest_mj;
  o.generations = 2;
  EvolutionSearch tight(space, accuracy, cheap_add_head, o);
  tight.check_feasible();
  tight.run();
  REQUIRE(tight.population().size() == 1);
  CHECK(tight.population()[0].key == range.cheapest.key());
  CHECK(tight.history()[0].failed_children == o.population - 1);
}

TEST_CASE("search: every result is within a binding budget") {
  const ArchSpace space = small_space();
  const std::vector<ArchConfig> archs = enumerate(space);
  std::vector<double> energies;
  for (const ArchConfig& a : archs) energies.push_back(mock_energy_mj(a));
  std::sort(energies.begin(), energies.end());
  MockAccuracy accuracy;
  MockEnergy energy;

  SearchOptions o = small_options(40, 20);
  EvolutionSearch free_search(space, accuracy, energy, o);
  CHECK_FALSE(free_search.energy_range().budget_binds);
  CHECK(free_search.energy_range().to_json().at("budget_mj").is_null());

  o.budget_mj = energies[energies.size() / 4];  // a quarter of the space fits
  EvolutionSearch search(space, accuracy, energy, o);
  const nas::EnergyRange range = search.energy_range();
  CHECK(range.budget_binds);
  CHECK(range.most_expensive_mj == doctest::Approx(energies.back()));
  CHECK(range.cheapest_mj == doctest::Approx(energies.front()));
  search.run();
  CHECK(search.hypervolume_reference_mj() == o.budget_mj);
  for (const ScoredArch& m : search.population()) CHECK(m.energy_mj <= o.budget_mj);
  const std::vector<ScoredArch> front = search.pareto_front();
  REQUIRE_FALSE(front.empty());
  for (const ScoredArch& m : front) CHECK(m.energy_mj <= o.budget_mj);
  int over = 0;
  for (const nas::GenerationRecord& r : search.history()) over += r.over_budget_draws;
  CHECK(over > 0);  // the constraint did reject children
}

TEST_CASE("search: max-accuracy finds the best architecture within the budget") {
  const ArchSpace space = small_space();
  const std::vector<ArchConfig> archs = enumerate(space);
  MockAccuracy accuracy;
  MockEnergy energy;
  for (double budget_mj : {0.01, 0.02}) {
    CAPTURE(budget_mj);
    // Brute force: best top-1, then lower energy, then key.
    const ArchConfig* best = nullptr;
    for (const ArchConfig& a : archs) {
      if (mock_energy_mj(a) > budget_mj) continue;
      if (!best || mock_top1(a) > mock_top1(*best) ||
          (mock_top1(a) == mock_top1(*best) && mock_energy_mj(a) < mock_energy_mj(*best)))
        best = &a;
    }
    REQUIRE(best != nullptr);
    SearchOptions o = small_options(30, 30);
    o.objective = SearchOptions::Objective::MaxAccuracy;
    o.budget_mj = budget_mj;
    EvolutionSearch search(space, accuracy, energy, o);
    search.run();
    const std::vector<ScoredArch> result = search.pareto_front();
    REQUIRE(result.size() == 1);
    CHECK(result[0].key == best->key());
    CHECK(result[0].energy_mj <= budget_mj);
    CHECK(search.history().back().best_top1_within_budget == result[0].predicted_top1);
  }
}

TEST_CASE("search: a space smaller than the population fills what it can and stops drawing") {
  ArchSpace tiny = small_space();
  tiny.resolutions = {8};
  tiny.widths = {0.5};
  tiny.head_ops = {OpKind::Shift};
  tiny.stages[1].depths = {1};
  tiny.stages[1].kernels = {3};
  tiny.stages[1].expands = {2};  // 2 x 2 = 4 architectures
  MockAccuracy accuracy;
  MockEnergy energy;
  SearchOptions o = small_options(10, 3);
  o.max_attempts_per_child = 5;
  EvolutionSearch search(tiny, accuracy, energy, o);
  search.run();
  CHECK(search.population().size() == 4);
  const nas::GenerationRecord& first = search.history()[0];
  CHECK(first.population == 4);
  CHECK(first.failed_children == 6);
  CHECK(first.duplicate_draws == 10 * 5 - 4);  // every draw of the bound was made
  for (size_t g = 1; g < search.history().size(); ++g) {
    const nas::GenerationRecord& r = search.history()[g];
    CHECK(r.children_scored == 0);
    CHECK(r.failed_children == 10);
    CHECK(r.duplicate_draws == 10 * 5);
  }
  CHECK(accuracy.calls == 1);  // no empty predict calls
}

TEST_CASE("search: scorer contract violations are clear errors") {
  const ArchSpace space = small_space();
  MockEnergy energy;
  const SearchOptions o = small_options(10, 1);
  MockAccuracy above([](const ArchConfig&) { return 1.5; });
  CHECK_THROWS_WITH_AS(EvolutionSearch(space, above, energy, o).run(),
                       doctest::Contains("predictions must be top-1 in [0, 1]"), nas::Error);
  MockAccuracy nan([](const ArchConfig&) { return std::nan(""); });
  CHECK_THROWS_WITH_AS(EvolutionSearch(space, nan, energy, o).run(),
                       doctest::Contains("predictions must be top-1 in [0, 1]"), nas::Error);
  struct Short : nas::AccuracyScorer {
    std::vector<double> predict(const std::vector<ArchConfig>&) const override { return {0.5}; }
  } short_scorer;
  CHECK_THROWS_WITH_AS(EvolutionSearch(space, short_scorer, energy, o).run(),
                       doctest::Contains("returned 1 predictions for 10 architectures"),
                       nas::Error);
  MockAccuracy accuracy;
  MockEnergy negative([](const ArchConfig&) { return -1.0; });
  CHECK_THROWS_WITH_AS(EvolutionSearch(space, accuracy, negative, o).run(),
                       doctest::Contains("energies must be finite and >= 0"), nas::Error);
  SearchOptions invalid = o;
  invalid.population = 0;
  CHECK_THROWS_WITH_AS(EvolutionSearch(space, accuracy, energy, invalid),
                       doctest::Contains("search.population"), nas::Error);
}
