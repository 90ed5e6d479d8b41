#pragma once
// ScoredArch: an architecture of the search with its two objectives, as the population, the
// search state and the Pareto report hold it.
#include <string>

#include "core/json_util.h"
#include "search_space/arch_config.h"

namespace nas {

struct ScoredArch {
  ArchConfig arch;
  std::string key;             // arch.key(): dedup and the search's tie-breaker
  double predicted_top1 = 0;   // the accuracy scorer's prediction, in [0, 1]
  double energy_mj = 0;        // the energy scorer's energy per image, finite, >= 0

  // {"arch": <canonical ArchConfig JSON>, "key", "predicted_top1", "energy_mj"}
  json to_json() const;
  // Strict; checks that key == arch.key(), predicted_top1 in [0, 1] and energy_mj finite and
  // >= 0. `where` prefixes errors (e.g. "search state 'x.json': population[3]").
  static ScoredArch from_json(const json& j, const std::string& where);
};

}  // namespace nas
