#pragma once
// Atomic writes: the content goes to a temporary file beside the target, is flushed, then renamed
// over it, so a killed run never leaves a half-written file.
#include <string>

namespace nas {

// Writes `content` to `path` atomically; creates missing parent directories. Throws nas::Error.
void write_file_atomic(const std::string& path, const std::string& content);

// Reads a whole file; throws nas::Error naming the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace nas
