#pragma once
// FNV-1a, 64 bit: a small non-cryptographic hash of bytes (file checksums, per-name seeds).
#include <cstdint>
#include <cstdio>
#include <string>
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

// "fnv1a64:<16 lowercase hex digits>": the checksum / fingerprint text our JSON files carry.
inline std::string fnv1a64_text(std::string_view bytes) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes)));
  return std::string("fnv1a64:") + hex;
}

}  // namespace nas
