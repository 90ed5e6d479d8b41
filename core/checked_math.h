#pragma once
// Overflow-checked integer arithmetic for sizes that come from users (layer files, flags, tables).
// A wrapped MAC count turns into a negative or zero energy that then "fits" any budget, so every
// product of user-given sizes goes through these. They return nullopt on overflow and never
// throw, so callers name the layer and field in their own error.
#include <cstdint>
#include <initializer_list>
#include <optional>

namespace nas {

// a * b, or nullopt when the exact product does not fit int64_t.
inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// a + b, or nullopt when the exact sum does not fit int64_t.
inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// Product of all factors (1 for none), or nullopt when any partial product overflows.
inline std::optional<int64_t> checked_product(std::initializer_list<int64_t> factors) {
  int64_t out = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(out, f, &out)) return std::nullopt;
  return out;
}

}  // namespace nas
