#pragma once
// The Pareto report (nas_report, issue 11; docs/DESIGN.md, "report/"): what the search predicted against what
// retraining measured, and which hand-made baselines the searched networks beat. Torch-free.
//
// Inputs (each read with a size cap of kMaxReportInputBytes and JSON nesting of kMaxJsonDepth;
// every error names the file and the field):
//   SEARCH_DIR/pareto.json            nas_search: points [{key, arch, predicted_top1 (%),
//                                     energy_mj, macs, params, per_op_energy_mj}], population,
//                                     budget_mj (number | null), energy_model {tier, bits, ...}
//   RETRAIN_DIR/retrain_summary.json  nas_retrain --pareto: pareto {fingerprint}, init, dataset,
//                                     runs [{key, dir, predicted_top1, val_top1, test_top1,
//                                     energy_mj, macs, params, train_seconds, seed}] (one per
//                                     point and seed: a point's top-1 is the mean over its seeds,
//                                     a key twice only with distinct seeds); a subset of the
//                                     points (retraining is resumable); fingerprint must equal
//                                     fnv1a64_text(bytes of pareto.json); optional: selection
//                                     (text), selected [{key}] (the points chosen for
//                                     retraining; every run must be one; summaries without it:
//                                     every point counts as chosen), recipe {aug, chosen_by,
//                                     reason} (how --aug was chosen: workflow/recipe_rule.h)
//   baselines (optional)              a results table (scripts/shiftaddaug_table.py): {arch,
//                                     dataset, rows [{column, remap, top1_mean, top1_std,
//                                     energy_mj, energy_unit_mj, macs, params}]}; the rows with
//                                     remap "none" are the baselines "<arch> <column>"
//
// What is computed (measured = retrained test top-1; energies are the search's energy model):
//   - Kendall tau-b of predicted vs measured test top-1 over the retrained points (none below 2).
//   - measured front: retrained points no other retrained point dominates (top-1 up, energy down);
//     predicted front: the search's points (nas_search writes only non-dominated ones).
//   - best under the budget: the retrained point within budget_mj with the highest *validation*
//     top-1 (ties: lower energy, then earlier point); choosing it on test top-1 would report a
//     test number that was also used for selection.
//   - a baseline is beaten by every retrained point with energy <= the baseline's and test top-1 >
//     its mean; margin = the largest difference in top-1 points.
//
// Arms (optional, issue 34): the random and the scaled baseline arms, each a retraining directory
// like RETRAIN_DIR (nas_retrain --pareto ARM/pareto.json --all --out DIR) whose pareto.json (the
// summary's pareto.file, absolute or relative to the summary's folder; where that file is gone,
// DIR/pareto.json or DIR/../pareto.json, the pipeline's layout) has objective "random" or "scaled",
// the search's dataset and the search's energy model. Claims, per budget (the budgets of the
// search and of the arms, distinct; one unbudgeted claim when none has one) and per arm: the
// searched best and the arm best, each the retrained point within the budget with the highest
// mean VALIDATION top-1 (the rule of best under the budget); margin = searched mean test top-1 -
// arm mean test top-1, in points; paired over seeds when both have the same seeds (differences
// per seed, their standard error = sample std / sqrt(n), n >= 2); within the seeds' spread when
// |margin| <= the larger of the two test top-1 seed stds, or |mean paired difference| <= 2 SE.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json_util.h"

namespace nas::report {

// Largest input file read (a pareto.json of a 100-point population is ~200 kB).
constexpr uint64_t kMaxReportInputBytes = uint64_t{64} << 20;

struct ReportInputs {
  std::string search_dir;      // holds pareto.json
  std::string retrain_dir;     // holds retrain_summary.json
  std::string baselines_file;  // empty: no baselines
  std::string random_dir;      // empty: no random arm (holds retrain_summary.json)
  std::string scaled_dir;      // empty: no scaled arm
};

// One point of the search's front, with its retraining result when there is one.
struct ReportPoint {
  std::string key;
  size_t point_index = 0;     // index in pareto.json points (nas_retrain's point-NN)
  json arch;                  // canonical ArchConfig JSON
  double predicted_top1 = 0;  // %
  double energy_mj = 0;       // per image, the search's energy model
  int64_t macs = 0, params = 0;
  json per_op_energy_mj;  // {op: mJ}
  // Chosen for retraining (retrain_summary.json's selected; true where the summary has none).
  bool selected = true;
  // Retraining (valid when retrained).
  bool retrained = false;
  double test_top1 = 0, val_top1 = 0;  // %; the mean over the seeds' runs
  std::vector<double> test_top1_by_seed, val_top1_by_seed;
  std::vector<int64_t> seeds;   // of those runs (-1: a summary run without a seed)
  double test_top1_std = -1;    // sample std over the seeds (-1: one run)
  std::string run_dir;          // the first run's
  double train_seconds = 0;     // summed over the runs
  bool on_measured_front = false;
};

struct Baseline {
  std::string name;                    // "<arch> <column>"
  double top1_mean = 0, top1_std = 0;  // %
  double energy_mj = 0;                // the field matching the search's energy model tier
  int64_t macs = -1, params = -1;      // -1: not in the table
};

struct PopulationPoint {
  std::string key;
  double predicted_top1 = 0, energy_mj = 0;
};

// A baseline beaten by retrained points (indices into ParetoReport::points, ascending energy).
struct BaselineWin {
  size_t baseline = 0;
  std::vector<size_t> beaten_by;
  size_t best = 0;         // the point with the largest margin (ties: lower energy)
  double margin_top1 = 0;  // its test top-1 minus the baseline's mean, in points
};

// A baseline arm: the points of its pareto.json, measured where retrained.
struct ArmReport {
  std::string arm;  // "random" | "scaled" (its pareto.json's objective)
  std::string pareto_file, pareto_fingerprint, summary_file;
  std::optional<double> budget_mj;  // the arm's pareto.json's
  std::string init, recipe_aug;     // "" recipe: the summary records none
  std::vector<ReportPoint> points;  // pareto.json order; predicted_top1 as the arm wrote it

  size_t retrained_count() const;
};

// One claim: at one budget, the searched best against one arm's best.
struct ArmClaim {
  std::optional<double> budget_mj;  // none: an unbudgeted report
  size_t arm = 0;                   // index into ParetoReport::arms
  std::optional<size_t> searched;   // index into ParetoReport::points; none: no searched point within
  std::optional<size_t> arm_point;  // index into the arm's points; none: no arm point within
  double margin_points = 0;         // searched - arm mean test top-1 (valid with both)
  // Per seed (paired_seeds order) searched - arm test top-1; empty unless both share their seeds.
  std::vector<int64_t> paired_seeds;
  std::vector<double> paired_differences;
  std::optional<double> paired_std_error;    // n >= 2 paired seeds
  std::optional<bool> within_seed_spread;    // none: one seed each, no spread known
  std::string verdict;                       // one line

  bool compared() const { return searched && arm_point; }
};

struct ParetoReport {
  std::string pareto_file, pareto_fingerprint, summary_file, baselines_file;
  std::string dataset, init, objective;
  std::string selection;         // nas_retrain's --top/--spread/--keys/--all, as text ("" unknown)
  bool selection_known = false;  // the summary lists its selected points
  // The retraining recipe the summary records ("" each: an older summary that records none).
  std::string recipe_aug, recipe_chosen_by, recipe_reason;
  std::optional<double> budget_mj;
  json energy_model;                // pareto.json's, as written
  std::vector<ReportPoint> points;  // every pareto.json point, in its order (by energy)
  std::vector<PopulationPoint> population;
  std::vector<Baseline> baselines;
  std::optional<double> kendall_tau;  // predicted vs measured test top-1
  size_t tau_points = 0;
  std::vector<size_t> predicted_front, measured_front;  // indices into points, ascending energy
  std::optional<size_t> best_under_budget;              // index into points
  std::vector<BaselineWin> wins;                        // beaten baselines, in baseline order
  std::vector<ArmReport> arms;                          // given arms: random, then scaled
  std::vector<ArmClaim> claims;                         // by budget (ascending), then arm
  std::vector<std::string> notes;                       // what is missing or does not compare

  size_t retrained_count() const;
  size_t selected_count() const;
};

// Reads and checks the inputs, computes everything above. Throws nas::Error naming file and field.
ParetoReport build_pareto_report(const ReportInputs& inputs);

// The pareto.json an arm's retraining directory was made from (see "Arms" above); throws
// nas::Error naming the summary when it is missing or malformed, or no such file is found.
std::string arm_pareto_file(const std::string& retrain_dir);

// The retrained point of `points` within budget_mj (none: every point) with the highest mean
// validation top-1; ties: lower energy, then the earlier point. None: no such point.
std::optional<size_t> best_by_validation(const std::vector<ReportPoint>& points, std::optional<double> budget_mj);

// The report's input paths (pareto_file, summary_file, baselines_file) made relative to the folder
// of report_file, so that a results folder keeps its references when it is moved or published
// (the context block keeps the host). Paths on another file system root stay absolute.
void make_paths_relative(ParetoReport& report, const std::string& report_file);

// The names of the baselines that report.points[point] beats, in baseline order.
std::vector<std::string> baselines_beaten_by(const ParetoReport& report, size_t point);

// Indices into report.points in ascending energy (ties: pareto.json order); only the retrained
// ones when retrained_only.
std::vector<size_t> points_by_energy(const ParetoReport& report, bool retrained_only);

}  // namespace nas::report
