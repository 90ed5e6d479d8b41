#include "predictors/energy_summary.h"

#include <string>
#include <vector>

#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_layers.h"

namespace nas {

json energy_summary(const ArchConfig& arch, int bits) {
  const std::vector<LayerSpec> layers = to_layer_specs(arch, bits);
  const EnergyTable table = resolve_energy_table("");
  json energy;
  for (EnergyTier tier : {EnergyTier::Eyeriss, EnergyTier::Unit}) {
    EnergyModelOptions options;
    options.tier = tier;
    options.bits = bits;
    EnergyModel model(table, options);
    const EnergyReport report = model.report(layers);
    const std::string name = energy_tier_name(tier);
    energy[name + "_mj"] = report.energy_per_image_mj();
    json per_op = json::object();
    for (const auto& [key, totals] : report.per_op) per_op[key] = totals.energy_mj;
    energy[name + "_per_op_mj"] = per_op;
    if (tier == EnergyTier::Eyeriss) energy["table"] = energy_table_summary(model.table());
  }
  energy["bits"] = bits;
  return energy;
}

}  // namespace nas
