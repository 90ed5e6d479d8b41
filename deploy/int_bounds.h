#pragma once
// The overflow proof of an integer step: from the magnitude bound of its inputs (the clamp of the
// step that wrote them; 255 for the centred image) and its own weights, the worst case of |acc|
// and of the requantization's |v|. Saturating arithmetic: a bound that does not fit int64 reads
// INT64_MAX and is refused. The quantizer sizes accumulators with it and the .nasq reader redoes
// it on what the file says.
#include <cstdint>

#include "deploy/int_model.h"

namespace nas::deploy {

constexpr int64_t kMaxRequantBound = int64_t{1} << 62;

struct StepBounds {
  int64_t acc_bound = 0;
  int64_t requant_bound = 0;
};

// pool_positions: H x W of a pool's input (ignored for other steps).
StepBounds step_bounds(const IntStep& step, int64_t in_magnitude, int64_t in2_magnitude, int64_t pool_positions = 0);

}  // namespace nas::deploy
