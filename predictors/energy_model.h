#pragma once
// EnergyModel: the energy predictor the search and the CLI use. Two tiers — "eyeriss" (default,
// the row-stationary dataflow model of energy-model.md) and "unit" (MACs x unit energy) — at a
// precision and batch, with a per-layer cache keyed by the layer's full description (plus tier,
// bits and batch), so that costing the same layer again never re-runs the tiling search.
//
// Thread safety: cost_layer / report / total_energy_mj may be called concurrently (the cache is a
// concurrent hash map with lock-free lookups); clear_cache() may not run alongside them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "predictors/energy_report.h"
#include "predictors/energy_table.h"
#include "search_space/layer_spec.h"

namespace nas {

enum class EnergyTier { Eyeriss, Unit };

// "eyeriss" | "unit"
const char* energy_tier_name(EnergyTier tier);
// Throws nas::Error listing the accepted tiers.
EnergyTier parse_energy_tier(const std::string& name);

// Largest batch the model accepts: far above a real inference batch, and small enough that
// batch x groups and batch x MACs stay exact.
constexpr int64_t kMaxEnergyBatch = int64_t{1} << 20;

struct EnergyModelOptions {
  EnergyTier tier = EnergyTier::Eyeriss;
  int bits = 0;       // 0: each layer's own LayerSpec::bits; else every layer at this precision
  int64_t batch = 1;  // energies are for the whole batch; 1..kMaxEnergyBatch
};

class EnergyModel {
 public:
  // Throws nas::Error if the options do not fit the table (bits it lacks) or batch is outside
  // 1..kMaxEnergyBatch.
  EnergyModel(EnergyTable table, EnergyModelOptions options = {});
  ~EnergyModel();
  EnergyModel(const EnergyModel&) = delete;
  EnergyModel& operator=(const EnergyModel&) = delete;

  const EnergyModelOptions& options() const;
  const EnergyTable& table() const;

  // The cached cost of one layer; validates the layer the first time it is seen.
  const LayerEnergy& cost_layer(const LayerSpec& layer) const;
  // Full report: per layer, totals, per op kind.
  EnergyReport report(const std::vector<LayerSpec>& layers) const;
  // Total energy only (mJ, whole batch): the search's hot path, no allocation when warm.
  double total_energy_mj(const std::vector<LayerSpec>& layers) const;

  // Per-layer model evaluations so far (cache misses). A cache hit leaves it unchanged.
  int64_t layer_evaluations() const;
  size_t cache_size() const;
  void clear_cache();

  // The precision a layer is costed at under these options.
  int effective_bits(const LayerSpec& layer) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nas
