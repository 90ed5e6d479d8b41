#include "workflow/point_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/json_util.h"

namespace nas::workflow {

namespace {

std::vector<size_t> by_keys(const std::vector<SelectablePoint>& points, const std::vector<std::string>& keys,
                            const std::string& source) {
  std::vector<size_t> chosen;
  for (const std::string& key : keys) {
    size_t i = 0;
    while (i < points.size() && points[i].key != key) ++i;
    NAS_CHECK(i < points.size(), "--keys: " << json_excerpt(key) << " is not a point of " << source);
    if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) chosen.push_back(i);
  }
  return chosen;
}

// The point nearest to each of K energies evenly spaced (log scale) from the cheapest to the
// dearest point: a view of the whole front rather than its top.
std::vector<size_t> by_spread(const std::vector<SelectablePoint>& points, int spread) {
  std::vector<size_t> by_energy(points.size());
  for (size_t i = 0; i < points.size(); ++i) by_energy[i] = i;
  std::stable_sort(by_energy.begin(), by_energy.end(),
                   [&](size_t a, size_t b) { return points[a].energy_mj < points[b].energy_mj; });
  const auto log_energy = [&](size_t i) { return std::log(std::max(points[i].energy_mj, 1e-300)); };
  const double lo = log_energy(by_energy.front()), hi = log_energy(by_energy.back());
  std::vector<size_t> picked;
  for (int k = 0; k < spread; ++k) {
    const double target = spread == 1 ? hi : lo + (hi - lo) * k / (spread - 1);
    size_t best = by_energy.front();
    double best_distance = std::numeric_limits<double>::infinity();
    for (const size_t i : by_energy) {
      if (std::find(picked.begin(), picked.end(), i) != picked.end()) continue;
      const double distance = std::abs(log_energy(i) - target);
      if (distance < best_distance) best_distance = distance, best = i;
    }
    picked.push_back(best);
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

// The best predicted first; ties: the cheaper, then the earlier point.
std::vector<size_t> by_top(const std::vector<SelectablePoint>& points, int top) {
  std::vector<size_t> chosen(points.size());
  for (size_t i = 0; i < points.size(); ++i) chosen[i] = i;
  std::stable_sort(chosen.begin(), chosen.end(), [&](size_t a, size_t b) {
    if (points[a].predicted_top1_percent != points[b].predicted_top1_percent)
      return points[a].predicted_top1_percent > points[b].predicted_top1_percent;
    return points[a].energy_mj < points[b].energy_mj;
  });
  chosen.resize(std::min(chosen.size(), static_cast<size_t>(top)));
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace

std::string PointSelection::name() const {
  if (top > 0) return "top " + std::to_string(top);
  if (spread > 0) return "spread " + std::to_string(spread);
  if (!keys.empty()) return "keys";
  return "all";
}

std::vector<size_t> select_points(const std::vector<SelectablePoint>& points, const PointSelection& selection,
                                  const std::string& source) {
  if (!selection.keys.empty()) return by_keys(points, selection.keys, source);
  if (selection.spread > 0 && static_cast<size_t>(selection.spread) < points.size())
    return by_spread(points, selection.spread);
  if (selection.top > 0) return by_top(points, selection.top);
  std::vector<size_t> all(points.size());
  for (size_t i = 0; i < points.size(); ++i) all[i] = i;
  return all;
}

}  // namespace nas::workflow
