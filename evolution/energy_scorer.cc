#include "evolution/energy_scorer.h"

#include "predictors/energy_table.h"
#include "search_space/arch_layers.h"

namespace nas {

namespace {
// A LayerSpec's default precision (search_space/layer_spec.h).
constexpr int kDefaultLayerBits = 32;
}  // namespace

ModelEnergyScorer::ModelEnergyScorer(const EnergyModel& model)
    : model_(model), bits_(model.options().bits != 0 ? model.options().bits : kDefaultLayerBits) {}

double ModelEnergyScorer::energy_mj(const ArchConfig& arch) const {
  return model_.total_energy_mj(to_layer_specs(arch, bits_)) /
         static_cast<double>(model_.options().batch);
}

json ModelEnergyScorer::describe() const {
  return {{"tier", energy_tier_name(model_.options().tier)},
          // Name and version identify the numbers; the file they came from does not matter.
          {"table", {{"name", model_.table().name}, {"version", model_.table().version}}},
          {"bits", bits_},
          {"batch", model_.options().batch}};
}

}  // namespace nas
