#pragma once
// Little-endian 64-bit integers in byte strings: the length and checksum fields of our file
// formats (tiny_model.nasm, checkpoint trailers).
#include <cstddef>
#include <cstdint>
#include <string>

namespace nas {

inline void append_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// The 8 bytes at `pos` (the caller checks pos + 8 <= in.size()).
inline uint64_t read_u64_le(const std::string& in, size_t pos) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[pos + static_cast<size_t>(i)])) << (8 * i);
  return v;
}

}  // namespace nas
