#include "report/report_markdown.h"

#include <algorithm>
#include <sstream>

#include "core/string_format.h"
#include "report/report_text.h"

namespace nas::report {

namespace {

std::string count_text(int64_t n) {
  if (n < 0) return "-";
  if (n < 1000) return std::to_string(n);
  if (n < 1000000) return string_printf("%.1fk", static_cast<double>(n) / 1e3);
  if (n < 1000000000) return string_printf("%.2fM", static_cast<double>(n) / 1e6);
  return string_printf("%.2fG", static_cast<double>(n) / 1e9);
}

std::string top1_text(double v) { return format_double(v, 2); }

// A retrained point's test top-1: "71.20", or over seeds "71.20 ± 0.40 (2 seeds)".
std::string measured_text(const ReportPoint& p) {
  if (p.test_top1_by_seed.size() < 2) return top1_text(p.test_top1);
  return top1_text(p.test_top1) + " ± " + top1_text(p.test_top1_std) + " (" + std::to_string(p.test_top1_by_seed.size()) +
         " seeds)";
}

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
  if (!r.recipe_aug.empty())
    md << "- Retraining recipe: `--aug " << r.recipe_aug << "` ("
       << (r.recipe_chosen_by == "rule" ? r.recipe_reason : std::string("given on the command line")) << ").\n";
  md << "- Arms (random search, the scaled hand-made network): ";
  if (r.arms.empty()) md << "none given";
  for (size_t a = 0; a < r.arms.size(); ++a) {
    const ArmReport& arm = r.arms[a];
    md << (a ? "; " : "") << arm.arm << " `" << arm.summary_file << "`, " << arm.retrained_count() << " of "
       << arm.points.size() << " points retrained";
  }
  md << ".\n";
  md << "- Baselines: " << (r.baselines_file.empty() ? std::string("none given") : "`" + r.baselines_file + "`")
     << ".\n";
  if (!keys.common.empty()) {
    md << "- Architectures: the arch column shows the key segments in which the points differ; all share";
    for (const std::string& c : keys.common) md << " " << md_code(c);
    md << ".\n";
  }

  md << "\n| point | arch | energy | predicted top-1 % | test top-1 % | val top-1 % | MACs | params | remarks |\n"
     << "|---|---|---|---|---|---|---|---|---|\n";
  for (const size_t i : points_by_energy(r, false)) {
    const ReportPoint& p = r.points[i];
    std::vector<std::string> remarks;
    if (r.best_under_budget && *r.best_under_budget == i) remarks.push_back("**best under budget**");
    if (p.on_measured_front) remarks.push_back("measured front");
    if (!p.retrained) remarks.push_back(p.selected ? "not retrained yet" : "not selected for retraining");
    for (const std::string& b : baselines_beaten_by(r, i)) remarks.push_back("beats " + b);
    std::string remark_text;
    for (const std::string& s : remarks) remark_text += (remark_text.empty() ? "" : "; ") + s;
    md << "| " << point_label(p) << " | " << md_code(keys.per_point[i]) << " | " << energy_text(p.energy_mj) << " | "
       << top1_text(p.predicted_top1) << " | " << (p.retrained ? measured_text(p) : "-") << " | "
       << (p.retrained ? top1_text(p.val_top1) : "-") << " | " << count_text(p.macs) << " | " << count_text(p.params)
       << " | " << remark_text << " |\n";
  }
  for (const Baseline& b : r.baselines)
    md << "| baseline: " << b.name << " | - | " << energy_text(b.energy_mj) << " | - | " << top1_text(b.top1_mean)
       << " ± " << top1_text(b.top1_std) << " | - | " << count_text(b.macs) << " | " << count_text(b.params)
       << " | mean ± std over seeds |\n";

  if (!r.arms.empty()) {
    // The arms beside the searched points, by energy; top-1 means over the seeds.
    struct Row {
      double energy_mj;
      std::string arm, label;
      const ReportPoint* point;
    };
    std::vector<Row> rows;
    for (const size_t i : points_by_energy(r, true)) rows.push_back({r.points[i].energy_mj, "searched", point_label(r.points[i]), &r.points[i]});
    for (const ArmReport& arm : r.arms)
      for (const ReportPoint& p : arm.points)
        if (p.retrained) rows.push_back({p.energy_mj, arm.arm, arm_point_label(arm, p), &p});
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.energy_mj < b.energy_mj; });
    md << "\n## Searched points and arms\n\n| arm | point | energy | test top-1 % | val top-1 % | MACs | params |\n"
       << "|---|---|---|---|---|---|---|\n";
    for (const Row& row : rows)
      md << "| " << row.arm << " | " << row.label << " | " << energy_text(row.energy_mj) << " | "
         << measured_text(*row.point) << " | " << top1_text(row.point->val_top1) << " | " << count_text(row.point->macs)
         << " | " << count_text(row.point->params) << " |\n";
  }

  md << "\n## Claims\n\n";
  if (r.best_under_budget) {
    const ReportPoint& p = r.points[*r.best_under_budget];
    md << "- Best " << (r.budget_mj ? "under the budget of " + budget_text(r) : std::string("(no energy budget)"))
       << ", chosen by validation top-1: **" << point_label(p) << "**, test top-1 " << top1_text(p.test_top1)
       << " % (validation " << top1_text(p.val_top1) << " %, predicted " << top1_text(p.predicted_top1) << " %) at "
       << energy_text(p.energy_mj) << ", " << count_text(p.macs) << " MACs, " << count_text(p.params) << " params.\n";
  } else if (r.retrained_count() == 0) {
    md << "- No point retrained yet: nothing measured to claim.\n";
  } else {
    md << "- No retrained point within the budget: no best network to claim yet.\n";
  }
  if (r.arms.empty())
    md << "- No arms given (--random, --scaled): the searched points are not compared with random search or the "
          "scaled hand-made network.\n";
  if (!r.claims.empty())
    md << "- Against the arms (each side's best within the budget chosen by validation top-1; margins in points of "
          "test top-1, means over the seeds):\n";
  for (const ArmClaim& c : r.claims)
    md << "  - " << (c.budget_mj ? "At <= " + energy_text(*c.budget_mj) : std::string("Without a budget")) << ": "
       << c.verdict << ".\n";
  if (r.baselines_file.empty()) {
    md << "- No baselines given: no comparison with hand-made networks.\n";
  } else if (r.baselines.empty()) {
    md << "- The baselines table has no baseline row (remap \"none\"): no comparison.\n";
  } else if (r.retrained_count() == 0) {
    md << "- " << r.baselines.size() << " baselines given; no retrained point yet to compare with them.\n";
  } else if (r.wins.empty()) {
    md << "- None of the " << r.baselines.size()
       << " baselines is beaten: no retrained point at lower or equal energy has a higher test top-1 than any of "
          "them.\n";
  } else {
    for (const BaselineWin& w : r.wins) {
      const Baseline& b = r.baselines[w.baseline];
      const ReportPoint& p = r.points[w.best];
      md << "- **" << point_label(p) << "** beats **" << b.name << "** (" << top1_text(b.top1_mean) << " % at "
         << energy_text(b.energy_mj) << ") by +" << top1_text(w.margin_top1) << " points of test top-1 "
         << energy_comparison(p.energy_mj, b.energy_mj) << " (" << energy_text(p.energy_mj) << ")";
      std::vector<size_t> others;
      for (const size_t i : w.beaten_by)
        if (i != w.best) others.push_back(i);
      if (!others.empty()) md << "; also beaten by " << point_labels(r, others);
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
  md << "- Measured Pareto front: " << point_labels(r, r.measured_front)
     << " (predicted front: " << point_labels(r, r.predicted_front) << ").\n";
  std::vector<size_t> pending;
  for (const size_t i : points_by_energy(r, false))
    if (r.points[i].selected && !r.points[i].retrained) pending.push_back(i);
  if (!pending.empty()) md << "- Not retrained yet: " << point_labels(r, pending) << ".\n";
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
  for (const ReportPoint& p : r.points) md << "- " << point_label(p) << ": `" << p.key << "`\n";
  for (const ArmReport& arm : r.arms)
    for (const ReportPoint& p : arm.points) md << "- " << arm_point_label(arm, p) << " (" << arm.arm << "): `" << p.key << "`\n";
  return md.str();
}

}  // namespace nas::report
