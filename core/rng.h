#pragma once
// Seeded random numbers with a serialisable state, so searches and training resume exactly.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace nas {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}

  uint64_t next_u64() { return engine_(); }
  // Uniform integer in [lo, hi] (inclusive).
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Uniform real in [0, 1).
  double uniform();
  double normal(double mean = 0.0, double stddev = 1.0);
  bool bernoulli(double p) { return uniform() < p; }
  // Index of a uniformly chosen element of a container of `size` elements.
  size_t index(size_t size);

  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[index(i)]);
  }

  // A child seed for an independent stream (e.g. per worker or per epoch).
  uint64_t derive_seed(uint64_t stream);

  // Text form of the full engine state; restore() of it continues the same sequence.
  std::string state() const;
  void restore(const std::string& state);

 private:
  std::mt19937_64 engine_;
};

// Deterministic permutation of 0..n-1 for a seed (and epoch), independent of any other stream.
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

}  // namespace nas
