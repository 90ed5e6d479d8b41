#pragma once
// EyerissModel: the per-layer row-stationary dataflow model of energy-model.md (tier "eyeriss").
// For one layer it enumerates every tiling, keeps the valid ones, costs each (access counts x unit
// energies) and picks the one minimising (E - Emin)/Emax + (L - Lmin)/Lmax, the first in
// enumeration order on ties. No caching here; EnergyModel caches per layer.
//
// Where energy-model.md is silent, this implementation decides:
//   order      each factor list is the ordered tuples of divisors in lexicographic order (first
//              factor slowest, ascending); tilings are enumerated N, then M, then C, then E
//   ties       objectives within 1e-12 (the objective lies in [0, 2]) count as equal, so that
//              rounding never decides between tilings of the same energy and latency
//   E == 1     a single output row cannot satisfy "E1 != 1", so such layers (a global pool, a
//              1x1 map) are treated like FC layers, as the spec does for H = W = E = F = 1
//   groups     grouped convolutions generalise the depthwise rule: N := N*g, C := C/g, M := M/g
//   pools      channel-wise like depthwise (N := N*C, C = M = 1), memory energies of the Conv
//              row, no compute energy; their reported MACs are 0 (LayerSpec::macs)
//   op kinds   an FC layer whose op is Shift or Add is costed with that op's energies
//   no tiling  a layer for which no tiling is valid (e.g. a kernel row wider than the input RF)
//              is an error naming the layer
#include <cstdint>

#include "predictors/energy_report.h"
#include "predictors/energy_table.h"
#include "search_space/layer_spec.h"

namespace nas {

class EyerissModel {
 public:
  explicit EyerissModel(EnergyTable table);

  const EnergyTable& table() const { return table_; }

  // Costs one (validated) layer at `bits` precision for a batch of `batch` images. Throws
  // nas::Error naming the layer when the table lacks the precision or no tiling is valid.
  // Thread-safe (per-thread scratch buffers).
  LayerEnergy cost(const LayerSpec& layer, int bits, int64_t batch) const;

 private:
  EnergyTable table_;
};

}  // namespace nas
