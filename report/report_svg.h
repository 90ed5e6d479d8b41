#pragma once
// The SVG plot of a ParetoReport (torch-free; docs/DESIGN.md, "report/").
#include <string>

#include "report/pareto_report.h"

namespace nas::report {

// A self-contained SVG: top-1 (%) vs energy (mJ, log axis); population grey, predicted front
// dashed, measured points and front solid, baselines labelled squares, the budget a vertical line.
std::string report_to_svg(const ParetoReport& report);

}  // namespace nas::report
