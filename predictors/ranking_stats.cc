#include "predictors/ranking_stats.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace nas {

double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  NAS_CHECK(a.size() == b.size(), "kendall_tau: sequences of different lengths (" << a.size() << " vs "
                                                                                  << b.size() << ")");
  const size_t n = a.size();
  // tau-b = (concordant - discordant) / sqrt((n0 - ties_a) (n0 - ties_b)); a pair tied in both
  // counts in neither.
  double concordant_minus_discordant = 0;
  double untied_a = 0, untied_b = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da != 0) untied_a += 1;
      if (db != 0) untied_b += 1;
      if (da != 0 && db != 0) concordant_minus_discordant += (da > 0) == (db > 0) ? 1 : -1;
    }
  }
  if (untied_a == 0 || untied_b == 0) return std::numeric_limits<double>::quiet_NaN();
  return concordant_minus_discordant / std::sqrt(untied_a * untied_b);
}

double rmse(const std::vector<double>& predicted, const std::vector<double>& measured) {
  NAS_CHECK(predicted.size() == measured.size(), "rmse: sequences of different lengths ("
                                                     << predicted.size() << " vs " << measured.size() << ")");
  NAS_CHECK(!predicted.empty(), "rmse: no values");
  double sum = 0;
  for (size_t i = 0; i < predicted.size(); ++i) sum += (predicted[i] - measured[i]) * (predicted[i] - measured[i]);
  return std::sqrt(sum / static_cast<double>(predicted.size()));
}

}  // namespace nas
