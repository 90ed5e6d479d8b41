#pragma once
// Atomic writes: the content goes to a temporary file beside the target, is flushed, then renamed
// over it, so a killed run never leaves a half-written file.
#include <cstdint>
#include <string>

namespace nas {

// Writes `content` to `path` atomically; creates missing parent directories. Throws nas::Error.
void write_file_atomic(const std::string& path, const std::string& content);

// Reads a whole file; throws nas::Error naming the file when it cannot be read or is larger than
// `max_bytes` (checked before reading: an untrusted path may name a huge file or a device).
constexpr uint64_t kDefaultMaxReadBytes = uint64_t{1} << 30;
std::string read_file(const std::string& path, uint64_t max_bytes = kDefaultMaxReadBytes);

}  // namespace nas
