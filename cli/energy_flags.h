#pragma once
// The energy flags of the programs that cost architectures against a budget (nas_search,
// nas_arms), each defined once:
//   --budget E                        energy budget per image ("35uJ", core/energy_units.h)
//   --budget-from-baseline NAME[:OP]  the budget is that hand-made network's exact energy
//                                     (search_space/space_baseline.h: built for the space's
//                                     input, the space's op unless :OP) under the same energy
//                                     model, so "at <= its energy" cannot slip by rounding: the
//                                     network itself, when it is in the space, is within it
//   --energy-model eyeriss|unit  --energy-table FILE  --bits 32|8  --energy-batch N
// --budget and --budget-from-baseline exclude each other; neither: no budget.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "cli/cli_common.h"
#include "core/json_util.h"
#include "evolution/energy_scorer.h"
#include "predictors/energy_model.h"
#include "search_space/arch_space.h"
#include "search_space/space_baseline.h"

namespace nas::cli {

struct EnergyFlags {
  std::string budget;                // --budget text
  std::string budget_from_baseline;  // --budget-from-baseline NAME[:OP]
  std::string energy_model = "eyeriss";
  std::string energy_table;
  int bits = 32;
  int64_t energy_batch = 1;
};

void add_energy_flags(po::options_description& desc, EnergyFlags& flags);

// Before any file is read: --bits, --energy-batch, --energy-model, --budget's text and the
// exclusion of the two budget flags. Errors name the flags.
void check_energy_flags(const EnergyFlags& flags);

// The energy model the flags describe (the table: --energy-table, then $NAS_ENERGY_TABLE, then
// the built-in one).
EnergyModelOptions energy_model_options(const EnergyFlags& flags);
EnergyTable energy_table(const EnergyFlags& flags);

struct Budget {
  double budget_mj = std::numeric_limits<double>::infinity();  // infinity: none
  std::optional<SpaceBaseline> baseline;                       // --budget-from-baseline

  // {"from": "none" | "--budget" | "--budget-from-baseline", "text" (--budget's),
  //  "baseline" {"name", "op", "key", "energy_mj", "in_space"}}
  json to_json(const std::string& text) const;
  // "" | "the exact energy of mbv2-micro:shift (in the space)"
  std::string note() const;
};

// The budget of the flags: --budget parsed, or --budget-from-baseline's network costed by
// `energy` (the scorer the search uses: the budget is bit for bit that network's energy).
Budget resolve_budget(const EnergyFlags& flags, const ArchSpace& space, const EnergyScorer& energy);

}  // namespace nas::cli
