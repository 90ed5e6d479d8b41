#pragma once
// The Markdown summary of a ParetoReport (torch-free; docs/DESIGN.md, "report/").
#include <string>

#include "report/pareto_report.h"

namespace nas::report {

// The Markdown summary: a table (points, then baselines) and the claims in sentences.
std::string report_to_markdown(const ParetoReport& report);

}  // namespace nas::report
