#pragma once
// The energy figures every result file carries for one architecture: mJ per image under both
// tiers of the built-in (or NAS_ENERGY_TABLE) unit table, with the per-op split. One definition
// for nas_retrain, nas_extract and the reports.
#include "core/json_util.h"
#include "search_space/arch_config.h"

namespace nas {

// {"eyeriss_mj", "eyeriss_per_op_mj": {op: mJ}, "unit_mj", "unit_per_op_mj", "table": {...},
//  "bits": 32}
json energy_summary(const ArchConfig& arch, int bits = 32);

}  // namespace nas
