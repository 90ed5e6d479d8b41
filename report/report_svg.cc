#include "report/report_svg.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/string_format.h"
#include "report/report_text.h"

namespace nas::report {

namespace {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v) { return format_double(v, 1); }

// Maps (energy in mJ on a log scale, top-1 in %) to pixels of the plot area.
struct PlotFrame {
  double left = 80, right = 600, top = 50, bottom = 460;
  double log_e0 = 0, log_e1 = 1, top1_0 = 0, top1_1 = 100;
  double x(double energy_mj) const {
    return left + (std::log10(energy_mj) - log_e0) / (log_e1 - log_e0) * (right - left);
  }
  double y(double top1) const { return bottom - (top1 - top1_0) / (top1_1 - top1_0) * (bottom - top); }
};

PlotFrame frame_for(const ParetoReport& r) {
  std::vector<double> energies, top1s;
  for (const PopulationPoint& p : r.population) {
    energies.push_back(p.energy_mj);
    top1s.push_back(p.predicted_top1);
  }
  // A retrained point's mean test top-1 +- its seeds' std (-1: one run).
  const auto add_measured = [&](const ReportPoint& p) {
    top1s.push_back(p.test_top1 - std::max(0.0, p.test_top1_std));
    top1s.push_back(p.test_top1 + std::max(0.0, p.test_top1_std));
  };
  for (const ReportPoint& p : r.points) {
    energies.push_back(p.energy_mj);
    top1s.push_back(p.predicted_top1);
    if (p.retrained) add_measured(p);
  }
  for (const Baseline& b : r.baselines) {
    energies.push_back(b.energy_mj);
    top1s.push_back(b.top1_mean - b.top1_std);
    top1s.push_back(b.top1_mean + b.top1_std);
  }
  for (const ArmReport& arm : r.arms)
    for (const ReportPoint& p : arm.points) {
      if (!p.retrained) continue;
      energies.push_back(p.energy_mj);
      add_measured(p);
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
constexpr const char* kRandomColour = "#1b9e77";
constexpr const char* kScaledColour = "#e7298a";

const char* arm_colour(const ArmReport& arm) { return arm.arm == "scaled" ? kScaledColour : kRandomColour; }

// An arm's marker centred on (0, 0): a triangle for random, a diamond for scaled.
std::string arm_marker(const ArmReport& arm) {
  return arm.arm == "scaled" ? "<path d=\"M0,-5 L5,0 L0,5 L-5,0 Z\"/>" : "<path d=\"M0,-5 L4.5,3.5 L-4.5,3.5 Z\"/>";
}

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
    for (int move = 0; move < kMaxMoves &&
                       std::any_of(placed.begin(), placed.end(), [&](const LabelBox& p) { return box.overlaps(p); });
         ++move) {
      box.y0 += kLineHeight;
      box.y1 += kLineHeight;
    }
    placed.push_back(box);
    boxes[i] = box;
  }
  return boxes;
}

// A retrained point's seed std as a vertical bar through its mean test top-1 (none for one run).
void svg_std_bar(std::ostringstream& svg, const PlotFrame& f, const ReportPoint& p, const char* colour) {
  if (p.test_top1_std <= 0) return;
  const double x = f.x(p.energy_mj);
  svg << "<line class=\"std\" x1=\"" << num(x) << "\" y1=\"" << num(f.y(p.test_top1 - p.test_top1_std)) << "\" x2=\""
      << num(x) << "\" y2=\"" << num(f.y(p.test_top1 + p.test_top1_std)) << "\" stroke=\"" << colour << "\"/>";
}

// `budget`: the budget text, empty for none (no entry); an entry per arm.
void svg_legend(std::ostringstream& svg, double x, double y, const std::string& budget,
                const std::vector<ArmReport>& arms) {
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
       "searched, retrained: measured test top-1"},
      {string_printf("<rect x=\"7\" y=\"-4\" width=\"8\" height=\"8\" fill=\"%s\"/>", kBaselineColour),
       "baselines (mean, std)"},
      {string_printf("<line x1=\"11\" y1=\"-7\" x2=\"11\" y2=\"7\" stroke=\"%s\" stroke-dasharray=\"3 3\"/>",
                     kBudgetColour),
       "energy budget " + budget}};
  if (budget.empty()) entries.pop_back();
  for (const ArmReport& arm : arms)
    entries.push_back({string_printf("<g transform=\"translate(11 0)\" fill=\"%s\">%s</g>", arm_colour(arm),
                                     arm_marker(arm).c_str()),
                       arm.arm + " arm: measured test top-1 (mean, std)"});
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
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  const std::string title =
      "Pareto report: " + r.dataset + ", budget " + budget_text(r) + " (" + energy_model_text(r.energy_model) + ")";
  svg << "<title>" << xml_escape(title) << "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text class=\"title\" x=\"" << num(f.left) << "\" y=\"28\" font-size=\"15\">" << xml_escape(title)
      << "</text>\n";
  svg_axes(svg, f);

  if (r.budget_mj) {
    const double x = f.x(*r.budget_mj);
    svg << "<line class=\"budget\" x1=\"" << num(x) << "\" y1=\"" << num(f.top) << "\" x2=\"" << num(x) << "\" y2=\""
        << num(f.bottom) << "\" stroke=\"" << kBudgetColour << "\" stroke-dasharray=\"3 3\"/>\n"
        << "<text class=\"budget-label\" x=\"" << num(x - 4) << "\" y=\"" << num(f.top + 14)
        << "\" text-anchor=\"end\" fill=\"" << kBudgetColour << "\">budget " << xml_escape(budget_text(r))
        << "</text>\n";
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
  for (const size_t i : points_by_energy(r, true)) {
    const ReportPoint& p = r.points[i];
    const double x = f.x(p.energy_mj), y = f.y(p.test_top1);
    svg_std_bar(svg, f, p, kMeasuredColour);
    svg << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"4\""
        << (p.on_measured_front ? "" : " fill-opacity=\"0.45\"") << "/><text x=\"" << num(x + 6) << "\" y=\""
        << num(y - 6) << "\" font-size=\"10\">" << point_label(p) << "</text>\n";
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
  for (const ArmReport& arm : r.arms) {
    svg << "<g class=\"arm-" << arm.arm << "\" fill=\"" << arm_colour(arm) << "\">\n";
    for (const ReportPoint& p : arm.points) {
      if (!p.retrained) continue;
      const double x = f.x(p.energy_mj), y = f.y(p.test_top1);
      svg_std_bar(svg, f, p, arm_colour(arm));
      svg << "<g transform=\"translate(" << num(x) << " " << num(y) << ")\">" << arm_marker(arm) << "</g><text x=\""
          << num(x + 6) << "\" y=\"" << num(y + 12) << "\" font-size=\"10\">" << arm_point_label(arm, p) << "</text>\n";
    }
    svg << "</g>\n";
  }
  svg_legend(svg, f.right + 24, f.top + 10, r.budget_mj ? budget_text(r) : std::string(), r.arms);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nas::report
