#include "core/run_lock.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
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

std::optional<RunLock> RunLock::try_claim_file(const std::string& lock_file, RemoveOnRelease remove) {
  // A removable lock file may be unlinked by its holder between our open and our flock: the lock
  // we then get is on a file nobody else will look at. Retry on the path's new file; a few tries
  // are plenty (each needs another process to claim and release the output meanwhile).
  constexpr int kTries = 16;
  for (int attempt = 0; attempt < kTries; ++attempt) {
    const int fd = open_lock_path(lock_file);
    int rc;
    do rc = ::flock(fd, LOCK_EX | LOCK_NB);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int error = errno;
      ::close(fd);
      NAS_CHECK(error == EWOULDBLOCK, "cannot lock " << lock_file << ": " << std::strerror(error));
      return std::nullopt;
    }
    if (remove == RemoveOnRelease::no) return RunLock(fd, "");
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_file.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino)
      return RunLock(fd, lock_file);
    ::close(fd);
  }
  NAS_THROW("cannot lock " << lock_file << ": it was replaced " << kTries
                           << " times while being claimed; is another program removing it?");
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
  return RunLock(fd, "");
}

RunLock::RunLock(RunLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), remove_path_(std::move(other.remove_path_)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    remove_path_ = std::move(other.remove_path_);
  }
  return *this;
}

void RunLock::release() noexcept {
  if (fd_ < 0) return;
  // Unlinked while still held: a process that opened the file meanwhile finds, once it gets the
  // lock, that the path no longer names it, and retries (try_claim_file).
  if (!remove_path_.empty()) ::unlink(remove_path_.c_str());
  ::close(fd_);  // closing the descriptor releases the flock
  fd_ = -1;
}

RunLock::~RunLock() { release(); }

}  // namespace nas
