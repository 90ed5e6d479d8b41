#include "predictors/unit_model.h"

#include <optional>
#include <utility>

#include "core/checked_math.h"
#include "core/error.h"

namespace nas {

UnitModel::UnitModel(EnergyTable table) : table_(std::move(table)) {}

LayerEnergy UnitModel::cost(const LayerSpec& layer, int bits, int64_t batch) const {
  NAS_CHECK(batch > 0, "batch must be positive, got " << batch);
  const double pj_per_mac = table_.compute_pj(layer.op, bits);  // also checks bits
  LayerEnergy out;
  const std::optional<int64_t> macs = checked_mul(layer.macs(), batch);  // 0 for pools
  NAS_CHECK(macs, "layer '" << layer.name << "': MACs " << layer.macs() << " x batch " << batch
                            << " overflow 64-bit integers");
  out.macs = *macs;
  out.breakdown.compute_mj = static_cast<double>(out.macs) * pj_per_mac * 1e-9;
  out.energy_mj = out.breakdown.compute_mj;
  return out;
}

}  // namespace nas
