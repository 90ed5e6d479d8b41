#include "report/pareto_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "artifacts/json_fields.h"
#include "artifacts/pareto_file.h"
#include "core/atomic_file.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/sample_stats.h"
#include "core/fnv1a.h"
#include "core/string_format.h"
#include "predictors/ranking_stats.h"
#include "report/report_text.h"
#include "search_space/arch_config.h"

namespace nas::report {

using artifacts::array_field;
using artifacts::count;
using artifacts::element;
using artifacts::finite_number;
using artifacts::object_field;
using artifacts::percent;
using artifacts::positive_number;

namespace {

namespace fs = std::filesystem;

constexpr const char* kSummaryHint =
    "nas_retrain --pareto SEARCH_DIR/pareto.json --out DIR writes DIR/retrain_summary.json";

std::string summary_path_of(const std::string& retrain_dir) {
  return (fs::path(retrain_dir) / "retrain_summary.json").string();
}

// ---- reading ------------------------------------------------------------------------------------

// pareto.json (artifacts/pareto_file.h): the points, the population, the budget, the energy model.
// `population`: the search's (an arm's pareto.json has none worth a note).
std::map<std::string, size_t> read_pareto(const std::string& path, ParetoReport& r, bool population = true) {
  const artifacts::ParetoFile file = artifacts::read_pareto_file(path);
  NAS_CHECK(!file.points_only, path << ": a hand-made points list (no context block), not nas_search's pareto.json");
  r.pareto_file = path;
  r.pareto_fingerprint = file.fingerprint;
  r.objective = file.objective;
  r.budget_mj = file.budget_mj;
  r.energy_model = file.energy_model;
  std::map<std::string, size_t> index;
  for (const artifacts::ParetoPoint& p : file.points) {
    ReportPoint pt;
    pt.point_index = r.points.size();
    pt.key = p.key;
    pt.arch = p.arch.to_json();
    pt.predicted_top1 = p.predicted_top1_percent;
    pt.energy_mj = p.energy_mj;
    pt.macs = p.macs;
    pt.params = p.params;
    pt.per_op_energy_mj = p.per_op_energy_mj;
    index.emplace(pt.key, pt.point_index);
    r.points.push_back(std::move(pt));
  }
  if (r.points.empty()) r.notes.push_back(path + " holds no points");
  if (!population) return index;
  if (!file.population)
    r.notes.push_back(path + " has no final population (written by an older nas_search): the plot shows none");
  else
    for (const artifacts::PopulationEntry& e : *file.population)
      r.population.push_back({e.key, e.predicted_top1_percent, e.energy_mj});
  return index;
}

// retrain_summary.json: which points were retrained, and what they measured.
void read_summary(const std::string& path, const std::map<std::string, size_t>& index, ParetoReport& r) {
  const std::string bytes = artifacts::read_input(path, kSummaryHint, kMaxReportInputBytes);
  r.summary_file = path;
  const json doc = parse_json_text(bytes, path);
  NAS_CHECK(doc.is_object(), path << ": expected a JSON object (nas_retrain's retrain_summary.json)");
  const std::string fingerprint = json_string(object_field(doc, "pareto", path), "fingerprint", path + ": pareto");
  NAS_CHECK(fingerprint == r.pareto_fingerprint,
            path << ": the retraining was made from another search: its pareto.fingerprint is "
                 << json_excerpt(json(fingerprint)) << ", " << r.pareto_file << " has " << r.pareto_fingerprint
                 << " (or pareto.json changed since)");
  r.init = json_string(doc, "init", path);
  NAS_CHECK(r.init == "scratch" || r.init == "supernet",
            path << ": field 'init' must be \"scratch\" or \"supernet\", got " << json_excerpt(json(r.init)));
  r.dataset = json_string(doc, "dataset", path);
  NAS_CHECK(!r.dataset.empty(), path << ": field 'dataset' is empty");

  if (doc.contains("selection")) r.selection = json_string(doc, "selection", path);
  if (doc.contains("recipe")) {
    const json& recipe = object_field(doc, "recipe", path);
    const std::string where = path + ": recipe";
    r.recipe_aug = json_string(recipe, "aug", where);
    NAS_CHECK(r.recipe_aug == "shiftaddaug" || r.recipe_aug == "none",
              where << ": field 'aug' must be \"shiftaddaug\" or \"none\", got " << json_excerpt(json(r.recipe_aug)));
    r.recipe_chosen_by = json_string(recipe, "chosen_by", where);
    NAS_CHECK(r.recipe_chosen_by == "rule" || r.recipe_chosen_by == "--aug",
              where << ": field 'chosen_by' must be \"rule\" or \"--aug\", got " << json_excerpt(json(r.recipe_chosen_by)));
    r.recipe_reason = json_string(recipe, "reason", where);
  }
  if (doc.contains("selected")) {
    // The points chosen for retraining, finished or not (older summaries do not list them).
    const json& selected = array_field(doc, "selected", path);
    NAS_CHECK(selected.size() <= r.points.size(), path << ": field 'selected' lists " << selected.size() << " points, "
                                                       << r.pareto_file << " has " << r.points.size());
    for (ReportPoint& p : r.points) p.selected = false;
    for (size_t i = 0; i < selected.size(); ++i) {
      const std::string where = element(path, "selected", i);
      const std::string key = json_string(selected[i], "key", where);
      const auto found = index.find(key);
      NAS_CHECK(found != index.end(),
                where << ": key " << json_excerpt(json(key)) << " is not a point of " << r.pareto_file);
      ReportPoint& pt = r.points[found->second];
      NAS_CHECK(!pt.selected, where << ": key " << json_excerpt(json(key)) << " appears twice");
      pt.selected = true;
    }
    r.selection_known = true;
  }

  const json& runs = array_field(doc, "runs", path);
  size_t energy_differs = 0, prediction_differs = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string where = element(path, "runs", i);
    const json& run = runs[i];
    // Keys run to ~200 characters and errors cut values at 80: the run directory names the run too.
    const std::string dir = json_string(run, "dir", where);
    const std::string named = where + " (dir " + json_excerpt(json(dir)) + ")";
    const std::string key = json_string(run, "key", where);
    const auto found = index.find(key);
    NAS_CHECK(found != index.end(),
              named << ": key " << json_excerpt(json(key)) << " is not a point of " << r.pareto_file);
    ReportPoint& pt = r.points[found->second];
    const int64_t seed = run.contains("seed") ? json_int(run, "seed", where) : -1;
    NAS_CHECK(seed >= -1, named << ": field 'seed' must be >= 0, got " << seed);
    NAS_CHECK(!pt.retrained || (seed >= 0 && std::find(pt.seeds.begin(), pt.seeds.end(), seed) == pt.seeds.end() &&
                                pt.seeds.front() >= 0),
              named << ": key " << json_excerpt(json(key)) << " appears twice"
                    << (seed >= 0 ? " with seed " + std::to_string(seed) : std::string()));
    NAS_CHECK(pt.selected, named << ": key " << json_excerpt(json(key)) << " is not among the 'selected' points");
    if (!pt.retrained) pt.run_dir = dir;
    pt.retrained = true;
    pt.seeds.push_back(seed);
    pt.test_top1_by_seed.push_back(percent(run, "test_top1", where));
    pt.val_top1_by_seed.push_back(percent(run, "val_top1", where));
    pt.train_seconds += finite_number(run, "train_seconds", where);
    count(run, "macs", where);
    count(run, "params", where);
    // The retraining costs energy with its own (default) model; the report keeps the search's.
    if (std::fabs(positive_number(run, "energy_mj", where) - pt.energy_mj) > 1e-9 * pt.energy_mj) ++energy_differs;
    if (std::fabs(percent(run, "predicted_top1", where) - pt.predicted_top1) > 1e-9) ++prediction_differs;
  }
  for (ReportPoint& pt : r.points) {
    if (!pt.retrained) continue;
    pt.test_top1 = mean_of(pt.test_top1_by_seed);
    pt.val_top1 = mean_of(pt.val_top1_by_seed);
    pt.test_top1_std = pt.test_top1_by_seed.size() >= 2 ? sample_std_of(pt.test_top1_by_seed) : -1;
  }
  if (energy_differs > 0)
    r.notes.push_back(std::to_string(energy_differs) + " retrained point(s) report another energy than the search (" +
                      "nas_retrain costs with its own energy model settings); the report uses the search's energy_mj");
  if (prediction_differs > 0)
    r.notes.push_back(
        std::to_string(prediction_differs) +
        " retrained point(s) carry another predicted_top1 than pareto.json; the report uses pareto.json's");
}

// The baselines: the rows of a results table with remap "none".
void read_baselines(const std::string& path, ParetoReport& r) {
  r.baselines_file = path;
  const std::string bytes = artifacts::read_input(
      path, "a results table such as results/shiftaddaug/fashion-mnist.json", kMaxReportInputBytes);
  const json doc = parse_json_text(bytes, path);
  NAS_CHECK(doc.is_object(), path << ": expected a JSON object (a results table)");
  const std::string arch = json_string(doc, "arch", path);
  const std::string dataset = json_string(doc, "dataset", path);
  NAS_CHECK(dataset == r.dataset, path << ": field 'dataset' is " << json_excerpt(json(dataset))
                                       << " but the retraining (" << r.summary_file << ") is on "
                                       << json_excerpt(json(r.dataset)));
  // The table has both tiers' energies; compare at the tier the search used.
  const std::string tier = r.energy_model["tier"].get<std::string>();
  const std::string energy_field = tier == "unit" ? "energy_unit_mj" : "energy_mj";
  if (tier != "unit" && tier != "eyeriss")
    r.notes.push_back("the search's energy model tier '" + tier +
                      "' is not in the baselines table; compared with its energy_mj");
  const auto bits = r.energy_model.find("bits");
  if (bits != r.energy_model.end() && bits->is_number_integer() && bits->get<int64_t>() != 32)
    r.notes.push_back("the search costs energy at " + std::to_string(bits->get<int64_t>()) +
                      " bit; the baselines table at 32 bit: the energies do not compare");

  const json& rows = array_field(doc, "rows", path);
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string where = element(path, "rows", i);
    const json& row = rows[i];
    const std::string column = json_string(row, "column", where);
    if (json_string(row, "remap", where) != "none") continue;  // ablation rows, not baselines
    Baseline b;
    b.name = arch + " " + column;
    b.top1_mean = percent(row, "top1_mean", where);
    if (row.contains("top1_std")) b.top1_std = finite_number(row, "top1_std", where);
    NAS_CHECK(b.top1_std >= 0, where << ": field 'top1_std' must be >= 0, got " << b.top1_std);
    b.energy_mj = positive_number(row, energy_field, where);
    if (row.contains("macs")) b.macs = count(row, "macs", where);
    if (row.contains("params")) b.params = count(row, "params", where);
    r.baselines.push_back(b);
  }
  if (r.baselines.empty()) r.notes.push_back(path + " has no row with remap \"none\": no baselines");
}

// ---- the arms -----------------------------------------------------------------------------------

// An arm's retraining: read through the searched retraining's readers into a ParetoReport of its
// own, then checked against the search (same dataset and energy model, the arm's objective).
ArmReport read_arm(const std::string& arm, const std::string& retrain_dir, ParetoReport& r) {
  ParetoReport a;
  const std::string pareto = arm_pareto_file(retrain_dir);
  const std::map<std::string, size_t> index = read_pareto(pareto, a, false);
  NAS_CHECK(a.objective == arm, "--" << arm << " " << retrain_dir << ": " << pareto << " has objective "
                                     << json_excerpt(json(a.objective)) << ", not \"" << arm << "\" (nas_arms --arm "
                                     << arm << " writes it)");
  read_summary(summary_path_of(retrain_dir), index, a);
  NAS_CHECK(a.dataset == r.dataset, a.summary_file << ": the " << arm << " arm was retrained on "
                                                   << json_excerpt(json(a.dataset)) << ", the searched points ("
                                                   << r.summary_file << ") on " << json_excerpt(json(r.dataset)));
  NAS_CHECK(a.energy_model == r.energy_model,
            pareto << ": the " << arm << " arm's energy model " << json_excerpt(a.energy_model) << " is not the search's "
                   << json_excerpt(r.energy_model) << " (" << r.pareto_file << "): the energies do not compare");
  for (const std::string& note : a.notes) r.notes.push_back("the " + arm + " arm: " + note);
  if (a.recipe_aug != r.recipe_aug)
    r.notes.push_back("the " + arm + " arm was retrained with --aug " +
                      (a.recipe_aug.empty() ? std::string("(not recorded)") : a.recipe_aug) +
                      ", the searched points with --aug " +
                      (r.recipe_aug.empty() ? std::string("(not recorded)") : r.recipe_aug) +
                      ": its claims compare two recipes");
  if (a.init != r.init)
    r.notes.push_back("the " + arm + " arm was retrained from init " + a.init + ", the searched points from " + r.init +
                      ": its claims compare two starts");
  ArmReport out;
  out.arm = arm;
  out.pareto_file = a.pareto_file;
  out.pareto_fingerprint = a.pareto_fingerprint;
  out.summary_file = a.summary_file;
  out.budget_mj = a.budget_mj;
  out.init = a.init;
  out.recipe_aug = a.recipe_aug;
  out.points = std::move(a.points);
  if (out.retrained_count() == 0) r.notes.push_back("the " + arm + " arm has no retrained point yet: no claim against it");
  return out;
}

// ---- computing ----------------------------------------------------------------------------------

// The candidates that no other candidate dominates in (top1_of up, energy down); the order kept.
template <typename Top1>
std::vector<size_t> front_of(const ParetoReport& r, const std::vector<size_t>& candidates, Top1 top1_of) {
  std::vector<size_t> front;
  for (const size_t i : candidates) {
    const ReportPoint& p = r.points[i];
    const bool dominated = std::any_of(candidates.begin(), candidates.end(), [&](size_t j) {
      const ReportPoint& q = r.points[j];
      return top1_of(q) >= top1_of(p) && q.energy_mj <= p.energy_mj &&
             (top1_of(q) > top1_of(p) || q.energy_mj < p.energy_mj);
    });
    if (!dominated) front.push_back(i);
  }
  return front;
}

// The seeds both points were trained with, in the searched point's order; empty unless the two
// have the same known seeds.
std::vector<int64_t> shared_seeds(const ReportPoint& a, const ReportPoint& b) {
  std::vector<int64_t> sa = a.seeds, sb = b.seeds;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  if (sa != sb || sa.empty() || sa.front() < 0) return {};
  return a.seeds;
}

double test_top1_of_seed(const ReportPoint& p, int64_t seed) {
  const size_t i = static_cast<size_t>(std::find(p.seeds.begin(), p.seeds.end(), seed) - p.seeds.begin());
  return p.test_top1_by_seed.at(i);
}

std::string seeds_text(const std::vector<int64_t>& seeds) {
  std::string out;
  for (const int64_t s : seeds) out += (out.empty() ? "" : ", ") + std::to_string(s);
  return out;
}

std::string signed_points(double v) { return (v > 0 ? "+" : "") + format_double(v, 2); }

ArmClaim make_claim(const ParetoReport& r, size_t arm_index, std::optional<double> budget) {
  const ArmReport& arm = r.arms[arm_index];
  ArmClaim c;
  c.budget_mj = budget;
  c.arm = arm_index;
  c.searched = best_by_validation(r.points, budget);
  c.arm_point = best_by_validation(arm.points, budget);
  const std::string within = budget ? "within the budget" : "retrained";
  if (!c.arm_point) {
    c.verdict = "no arm point " + within + ": no claim against the " + arm.arm + " arm";
    return c;
  }
  if (!c.searched) {
    c.verdict = "no searched point " + within + ": no claim against the " + arm.arm + " arm";
    return c;
  }
  const ReportPoint& s = r.points[*c.searched];
  const ReportPoint& a = arm.points[*c.arm_point];
  c.margin_points = s.test_top1 - a.test_top1;
  c.paired_seeds = shared_seeds(s, a);
  for (const int64_t seed : c.paired_seeds)
    c.paired_differences.push_back(test_top1_of_seed(s, seed) - test_top1_of_seed(a, seed));
  if (c.paired_differences.size() >= 2)
    c.paired_std_error =
        sample_std_of(c.paired_differences) / std::sqrt(static_cast<double>(c.paired_differences.size()));
  // The spread the seeds show: the larger test top-1 std of the two, and the paired SE.
  const double seed_std = std::max(s.test_top1_std, a.test_top1_std);  // -1 each: one run
  if (seed_std >= 0 || c.paired_std_error) {
    bool inside = seed_std >= 0 && std::fabs(c.margin_points) <= seed_std;
    if (c.paired_std_error) inside = inside || std::fabs(mean_of(c.paired_differences)) <= 2 * *c.paired_std_error;
    c.within_seed_spread = inside;
  }

  const std::string pair = "searched " + point_label(s) + (c.margin_points > 0 && !c.within_seed_spread.value_or(false)
                                                                 ? " beats "
                                                                 : " does not beat ") +
                           arm.arm + " " + arm_point_label(arm, a);
  std::string evidence;
  if (c.paired_std_error)
    evidence = "paired over seeds " + seeds_text(c.paired_seeds) + ": " + signed_points(mean_of(c.paired_differences)) +
               " ± " + format_double(*c.paired_std_error, 2) + " SE";
  else if (c.within_seed_spread)
    evidence = "seed std up to " + format_double(seed_std, 2) + ", not paired";
  else
    evidence = "one seed: no spread known";
  if (c.within_seed_spread.value_or(false))
    c.verdict = pair + ": " + signed_points(c.margin_points) + " points is within the seeds' spread (" + evidence + ")";
  else
    c.verdict = pair + (c.margin_points > 0 ? " by " : ": ") + signed_points(c.margin_points) + " points (" + evidence + ")";
  return c;
}

// The claims' budgets: the search's and the arms', distinct and ascending; one unbudgeted claim
// per arm when none has a budget.
void compute_claims(ParetoReport& r) {
  if (r.arms.empty()) return;
  std::vector<double> budgets;
  if (r.budget_mj) budgets.push_back(*r.budget_mj);
  for (const ArmReport& a : r.arms)
    if (a.budget_mj) budgets.push_back(*a.budget_mj);
  std::sort(budgets.begin(), budgets.end());
  budgets.erase(std::unique(budgets.begin(), budgets.end()), budgets.end());
  std::vector<std::optional<double>> at(budgets.begin(), budgets.end());
  if (at.empty()) at.push_back(std::nullopt);
  for (const std::optional<double>& budget : at)
    for (size_t a = 0; a < r.arms.size(); ++a) r.claims.push_back(make_claim(r, a, budget));
}

void compute(ParetoReport& r) {
  const std::vector<size_t> retrained = points_by_energy(r, true);
  r.predicted_front = front_of(r, points_by_energy(r, false), [](const ReportPoint& p) { return p.predicted_top1; });
  r.measured_front = front_of(r, retrained, [](const ReportPoint& p) { return p.test_top1; });
  for (const size_t i : r.measured_front) r.points[i].on_measured_front = true;

  r.tau_points = retrained.size();
  if (retrained.size() < 2) {
    r.notes.push_back("fewer than 2 retrained points: no Kendall tau of predicted vs measured top-1");
  } else {
    std::vector<double> predicted, measured;
    for (const size_t i : retrained) {
      predicted.push_back(r.points[i].predicted_top1);
      measured.push_back(r.points[i].test_top1);
    }
    const double tau = kendall_tau(predicted, measured);
    if (std::isnan(tau))
      r.notes.push_back(
          "Kendall tau undefined: the predicted or the measured top-1 is the same for every retrained point");
    else
      r.kendall_tau = tau;
  }

  r.best_under_budget = best_by_validation(r.points, r.budget_mj);
  if (retrained.empty())
    r.notes.push_back("no point retrained yet: no measured results");
  else if (!r.best_under_budget)
    r.notes.push_back("no retrained point lies within the budget");
  const size_t selected = r.selected_count();
  if (retrained.size() < selected)
    r.notes.push_back(std::to_string(selected - retrained.size()) + " of " + std::to_string(selected) +
                      (r.selection_known ? " selected" : "") + " points not retrained yet (listed in not_retrained)");
  if (selected < r.points.size())
    r.notes.push_back(std::to_string(r.points.size() - selected) + " of " + std::to_string(r.points.size()) +
                      " points not selected for retraining" +
                      (r.selection.empty() ? std::string() : " (nas_retrain selection: " + r.selection + ")") +
                      "; listed in not_retrained with selected_for_retraining false");

  for (size_t b = 0; b < r.baselines.size(); ++b) {
    const Baseline& base = r.baselines[b];
    BaselineWin win;
    win.baseline = b;
    for (const size_t i : retrained) {
      const ReportPoint& p = r.points[i];
      if (p.energy_mj > base.energy_mj || p.test_top1 <= base.top1_mean) continue;
      if (win.beaten_by.empty() || p.test_top1 - base.top1_mean > win.margin_top1) {
        win.best = i;
        win.margin_top1 = p.test_top1 - base.top1_mean;
      }
      win.beaten_by.push_back(i);
    }
    if (!win.beaten_by.empty()) r.wins.push_back(win);
  }
  compute_claims(r);
}

}  // namespace

std::vector<size_t> points_by_energy(const ParetoReport& r, bool retrained_only) {
  std::vector<size_t> order;
  for (size_t i = 0; i < r.points.size(); ++i)
    if (!retrained_only || r.points[i].retrained) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return r.points[a].energy_mj < r.points[b].energy_mj; });
  return order;
}

namespace {

std::string relative_to(const std::string& path, const fs::path& dir) {
  if (path.empty()) return path;
  std::error_code ec;
  const fs::path file = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec) return path;
  const fs::path relative = file.lexically_proximate(dir);
  return relative.empty() ? path : relative.string();
}

}  // namespace

void make_paths_relative(ParetoReport& report, const std::string& report_file) {
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(fs::absolute(report_file).parent_path(), ec);
  if (ec) return;
  for (std::string* path : {&report.pareto_file, &report.summary_file, &report.baselines_file})
    *path = relative_to(*path, dir);
  for (ArmReport& arm : report.arms)
    for (std::string* path : {&arm.pareto_file, &arm.summary_file}) *path = relative_to(*path, dir);
}

std::vector<std::string> baselines_beaten_by(const ParetoReport& r, size_t point) {
  std::vector<std::string> names;
  for (const BaselineWin& w : r.wins)
    if (std::find(w.beaten_by.begin(), w.beaten_by.end(), point) != w.beaten_by.end())
      names.push_back(r.baselines[w.baseline].name);
  return names;
}

std::string arm_pareto_file(const std::string& retrain_dir) {
  const std::string path = summary_path_of(retrain_dir);
  const json doc = parse_json_text(artifacts::read_input(path, kSummaryHint, kMaxReportInputBytes), path);
  NAS_CHECK(doc.is_object(), path << ": expected a JSON object (nas_retrain's retrain_summary.json)");
  const std::string recorded = json_string(object_field(doc, "pareto", path), "file", path + ": pareto");
  NAS_CHECK(!recorded.empty(), path << ": pareto: field 'file' is empty");
  std::vector<fs::path> candidates = {fs::path(path).parent_path() / recorded};  // an absolute one stays
  // A results folder moved or published: the pipeline's layouts (the summary beside or below it).
  candidates.push_back(fs::path(retrain_dir) / "pareto.json");
  candidates.push_back(fs::path(retrain_dir) / ".." / "pareto.json");
  std::error_code ec;
  for (const fs::path& c : candidates)
    if (fs::is_regular_file(c, ec)) return c.lexically_normal().string();
  NAS_CHECK(false, path << ": the pareto.json it was made from is not found (pareto.file "
                        << json_excerpt(json(recorded)) << ", nor " << candidates[1].string() << " or "
                        << candidates[2].lexically_normal().string() << ")");
  return {};
}

std::optional<size_t> best_by_validation(const std::vector<ReportPoint>& points, std::optional<double> budget_mj) {
  std::optional<size_t> best;
  for (size_t i = 0; i < points.size(); ++i) {
    const ReportPoint& p = points[i];
    if (!p.retrained || (budget_mj && p.energy_mj > *budget_mj)) continue;
    if (!best || p.val_top1 > points[*best].val_top1 ||
        (p.val_top1 == points[*best].val_top1 && p.energy_mj < points[*best].energy_mj))
      best = i;
  }
  return best;
}

size_t ArmReport::retrained_count() const {
  return static_cast<size_t>(
      std::count_if(points.begin(), points.end(), [](const ReportPoint& p) { return p.retrained; }));
}

size_t ParetoReport::retrained_count() const {
  return static_cast<size_t>(
      std::count_if(points.begin(), points.end(), [](const ReportPoint& p) { return p.retrained; }));
}

size_t ParetoReport::selected_count() const {
  return static_cast<size_t>(
      std::count_if(points.begin(), points.end(), [](const ReportPoint& p) { return p.selected; }));
}

ParetoReport build_pareto_report(const ReportInputs& inputs) {
  ParetoReport r;
  const std::map<std::string, size_t> index = read_pareto((fs::path(inputs.search_dir) / "pareto.json").string(), r);
  read_summary(summary_path_of(inputs.retrain_dir), index, r);
  if (inputs.baselines_file.empty())
    r.notes.push_back("no baselines given (--baselines): no comparison with hand-made networks");
  else
    read_baselines(inputs.baselines_file, r);
  if (!inputs.random_dir.empty()) r.arms.push_back(read_arm("random", inputs.random_dir, r));
  if (!inputs.scaled_dir.empty()) r.arms.push_back(read_arm("scaled", inputs.scaled_dir, r));
  compute(r);
  return r;
}

}  // namespace nas::report
