#include "evolution/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace nas {

namespace {

void check_finite(const std::vector<ParetoPoint>& points, const char* who) {
  for (size_t i = 0; i < points.size(); ++i)
    NAS_CHECK(std::isfinite(points[i].top1) && std::isfinite(points[i].energy_mj),
              who << ": point " << i << " is not finite (top1 " << points[i].top1 << ", energy "
                  << points[i].energy_mj << " mJ)");
}

}  // namespace

bool dominates(const ParetoPoint& a, const ParetoPoint& b) {
  const bool no_worse = a.top1 >= b.top1 && a.energy_mj <= b.energy_mj;
  const bool better = a.top1 > b.top1 || a.energy_mj < b.energy_mj;
  return no_worse && better;
}

std::vector<std::vector<size_t>> non_dominated_sort(const std::vector<ParetoPoint>& points) {
  check_finite(points, "non_dominated_sort");
  // Every dominator of a point comes before it in (energy ascending, top-1 descending) order, so
  // in that order each point's front is known once it is reached: the first front none of whose
  // members dominates it. A point dominated by a member of front k is dominated by one of every
  // front below k (transitivity), so that front is found by binary search. Within a front, in
  // this order, top-1 only rises (equal top-1 means an equal point), so its last member is the
  // one that decides whether the front dominates a later point.
  const size_t n = points.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return points[a].energy_mj != points[b].energy_mj ? points[a].energy_mj < points[b].energy_mj
                                                      : points[a].top1 > points[b].top1;
  });
  std::vector<size_t> last_of_front;  // the member of each front reached last
  std::vector<size_t> front_of(n);
  for (const size_t i : order) {
    const auto first_free = std::partition_point(last_of_front.begin(), last_of_front.end(),
                                                 [&](size_t last) { return dominates(points[last], points[i]); });
    front_of[i] = static_cast<size_t>(first_free - last_of_front.begin());
    if (first_free == last_of_front.end())
      last_of_front.push_back(i);
    else
      *first_free = i;
  }
  std::vector<std::vector<size_t>> fronts(last_of_front.size());
  for (size_t i = 0; i < n; ++i) fronts[front_of[i]].push_back(i);  // ascending within each front
  return fronts;
}

std::vector<double> crowding_distance(const std::vector<ParetoPoint>& points,
                                      const std::vector<size_t>& front) {
  check_finite(points, "crowding_distance");
  for (size_t i : front)
    NAS_CHECK(i < points.size(), "crowding_distance: index " << i << " is outside the "
                                                             << points.size() << " points");
  const double inf = std::numeric_limits<double>::infinity();
  const size_t m = front.size();
  std::vector<double> distance(m, 0.0);
  if (m <= 2) return std::vector<double>(m, inf);
  using Objective = double (*)(const ParetoPoint&);
  const Objective objectives[] = {[](const ParetoPoint& p) { return p.top1; },
                                  [](const ParetoPoint& p) { return p.energy_mj; }};
  for (const Objective value : objectives) {
    std::vector<size_t> order(m);  // positions in `front`
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const double va = value(points[front[a]]), vb = value(points[front[b]]);
      return va != vb ? va < vb : front[a] < front[b];
    });
    const double lo = value(points[front[order.front()]]);
    const double hi = value(points[front[order.back()]]);
    distance[order.front()] = inf;
    distance[order.back()] = inf;
    if (hi == lo) continue;
    for (size_t k = 1; k + 1 < m; ++k)
      distance[order[k]] +=
          (value(points[front[order[k + 1]]]) - value(points[front[order[k - 1]]])) / (hi - lo);
  }
  return distance;
}

std::vector<size_t> nsga2_order(const std::vector<ParetoPoint>& points) {
  const std::vector<std::vector<size_t>> fronts = non_dominated_sort(points);
  std::vector<size_t> order;
  order.reserve(points.size());
  for (const std::vector<size_t>& front : fronts) {
    const std::vector<double> distance = crowding_distance(points, front);
    std::vector<size_t> positions(front.size());
    std::iota(positions.begin(), positions.end(), size_t{0});
    // front is ascending, so position order is index order.
    std::stable_sort(positions.begin(), positions.end(),
                     [&](size_t a, size_t b) { return distance[a] > distance[b]; });
    for (size_t p : positions) order.push_back(front[p]);
  }
  return order;
}

double hypervolume_2d(const std::vector<ParetoPoint>& points, double reference_energy_mj,
                      double reference_top1) {
  check_finite(points, "hypervolume_2d");
  NAS_CHECK(std::isfinite(reference_energy_mj) && std::isfinite(reference_top1),
            "hypervolume_2d: the reference point must be finite, got energy "
                << reference_energy_mj << " mJ, top1 " << reference_top1);
  std::vector<ParetoPoint> inside;
  for (const ParetoPoint& p : points)
    if (p.energy_mj < reference_energy_mj && p.top1 > reference_top1) inside.push_back(p);
  std::sort(inside.begin(), inside.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    return a.energy_mj != b.energy_mj ? a.energy_mj < b.energy_mj : a.top1 > b.top1;
  });
  // The staircase: sweeping energy upwards, the points that raise the best top-1. Dominated
  // points are left out rather than adding zero-height steps, so that the same front gives the
  // same sum, bit for bit, whatever dominated points come with it.
  std::vector<ParetoPoint> steps;
  for (const ParetoPoint& p : inside)
    if (steps.empty() || p.top1 > steps.back().top1) steps.push_back(p);
  double area = 0.0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const double next_energy = i + 1 < steps.size() ? steps[i + 1].energy_mj : reference_energy_mj;
    area += (next_energy - steps[i].energy_mj) * (steps[i].top1 - reference_top1);
  }
  return area;
}

std::vector<size_t> pareto_front_indices(const std::vector<ParetoPoint>& points) {
  check_finite(points, "pareto_front_indices");
  // O(n log n) sweep (the search calls this on whole enumerated spaces in tests): in energy order,
  // a point is non-dominated iff it has the best top-1 of its energy and beats every point of
  // strictly lower energy.
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return points[a].energy_mj != points[b].energy_mj ? points[a].energy_mj < points[b].energy_mj
                                                      : points[a].top1 > points[b].top1;
  });
  std::vector<size_t> front;
  double best_lower = -std::numeric_limits<double>::infinity();
  for (size_t g = 0; g < order.size();) {
    const double energy = points[order[g]].energy_mj;
    const double group_best = points[order[g]].top1;  // the group is sorted top-1 descending
    size_t end = g;
    for (; end < order.size() && points[order[end]].energy_mj == energy; ++end)
      if (points[order[end]].top1 == group_best && group_best > best_lower)
        front.push_back(order[end]);
    best_lower = std::max(best_lower, group_best);
    g = end;
  }
  std::sort(front.begin(), front.end());
  return front;
}

}  // namespace nas
