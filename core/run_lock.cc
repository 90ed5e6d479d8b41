#include "core/run_lock.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/error.h"

namespace nas {
namespace {

void create_run_dir(const std::string& run_dir) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  NAS_CHECK(!ec, "cannot create the run directory " << run_dir << ": " << ec.message());
}

int open_lock_path(const std::string& path) {
  // O_CLOEXEC: a helper process started by the run (the plot script) must not keep the claim alive.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  NAS_CHECK(fd >= 0, "cannot open the lock file " << path << ": " << std::strerror(errno));
  return fd;
}

}  // namespace

std::string RunLock::lock_path(const std::string& run_dir) {
  return (std::filesystem::path(run_dir) / ".run.lock").string();
}

std::optional<RunLock> RunLock::try_claim(const std::string& run_dir) {
  create_run_dir(run_dir);
  return try_claim_file(lock_path(run_dir));
}

std::optional<RunLock> RunLock::try_claim_file(const std::string& lock_file) {
  const int fd = open_lock_path(lock_file);
  int rc;
  do rc = ::flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc == 0) return RunLock(fd);
  const int error = errno;
  ::close(fd);
  NAS_CHECK(error == EWOULDBLOCK, "cannot lock " << lock_file << ": " << std::strerror(error));
  return std::nullopt;
}

void RunLock::record_holder(const std::string& holder) const {
  bool written = ::ftruncate(fd_, 0) == 0;
  size_t done = 0;
  while (written && done < holder.size()) {
    const ssize_t n = ::pwrite(fd_, holder.data() + done, holder.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    written = n > 0;
    if (written) done += static_cast<size_t>(n);
  }
  NAS_CHECK(written, "cannot record the holder in a lock file: " << std::strerror(errno));
}

RunLock RunLock::claim(const std::string& run_dir) {
  create_run_dir(run_dir);
  const int fd = open_lock_path(lock_path(run_dir));
  int rc;
  do rc = ::flock(fd, LOCK_EX);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    ::close(fd);
    NAS_CHECK(false, "cannot lock " << lock_path(run_dir) << ": " << std::strerror(error));
  }
  return RunLock(fd);
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace nas
