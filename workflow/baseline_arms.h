#pragma once
// The two baseline arms a searched Pareto set is compared with (issue 34, item 1), torch-free:
// what a user gets without the search, at the same energy budget and energy model.
//
//   random  K distinct architectures of the space within the budget, drawn as the search's
//           initial population is: ArchSpace::sample (each choice uniform), a draw rejected when
//           its key was drawn already or its energy exceeds the budget, at most max_draws draws.
//           A function of the seed (and the space, budget, energy model) only.
//   scaled  the hand-made network (search_space/space_baseline.h) scaled to the budget inside
//           the space: its blocks' op / kernel / expand kept, and the three size choices taken
//           from the space's own lists:
//             resolution  one of space.resolutions
//             width       one of space.widths (the width multiplier)
//             depth step  d: stage s gets depths_s[clamp(i_s + d, 0, |depths_s| - 1)], i_s the
//                         index of the network's own depth in that stage's list (d = 0: its
//                         depths); a deeper stage repeats its last block, a shallower one keeps
//                         its first blocks
//           The rule: the largest resolution for which some width and depth fit, then the largest
//           width that fits at it, then the largest depth step (lexicographic maximum of
//           (resolution, width, depth step) among the members within the budget). Resolution
//           first because the committed spaces' largest resolution is the data's own (a smaller
//           one throws input pixels away), width before depth as a practitioner scales a
//           MobileNet (its width multiplier is the published knob).
// Energies are the EnergyScorer's (the search's), so an arm point and a searched point compare.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "artifacts/pareto_file.h"
#include "core/json_util.h"
#include "evolution/energy_scorer.h"
#include "evolution/evolution_search.h"
#include "predictors/energy_model.h"
#include "search_space/arch_space.h"
#include "search_space/space_baseline.h"

namespace nas {

struct ArmPoint {
  std::string key;  // arch.key()
  ArchConfig arch;
  double energy_mj = 0;  // per image, the EnergyScorer's
};

// Draws per requested architecture when RandomArmOptions::max_draws is 0.
inline constexpr int64_t kRandomArmDrawsPerPoint = 10000;

struct RandomArmOptions {
  int count = 0;  // K >= 1
  uint64_t seed = 1;
  double budget_mj = std::numeric_limits<double>::infinity();  // > 0; infinity: no budget
  int64_t max_draws = 0;                                       // bound on draws; 0: kRandomArmDrawsPerPoint x count

  // Throws nas::Error naming the field ("random.count must be >= 1, got 0").
  void validate() const;
};

struct RandomArm {
  std::vector<ArmPoint> points;  // count of them, energy ascending (ties by key)
  int64_t draws = 0, duplicates = 0, over_budget = 0;

  // pareto.json's search block: {"seed", "count", "max_draws", "draws", "duplicates",
  // "over_budget", "sampling"}
  json describe(const RandomArmOptions& options) const;
};

// Throws nas::Error when the budget is below the space's cheapest architecture
// (check_budget_feasible's message) or when fewer than count distinct architectures within the
// budget turn up in max_draws draws (the message says how many did and why the others failed).
RandomArm draw_random_arm(const ArchSpace& space, const EnergyScorer& energy, const RandomArmOptions& options);

struct ScaledChoice {
  int resolution = 0;
  double width_mult = 0;
  int depth_step = 0;

  // "r28 w0.35 depth +1"
  std::string text() const;
};

struct ScaledArm {
  ArmPoint point;
  ScaledChoice choice;
  int members = 0;    // distinct members of the scaled family
  int fitting = 0;    // of them within the budget
  ArmPoint smallest;  // the family's cheapest member
  ScaledChoice smallest_choice;

  // pareto.json's search block: {"baseline" {"name", "op", "key"}, "choice" {"resolution",
  // "width_mult", "depth_step"}, "rule", "members", "fitting"}
  json describe(const SpaceBaseline& baseline) const;
};

// The depth steps of `baseline` in `space`: [lowest, highest]; throws nas::Error when a stage's
// depth is not one of the space's (the network has no place in the space).
std::pair<int, int> depth_step_range(const ArchConfig& baseline, const ArchSpace& space);
// baseline at one choice (not checked against the space).
ArchConfig scaled_member(const ArchConfig& baseline, const ArchSpace& space, const ScaledChoice& choice);

// The rule above. Throws nas::Error when a member is not in the space (its violation), or when
// even the family's cheapest member exceeds the budget ("scaled arm: the smallest mbv2-micro:shift
// of the space (r20 w0.25 depth -1, 12.3 uJ) exceeds the budget 10 uJ").
ScaledArm scale_to_budget(const SpaceBaseline& baseline, const ArchSpace& space, const EnergyScorer& energy,
                          double budget_mj);

// A pareto.json point for arch: energy_mj as given (the scorer's), macs / params and the energy
// per op from `model` at `bits` (per image). nas_search writes its points with it too.
artifacts::ParetoPoint costed_pareto_point(const ArchConfig& arch, const std::string& key,
                                           double predicted_top1_percent, double energy_mj, const EnergyModel& model,
                                           int bits);

// The pareto.json of an arm: objective "random" | "scaled", the points energy ascending with
// predicted_top1 0 (an arm is not scored by the accuracy predictor; search.predicted_top1 says
// so), budget_mj (none when infinite), the energy model's description, budget_binds /
// budget_note / energy_range / space from `range` and `space`, and search = `arm_details` plus
// {"arm", "predicted_top1"}. `supernet` is recorded for nas_retrain --init supernet ("" none).
artifacts::ParetoFile arm_pareto_file(const std::string& arm, const std::vector<ArmPoint>& points,
                                      const EnergyModel& model, const ModelEnergyScorer& energy,
                                      const EnergyRange& range, const ArchSpace& space, const json& arm_details,
                                      const std::string& supernet);

}  // namespace nas
