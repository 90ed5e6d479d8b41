// workflow/baseline_arms.h and cli/energy_flags.h: the random and scaled arms on the committed
// shift-only micro space with the real energy model, and --budget-from-baseline's exactness.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "artifacts/pareto_file.h"
#include "cli/energy_flags.h"
#include "core/error.h"
#include "evolution/energy_scorer.h"
#include "evolution/evolution_search.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_space.h"
#include "search_space/named_archs.h"
#include "search_space/space_baseline.h"
#include "temp_dir.h"
#include "workflow/baseline_arms.h"

namespace {

const nas::ArchSpace& micro_space() {
  static const nas::ArchSpace space =
      nas::read_space_file(std::string(NAS_SOURCE_DIR) + "/results/supernet/space-fmnist-micro-shift.json");
  return space;
}

struct Energy {
  nas::EnergyModel model{nas::EnergyTable::builtin()};
  nas::ModelEnergyScorer scorer{model};
};

Energy& energy() {
  static Energy e;
  return e;
}

// mbv2-micro with shift ops at 28x28x1, 10 classes: in the committed space.
nas::ArchConfig micro_shift() {
  nas::ArchConfig arch = nas::named_arch("mbv2-micro", 28, 1, 10);
  nas::set_all_ops(arch, nas::OpKind::Shift);
  return arch;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const nas::Error& e) {
    return e.message();
  }
  return "";
}

}  // namespace

TEST_CASE("random arm: K distinct architectures of the space within the budget, a function of the seed") {
  const nas::ArchSpace& space = micro_space();
  const double budget_mj = energy().scorer.energy_mj(micro_shift());
  nas::RandomArmOptions o;
  o.count = 6;
  o.seed = 7;
  o.budget_mj = budget_mj;
  const nas::RandomArm arm = nas::draw_random_arm(space, energy().scorer, o);
  REQUIRE(arm.points.size() == 6);
  std::set<std::string> keys;
  for (size_t i = 0; i < arm.points.size(); ++i) {
    const nas::ArmPoint& p = arm.points[i];
    CHECK(space.contains(p.arch));
    CHECK(p.key == p.arch.key());
    CHECK(p.energy_mj == energy().scorer.energy_mj(p.arch));
    CHECK(p.energy_mj <= budget_mj);
    if (i > 0) CHECK(arm.points[i - 1].energy_mj <= p.energy_mj);
    keys.insert(p.key);
  }
  CHECK(keys.size() == 6);
  CHECK(arm.draws == 6 + arm.duplicates + arm.over_budget);
  CHECK(arm.over_budget > 0);  // mbv2-micro sits inside the space's range: the budget binds

  const nas::RandomArm again = nas::draw_random_arm(space, energy().scorer, o);
  std::vector<std::string> a, b, c;
  for (const auto& p : arm.points) a.push_back(p.key);
  for (const auto& p : again.points) b.push_back(p.key);
  CHECK(a == b);
  o.seed = 8;
  for (const auto& p : nas::draw_random_arm(space, energy().scorer, o).points) c.push_back(p.key);
  CHECK(a != c);
}

TEST_CASE("random arm: a budget below the cheapest architecture and too few draws are clear errors") {
  const nas::ArchSpace& space = micro_space();
  const nas::EnergyRange range = nas::space_energy_range(space, energy().scorer, 1.0);
  nas::RandomArmOptions o;
  o.count = 2;
  o.budget_mj = range.cheapest_mj * 0.99;
  CHECK(error_of([&] {
          nas::draw_random_arm(space, energy().scorer, o);
        }).find("is below the cheapest architecture of the space (shift: ") != std::string::npos);
  // Exactly at the cheapest: only the cheapest fits, so two distinct ones cannot be found.
  o.budget_mj = range.cheapest_mj;
  o.max_draws = 200;
  const std::string msg = error_of([&] { nas::draw_random_arm(space, energy().scorer, o); });
  CHECK(msg.find("random arm: ") == 0);
  CHECK(msg.find("of 2 distinct architectures within the budget") != std::string::npos);
  CHECK(msg.find("in 200 draws") != std::string::npos);
  o.count = 0;
  CHECK(error_of([&] { nas::draw_random_arm(space, energy().scorer, o); }) == "random.count must be >= 1, got 0");
}

TEST_CASE("scaled arm: the lexicographically largest (resolution, width, depth step) within the budget, in the space") {
  const nas::ArchSpace& space = micro_space();
  const nas::SpaceBaseline baseline = nas::space_baseline("mbv2-micro", space);
  REQUIRE(baseline.space_violation.empty());
  const auto [lowest, highest] = nas::depth_step_range(baseline.arch, space);
  CHECK(lowest == -1);  // mbv2-micro's stage depths 1,1,2,2,1,1: stages 2 and 3 can lose one block
  CHECK(highest == 1);  // ... and stages 1 to 4 gain one
  // Depth step 0 at the network's own resolution and width is the network itself.
  CHECK(nas::scaled_member(baseline.arch, space, {28, 0.25, 0}) == baseline.arch);
  const nas::ArchConfig deeper = nas::scaled_member(baseline.arch, space, {28, 0.25, 1});
  CHECK(deeper.depths() == std::vector<int>{1, 2, 3, 3, 2, 1});
  CHECK(deeper.stages[2].blocks.back() == baseline.arch.stages[2].blocks.back());

  const double own_mj = energy().scorer.energy_mj(baseline.arch);
  for (const double budget_mj : {own_mj, own_mj * 1.3, own_mj * 0.8, 1e9}) {
    CAPTURE(budget_mj);
    const nas::ScaledArm arm = nas::scale_to_budget(baseline, space, energy().scorer, budget_mj);
    CHECK(space.contains(arm.point.arch));
    CHECK(arm.point.energy_mj <= budget_mj);
    CHECK(arm.point.arch == nas::scaled_member(baseline.arch, space, arm.choice));
    // Ground truth: no lexicographically larger choice fits.
    for (int r : space.resolutions)
      for (double w : space.widths)
        for (int d = lowest; d <= highest; ++d) {
          if (std::make_tuple(r, w, d) <=
              std::make_tuple(arm.choice.resolution, arm.choice.width_mult, arm.choice.depth_step))
            continue;
          const nas::ArchConfig member = nas::scaled_member(baseline.arch, space, {r, w, d});
          if (member == arm.point.arch) continue;  // a clamped depth step repeats the choice
          CHECK(energy().scorer.energy_mj(member) > budget_mj);
        }
  }
  // At its own energy the network itself (or a larger member) is chosen; unbounded: the largest.
  const nas::ScaledArm at_own = nas::scale_to_budget(baseline, space, energy().scorer, own_mj);
  CHECK(std::make_tuple(at_own.choice.resolution, at_own.choice.width_mult, at_own.choice.depth_step) >=
        std::make_tuple(28, 0.25, 0));
  const nas::ScaledArm unbounded = nas::scale_to_budget(baseline, space, energy().scorer, 1e9);
  CHECK(unbounded.choice.resolution == 28);
  CHECK(unbounded.choice.width_mult == 0.35);
  CHECK(unbounded.choice.depth_step == 1);
  CHECK(unbounded.fitting == unbounded.members);
}

TEST_CASE("scaled arm: a budget below its smallest member is a clear error") {
  const nas::ArchSpace& space = micro_space();
  const nas::SpaceBaseline baseline = nas::space_baseline("mbv2-micro", space);
  const nas::ScaledArm any = nas::scale_to_budget(baseline, space, energy().scorer, 1e9);
  const std::string msg =
      error_of([&] { nas::scale_to_budget(baseline, space, energy().scorer, any.smallest.energy_mj * 0.99); });
  CHECK(msg.find("scaled arm: the smallest mbv2-micro:shift of the space (r20 w0.25 depth -1, ") == 0);
  CHECK(msg.find(") exceeds the budget ") != std::string::npos);
  // The op of another space: the network with add blocks is not a member of the shift-only space.
  const nas::SpaceBaseline add = nas::space_baseline("mbv2-micro:add", space);
  CHECK(!add.space_violation.empty());
  CHECK(error_of([&] {
          nas::scale_to_budget(add, space, energy().scorer, 1e9);
        }).find("scaled arm: mbv2-micro:add cannot be scaled inside the space") == 0);
}

TEST_CASE("--budget-from-baseline: the budget is the network's energy bit for bit") {
  const nas::ArchSpace& space = micro_space();
  nas::cli::EnergyFlags flags;
  flags.budget_from_baseline = "mbv2-micro";
  const nas::cli::Budget budget = nas::cli::resolve_budget(flags, space, energy().scorer);
  REQUIRE(budget.baseline);
  CHECK(budget.baseline->arch == micro_shift());
  const double own_mj = energy().scorer.energy_mj(micro_shift());
  CHECK(budget.budget_mj == own_mj);  // exact, not approximately
  CHECK(budget.note() == "the exact energy of mbv2-micro:shift (in the space)");
  // The network is feasible under its own budget, and the search's range check agrees.
  CHECK(nas::space_energy_range(space, energy().scorer, budget.budget_mj).cheapest_mj <= budget.budget_mj);
  CHECK(nas::scale_to_budget(*budget.baseline, space, energy().scorer, budget.budget_mj).point.energy_mj <= own_mj);
  // Through pareto.json's number (JSON text and back) the budget stays the same double.
  CHECK(nas::json::parse(nas::json(budget.budget_mj).dump()).get<double>() == own_mj);

  flags.budget = "35uJ";
  CHECK(error_of([&] { nas::cli::resolve_budget(flags, space, energy().scorer); }) ==
        "give at most one of --budget and --budget-from-baseline");
  flags.budget.clear();
  flags.budget_from_baseline = "mbv2-micro:div";
  CHECK(error_of([&] { nas::cli::resolve_budget(flags, space, energy().scorer); }).find("--budget-from-baseline: ") ==
        0);
  nas::ArchSpace mixed = space;
  mixed.ops = {nas::OpKind::Shift, nas::OpKind::Add};
  flags.budget_from_baseline = "mbv2-micro";
  CHECK(error_of([&] { nas::cli::resolve_budget(flags, mixed, energy().scorer); }) ==
        "--budget-from-baseline: baseline 'mbv2-micro': the space has several ops: name the op: mbv2-micro:shift or "
        "mbv2-micro:add");
}

TEST_CASE("arm pareto.json: nas_search's format, points by energy, predicted top-1 0, read back") {
  const nas::ArchSpace& space = micro_space();
  const double budget_mj = energy().scorer.energy_mj(micro_shift());
  nas::RandomArmOptions o;
  o.count = 3;
  o.budget_mj = budget_mj;
  const nas::RandomArm arm = nas::draw_random_arm(space, energy().scorer, o);
  std::vector<nas::ArmPoint> reversed(arm.points.rbegin(), arm.points.rend());
  const nas::EnergyRange range = nas::space_energy_range(space, energy().scorer, budget_mj);
  const nas::artifacts::ParetoFile file =
      nas::arm_pareto_file("random", reversed, energy().model, energy().scorer, range, space, {{"seed", 1}}, "");
  nas_test::TempDir dir("arms_pareto");
  nas::artifacts::write_pareto_file(dir / "pareto.json", file, nas::json{{"schema_version", 1}});
  const nas::artifacts::ParetoFile back = nas::artifacts::read_pareto_file(dir / "pareto.json");
  CHECK(back.objective == "random");
  REQUIRE(back.budget_mj);
  CHECK(*back.budget_mj == budget_mj);
  REQUIRE(back.points.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(back.points[i].key == arm.points[i].key);
    CHECK(back.points[i].predicted_top1_percent == 0);
    CHECK(back.points[i].energy_mj == arm.points[i].energy_mj);
    CHECK(back.points[i].macs > 0);
  }
  CHECK(back.search_details["search"]["arm"] == "random");
  CHECK(back.search_details["search"]["seed"] == 1);
  CHECK(error_of([&] {
          nas::arm_pareto_file("best", reversed, energy().model, energy().scorer, range, space, {}, "");
        }) == "arm must be random or scaled, got 'best'");
}
