#pragma once
// report.json from a ParetoReport (torch-free; docs/DESIGN.md, "report/").
#include <string>

#include "report/pareto_report.h"

namespace nas::report {

// report.json: {context, inputs {pareto {file, fingerprint}, retrain_summary, baselines}, dataset,
// init, objective, budget_mj (null: none), energy_model, points (the retrained ones, ascending
// energy: key, point_index, arch, predicted_top1, measured_test_top1, measured_val_top1, energy_mj,
// per_op_energy_mj, macs, params, run_dir, train_seconds, on_measured_front, beats_baselines),
// not_retrained (the same without the measured fields, with selected_for_retraining), baselines [{name, top1_mean,
// top1_std, energy_mj, macs, params, beaten}], predicted_front, measured_front (keys),
// kendall_tau_predicted_vs_measured (null below 2 points), kendall_tau_points, best_under_budget
// (a point + selected_by, or null), dominated_baselines [{baseline, top1_mean, energy_mj, beaten_by
// (keys), best, margin_top1, energy_ratio}], arms {random|scaled: {inputs, budget_mj, init,
// recipe_aug, points [{key, label, point_index, arch, energy_mj, macs, params, measured_*, seeds,
// run_dir, train_seconds}], not_retrained (keys)}}, claims [{budget_mj, arm, chosen_by, searched_key,
// arm_key, searched_label, arm_label, margin_points, searched_/arm_test_top1(_std),
// searched_/arm_energy_mj, seeds (the paired ones, or {searched, arm}), paired_differences,
// paired_std_error, within_seed_spread, verdict}] (definitions: pareto_report.h, "Arms"),
// claims_note, notes}.
json report_to_json(const ParetoReport& report, const json& context);

}  // namespace nas::report
