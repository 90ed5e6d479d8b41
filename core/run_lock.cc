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

int open_lock_file(const std::string& run_dir) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  NAS_CHECK(!ec, "cannot create the run directory " << run_dir << ": " << ec.message());
  const std::string path = RunLock::lock_path(run_dir);
  // O_CLOEXEC: a helper process started by the run (the plot script) must not keep the claim alive.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  NAS_CHECK(fd >= 0, "cannot open the run lock " << path << ": " << std::strerror(errno));
  return fd;
}

}  // namespace

std::string RunLock::lock_path(const std::string& run_dir) {
  return (std::filesystem::path(run_dir) / ".run.lock").string();
}

std::optional<RunLock> RunLock::try_claim(const std::string& run_dir) {
  const int fd = open_lock_file(run_dir);
  int rc;
  do rc = ::flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc == 0) return RunLock(fd);
  const int error = errno;
  ::close(fd);
  NAS_CHECK(error == EWOULDBLOCK, "cannot lock " << lock_path(run_dir) << ": " << std::strerror(error));
  return std::nullopt;
}

RunLock RunLock::claim(const std::string& run_dir) {
  const int fd = open_lock_file(run_dir);
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
