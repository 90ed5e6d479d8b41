#pragma once
// Value types of the energy model's answers: per-layer results (energy, latency, chosen tiling,
// breakdown by memory level) and the EnergyReport of a whole network.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "search_space/layer_spec.h"

namespace nas {

// Energy by where it is spent, mJ. NoC includes partial-sum traffic; RF includes weight RF.
struct EnergyBreakdown {
  double dram_mj = 0, gb_mj = 0, noc_mj = 0, rf_mj = 0, compute_mj = 0;
  double total_mj() const { return dram_mj + gb_mj + noc_mj + rf_mj + compute_mj; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& o);
};

// One Eyeriss tiling: N = N0*N3, M = M0*M1*M2*M3, C = C0*C1*C2*C3, E = E1*E3 (energy-model.md),
// of the layer as the model sees it (depthwise/grouped layers folded into N).
struct Tiling {
  int32_t n0 = 1, n3 = 1;
  int32_t m0 = 1, m1 = 1, m2 = 1, m3 = 1;
  int32_t c0 = 1, c1 = 1, c2 = 1, c3 = 1;
  int32_t e1 = 1, e3 = 1;
  // "N0=1 N3=1 M0=16 M1=1 M2=4 M3=1 C0=1 C1=4 C2=16 C3=1 E1=8 E3=4"
  std::string str() const;
  bool operator==(const Tiling& o) const;
};

struct LayerEnergy {
  double energy_mj = 0;
  double latency_ms = 0;  // 0 when the tier has no latency model (unit)
  int64_t macs = 0;       // for the whole batch
  EnergyBreakdown breakdown;
  bool has_tiling = false;   // eyeriss tier only
  Tiling tiling;
  int64_t valid_tilings = 0;  // size of the valid set the tiling was chosen from
};

struct LayerReport {
  LayerSpec layer;
  int bits = 32;  // precision it was costed at
  LayerEnergy energy;
};

struct OpTotals {
  double energy_mj = 0, latency_ms = 0;
  int64_t macs = 0;
  int64_t layers = 0;
};

struct EnergyReport {
  std::string model;  // "eyeriss" | "unit"
  std::string table_name, table_version, table_source;
  int bits = 0;       // 0: each layer's own precision
  int64_t batch = 1;
  bool latency_modelled = true;
  double total_energy_mj = 0;  // whole batch
  double total_latency_ms = 0;
  int64_t total_macs = 0;
  EnergyBreakdown breakdown;
  std::vector<LayerReport> layers;
  // Keyed "mult" | "shift" | "add" | "pool" (pools carry no arithmetic).
  std::map<std::string, OpTotals> per_op;

  double energy_per_image_mj() const { return total_energy_mj / static_cast<double>(batch); }
};

// Key of per_op for a layer.
const char* op_totals_key(const LayerSpec& layer);

nlohmann::json breakdown_to_json(const EnergyBreakdown& b);
nlohmann::json tiling_to_json(const Tiling& t);
// {"model": {...}, "total_energy_mj", "total_energy_per_image_mj", "total_latency_ms",
//  "total_macs", "breakdown_mj", "per_op", "layers": [{layer fields..., "energy_mj",
//  "latency_ms", "macs", "breakdown_mj", "tiling"}]}
nlohmann::json report_to_json(const EnergyReport& report);

// A readable per-layer table plus totals.
void print_report_table(std::ostream& os, const EnergyReport& report);

}  // namespace nas
