#pragma once
// Mean and sample standard deviation of a few values (a figure over seeds). One definition for the
// programs that summarise seeds (nas_retrain --pareto --seeds) and the report that reads them.
#include <vector>

namespace nas {

// The mean of `values` (at least one).
double mean_of(const std::vector<double>& values);
// The sample standard deviation (divisor n - 1) of `values` (at least two).
double sample_std_of(const std::vector<double>& values);

}  // namespace nas
