#pragma once
// Which points of a Pareto set nas_retrain --pareto retrains (--top, --spread, --keys, --all):
// pure functions of the points, torch-free. (docs/DESIGN.md, "workflow/")
#include <string>
#include <vector>

namespace nas::workflow {

// What selection needs of a point.
struct SelectablePoint {
  std::string key;
  double predicted_top1_percent = 0;
  double energy_mj = 0;
};

struct PointSelection {
  int top = 0;                    // > 0: the best predicted (ties: the cheaper, then the earlier)
  int spread = 0;                 // > 0: the nearest to K energies evenly spaced on a log scale
  std::vector<std::string> keys;  // not empty: these points, in this order, each once
  // None of the above: every point.
  std::string name() const;  // "top N", "spread K", "keys", "all" (retrain_summary's selection)
};

// The indices of the chosen points: ascending for top / spread / all, the keys' order for keys.
// Throws nas::Error "--keys: KEY is not a point of SOURCE" for a key that is not a point.
std::vector<size_t> select_points(const std::vector<SelectablePoint>& points, const PointSelection& selection,
                                  const std::string& source);

}  // namespace nas::workflow
