#include "workflow/baseline_arms.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "core/energy_units.h"
#include "core/error.h"
#include "core/string_format.h"
#include "search_space/arch_layers.h"

namespace nas {

namespace {

bool by_energy(const ArmPoint& a, const ArmPoint& b) {
  return a.energy_mj != b.energy_mj ? a.energy_mj < b.energy_mj : a.key < b.key;
}

double checked_budget(double budget_mj, const std::string& field) {
  NAS_CHECK(budget_mj > 0 && !std::isnan(budget_mj), field << " must be > 0 (infinity = no budget), got " << budget_mj);
  return budget_mj;
}

}  // namespace

void RandomArmOptions::validate() const {
  NAS_CHECK(count >= 1, "random.count must be >= 1, got " << count);
  NAS_CHECK(max_draws >= 0,
            "random.max_draws must be >= 0 (0: " << kRandomArmDrawsPerPoint << " per architecture), got " << max_draws);
  checked_budget(budget_mj, "random.budget_mj");
}

RandomArm draw_random_arm(const ArchSpace& space, const EnergyScorer& energy, const RandomArmOptions& options) {
  options.validate();
  space.validate();
  check_budget_feasible(space_energy_range(space, energy, options.budget_mj));
  const int64_t max_draws = options.max_draws > 0 ? options.max_draws : kRandomArmDrawsPerPoint * options.count;
  RandomArm arm;
  std::set<std::string> seen;
  Rng rng(options.seed);
  while (static_cast<int>(arm.points.size()) < options.count && arm.draws < max_draws) {
    ArchConfig arch = space.sample(rng);
    ++arm.draws;
    std::string key = arch.key();
    if (!seen.insert(key).second) {
      ++arm.duplicates;
      continue;
    }
    const double e = energy.energy_mj(arch);
    if (e > options.budget_mj) {
      ++arm.over_budget;
      continue;
    }
    arm.points.push_back({std::move(key), std::move(arch), e});
  }
  NAS_CHECK(static_cast<int>(arm.points.size()) == options.count,
            "random arm: " << arm.points.size() << " of " << options.count
                           << " distinct architectures within the budget " << format_energy_mj(options.budget_mj)
                           << " found in " << arm.draws << " draws (" << arm.duplicates << " duplicates, "
                           << arm.over_budget << " over the budget): lower random.count or raise random.max_draws");
  std::sort(arm.points.begin(), arm.points.end(), by_energy);
  return arm;
}

json RandomArm::describe(const RandomArmOptions& options) const {
  return {{"seed", options.seed},
          {"count", options.count},
          {"max_draws", options.max_draws > 0 ? options.max_draws : kRandomArmDrawsPerPoint * options.count},
          {"draws", draws},
          {"duplicates", duplicates},
          {"over_budget", over_budget},
          {"sampling", "ArchSpace::sample (each choice uniform), distinct keys, within the budget"}};
}

json ScaledArm::describe(const SpaceBaseline& baseline) const {
  return {{"baseline", {{"name", baseline.name}, {"op", op_kind_name(baseline.op)}, {"key", baseline.arch.key()}}},
          {"choice",
           {{"resolution", choice.resolution}, {"width_mult", choice.width_mult}, {"depth_step", choice.depth_step}}},
          {"rule",
           "the largest resolution of the space at which a member fits, then the largest width, then the largest "
           "depth step"},
          {"members", members},
          {"fitting", fitting}};
}

std::string ScaledChoice::text() const {
  return "r" + std::to_string(resolution) + " w" + format_double(width_mult, 2) + " depth " +
         (depth_step > 0 ? "+" : "") + std::to_string(depth_step);
}

std::pair<int, int> depth_step_range(const ArchConfig& baseline, const ArchSpace& space) {
  NAS_CHECK(baseline.stages.size() == space.stages.size(),
            "baseline: " << baseline.stages.size() << " stages, the space has " << space.stages.size());
  int lowest = 0, highest = 0;
  for (size_t s = 0; s < space.stages.size(); ++s) {
    const std::vector<int>& depths = space.stages[s].depths;
    const auto it = std::find(depths.begin(), depths.end(), baseline.stages[s].depth());
    NAS_CHECK(it != depths.end(), "baseline: stages[" << s << "] depth " << baseline.stages[s].depth()
                                                      << " is not one of the space's depths of that stage");
    const int index = static_cast<int>(it - depths.begin());
    lowest = std::min(lowest, -index);
    highest = std::max(highest, static_cast<int>(depths.size()) - 1 - index);
  }
  return {lowest, highest};
}

ArchConfig scaled_member(const ArchConfig& baseline, const ArchSpace& space, const ScaledChoice& choice) {
  ArchConfig arch = baseline;
  arch.resolution = choice.resolution;
  arch.width_mult = choice.width_mult;
  for (size_t s = 0; s < space.stages.size() && s < arch.stages.size(); ++s) {
    const std::vector<int>& depths = space.stages[s].depths;
    const int own =
        static_cast<int>(std::find(depths.begin(), depths.end(), baseline.stages[s].depth()) - depths.begin());
    const int index = std::clamp(own + choice.depth_step, 0, static_cast<int>(depths.size()) - 1);
    std::vector<BlockConfig>& blocks = arch.stages[s].blocks;
    const BlockConfig last = blocks.back();
    blocks.resize(static_cast<size_t>(depths[static_cast<size_t>(index)]), last);
  }
  return arch;
}

ScaledArm scale_to_budget(const SpaceBaseline& baseline, const ArchSpace& space, const EnergyScorer& energy,
                          double budget_mj) {
  checked_budget(budget_mj, "scaled.budget_mj");
  space.validate();
  const auto [lowest, highest] = depth_step_range(baseline.arch, space);
  ScaledArm arm;
  bool found = false;
  std::set<std::string> seen;
  for (int resolution : space.resolutions)
    for (double width : space.widths)
      for (int step = lowest; step <= highest; ++step) {
        const ScaledChoice choice{resolution, width, step};
        ArchConfig arch = scaled_member(baseline.arch, space, choice);
        const std::string violation = space.violation(arch);
        NAS_CHECK(violation.empty(), "scaled arm: " << baseline.label() << " cannot be scaled inside the space ("
                                                    << choice.text() << ": " << violation << ")");
        std::string key = arch.key();
        if (!seen.insert(key).second) continue;  // a clamped depth step repeats a member
        ++arm.members;
        const double e = energy.energy_mj(arch);
        ArmPoint point{std::move(key), std::move(arch), e};
        if (arm.members == 1 || by_energy(point, arm.smallest)) {
          arm.smallest = point;
          arm.smallest_choice = choice;
        }
        if (e > budget_mj) continue;
        ++arm.fitting;
        // Ascending loops: a later fitting member is lexicographically larger.
        arm.point = std::move(point);
        arm.choice = choice;
        found = true;
      }
  NAS_CHECK(found, "scaled arm: the smallest " << baseline.label() << " of the space (" << arm.smallest_choice.text()
                                               << ", " << format_energy_mj(arm.smallest.energy_mj)
                                               << ") exceeds the budget " << format_energy_mj(budget_mj));
  return arm;
}

artifacts::ParetoPoint costed_pareto_point(const ArchConfig& arch, const std::string& key,
                                           double predicted_top1_percent, double energy_mj, const EnergyModel& model,
                                           int bits) {
  const std::vector<LayerSpec> layers = to_layer_specs(arch, bits);
  const EnergyReport report = model.report(layers);
  const LayerCounts counts = count_layers(layers);
  json per_op = json::object();
  for (const auto& [op, totals] : report.per_op)
    if (totals.energy_mj > 0) per_op[op] = totals.energy_mj / static_cast<double>(report.batch);
  return {key, arch, predicted_top1_percent, energy_mj, counts.macs, counts.params, per_op};
}

artifacts::ParetoFile arm_pareto_file(const std::string& arm, const std::vector<ArmPoint>& points,
                                      const EnergyModel& model, const ModelEnergyScorer& energy,
                                      const EnergyRange& range, const ArchSpace& space, const json& arm_details,
                                      const std::string& supernet) {
  NAS_CHECK(arm == "random" || arm == "scaled", "arm must be random or scaled, got " << quoted_excerpt(arm));
  std::vector<ArmPoint> sorted = points;
  std::sort(sorted.begin(), sorted.end(), by_energy);
  artifacts::ParetoFile file;
  file.objective = arm;
  if (!std::isinf(range.budget_mj)) file.budget_mj = range.budget_mj;
  file.energy_model = energy.describe();
  file.supernet = supernet;
  for (const ArmPoint& p : sorted)
    file.points.push_back(costed_pareto_point(p.arch, p.key, 0.0, p.energy_mj, model, energy.bits()));
  json& details = file.search_details;
  details["budget_binds"] = range.budget_binds;
  details["budget_note"] = budget_note(range);
  details["energy_range"] = range.to_json();
  details["space"] = space.to_json();
  details["search"] = arm_details.is_object() ? arm_details : json::object();
  details["search"]["arm"] = arm;
  details["search"]["predicted_top1"] =
      "0 for every point: an arm is not scored by the accuracy predictor (nas_retrain measures it)";
  return file;
}

}  // namespace nas
