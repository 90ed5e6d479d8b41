#pragma once
// RunLock: an exclusive claim on one run directory, so that several processes can share a queue
// of runs (nas_retrain --pareto started twice, one per core; the run scripts do the same with
// flock(1) on the same file). The claim is flock(2) on DIR/.run.lock: the kernel drops it when the
// process ends, however it ends, so a killed run never leaves a stale claim behind. The lock file
// itself is left in place (removing it would race with a process that just opened it).
#include <optional>
#include <string>

namespace nas {

class RunLock {
 public:
  // The lock file of a run directory (DIR/.run.lock).
  static std::string lock_path(const std::string& run_dir);
  // Claims `run_dir` (created if missing) without waiting: nullopt if another process (or another
  // RunLock of this one) holds it. Throws nas::Error naming the file if it cannot be opened.
  static std::optional<RunLock> try_claim(const std::string& run_dir);
  // Claims `run_dir`, waiting for whoever holds it to finish.
  static RunLock claim(const std::string& run_dir);
  // Claims the lock file `lock_file` itself (created if missing, its directory must exist) without
  // waiting: the claim of an output file (core/output_guard.h), or of a run directory by path.
  static std::optional<RunLock> try_claim_file(const std::string& lock_file);

  // Replaces the lock file's text with `holder` (who holds it, for the message of a refused
  // claim). Throws nas::Error when it cannot be written.
  void record_holder(const std::string& holder) const;

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace nas
