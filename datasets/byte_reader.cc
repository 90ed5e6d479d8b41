#include "datasets/byte_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace nas::datasets {

namespace fs = std::filesystem;

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  NAS_CHECK(fs::exists(status), path << ": file not found");
  NAS_CHECK(!fs::is_directory(status), path << ": is a directory, expected a data file");
  std::ifstream in(path, std::ios::binary);
  NAS_CHECK(in.good(), path << ": cannot open: " << std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  NAS_CHECK(size >= 0, path << ": cannot determine the file size");
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0) in.read(reinterpret_cast<char*>(bytes.data()), size);
  NAS_CHECK(in.good() || (size == 0 && !in.bad()),
            path << ": read error after " << in.gcount() << " of " << size << " bytes");
  return bytes;
}

bool is_gzip(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::vector<uint8_t> gunzip_bytes(const std::vector<uint8_t>& compressed, const std::string& path) {
  NAS_CHECK(is_gzip(compressed), path << ": not gzip data (magic bytes are not 1f 8b)");
  std::vector<uint8_t> out;
  // The trailer's ISIZE (length mod 2^32 of the last member) is a good first guess.
  if (compressed.size() >= 18) {
    const uint8_t* t = compressed.data() + compressed.size() - 4;
    const uint32_t isize = uint32_t(t[0]) | uint32_t(t[1]) << 8 | uint32_t(t[2]) << 16 |
                           uint32_t(t[3]) << 24;
    out.reserve(std::min<size_t>(isize, size_t(1) << 31) + 64);
  }

  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 16 + MAX_WBITS: gzip wrapper only, so CRC-32 and ISIZE are verified by zlib.
  NAS_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, path << ": cannot initialise zlib");
  struct Guard {
    z_stream* zs;
    ~Guard() { inflateEnd(zs); }
  } guard{&zs};

  size_t in_pos = 0;
  constexpr size_t kChunk = size_t(1) << 20;
  constexpr size_t kMaxOut = size_t(1) << 34;  // 16 GiB: far above any image data set
  for (;;) {
    // zlib's counters are 32-bit (uInt): feed input in pieces.
    if (zs.avail_in == 0 && in_pos < compressed.size()) {
      const size_t n = std::min<size_t>(compressed.size() - in_pos, std::numeric_limits<uInt>::max());
      zs.next_in = const_cast<Bytef*>(compressed.data() + in_pos);
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    const size_t old = out.size();
    NAS_CHECK(old < kMaxOut, path << ": decompressed data exceeds " << (kMaxOut >> 30) << " GiB");
    // Use the reserved room first, so that a correct ISIZE hint means a single allocation.
    const size_t chunk = out.capacity() > old ? std::min(out.capacity() - old, kChunk) : kChunk;
    out.resize(old + chunk);
    zs.next_out = out.data() + old;
    zs.avail_out = static_cast<uInt>(chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old + (chunk - zs.avail_out));
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are one stream (as gunzip treats them); trailing zero padding
      // is tolerated, anything else after the end must be another member.
      size_t rest = zs.avail_in + (compressed.size() - in_pos);
      const uint8_t* next = compressed.data() + (compressed.size() - rest);
      while (rest > 0 && *next == 0) {
        ++next;
        --rest;
      }
      if (rest == 0) break;
      NAS_CHECK(rest >= 2 && next[0] == 0x1f && next[1] == 0x8b,
                path << ": corrupt gzip file: " << rest << " bytes of junk after the compressed data");
      NAS_CHECK(inflateReset(&zs) == Z_OK, path << ": cannot reset zlib");
      in_pos = compressed.size() - rest;
      zs.avail_in = 0;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_pos >= compressed.size()) {
      NAS_THROW(path << ": truncated gzip file: the compressed data ends before the end of the stream");
    }
    NAS_THROW(path << ": corrupt gzip file (zlib: " << (zs.msg ? zs.msg : "error " + std::to_string(rc))
                   << ")");
  }
  // Release a large over-allocation (wrong ISIZE hint) but avoid copying for a few spare bytes.
  if (out.capacity() - out.size() > out.size() / 8 + 4096) out.shrink_to_fit();
  return out;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  if (is_gzip(bytes)) return gunzip_bytes(bytes, path);
  return bytes;
}

}  // namespace nas::datasets
