#include "core/sample_stats.h"

#include <cmath>

#include "core/error.h"

namespace nas {

double mean_of(const std::vector<double>& values) {
  NAS_CHECK(!values.empty(), "mean_of: no values");
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double sample_std_of(const std::vector<double>& values) {
  NAS_CHECK(values.size() >= 2, "sample_std_of: needs at least two values, got " << values.size());
  const double mean = mean_of(values);
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

}  // namespace nas
