#include "evolution/scored_arch.h"

#include <cmath>

#include "core/error.h"
#include "search_space/strict_json.h"

namespace nas {

json ScoredArch::to_json() const {
  return {{"arch", arch.to_json()},
          {"key", key},
          {"predicted_top1", predicted_top1},
          {"energy_mj", energy_mj}};
}

ScoredArch ScoredArch::from_json(const json& j, const std::string& where) {
  strict::check_fields(j, where, "", {"arch", "energy_mj", "key", "predicted_top1"});
  ScoredArch s;
  s.arch = ArchConfig::from_json(j.at("arch"), where + ": arch");
  const json& key = j.at("key");
  NAS_CHECK(key.is_string() && key.get<std::string>() == s.arch.key(),
            where << ": key " << json_excerpt(key) << " does not match the architecture");
  s.key = key.get<std::string>();
  s.predicted_top1 = strict::get_number(j, "predicted_top1", where, "");
  NAS_CHECK(s.predicted_top1 >= 0 && s.predicted_top1 <= 1,
            where << ": predicted_top1 must be in [0, 1], got " << s.predicted_top1);
  s.energy_mj = strict::get_number(j, "energy_mj", where, "");
  NAS_CHECK(std::isfinite(s.energy_mj) && s.energy_mj >= 0,
            where << ": energy_mj must be finite and >= 0, got " << s.energy_mj);
  return s;
}

}  // namespace nas
