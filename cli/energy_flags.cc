#include "cli/energy_flags.h"

#include <cmath>

#include "core/energy_units.h"
#include "core/error.h"

namespace nas::cli {

void add_energy_flags(po::options_description& desc, EnergyFlags& f) {
  // clang-format off
  desc.add_options()
      ("budget", po::value(&f.budget), "energy budget per image, e.g. 10mJ, 250uJ (default: none)")
      ("budget-from-baseline", po::value(&f.budget_from_baseline),
       "NAME[:OP]: the budget is that hand-made network's exact energy (e.g. mbv2-micro:shift; built for the space's "
       "largest resolution, channels and classes; OP defaults to the space's op); excludes --budget")
      ("energy-model", po::value(&f.energy_model)->default_value(f.energy_model), "eyeriss | unit")
      ("energy-table", po::value(&f.energy_table), "energy table JSON (default: $NAS_ENERGY_TABLE, then the built-in default_v1)")
      ("bits", po::value(&f.bits)->default_value(f.bits), "precision of every layer: 32 | 8")
      ("energy-batch", po::value(&f.energy_batch)->default_value(f.energy_batch), "inference batch the energy is costed at (reported per image)");
  // clang-format on
}

void check_energy_flags(const EnergyFlags& f) {
  NAS_CHECK(f.budget.empty() || f.budget_from_baseline.empty(),
            "give at most one of --budget and --budget-from-baseline");
  NAS_CHECK(f.bits == 32 || f.bits == 8, "--bits must be 32 or 8, got " << f.bits);
  NAS_CHECK(f.energy_batch >= 1 && f.energy_batch <= kMaxEnergyBatch,
            "--energy-batch must be in [1, " << kMaxEnergyBatch << "], got " << f.energy_batch);
  parse_energy_tier(f.energy_model);
  if (!f.budget.empty()) NAS_CHECK(parse_energy_j(f.budget) > 0, "--budget must be > 0, got " << f.budget);
}

EnergyModelOptions energy_model_options(const EnergyFlags& f) {
  EnergyModelOptions o;
  o.tier = parse_energy_tier(f.energy_model);
  o.bits = f.bits;
  o.batch = f.energy_batch;
  return o;
}

EnergyTable energy_table(const EnergyFlags& f) { return resolve_energy_table(f.energy_table); }

json Budget::to_json(const std::string& text) const {
  json j;
  j["from"] = baseline ? "--budget-from-baseline" : std::isinf(budget_mj) ? "none" : "--budget";
  if (!text.empty()) j["text"] = text;
  if (baseline)
    j["baseline"] = {{"name", baseline->name},
                     {"op", op_kind_name(baseline->op)},
                     {"key", baseline->arch.key()},
                     {"energy_mj", budget_mj},
                     {"in_space", baseline->space_violation.empty()}};
  return j;
}

std::string Budget::note() const {
  if (!baseline) return "";
  return "the exact energy of " + baseline->label() +
         (baseline->space_violation.empty() ? " (in the space)"
                                            : " (not in the space: " + baseline->space_violation + ")");
}

Budget resolve_budget(const EnergyFlags& f, const ArchSpace& space, const EnergyScorer& energy) {
  check_energy_flags(f);
  Budget b;
  if (!f.budget.empty()) {
    b.budget_mj = joules_to_mj(parse_energy_j(f.budget));
  } else if (!f.budget_from_baseline.empty()) {
    try {
      b.baseline = space_baseline(f.budget_from_baseline, space);
    } catch (const Error& e) {
      NAS_THROW("--budget-from-baseline: " << e.message());
    }
    b.budget_mj = energy.energy_mj(b.baseline->arch);
    NAS_CHECK(b.budget_mj > 0, "--budget-from-baseline " << b.baseline->label() << ": its energy is " << b.budget_mj
                                                         << " mJ; a budget must be > 0");
  }
  return b;
}

}  // namespace nas::cli
