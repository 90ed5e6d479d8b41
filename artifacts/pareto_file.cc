#include "artifacts/pareto_file.h"

#include <map>

#include "artifacts/json_fields.h"
#include "core/error.h"
#include "core/fnv1a.h"

namespace nas::artifacts {

namespace {

constexpr const char* kDetailFields[] = {"budget_binds", "budget_note", "energy_range", "space", "predictor", "search"};

// points_only: the hand-made form (no macs, params, per_op_energy_mj required).
ParetoPoint read_point(const json& p, const std::string& where, bool points_only) {
  ParetoPoint pt;
  pt.key = json_string(p, "key", where);
  pt.arch = ArchConfig::from_json(object_field(p, "arch", where), where + ": arch");
  NAS_CHECK(pt.arch.key() == pt.key,
            where << ": field 'key' " << json_excerpt(json(pt.key)) << " is not the key of its arch");
  pt.predicted_top1_percent = percent(p, "predicted_top1", where);
  pt.energy_mj = positive_number(p, "energy_mj", where);
  if (points_only && !p.contains("macs")) return pt;
  pt.macs = count(p, "macs", where);
  pt.params = count(p, "params", where);
  pt.per_op_energy_mj = object_field(p, "per_op_energy_mj", where);
  for (auto it = pt.per_op_energy_mj.begin(); it != pt.per_op_energy_mj.end(); ++it)
    finite_number(pt.per_op_energy_mj, it.key(), where + ": per_op_energy_mj");
  return pt;
}

std::vector<PopulationEntry> read_population(const json& population, const std::string& path) {
  std::vector<PopulationEntry> entries;
  for (size_t i = 0; i < population.size(); ++i) {
    const std::string where = element(path, "population", i);
    entries.push_back({json_string(population[i], "key", where), percent(population[i], "predicted_top1", where),
                       positive_number(population[i], "energy_mj", where)});
  }
  return entries;
}

void read_search_fields(const json& doc, const std::string& path, ParetoFile& file) {
  file.objective = json_string(doc, "objective", path);
  const auto budget = doc.find("budget_mj");
  NAS_CHECK(budget != doc.end(), path << ": field 'budget_mj' is missing");
  if (!budget->is_null()) file.budget_mj = positive_number(doc, "budget_mj", path);
  file.energy_model = object_field(doc, "energy_model", path);
  json_string(file.energy_model, "tier", path + ": energy_model");
  for (const char* field : kDetailFields)
    if (doc.contains(field)) file.search_details[field] = doc[field];
}

void read_points(const json& points, const std::string& path, ParetoFile& file) {
  NAS_CHECK(points.size() <= kMaxParetoPoints,
            path << ": field 'points' holds " << points.size() << " points, more than " << kMaxParetoPoints);
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string where = element(path, "points", i);
    file.points.push_back(read_point(points[i], where, file.points_only));
    NAS_CHECK(seen.emplace(file.points.back().key, i).second,
              where << ": key " << json_excerpt(json(file.points.back().key)) << " appears twice");
  }
}

}  // namespace

ParetoFile read_pareto_file(const std::string& path) {
  const std::string bytes = read_input(path, "nas_search --out DIR writes DIR/pareto.json", kMaxParetoFileBytes);
  ParetoFile file;
  file.path = path;
  file.fingerprint = fnv1a64_text(bytes);
  const json doc = parse_json_text(bytes, path);
  NAS_CHECK(doc.is_object(), path << ": expected a JSON object (nas_search's pareto.json)");
  // The one place that reads older versions: a file without a context block is a hand-made
  // points list ({supernet, points [{key, arch, predicted_top1, energy_mj}]}, as in
  // results/supernet/diagnostics/); nas_search's files before the plot have no population.
  file.points_only = !doc.contains("context");
  if (!file.points_only) read_search_fields(doc, path, file);
  if (const auto supernet = doc.find("supernet"); supernet != doc.end() && !supernet->is_null())
    file.supernet = json_string(doc, "supernet", path);
  read_points(array_field(doc, "points", path), path, file);
  if (doc.contains("population")) file.population = read_population(array_field(doc, "population", path), path);
  return file;
}

json pareto_file_to_json(const ParetoFile& file, const json& context) {
  json out;
  out["context"] = context;
  out["objective"] = file.objective;
  out["budget_mj"] = file.budget_mj ? json(*file.budget_mj) : json();
  for (const char* field : {"budget_binds", "budget_note"})
    if (file.search_details.contains(field)) out[field] = file.search_details[field];
  out["energy_model"] = file.energy_model;
  for (const char* field : {"energy_range", "space", "predictor", "search"})
    if (file.search_details.contains(field)) out[field] = file.search_details[field];
  out["supernet"] = file.supernet.empty() ? json() : json(file.supernet);
  if (file.population) {
    out["population"] = json::array();
    for (const PopulationEntry& p : *file.population)
      out["population"].push_back(
          {{"key", p.key}, {"predicted_top1", p.predicted_top1_percent}, {"energy_mj", p.energy_mj}});
  }
  out["points_note"] = "predicted_top1 is the predictor's top-1 in %; energy_mj per image";
  out["points"] = json::array();
  for (const ParetoPoint& p : file.points)
    out["points"].push_back({{"key", p.key},
                             {"arch", p.arch.to_json()},
                             {"predicted_top1", p.predicted_top1_percent},
                             {"energy_mj", p.energy_mj},
                             {"macs", p.macs},
                             {"params", p.params},
                             {"per_op_energy_mj", p.per_op_energy_mj}});
  return out;
}

void write_pareto_file(const std::string& path, const ParetoFile& file, const json& context) {
  write_json_file(path, pareto_file_to_json(file, context));
}

}  // namespace nas::artifacts
