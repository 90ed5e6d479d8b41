#include "core/rng.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace nas {

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  NAS_CHECK(lo <= hi, "uniform_int: empty range [" << lo << ", " << hi << "]");
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<int64_t>(next_u64());  // full 64-bit range
  // Rejection sampling: no modulo bias, and identical across standard libraries.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t r;
  do {
    r = next_u64();
  } while (r >= limit);
  return lo + static_cast<int64_t>(r % span);
}

double Rng::uniform() {
  // 53 random bits -> [0, 1); portable, unlike std::uniform_real_distribution.
  return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

double Rng::normal(double mean, double stddev) {
  // Box-Muller on our own uniforms so the sequence is the same with any standard library.
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  return mean + stddev * z;
}

size_t Rng::index(size_t size) {
  NAS_CHECK(size > 0, "Rng::index of an empty range");
  return static_cast<size_t>(uniform_int(0, static_cast<int64_t>(size) - 1));
}

uint64_t Rng::derive_seed(uint64_t stream) {
  // splitmix64 of (next value ^ stream): well-mixed, independent child seeds.
  uint64_t z = next_u64() ^ (stream * 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string Rng::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Rng::restore(const std::string& state) {
  std::istringstream in(state);
  in >> engine_;
  NAS_CHECK(!in.fail(), "Rng::restore: malformed generator state");
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
  Rng rng(seed);
  rng.shuffle(perm);
  return perm;
}

}  // namespace nas
