#pragma once
// Agreement between predicted and measured values: what the accuracy predictor reports on its
// hold-out (OFA reports RMSE; NAS benchmarks report Kendall's tau, since the search only needs
// the order to be right).
#include <vector>

namespace nas {

// Kendall's tau-b of two equally long sequences (ties in either sequence handled as in
// scipy.stats.kendalltau's default). O(n^2): meant for hold-outs of a few thousand. NaN when
// either sequence is constant or shorter than 2; throws nas::Error on a length mismatch.
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

// Root mean squared difference; throws nas::Error on a length mismatch or empty input.
double rmse(const std::vector<double>& predicted, const std::vector<double>& measured);

}  // namespace nas
