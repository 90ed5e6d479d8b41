#include "report/report_json.h"

#include <algorithm>

#include "report/report_text.h"

namespace nas::report {

namespace {

// A retrained point's measurements (means over its seeds, per seed, the seeds, the run).
void add_measured(const ReportPoint& p, json& j) {
  j["measured_test_top1"] = p.test_top1;
  j["measured_val_top1"] = p.val_top1;
  j["measured_test_top1_std"] = p.test_top1_std < 0 ? json() : json(p.test_top1_std);
  j["measured_test_top1_by_seed"] = p.test_top1_by_seed;
  j["seeds"] = json::array();
  for (const int64_t s : p.seeds) j["seeds"].push_back(s < 0 ? json() : json(s));
  j["run_dir"] = p.run_dir;
  j["train_seconds"] = p.train_seconds;
}

json point_to_json(const ParetoReport& r, size_t i) {
  const ReportPoint& p = r.points[i];
  json j = {{"key", p.key},
            {"point_index", p.point_index},
            {"arch", p.arch},
            {"predicted_top1", p.predicted_top1},
            {"energy_mj", p.energy_mj},
            {"per_op_energy_mj", p.per_op_energy_mj},
            {"macs", p.macs},
            {"params", p.params}};
  if (p.retrained) {
    add_measured(p, j);
    j["on_measured_front"] = p.on_measured_front;
    j["beats_baselines"] = baselines_beaten_by(r, i);
  } else {
    j["selected_for_retraining"] = p.selected;
  }
  return j;
}

json keys_of(const ParetoReport& r, const std::vector<size_t>& indices) {
  json keys = json::array();
  for (const size_t i : indices) keys.push_back(r.points[i].key);
  return keys;
}

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(); }

json arm_to_json(const ArmReport& arm) {
  json j = {{"inputs", {{"pareto", {{"file", arm.pareto_file}, {"fingerprint", arm.pareto_fingerprint}}},
                        {"retrain_summary", arm.summary_file}}},
            {"budget_mj", optional_number(arm.budget_mj)},
            {"init", arm.init},
            {"recipe_aug", arm.recipe_aug.empty() ? json() : json(arm.recipe_aug)},
            {"points", json::array()},
            {"not_retrained", json::array()}};
  for (const ReportPoint& p : arm.points) {
    json pj = {{"key", p.key},        {"label", arm_point_label(arm, p)}, {"point_index", p.point_index},
               {"arch", p.arch},      {"energy_mj", p.energy_mj},         {"macs", p.macs},
               {"params", p.params}};
    if (p.retrained) {
      add_measured(p, pj);
      j["points"].push_back(pj);
    } else {
      j["not_retrained"].push_back(p.key);
    }
  }
  return j;
}

json claim_to_json(const ParetoReport& r, const ArmClaim& c) {
  const ArmReport& arm = r.arms[c.arm];
  json j = {{"budget_mj", optional_number(c.budget_mj)},
            {"arm", arm.arm},
            {"chosen_by", "val_top1"},
            {"searched_key", c.searched ? json(r.points[*c.searched].key) : json()},
            {"arm_key", c.arm_point ? json(arm.points[*c.arm_point].key) : json()},
            {"verdict", c.verdict}};
  if (c.searched) j["searched_label"] = point_label(r.points[*c.searched]);
  if (c.arm_point) j["arm_label"] = arm_point_label(arm, arm.points[*c.arm_point]);
  if (!c.compared()) {
    j["margin_points"] = nullptr;
    j["seeds"] = nullptr;
    return j;
  }
  const ReportPoint& s = r.points[*c.searched];
  const ReportPoint& a = arm.points[*c.arm_point];
  j["margin_points"] = c.margin_points;
  j["searched_test_top1"] = s.test_top1;
  j["arm_test_top1"] = a.test_top1;
  j["searched_test_top1_std"] = s.test_top1_std < 0 ? json() : json(s.test_top1_std);
  j["arm_test_top1_std"] = a.test_top1_std < 0 ? json() : json(a.test_top1_std);
  j["searched_energy_mj"] = s.energy_mj;
  j["arm_energy_mj"] = a.energy_mj;
  // The seeds of the two means: the shared ones when paired, else each point's.
  const auto seeds_of = [](const ReportPoint& p) {
    json out = json::array();
    for (const int64_t seed : p.seeds) out.push_back(seed < 0 ? json() : json(seed));
    return out;
  };
  j["seeds"] = c.paired_seeds.empty() ? json{{"searched", seeds_of(s)}, {"arm", seeds_of(a)}} : json(c.paired_seeds);
  j["paired_differences"] = c.paired_seeds.empty() ? json() : json(c.paired_differences);
  j["paired_std_error"] = optional_number(c.paired_std_error);
  j["within_seed_spread"] = c.within_seed_spread ? json(*c.within_seed_spread) : json();
  return j;
}

}  // namespace

json report_to_json(const ParetoReport& r, const json& context) {
  json out;
  out["context"] = context;
  out["inputs"] = {{"pareto", {{"file", r.pareto_file}, {"fingerprint", r.pareto_fingerprint}}},
                   {"retrain_summary", r.summary_file},
                   {"baselines", r.baselines_file.empty() ? json() : json(r.baselines_file)}};
  out["dataset"] = r.dataset;
  out["init"] = r.init;
  out["selection"] = r.selection.empty() ? json() : json(r.selection);
  out["recipe"] = r.recipe_aug.empty() ? json()
                                       : json{{"aug", r.recipe_aug}, {"chosen_by", r.recipe_chosen_by}, {"reason", r.recipe_reason}};
  out["objective"] = r.objective;
  out["budget_mj"] = optional_number(r.budget_mj);
  out["energy_model"] = r.energy_model;
  out["points_note"] = "retrained points; top-1 in %, energy_mj per image (the search's energy model)";
  out["points"] = json::array();
  out["not_retrained"] = json::array();
  for (const size_t i : points_by_energy(r, false))
    out[r.points[i].retrained ? "points" : "not_retrained"].push_back(point_to_json(r, i));
  out["baselines"] = json::array();
  for (const Baseline& b : r.baselines) {
    const bool beaten = std::any_of(r.wins.begin(), r.wins.end(),
                                    [&](const BaselineWin& w) { return r.baselines[w.baseline].name == b.name; });
    out["baselines"].push_back({{"name", b.name},
                                {"top1_mean", b.top1_mean},
                                {"top1_std", b.top1_std},
                                {"energy_mj", b.energy_mj},
                                {"macs", b.macs < 0 ? json() : json(b.macs)},
                                {"params", b.params < 0 ? json() : json(b.params)},
                                {"beaten", beaten}});
  }
  out["predicted_front"] = keys_of(r, r.predicted_front);
  out["measured_front"] = keys_of(r, r.measured_front);
  out["kendall_tau_predicted_vs_measured"] = optional_number(r.kendall_tau);
  out["kendall_tau_points"] = r.tau_points;
  if (r.best_under_budget) {
    out["best_under_budget"] = point_to_json(r, *r.best_under_budget);
    out["best_under_budget"]["selected_by"] =
        "the highest measured validation top-1 within the budget (ties: lower energy)";
  } else {
    out["best_under_budget"] = nullptr;
  }
  out["dominated_baselines"] = json::array();
  for (const BaselineWin& w : r.wins) {
    const Baseline& b = r.baselines[w.baseline];
    out["dominated_baselines"].push_back({{"baseline", b.name},
                                          {"top1_mean", b.top1_mean},
                                          {"energy_mj", b.energy_mj},
                                          {"beaten_by", keys_of(r, w.beaten_by)},
                                          {"best", r.points[w.best].key},
                                          {"margin_top1", w.margin_top1},
                                          {"energy_ratio", b.energy_mj / r.points[w.best].energy_mj}});
  }
  out["arms"] = json::object();
  for (const ArmReport& arm : r.arms) out["arms"][arm.arm] = arm_to_json(arm);
  out["claims"] = json::array();
  for (const ArmClaim& c : r.claims) out["claims"].push_back(claim_to_json(r, c));
  out["claims_note"] =
      "per budget and arm: the searched best and the arm best are the retrained points within the budget with the "
      "highest mean validation top-1 (chosen_by); margin_points = their mean test top-1 difference (searched - arm, "
      "percentage points); paired_differences per seed when both share their seeds, paired_std_error = their sample "
      "std / sqrt(n); within_seed_spread: |margin| <= the larger seed std of the two, or the mean paired difference "
      "within 2 SE (null: one seed, no spread known)";
  out["notes"] = r.notes;
  return out;
}

}  // namespace nas::report
