#pragma once
// pareto.json, the Pareto set of a search (written by nas_search, read by nas_retrain --pareto and
// nas_report): the one reader and the one writer of the file. Torch-free.
// (docs/DESIGN.md, "artifacts/")
//
//   {context (schema_version 1), objective, budget_mj (number | null), budget_binds, budget_note,
//    energy_model {tier, bits, table, ...}, energy_range, space, predictor, search,
//    supernet (string | null), population [{key, predicted_top1, energy_mj}], points_note,
//    points [{key, arch, predicted_top1, energy_mj, macs, params, per_op_energy_mj {op: mJ}}]}
//
// Units: predicted_top1 is a top-1 in PERCENT in the file and in these structs (the field names
// say so: predicted_top1_percent); the search scores fractions (evolution/scored_arch.h) and
// top1_percent() is the one conversion. energy_mj is per image, the search's energy model.
//
// Older versions (read_pareto_file is the one place that reads them): files without `population`
// (nas_search before the plot) read with none; a file without a context block is a hand-made
// points list {supernet, points [{key, arch, predicted_top1, energy_mj}]} (points_only). Every
// committed results/ file reads (tests/test_artifacts.cc).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/arch_config.h"

namespace nas::artifacts {

// Largest pareto.json read (a 100-point population is ~200 kB) and most points.
constexpr uint64_t kMaxParetoFileBytes = uint64_t{64} << 20;
constexpr size_t kMaxParetoPoints = 100000;

// A top-1 accuracy as a fraction (0..1, the search's scores) in percent (the files' unit).
inline double top1_percent(double fraction) { return 100.0 * fraction; }

struct ParetoPoint {
  std::string key;  // arch.key()
  ArchConfig arch;
  double predicted_top1_percent = 0;
  double energy_mj = 0;
  int64_t macs = 0, params = 0;
  json per_op_energy_mj = json::object();  // {op: mJ per image}
};

struct PopulationEntry {
  std::string key;
  double predicted_top1_percent = 0, energy_mj = 0;
};

struct ParetoFile {
  // Set by the reader: the file read and fnv1a64_text of its bytes (nas_retrain's summary records
  // it, nas_report checks it).
  std::string path, fingerprint;
  // A hand-made points list (no context block): objective, budget, energy model and the points'
  // macs / params / per-op energies are absent. nas_retrain --pareto reads it; nas_report does not.
  bool points_only = false;
  std::string objective;               // "pareto" | "max-accuracy"
  std::optional<double> budget_mj;     // none: unbudgeted
  json energy_model = json::object();  // {tier, ...} as the search's model describes itself
  std::string supernet;                // the supernet directory the predictor's data came from; "" none
  std::vector<ParetoPoint> points;     // the front, ascending energy as the search wrote it
  std::optional<std::vector<PopulationEntry>> population;  // none: an older file
  // The search's own description, written and read as it is (budget_binds, budget_note,
  // energy_range, space, predictor, search).
  json search_details = json::object();
};

// Reads and checks path: sizes bounded, duplicate JSON keys refused (core reader), every point's
// key the key of its arch, keys unique, top-1 in 0..100, energies > 0. Throws nas::Error naming
// the file and the field.
ParetoFile read_pareto_file(const std::string& path);

// The JSON of `file` after `context` (its path and fingerprint are not written).
json pareto_file_to_json(const ParetoFile& file, const json& context);

// Writes pareto_file_to_json atomically to path.
void write_pareto_file(const std::string& path, const ParetoFile& file, const json& context);

}  // namespace nas::artifacts
