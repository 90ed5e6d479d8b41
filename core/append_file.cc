#include "core/append_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace nas {

AppendFile::AppendFile(const std::string& path, uint64_t keep_bytes) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  NAS_CHECK(fd_ >= 0, "cannot open " << path << " for appending: " << std::strerror(errno));
  if (::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    NAS_THROW("cannot cut " << path << " to " << keep_bytes << " bytes: " << std::strerror(err));
  }
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::append(const std::string& record) {
  size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::write(fd_, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    NAS_CHECK(n > 0, "cannot append to " << path_ << ": " << std::strerror(errno));
    written += static_cast<size_t>(n);
  }
  NAS_CHECK(::fsync(fd_) == 0, "cannot sync " << path_ << ": " << std::strerror(errno));
}

}  // namespace nas
