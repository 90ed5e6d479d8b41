#include "report/report_text.h"

#include "core/energy_units.h"

namespace nas::report {

std::string energy_text(double mj) { return format_energy(mj_to_joules(mj)); }

std::string budget_text(const ParetoReport& report) {
  return report.budget_mj ? energy_text(*report.budget_mj) : "none";
}

std::string point_label(const ReportPoint& point) { return "P" + std::to_string(point.point_index); }

std::string arm_point_label(const ArmReport& arm, const ReportPoint& point) {
  return (arm.arm == "scaled" ? "S" : "R") + std::to_string(point.point_index);
}

std::string point_labels(const ParetoReport& report, const std::vector<size_t>& indices) {
  std::string out;
  for (const size_t i : indices) out += (out.empty() ? "" : ", ") + point_label(report.points[i]);
  return out.empty() ? "none" : out;
}

std::string energy_model_text(const json& model) {
  std::string text = model["tier"].get<std::string>();
  const auto table = model.find("table");
  if (table != model.end() && table->is_object() && table->contains("name") && (*table)["name"].is_string())
    text += ", table " + (*table)["name"].get<std::string>();
  const auto bits = model.find("bits");
  if (bits != model.end() && bits->is_number_integer()) text += ", " + std::to_string(bits->get<int64_t>()) + "-bit";
  return text;
}

}  // namespace nas::report
