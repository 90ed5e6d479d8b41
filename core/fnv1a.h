#pragma once
// FNV-1a, 64 bit: a small non-cryptographic hash of bytes (file checksums, fingerprints).
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace nas {

// The standard FNV-1a 64 offset basis (0xcbf29ce484222325).
constexpr uint64_t kFnv1a64OffsetBasis = 14695981039346656037ULL;
// The basis the first format versions used (the standard one with its last digit missing):
// still needed to read those files (tiny_model.nasm version 1, checkpoints version 3) and for
// the per-layer initialisation seeds, which must not change (trained results reproduce).
constexpr uint64_t kFnv1a64LegacyBasis = 1469598103934665603ULL;

inline uint64_t fnv1a64(std::string_view bytes, uint64_t basis = kFnv1a64OffsetBasis) {
  uint64_t h = basis;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;  // prime
  }
  return h;
}

inline uint64_t fnv1a64_legacy(std::string_view bytes) { return fnv1a64(bytes, kFnv1a64LegacyBasis); }

// "fnv1a64:<16 lowercase hex digits>": the checksum / fingerprint text our JSON files carry.
inline std::string fnv1a64_text(std::string_view bytes) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes)));
  return std::string("fnv1a64:") + hex;
}

}  // namespace nas
