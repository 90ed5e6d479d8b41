#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace nas {

void write_file_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    NAS_CHECK(!ec, "cannot create directory " << target.parent_path() << ": " << ec.message());
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  NAS_CHECK(fd >= 0, "cannot write " << tmp << ": " << std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      NAS_THROW("cannot write " << tmp << ": " << std::strerror(err));
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    NAS_THROW("cannot replace " << path << ": " << std::strerror(err));
  }
}

std::string read_file(const std::string& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  NAS_CHECK(in.good(), "cannot open " << path << ": " << std::strerror(errno));
  std::error_code ec;
  NAS_CHECK(!std::filesystem::is_directory(path, ec), path << ": is a directory, not a file");
  NAS_CHECK(std::filesystem::is_regular_file(path, ec), path << ": not a regular file");
  const uint64_t size = std::filesystem::file_size(path, ec);
  NAS_CHECK(!ec, "cannot read " << path << ": " << ec.message());
  NAS_CHECK(size <= max_bytes, path << ": " << size << " bytes, more than the " << max_bytes
                                            << " bytes this file may have");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  NAS_CHECK(!in.bad(), "cannot read " << path);
  return buffer.str();
}

}  // namespace nas
