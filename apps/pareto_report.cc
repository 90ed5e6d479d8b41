#include "apps/pareto_report.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/atomic_file.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "core/string_format.h"
#include "predictors/ranking_stats.h"
#include "search_space/arch_config.h"

extern char** environ;

namespace nas::report {

namespace {

namespace fs = std::filesystem;

// ---- reading ------------------------------------------------------------------------------------

// The bytes of an input file, after checking that it exists and is not larger than the cap.
// `hint` says where the file comes from, for the "does not exist" message.
std::string read_input(const std::string& path, const std::string& hint) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  NAS_CHECK(fs::exists(status), path << " does not exist (" << hint << ")");
  NAS_CHECK(fs::is_regular_file(status), path << " is not a file (" << hint << ")");
  return read_file(path, kMaxReportInputBytes);
}

// The field `name` of `object`, which must hold an array or an object (`type`).
const json& container_field(const json& object, const std::string& name, const std::string& where, json::value_t type) {
  NAS_CHECK(object.is_object(), where << ": expected a JSON object");
  const auto it = object.find(name);
  NAS_CHECK(it != object.end(), where << ": field '" << name << "' is missing");
  NAS_CHECK(it->type() == type, where << ": field '" << name << "' must be "
                                      << (type == json::value_t::array ? "an array" : "an object") << ", got "
                                      << json_excerpt(*it));
  return *it;
}

const json& object_field(const json& object, const std::string& name, const std::string& where) {
  return container_field(object, name, where, json::value_t::object);
}

const json& array_field(const json& object, const std::string& name, const std::string& where) {
  return container_field(object, name, where, json::value_t::array);
}

double finite_number(const json& object, const std::string& name, const std::string& where) {
  const double v = json_number(object, name, where);
  NAS_CHECK(std::isfinite(v), where << ": field '" << name << "' must be finite");
  return v;
}

// A top-1 accuracy in percent.
double percent(const json& object, const std::string& name, const std::string& where) {
  const double v = finite_number(object, name, where);
  NAS_CHECK(v >= 0 && v <= 100, where << ": field '" << name << "' must be a top-1 in % (0..100), got " << v);
  return v;
}

double positive_number(const json& object, const std::string& name, const std::string& where) {
  const double v = finite_number(object, name, where);
  NAS_CHECK(v > 0, where << ": field '" << name << "' must be > 0, got " << v);
  return v;
}

int64_t count(const json& object, const std::string& name, const std::string& where) {
  const int64_t v = json_int(object, name, where);
  NAS_CHECK(v >= 0, where << ": field '" << name << "' must be >= 0, got " << v);
  return v;
}

std::string element(const std::string& where, const char* array, size_t i) {
  return where + ": " + array + "[" + std::to_string(i) + "]";
}

std::string energy_text(double mj) { return format_energy(mj_to_joules(mj)); }

// pareto.json: the points, the population, the budget and the energy model.
std::map<std::string, size_t> read_pareto(const std::string& path, ParetoReport& r) {
  const std::string bytes = read_input(path, "nas_search --out DIR writes DIR/pareto.json");
  r.pareto_file = path;
  r.pareto_fingerprint = fnv1a64_text(bytes);
  const json doc = parse_json_text(bytes, path);
  NAS_CHECK(doc.is_object(), path << ": expected a JSON object (nas_search's pareto.json)");
  r.objective = json_string(doc, "objective", path);
  const auto budget = doc.find("budget_mj");
  NAS_CHECK(budget != doc.end(), path << ": field 'budget_mj' is missing");
  if (!budget->is_null()) r.budget_mj = positive_number(doc, "budget_mj", path);
  r.energy_model = object_field(doc, "energy_model", path);
  json_string(r.energy_model, "tier", path + ": energy_model");

  std::map<std::string, size_t> index;
  const json& points = array_field(doc, "points", path);
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string where = element(path, "points", i);
    const json& p = points[i];
    ReportPoint pt;
    pt.point_index = i;
    pt.key = json_string(p, "key", where);
    const ArchConfig arch = ArchConfig::from_json(object_field(p, "arch", where), where + ": arch");
    NAS_CHECK(arch.key() == pt.key, where << ": field 'key' " << json_excerpt(json(pt.key))
                                          << " is not the key of its arch");
    NAS_CHECK(index.emplace(pt.key, i).second,
              where << ": key " << json_excerpt(json(pt.key)) << " appears twice");
    pt.arch = arch.to_json();
    pt.predicted_top1 = percent(p, "predicted_top1", where);
    pt.energy_mj = positive_number(p, "energy_mj", where);
    pt.macs = count(p, "macs", where);
    pt.params = count(p, "params", where);
    pt.per_op_energy_mj = object_field(p, "per_op_energy_mj", where);
    for (auto it = pt.per_op_energy_mj.begin(); it != pt.per_op_energy_mj.end(); ++it)
      finite_number(pt.per_op_energy_mj, it.key(), where + ": per_op_energy_mj");
    r.points.push_back(std::move(pt));
  }
  if (r.points.empty()) r.notes.push_back(path + " holds no points");

  if (!doc.contains("population")) {
    r.notes.push_back(path + " has no final population (written by an older nas_search): the plot shows none");
  } else {
    const json& population = array_field(doc, "population", path);
    for (size_t i = 0; i < population.size(); ++i) {
      const std::string where = element(path, "population", i);
      r.population.push_back({json_string(population[i], "key", where), percent(population[i], "predicted_top1", where),
                              positive_number(population[i], "energy_mj", where)});
    }
  }
  return index;
}

// retrain_summary.json: which points were retrained, and what they measured.
void read_summary(const std::string& path, const std::map<std::string, size_t>& index, ParetoReport& r) {
  const std::string bytes = read_input(path, "nas_retrain --pareto SEARCH_DIR/pareto.json --out DIR writes DIR/retrain_summary.json");
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
  if (doc.contains("selected")) {
    // The points chosen for retraining, finished or not (older summaries do not list them).
    const json& selected = array_field(doc, "selected", path);
    NAS_CHECK(selected.size() <= r.points.size(),
              path << ": field 'selected' lists " << selected.size() << " points, " << r.pareto_file << " has "
                   << r.points.size());
    for (ReportPoint& p : r.points) p.selected = false;
    for (size_t i = 0; i < selected.size(); ++i) {
      const std::string where = element(path, "selected", i);
      const std::string key = json_string(selected[i], "key", where);
      const auto found = index.find(key);
      NAS_CHECK(found != index.end(), where << ": key " << json_excerpt(json(key)) << " is not a point of " << r.pareto_file);
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
    NAS_CHECK(!pt.retrained, named << ": key " << json_excerpt(json(key)) << " appears twice");
    NAS_CHECK(pt.selected, named << ": key " << json_excerpt(json(key)) << " is not among the 'selected' points");
    pt.retrained = true;
    pt.run_dir = dir;
    pt.test_top1 = percent(run, "test_top1", where);
    pt.val_top1 = percent(run, "val_top1", where);
    pt.train_seconds = finite_number(run, "train_seconds", where);
    count(run, "macs", where);
    count(run, "params", where);
    // The retraining costs energy with its own (default) model; the report keeps the search's.
    if (std::fabs(positive_number(run, "energy_mj", where) - pt.energy_mj) > 1e-9 * pt.energy_mj) ++energy_differs;
    if (std::fabs(percent(run, "predicted_top1", where) - pt.predicted_top1) > 1e-9) ++prediction_differs;
  }
  if (energy_differs > 0)
    r.notes.push_back(std::to_string(energy_differs) + " retrained point(s) report another energy than the search (" +
                      "nas_retrain costs with its own energy model settings); the report uses the search's energy_mj");
  if (prediction_differs > 0)
    r.notes.push_back(std::to_string(prediction_differs) +
                      " retrained point(s) carry another predicted_top1 than pareto.json; the report uses pareto.json's");
}

// The baselines: the rows of a results table with remap "none".
void read_baselines(const std::string& path, ParetoReport& r) {
  r.baselines_file = path;
  const std::string bytes = read_input(path, "a results table such as results/shiftaddaug/fashion-mnist.json");
  const json doc = parse_json_text(bytes, path);
  NAS_CHECK(doc.is_object(), path << ": expected a JSON object (a results table)");
  const std::string arch = json_string(doc, "arch", path);
  const std::string dataset = json_string(doc, "dataset", path);
  NAS_CHECK(dataset == r.dataset, path << ": field 'dataset' is " << json_excerpt(json(dataset)) << " but the retraining ("
                                       << r.summary_file << ") is on " << json_excerpt(json(r.dataset)));
  // The table has both tiers' energies; compare at the tier the search used.
  const std::string tier = r.energy_model["tier"].get<std::string>();
  const std::string energy_field = tier == "unit" ? "energy_unit_mj" : "energy_mj";
  if (tier != "unit" && tier != "eyeriss")
    r.notes.push_back("the search's energy model tier '" + tier + "' is not in the baselines table; compared with its energy_mj");
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

// ---- computing ----------------------------------------------------------------------------------

std::vector<size_t> by_energy(const ParetoReport& r, bool retrained_only) {
  std::vector<size_t> order;
  for (size_t i = 0; i < r.points.size(); ++i)
    if (!retrained_only || r.points[i].retrained) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return r.points[a].energy_mj < r.points[b].energy_mj; });
  return order;
}

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

void compute(ParetoReport& r) {
  const std::vector<size_t> retrained = by_energy(r, true);
  r.predicted_front = front_of(r, by_energy(r, false), [](const ReportPoint& p) { return p.predicted_top1; });
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
      r.notes.push_back("Kendall tau undefined: the predicted or the measured top-1 is the same for every retrained point");
    else
      r.kendall_tau = tau;
  }

  for (const size_t i : retrained) {
    const ReportPoint& p = r.points[i];
    if (r.budget_mj && p.energy_mj > *r.budget_mj) continue;
    // Ties keep the earlier (cheaper) point: `retrained` is in ascending energy.
    if (!r.best_under_budget || p.val_top1 > r.points[*r.best_under_budget].val_top1) r.best_under_budget = i;
  }
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
}

}  // namespace

size_t ParetoReport::retrained_count() const {
  return static_cast<size_t>(std::count_if(points.begin(), points.end(), [](const ReportPoint& p) { return p.retrained; }));
}

size_t ParetoReport::selected_count() const {
  return static_cast<size_t>(std::count_if(points.begin(), points.end(), [](const ReportPoint& p) { return p.selected; }));
}

ParetoReport build_pareto_report(const ReportInputs& inputs) {
  ParetoReport r;
  const std::map<std::string, size_t> index = read_pareto((fs::path(inputs.search_dir) / "pareto.json").string(), r);
  read_summary((fs::path(inputs.retrain_dir) / "retrain_summary.json").string(), index, r);
  if (inputs.baselines_file.empty())
    r.notes.push_back("no baselines given (--baselines): no comparison with hand-made networks");
  else
    read_baselines(inputs.baselines_file, r);
  compute(r);
  return r;
}

// ---- report.json --------------------------------------------------------------------------------

namespace {

std::vector<std::string> beaten_baselines(const ParetoReport& r, size_t point) {
  std::vector<std::string> names;
  for (const BaselineWin& w : r.wins)
    if (std::find(w.beaten_by.begin(), w.beaten_by.end(), point) != w.beaten_by.end())
      names.push_back(r.baselines[w.baseline].name);
  return names;
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
    j["measured_test_top1"] = p.test_top1;
    j["measured_val_top1"] = p.val_top1;
    j["run_dir"] = p.run_dir;
    j["train_seconds"] = p.train_seconds;
    j["on_measured_front"] = p.on_measured_front;
    j["beats_baselines"] = beaten_baselines(r, i);
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
  out["objective"] = r.objective;
  out["budget_mj"] = optional_number(r.budget_mj);
  out["energy_model"] = r.energy_model;
  out["points_note"] = "retrained points; top-1 in %, energy_mj per image (the search's energy model)";
  out["points"] = json::array();
  out["not_retrained"] = json::array();
  for (const size_t i : by_energy(r, false))
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
  out["notes"] = r.notes;
  return out;
}

// ---- Markdown -----------------------------------------------------------------------------------

namespace {

std::string label(const ReportPoint& p) { return "P" + std::to_string(p.point_index); }

std::string labels(const ParetoReport& r, const std::vector<size_t>& indices) {
  std::string out;
  for (const size_t i : indices) out += (out.empty() ? "" : ", ") + label(r.points[i]);
  return out.empty() ? "none" : out;
}

std::string count_text(int64_t n) {
  if (n < 0) return "-";
  if (n < 1000) return std::to_string(n);
  if (n < 1000000) return string_printf("%.1fk", static_cast<double>(n) / 1e3);
  if (n < 1000000000) return string_printf("%.2fM", static_cast<double>(n) / 1e6);
  return string_printf("%.2fG", static_cast<double>(n) / 1e9);
}

std::string top1_text(double v) { return format_double(v, 2); }

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream in(key);
  for (std::string part; std::getline(in, part, '|');) parts.push_back(part);
  return parts;
}

// Keys run to ~200 characters; the table shows the '|'-separated segments in which the points
// differ (each segment names its place: "s2.c160:s3e3-a7e3"), the common ones are listed once.
struct ShortKeys {
  std::vector<std::string> per_point;  // r.points order
  std::vector<std::string> common;     // empty: the keys are shown whole
};

ShortKeys short_keys(const ParetoReport& r) {
  ShortKeys out;
  std::vector<std::vector<std::string>> parts;
  for (const ReportPoint& p : r.points) parts.push_back(split_key(p.key));
  bool aligned = parts.size() >= 2;
  for (const auto& pp : parts) aligned = aligned && pp.size() == parts[0].size();
  std::vector<bool> common(aligned ? parts[0].size() : 0, true);
  for (size_t s = 0; s < common.size(); ++s)
    for (const auto& pp : parts) common[s] = common[s] && pp[s] == parts[0][s];
  for (size_t s = 0; s < common.size(); ++s)
    if (common[s]) out.common.push_back(parts[0][s]);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string text;
    for (size_t s = 0; s < parts[i].size(); ++s)
      if (s >= common.size() || !common[s]) text += (text.empty() ? "" : "|") + parts[i][s];
    out.per_point.push_back(text);
  }
  return out;
}

// Inline code in a Markdown table cell: '|' would end the cell.
std::string md_code(const std::string& text) {
  std::string out = "`";
  for (const char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out + "`";
}

std::string energy_comparison(double point_mj, double baseline_mj) {
  if (point_mj >= baseline_mj) return "at equal energy";
  const double ratio = baseline_mj / point_mj;
  if (ratio >= 2) return "with " + format_double(ratio, 1) + "x less energy";
  return "with " + format_double(100.0 * (1.0 - point_mj / baseline_mj), 0) + "% less energy";
}

std::string energy_model_text(const json& model) {
  std::string text = model["tier"].get<std::string>();
  const auto table = model.find("table");
  if (table != model.end() && table->is_object() && table->contains("name") && (*table)["name"].is_string())
    text += ", table " + (*table)["name"].get<std::string>();
  const auto bits = model.find("bits");
  if (bits != model.end() && bits->is_number_integer()) text += ", " + std::to_string(bits->get<int64_t>()) + "-bit";
  return text;
}

std::string budget_text(const ParetoReport& r) { return r.budget_mj ? energy_text(*r.budget_mj) : "none"; }

}  // namespace

std::string report_to_markdown(const ParetoReport& r) {
  std::ostringstream md;
  const ShortKeys keys = short_keys(r);
  md << "# Pareto report: " << r.dataset << ", energy budget " << budget_text(r) << "\n\n";
  md << "- Search: `" << r.pareto_file << "` (" << r.pareto_fingerprint << "), objective " << r.objective
     << ", energy model " << energy_model_text(r.energy_model) << ", energy per image.\n";
  md << "- Retraining: `" << r.summary_file << "`, init " << r.init << ", " << r.retrained_count() << " of "
     << r.points.size() << " points retrained";
  if (r.selection_known)
    md << " (" << r.selected_count() << " selected" << (r.selection.empty() ? "" : ": " + r.selection) << ")";
  md << ".\n";
  md << "- Baselines: " << (r.baselines_file.empty() ? std::string("none given") : "`" + r.baselines_file + "`") << ".\n";
  if (!keys.common.empty()) {
    md << "- Architectures: the arch column shows the key segments in which the points differ; all share";
    for (const std::string& c : keys.common) md << " " << md_code(c);
    md << ".\n";
  }

  md << "\n| point | arch | energy | predicted top-1 % | test top-1 % | val top-1 % | MACs | params | remarks |\n"
     << "|---|---|---|---|---|---|---|---|---|\n";
  for (const size_t i : by_energy(r, false)) {
    const ReportPoint& p = r.points[i];
    std::vector<std::string> remarks;
    if (r.best_under_budget && *r.best_under_budget == i) remarks.push_back("**best under budget**");
    if (p.on_measured_front) remarks.push_back("measured front");
    if (!p.retrained) remarks.push_back(p.selected ? "not retrained yet" : "not selected for retraining");
    for (const std::string& b : beaten_baselines(r, i)) remarks.push_back("beats " + b);
    std::string remark_text;
    for (const std::string& s : remarks) remark_text += (remark_text.empty() ? "" : "; ") + s;
    md << "| " << label(p) << " | " << md_code(keys.per_point[i]) << " | " << energy_text(p.energy_mj) << " | "
       << top1_text(p.predicted_top1) << " | " << (p.retrained ? top1_text(p.test_top1) : "-") << " | "
       << (p.retrained ? top1_text(p.val_top1) : "-") << " | " << count_text(p.macs) << " | " << count_text(p.params)
       << " | " << remark_text << " |\n";
  }
  for (const Baseline& b : r.baselines)
    md << "| baseline: " << b.name << " | - | " << energy_text(b.energy_mj) << " | - | " << top1_text(b.top1_mean)
       << " ± " << top1_text(b.top1_std) << " | - | " << count_text(b.macs) << " | " << count_text(b.params)
       << " | mean ± std over seeds |\n";

  md << "\n## Claims\n\n";
  if (r.best_under_budget) {
    const ReportPoint& p = r.points[*r.best_under_budget];
    md << "- Best " << (r.budget_mj ? "under the budget of " + budget_text(r) : std::string("(no energy budget)"))
       << ", chosen by validation top-1: **" << label(p) << "**, test top-1 " << top1_text(p.test_top1)
       << " % (validation " << top1_text(p.val_top1) << " %, predicted " << top1_text(p.predicted_top1) << " %) at "
       << energy_text(p.energy_mj) << ", " << count_text(p.macs) << " MACs, " << count_text(p.params) << " params.\n";
  } else if (r.retrained_count() == 0) {
    md << "- No point retrained yet: nothing measured to claim.\n";
  } else {
    md << "- No retrained point within the budget: no best network to claim yet.\n";
  }
  if (r.baselines_file.empty()) {
    md << "- No baselines given: no comparison with hand-made networks.\n";
  } else if (r.baselines.empty()) {
    md << "- The baselines table has no baseline row (remap \"none\"): no comparison.\n";
  } else if (r.retrained_count() == 0) {
    md << "- " << r.baselines.size() << " baselines given; no retrained point yet to compare with them.\n";
  } else if (r.wins.empty()) {
    md << "- None of the " << r.baselines.size()
       << " baselines is beaten: no retrained point at lower or equal energy has a higher test top-1 than any of them.\n";
  } else {
    for (const BaselineWin& w : r.wins) {
      const Baseline& b = r.baselines[w.baseline];
      const ReportPoint& p = r.points[w.best];
      md << "- **" << label(p) << "** beats **" << b.name << "** (" << top1_text(b.top1_mean) << " % at "
         << energy_text(b.energy_mj) << ") by +" << top1_text(w.margin_top1) << " points of test top-1 "
         << energy_comparison(p.energy_mj, b.energy_mj) << " (" << energy_text(p.energy_mj) << ")";
      std::vector<size_t> others;
      for (const size_t i : w.beaten_by)
        if (i != w.best) others.push_back(i);
      if (!others.empty()) md << "; also beaten by " << labels(r, others);
      md << ".\n";
    }
    std::string not_beaten;
    for (size_t b = 0; b < r.baselines.size(); ++b)
      if (std::none_of(r.wins.begin(), r.wins.end(), [&](const BaselineWin& w) { return w.baseline == b; }))
        not_beaten += (not_beaten.empty() ? "" : ", ") + r.baselines[b].name + " (" +
                      top1_text(r.baselines[b].top1_mean) + " % at " + energy_text(r.baselines[b].energy_mj) + ")";
    if (!not_beaten.empty())
      md << "- Not beaten: " << not_beaten
         << ": no retrained point at lower or equal energy has a higher test top-1.\n";
  }
  md << "- Kendall tau of predicted vs measured test top-1";
  if (r.kendall_tau)
    md << " over " << r.tau_points << " retrained points: " << format_double(*r.kendall_tau, 3) << ".\n";
  else
    md << ": not available (" << r.tau_points << " retrained point(s)).\n";
  md << "- Measured Pareto front: " << labels(r, r.measured_front) << " (predicted front: "
     << labels(r, r.predicted_front) << ").\n";
  std::vector<size_t> pending;
  for (const size_t i : by_energy(r, false))
    if (r.points[i].selected && !r.points[i].retrained) pending.push_back(i);
  if (!pending.empty()) md << "- Not retrained yet: " << labels(r, pending) << ".\n";
  // A front has up to a population of points: counted, not listed (the table names them).
  const size_t selected = r.selected_count();
  if (selected < r.points.size())
    md << "- Not selected for retraining" << (r.selection.empty() ? "" : " (" + r.selection + ")") << ": "
       << r.points.size() - selected << " of " << r.points.size() << " points.\n";

  if (!r.notes.empty()) {
    md << "\n## Notes\n\n";
    for (const std::string& n : r.notes) md << "- " << n << "\n";
  }
  md << "\n## Architecture keys\n\n";
  for (const ReportPoint& p : r.points) md << "- " << label(p) << ": `" << p.key << "`\n";
  return md.str();
}

// ---- SVG ----------------------------------------------------------------------------------------

namespace {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) { return format_double(v, 1); }

// Maps (energy in mJ on a log scale, top-1 in %) to pixels of the plot area.
struct PlotFrame {
  double left = 80, right = 600, top = 50, bottom = 460;
  double log_e0 = 0, log_e1 = 1, top1_0 = 0, top1_1 = 100;
  double x(double energy_mj) const { return left + (std::log10(energy_mj) - log_e0) / (log_e1 - log_e0) * (right - left); }
  double y(double top1) const { return bottom - (top1 - top1_0) / (top1_1 - top1_0) * (bottom - top); }
};

PlotFrame frame_for(const ParetoReport& r) {
  std::vector<double> energies, top1s;
  for (const PopulationPoint& p : r.population) {
    energies.push_back(p.energy_mj);
    top1s.push_back(p.predicted_top1);
  }
  for (const ReportPoint& p : r.points) {
    energies.push_back(p.energy_mj);
    top1s.push_back(p.predicted_top1);
    if (p.retrained) top1s.push_back(p.test_top1);
  }
  for (const Baseline& b : r.baselines) {
    energies.push_back(b.energy_mj);
    top1s.push_back(b.top1_mean - b.top1_std);
    top1s.push_back(b.top1_mean + b.top1_std);
  }
  if (r.budget_mj) energies.push_back(*r.budget_mj);
  PlotFrame f;
  if (energies.empty()) return f;
  f.log_e0 = std::log10(*std::min_element(energies.begin(), energies.end()));
  f.log_e1 = std::log10(*std::max_element(energies.begin(), energies.end()));
  const double min_decades = 0.3;
  if (f.log_e1 - f.log_e0 < min_decades) {
    const double mid = 0.5 * (f.log_e0 + f.log_e1);
    f.log_e0 = mid - min_decades / 2;
    f.log_e1 = mid + min_decades / 2;
  }
  const double e_pad = 0.06 * (f.log_e1 - f.log_e0);
  f.log_e0 -= e_pad;
  f.log_e1 += e_pad;
  f.top1_0 = *std::min_element(top1s.begin(), top1s.end());
  f.top1_1 = *std::max_element(top1s.begin(), top1s.end());
  if (f.top1_1 - f.top1_0 < 2) {
    const double mid = 0.5 * (f.top1_0 + f.top1_1);
    f.top1_0 = mid - 1;
    f.top1_1 = mid + 1;
  }
  const double t_pad = 0.08 * (f.top1_1 - f.top1_0);
  f.top1_0 -= t_pad;
  f.top1_1 += t_pad;
  return f;
}

// Log-axis ticks: grid lines at every m x 10^k (m = 1..9) inside the range; labels on the
// densest of the mantissa sets {1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 8}, {1..9} whose labels stay
// kMinLabelGap of the axis width apart (a range of less than a decade gets more than 1, 2, 5).
constexpr double kMinLabelGap = 0.075;

struct LogTicks {
  std::vector<double> grid, labelled;
};

LogTicks log_ticks(double log0, double log1) {
  const std::vector<std::vector<int>> sets = {{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 8}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
  const auto ticks_of = [&](const std::vector<int>& mantissas) {
    std::vector<double> ticks;
    for (int k = static_cast<int>(std::floor(log0)); k <= static_cast<int>(std::ceil(log1)); ++k)
      for (const int m : mantissas) {
        const double v = m * std::pow(10.0, k);
        if (std::log10(v) >= log0 && std::log10(v) <= log1) ticks.push_back(v);
      }
    return ticks;
  };
  LogTicks out;
  out.grid = ticks_of(sets.back());
  for (const std::vector<int>& mantissas : sets) {
    const std::vector<double> ticks = ticks_of(mantissas);
    bool spaced = true;
    for (size_t i = 1; i < ticks.size(); ++i)
      spaced = spaced && std::log10(ticks[i] / ticks[i - 1]) >= kMinLabelGap * (log1 - log0);
    if (!spaced) break;
    out.labelled = ticks;
  }
  return out;
}

// About six ticks at a step of 1, 2 or 5 x 10^k.
std::vector<double> linear_ticks(double v0, double v1) {
  const double raw = (v1 - v0) / 6;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double v = std::ceil(v0 / step) * step; v <= v1 + 1e-9 * step; v += step) ticks.push_back(v);
  return ticks;
}

std::string tick_label(double v) { return string_printf("%g", v); }

constexpr double kLabelCharWidth = 5.6;  // average glyph width of 10 px sans-serif, for placement
constexpr const char* kPopulationColour = "#b0b0b0";
constexpr const char* kPredictedColour = "#1f77b4";
constexpr const char* kMeasuredColour = "#d95f02";
constexpr const char* kBaselineColour = "#7b3294";
constexpr const char* kBudgetColour = "#d62728";

void svg_axes(std::ostringstream& svg, const PlotFrame& f) {
  svg << "<g class=\"axes\" stroke=\"#dddddd\">\n";
  const LogTicks x_ticks = log_ticks(f.log_e0, f.log_e1);
  for (const double v : x_ticks.grid) {
    const double x = f.x(v);
    const bool labelled = std::find(x_ticks.labelled.begin(), x_ticks.labelled.end(), v) != x_ticks.labelled.end();
    svg << "<line x1=\"" << num(x) << "\" y1=\"" << num(f.top) << "\" x2=\"" << num(x) << "\" y2=\"" << num(f.bottom)
        << "\"" << (labelled ? "" : " stroke=\"#f0f0f0\"") << "/>\n";
  }
  for (const double v : x_ticks.labelled)
    svg << "<text class=\"x-tick\" x=\"" << num(f.x(v)) << "\" y=\"" << num(f.bottom + 18)
        << "\" text-anchor=\"middle\" stroke=\"none\" fill=\"#333333\">" << tick_label(v) << "</text>\n";
  for (const double v : linear_ticks(f.top1_0, f.top1_1)) {
    const double y = f.y(v);
    svg << "<line x1=\"" << num(f.left) << "\" y1=\"" << num(y) << "\" x2=\"" << num(f.right) << "\" y2=\"" << num(y)
        << "\"/>\n<text class=\"y-tick\" x=\"" << num(f.left - 8) << "\" y=\"" << num(y + 4)
        << "\" text-anchor=\"end\" stroke=\"none\" fill=\"#333333\">" << tick_label(v) << "</text>\n";
  }
  svg << "</g>\n<rect class=\"frame\" x=\"" << num(f.left) << "\" y=\"" << num(f.top) << "\" width=\""
      << num(f.right - f.left) << "\" height=\"" << num(f.bottom - f.top) << "\" fill=\"none\" stroke=\"#333333\"/>\n";
  svg << "<text class=\"x-label\" x=\"" << num(0.5 * (f.left + f.right)) << "\" y=\"" << num(f.bottom + 42)
      << "\" text-anchor=\"middle\">energy per image (mJ, log scale)</text>\n";
  const double ym = 0.5 * (f.top + f.bottom);
  svg << "<text class=\"y-label\" x=\"24\" y=\"" << num(ym) << "\" text-anchor=\"middle\" transform=\"rotate(-90 24 "
      << num(ym) << ")\">top-1 (%)</text>\n";
}

void svg_polyline(std::ostringstream& svg, const PlotFrame& f, const ParetoReport& r, const std::vector<size_t>& front,
                  bool measured) {
  if (front.empty()) return;
  svg << "<polyline class=\"" << (measured ? "measured-front" : "predicted-front") << "\" fill=\"none\" stroke=\""
      << (measured ? kMeasuredColour : kPredictedColour) << "\" stroke-width=\"1.5\""
      << (measured ? "" : " stroke-dasharray=\"6 4\"") << " points=\"";
  for (const size_t i : front) {
    const ReportPoint& p = r.points[i];
    svg << num(f.x(p.energy_mj)) << "," << num(f.y(measured ? p.test_top1 : p.predicted_top1)) << " ";
  }
  svg << "\"/>\n";
}

// Where a baseline's label goes (pixels; the text's baseline is y1). Right of the marker, or left
// when it would leave the plot; then moved down a line at a time while it overlaps a label placed
// before it (baselines often share an energy: Add and AddAug cost the same).
struct LabelBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool overlaps(const LabelBox& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

std::vector<LabelBox> place_labels(const ParetoReport& r, const PlotFrame& f) {
  constexpr double kLineHeight = 12, kGap = 7, kMaxMoves = 8;
  std::vector<size_t> order(r.baselines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return r.baselines[a].top1_mean > r.baselines[b].top1_mean; });
  std::vector<LabelBox> boxes(r.baselines.size());
  std::vector<LabelBox> placed;
  for (const size_t i : order) {
    const Baseline& b = r.baselines[i];
    const double x = f.x(b.energy_mj), y = f.y(b.top1_mean);
    const double width = kLabelCharWidth * static_cast<double>(b.name.size());
    LabelBox box;
    box.x0 = x + kGap + width > f.right ? x - kGap - width : x + kGap;
    box.x1 = box.x0 + width;
    box.y1 = y + 4;
    box.y0 = box.y1 - 10;
    for (int move = 0; move < kMaxMoves && std::any_of(placed.begin(), placed.end(),
                                                       [&](const LabelBox& p) { return box.overlaps(p); });
         ++move) {
      box.y0 += kLineHeight;
      box.y1 += kLineHeight;
    }
    placed.push_back(box);
    boxes[i] = box;
  }
  return boxes;
}

// `budget`: the budget text, empty for none (no entry).
void svg_legend(std::ostringstream& svg, double x, double y, const std::string& budget) {
  struct Entry {
    std::string glyph, text;
  };
  const auto line = [](const char* colour, const char* dash) {
    return string_printf("<line x1=\"0\" y1=\"0\" x2=\"22\" y2=\"0\" stroke=\"%s\" stroke-width=\"1.5\"%s/>", colour,
                         dash);
  };
  std::vector<Entry> entries = {
      {string_printf("<circle cx=\"11\" cy=\"0\" r=\"3\" fill=\"%s\"/>", kPopulationColour),
       "final population (predicted)"},
      {line(kPredictedColour, " stroke-dasharray=\"6 4\"") +
           string_printf("<circle cx=\"11\" cy=\"0\" r=\"3.5\" fill=\"white\" stroke=\"%s\"/>", kPredictedColour),
       "predicted front"},
      {line(kMeasuredColour, "") + string_printf("<circle cx=\"11\" cy=\"0\" r=\"4\" fill=\"%s\"/>", kMeasuredColour),
       "retrained: measured test top-1"},
      {string_printf("<rect x=\"7\" y=\"-4\" width=\"8\" height=\"8\" fill=\"%s\"/>", kBaselineColour),
       "baselines (mean, std)"},
      {string_printf("<line x1=\"11\" y1=\"-7\" x2=\"11\" y2=\"7\" stroke=\"%s\" stroke-dasharray=\"3 3\"/>",
                     kBudgetColour),
       "energy budget " + budget}};
  if (budget.empty()) entries.pop_back();
  svg << "<g class=\"legend\" transform=\"translate(" << num(x) << " " << num(y) << ")\">\n";
  for (size_t i = 0; i < entries.size(); ++i)
    svg << "<g transform=\"translate(0 " << 20 * i << ")\">" << entries[i].glyph << "<text x=\"30\" y=\"4\">"
        << xml_escape(entries[i].text) << "</text></g>\n";
  svg << "</g>\n";
}

}  // namespace

std::string report_to_svg(const ParetoReport& r) {
  const PlotFrame f = frame_for(r);
  const double width = 860, height = 520;
  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
      << width << " " << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  const std::string title = "Pareto report: " + r.dataset + ", budget " + budget_text(r) + " (" +
                            energy_model_text(r.energy_model) + ")";
  svg << "<title>" << xml_escape(title) << "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text class=\"title\" x=\"" << num(f.left) << "\" y=\"28\" font-size=\"15\">" << xml_escape(title) << "</text>\n";
  svg_axes(svg, f);

  if (r.budget_mj) {
    const double x = f.x(*r.budget_mj);
    svg << "<line class=\"budget\" x1=\"" << num(x) << "\" y1=\"" << num(f.top) << "\" x2=\"" << num(x) << "\" y2=\""
        << num(f.bottom) << "\" stroke=\"" << kBudgetColour << "\" stroke-dasharray=\"3 3\"/>\n"
        << "<text class=\"budget-label\" x=\"" << num(x - 4) << "\" y=\"" << num(f.top + 14)
        << "\" text-anchor=\"end\" fill=\"" << kBudgetColour << "\">budget " << xml_escape(budget_text(r)) << "</text>\n";
  }
  svg << "<g class=\"population\" fill=\"" << kPopulationColour << "\">\n";
  for (const PopulationPoint& p : r.population)
    svg << "<circle cx=\"" << num(f.x(p.energy_mj)) << "\" cy=\"" << num(f.y(p.predicted_top1)) << "\" r=\"3\"/>\n";
  svg << "</g>\n";

  svg_polyline(svg, f, r, r.predicted_front, false);
  svg << "<g class=\"predicted\" fill=\"white\" stroke=\"" << kPredictedColour << "\">\n";
  for (const size_t i : r.predicted_front)
    svg << "<circle cx=\"" << num(f.x(r.points[i].energy_mj)) << "\" cy=\"" << num(f.y(r.points[i].predicted_top1))
        << "\" r=\"3.5\"/>\n";
  svg << "</g>\n";

  svg_polyline(svg, f, r, r.measured_front, true);
  svg << "<g class=\"measured\" fill=\"" << kMeasuredColour << "\">\n";
  for (const size_t i : by_energy(r, true)) {
    const ReportPoint& p = r.points[i];
    const double x = f.x(p.energy_mj), y = f.y(p.test_top1);
    svg << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"4\"" << (p.on_measured_front ? "" : " fill-opacity=\"0.45\"")
        << "/><text x=\"" << num(x + 6) << "\" y=\"" << num(y - 6) << "\" font-size=\"10\">" << label(p) << "</text>\n";
  }
  svg << "</g>\n";

  svg << "<g class=\"baselines\" fill=\"" << kBaselineColour << "\">\n";
  const std::vector<LabelBox> labels = place_labels(r, f);
  for (size_t i = 0; i < r.baselines.size(); ++i) {
    const Baseline& b = r.baselines[i];
    const double x = f.x(b.energy_mj), y = f.y(b.top1_mean);
    svg << "<line x1=\"" << num(x) << "\" y1=\"" << num(f.y(b.top1_mean - b.top1_std)) << "\" x2=\"" << num(x)
        << "\" y2=\"" << num(f.y(b.top1_mean + b.top1_std)) << "\" stroke=\"" << kBaselineColour << "\"/>"
        << "<rect x=\"" << num(x - 4) << "\" y=\"" << num(y - 4) << "\" width=\"8\" height=\"8\"/>"
        << "<text x=\"" << num(labels[i].x0) << "\" y=\"" << num(labels[i].y1) << "\" font-size=\"10\">"
        << xml_escape(b.name) << "</text>\n";
  }
  svg << "</g>\n";
  svg_legend(svg, f.right + 24, f.top + 10, r.budget_mj ? budget_text(r) : std::string());
  svg << "</svg>\n";
  return svg.str();
}

// ---- PNG (matplotlib) ---------------------------------------------------------------------------

namespace {

constexpr const char* kPlotScript = "plot_report.py";
constexpr const char* kDefaultPython = "/usr/bin/python3";
// Output of the script kept for the error message (its last line).
constexpr size_t kMaxScriptOutput = 64 * 1024;
constexpr size_t kMaxErrorLine = 300;

std::string find_plot_script() {
  std::error_code ec;
  if (const char* dir = std::getenv("NAS_SCRIPTS_DIR"); dir != nullptr && *dir != '\0') {
    const fs::path script = fs::path(dir) / kPlotScript;
    NAS_CHECK(fs::is_regular_file(script, ec), "NAS_SCRIPTS_DIR: no " << kPlotScript << " in " << json_excerpt(json(dir)));
    return script.string();
  }
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  NAS_CHECK(!ec, "cannot find this program's path (/proc/self/exe: " << ec.message()
                                                                      << "); set NAS_SCRIPTS_DIR to the source tree's scripts/");
  const fs::path script = (exe.parent_path() / ".." / ".." / "scripts" / kPlotScript).lexically_normal();
  NAS_CHECK(fs::is_regular_file(script, ec), "cannot find " << kPlotScript << " (looked for " << script.string()
                                                            << "); set NAS_SCRIPTS_DIR to the source tree's scripts/");
  return script.string();
}

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string output;  // stdout and stderr, the last kMaxScriptOutput bytes
};

// Runs argv[0] (a path, no PATH search, no shell) with stdout and stderr captured.
ChildResult run_captured(const std::vector<std::string>& argv) {
  int fds[2];
  NAS_CHECK(::pipe2(fds, O_CLOEXEC) == 0, "cannot create a pipe: " << std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    NAS_THROW("cannot run " << argv[0] << ": " << std::strerror(rc)
                            << " (install python3 and python3-matplotlib, or set NAS_PYTHON)");
  }
  ChildResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
    if (result.output.size() > kMaxScriptOutput) result.output.erase(0, result.output.size() - kMaxScriptOutput);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// The last non-empty line, without the script's "plot_report.py: error: " prefix, bounded.
std::string last_line(const std::string& output) {
  std::string line;
  std::stringstream in(output);
  for (std::string l; std::getline(in, l);)
    if (l.find_first_not_of(" \t\r") != std::string::npos) line = l;
  const std::string prefix = std::string(kPlotScript) + ": error: ";
  if (line.compare(0, prefix.size(), prefix) == 0) line.erase(0, prefix.size());
  if (line.size() > kMaxErrorLine) line = line.substr(0, kMaxErrorLine) + "...";
  return line.empty() ? "no output" : line;
}

}  // namespace

void render_png(const std::string& report_json, const std::string& pareto_json, const std::string& png) {
  const std::string script = find_plot_script();
  const char* python_env = std::getenv("NAS_PYTHON");
  const std::string python = python_env != nullptr && *python_env != '\0' ? python_env : kDefaultPython;
  const ChildResult child = run_captured({python, script, report_json, pareto_json, png});
  NAS_CHECK(child.exit_code == 0, png << ": " << last_line(child.output) << " (" << script << " "
                                      << (child.exit_code < 0 ? std::string("was killed")
                                                              : "exited with " + std::to_string(child.exit_code))
                                      << ")");
  std::error_code ec;
  NAS_CHECK(fs::is_regular_file(png, ec) && fs::file_size(png, ec) > 0, script << " exited 0 but wrote no " << png);
}

}  // namespace nas::report
