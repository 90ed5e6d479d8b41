#pragma once
// UnitModel: the plain "unit" tier — energy = MACs x compute energy per MAC of the op kind at the
// precision (Horowitz 45 nm, from the energy table). No memory terms, no latency model.
#include <cstdint>

#include "predictors/energy_report.h"
#include "predictors/energy_table.h"
#include "search_space/layer_spec.h"

namespace nas {

class UnitModel {
 public:
  explicit UnitModel(EnergyTable table);

  const EnergyTable& table() const { return table_; }

  // Pools cost nothing (no arithmetic). latency_ms is 0 (not modelled).
  LayerEnergy cost(const LayerSpec& layer, int bits, int64_t batch) const;

 private:
  EnergyTable table_;
};

}  // namespace nas
