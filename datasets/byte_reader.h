#pragma once
// Whole-file reads for the data set readers: plain files, and gzip files detected by their magic
// bytes (1f 8b), decompressed in memory with zlib (CRC and length checked, multi-member files
// supported). Every failure is a nas::Error naming the file.
#include <cstdint>
#include <string>
#include <vector>

namespace nas::datasets {

// The bytes of `path`, as stored.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// True when `bytes` start with the gzip magic 1f 8b.
bool is_gzip(const std::vector<uint8_t>& bytes);

// Decompresses a gzip image; `path` only names the source in errors (corrupt or truncated data).
std::vector<uint8_t> gunzip_bytes(const std::vector<uint8_t>& compressed, const std::string& path);

// The content of `path`: decompressed if it is gzip, as stored otherwise.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

}  // namespace nas::datasets
