#pragma once
// FNV-1a, 64 bit: a small non-cryptographic hash of bytes (file checksums, per-name seeds).
#include <cstdint>
#include <string_view>

namespace nas {

inline uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;  // offset basis
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;  // prime
  }
  return h;
}

}  // namespace nas
