#pragma once
// Pareto utilities for the search's two objectives: predicted top-1 accuracy (higher is better)
// and energy per image (lower is better). Plain points in, indices out; torch- and TBB-free.
//
// Ties: every function that orders points breaks ties by index, so callers that want a
// particular tie order (the search: ArchConfig keys) pass the points in that order.
// All inputs must be finite (NaN would make dominance non-transitive); checked, nas::Error.
#include <cstddef>
#include <vector>

namespace nas {

struct ParetoPoint {
  double top1 = 0.0;       // maximised
  double energy_mj = 0.0;  // minimised
};

// a dominates b: a is at least as good in both objectives and strictly better in one.
// Equal points (the same objectives, whatever else differs) never dominate each other.
bool dominates(const ParetoPoint& a, const ParetoPoint& b);

// NSGA-II fast non-dominated sort (Deb et al. 2002). Front 0 holds the points no other point
// dominates, front k those dominated only by points of fronts < k. Every index 0..n-1 appears in
// exactly one front; indices within a front are ascending. Two objectives allow a sort-based
// assignment (Jensen 2003): O(n log n) time, O(n) memory (10^5 points need a few MB, where the
// O(n^2) dominated lists of the textbook version took gigabytes).
std::vector<std::vector<size_t>> non_dominated_sort(const std::vector<ParetoPoint>& points);

// NSGA-II crowding distance of the members of one front: result[i] belongs to front[i]. Per
// objective the front is ordered by that objective (ties by index); the two end points get
// +infinity and each interior point adds (next - previous) / (max - min) (nothing when
// max == min). Fronts of 1 or 2 points are all +infinity.
std::vector<double> crowding_distance(const std::vector<ParetoPoint>& points,
                                      const std::vector<size_t>& front);

// All indices in NSGA-II order: front ascending, then crowding distance descending (within the
// front), then index ascending. The first k of it are NSGA-II's environmental selection of k.
std::vector<size_t> nsga2_order(const std::vector<ParetoPoint>& points);

// Area dominated by the points and bounded by the reference corner (energy = reference_energy_mj,
// top1 = reference_top1): the measure of { (e, a) : some point p has p.energy_mj <= e <=
// reference_energy_mj and reference_top1 <= a <= p.top1 }. A point with energy >= the reference
// or top1 <= the reference top1 adds nothing; dominated points add nothing. 0 for no points.
double hypervolume_2d(const std::vector<ParetoPoint>& points, double reference_energy_mj,
                      double reference_top1 = 0.0);

// Indices of the non-dominated points (front 0 of non_dominated_sort), ascending; an
// O(n log n) sweep, for large point sets.
std::vector<size_t> pareto_front_indices(const std::vector<ParetoPoint>& points);

}  // namespace nas
