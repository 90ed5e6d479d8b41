#include "core/sealed_file.h"

#include <cstring>

#include "core/byte_order.h"
#include "core/error.h"
#include "core/fnv1a.h"

namespace nas {

std::string seal(std::string_view magic8, const std::string& header_text, std::string_view data) {
  NAS_CHECK(magic8.size() == 8, "seal: the magic must be 8 bytes");
  std::string out(magic8);
  append_u64_le(out, header_text.size());
  out += header_text;
  out += data;
  append_u64_le(out, fnv1a64(out));
  return out;
}

SealedFile open_sealed(const std::string& bytes, std::string_view magic8, const std::string& where,
                       const std::string& what, const std::string& writer) {
  NAS_CHECK(bytes.size() >= 24 && std::memcmp(bytes.data(), magic8.data(), 8) == 0,
            where << ": not " << what << " file (bad magic; expected one written by " << writer << ")");
  const std::string_view body = std::string_view(bytes).substr(0, bytes.size() - 8);
  const uint64_t stored = read_u64_le(bytes, bytes.size() - 8);
  SealedFile f;
  if (fnv1a64(body) != stored) {
    f.legacy_checksum = fnv1a64_legacy(body) == stored;
    NAS_CHECK(f.legacy_checksum, where << ": checksum mismatch: the file is corrupt or truncated");
  }
  const uint64_t header_len = read_u64_le(bytes, 8);
  NAS_CHECK(header_len <= bytes.size() - 24, where << ": header length out of range");
  f.header = parse_json_text(bytes.substr(16, header_len), where + " (header)");
  f.data = std::string_view(bytes).substr(16 + header_len, bytes.size() - 24 - header_len);
  return f;
}

}  // namespace nas
