#include "deploy/int_bounds.h"

#include <algorithm>
#include <limits>

namespace nas::deploy {
namespace {

constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();

int64_t sat_add(int64_t a, int64_t b) {
  int64_t out;
  return __builtin_add_overflow(a, b, &out) ? kSaturated : out;
}
int64_t sat_mul(int64_t a, int64_t b) {
  int64_t out;
  return __builtin_mul_overflow(a, b, &out) ? kSaturated : out;
}
int64_t magnitude(int64_t v) { return v == std::numeric_limits<int64_t>::min() ? kSaturated : v < 0 ? -v : v; }

// |acc| bound of output channel o of a conv step.
int64_t conv_channel_bound(const IntStep& s, int64_t o, int64_t in_mag) {
  const int64_t per_channel = static_cast<int64_t>(s.weight.size()) / std::max<int64_t>(s.c_out, 1);
  int64_t bound = 0;
  for (int64_t k = 0; k < per_channel; ++k) {
    const int64_t w = s.weight[static_cast<size_t>(o * per_channel + k)];
    int64_t term = 0;
    if (s.op == OpKind::Mult) term = sat_mul(magnitude(w), in_mag);
    if (s.op == OpKind::Shift) term = w == 0 ? 0 : sat_mul(in_mag, int64_t{1} << std::min<int64_t>(magnitude(w) - 1, 62));
    if (s.op == OpKind::Add) term = sat_add(in_mag, magnitude(w));
    bound = sat_add(bound, term);
  }
  return bound;
}

int64_t requant_channel_bound(const IntStep& s, int64_t c, int64_t acc) {
  int64_t gain = 0;
  if (s.multiplier_mode) {
    gain = magnitude(s.multiplier[static_cast<size_t>(c)]);
  } else {
    for (int t = 0; t < s.terms; ++t) {
      const int code = s.term_code[static_cast<size_t>(c * s.terms + t)];
      if (code != 0) gain = sat_add(gain, int64_t{1} << std::min(code < 0 ? -code - 1 : code - 1, 62));
    }
  }
  const int r = s.rshift[static_cast<size_t>(c)];
  return sat_add(sat_add(sat_mul(acc, gain), magnitude(s.bias[static_cast<size_t>(c)])), r > 0 ? int64_t{1} << (r - 1) : 0);
}

int64_t rescaled(int64_t mag, int shift) {
  return shift >= 0 ? (mag >> shift) + 1 : sat_mul(mag, int64_t{1} << -shift);
}

}  // namespace

StepBounds step_bounds(const IntStep& s, int64_t in_mag, int64_t in2_mag, int64_t pool_positions) {
  StepBounds b;
  if (s.kind == StepKind::Residual) {
    b.acc_bound = sat_add(rescaled(in_mag, s.shift_a), rescaled(in2_mag, s.shift_b));
    b.requant_bound = b.acc_bound;
    return b;
  }
  const bool sizes_ok = s.bias.size() == static_cast<size_t>(s.c_out) && s.rshift.size() == s.bias.size() &&
                        (s.multiplier_mode ? s.multiplier.size() == s.bias.size()
                                           : s.term_code.size() == s.bias.size() * static_cast<size_t>(std::max(s.terms, 0)));
  if (!sizes_ok) return {kSaturated, kSaturated};
  for (int64_t c = 0; c < s.c_out; ++c) {
    const int64_t acc = s.kind == StepKind::Pool ? sat_mul(in_mag, pool_positions) : conv_channel_bound(s, c, in_mag);
    b.acc_bound = std::max(b.acc_bound, acc);
    b.requant_bound = std::max(b.requant_bound, requant_channel_bound(s, c, acc));
  }
  return b;
}

}  // namespace nas::deploy
