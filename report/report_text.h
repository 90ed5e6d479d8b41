#pragma once
// Text shared by the Markdown and the SVG writers of a ParetoReport.
#include <string>
#include <vector>

#include "report/pareto_report.h"

namespace nas::report {

// An energy per image in the unit the tables use ("38.26 uJ", "1.2 mJ").
std::string energy_text(double mj);
// The budget as energy text, "none" without one.
std::string budget_text(const ParetoReport& report);
// The energy model as text: "eyeriss, table eyeriss-45nm, 32-bit".
std::string energy_model_text(const json& model);
// "P<point_index>": the name a point has in every table and plot.
std::string point_label(const ReportPoint& point);
// "R3" / "S3": a point of the random / scaled arm (searched points are "P3").
std::string arm_point_label(const ArmReport& arm, const ReportPoint& point);
// The labels of report.points[indices], comma-separated; "none" when empty.
std::string point_labels(const ParetoReport& report, const std::vector<size_t>& indices);

}  // namespace nas::report
