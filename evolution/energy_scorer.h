#pragma once
// EnergyScorer: what the search sees of an energy predictor: the energy of one inference of one
// image, in mJ. ModelEnergyScorer puts the energy model of predictors/ behind it; tests use mock
// scorers that are plain functions of the ArchConfig (NNI style).
#include "core/json_util.h"
#include "predictors/energy_model.h"
#include "search_space/arch_config.h"

namespace nas {

class EnergyScorer {
 public:
  virtual ~EnergyScorer() = default;

  // Energy per image in mJ: finite and >= 0, deterministic (the same architecture gives the same
  // value; the search's exact resume relies on it). Called concurrently from TBB workers, so it
  // must be thread-safe. Every architecture is in the search space.
  virtual double energy_mj(const ArchConfig& arch) const = 0;

  // Identifies the scorer in the search state and pareto.json; a resumed search refuses a state
  // made with a scorer that describes itself differently. {} when there is nothing to say.
  virtual json describe() const { return json::object(); }
};

// energy_mj(arch) = model.total_energy_mj(to_layer_specs(arch, bits)) / batch, where bits is the
// model's options().bits, or 32 when that is 0 (each layer's own precision: to_layer_specs gives
// every layer `bits`). For batch > 1 this is the amortised energy per image of a batch.
// Keeps a reference: the model must outlive the scorer. Thread-safe as the model is.
class ModelEnergyScorer : public EnergyScorer {
 public:
  explicit ModelEnergyScorer(const EnergyModel& model);

  double energy_mj(const ArchConfig& arch) const override;
  // {"tier": "eyeriss", "table": {"name", "version"}, "bits": 32, "batch": 1}
  json describe() const override;

  // The precision every layer is costed at.
  int bits() const { return bits_; }

 private:
  const EnergyModel& model_;
  int bits_;
};

}  // namespace nas
