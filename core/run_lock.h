#pragma once
// RunLock: an exclusive claim on one run directory, so that several processes can share a queue
// of runs (nas_retrain --pareto started twice, one per core; the run scripts do the same with
// flock(1) on the same file). The claim is flock(2) on DIR/.run.lock: the kernel drops it when the
// process ends, however it ends, so a killed run never leaves a stale claim behind. A run
// directory's lock file is left in place: flock(1) in the run scripts shares it, and removing it
// would race with a process that just opened it. An output file's lock (try_claim_file with
// RemoveOnRelease::yes) is removed when released, so no FILE.lock stays beside a finished output;
// every claimer of such a file checks, once it holds the lock, that the path still names the file
// it locked (else it was removed meanwhile and the claim is retried on the new one).
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
  enum class RemoveOnRelease { no, yes };
  // Claims the lock file `lock_file` itself (created if missing, its directory must exist) without
  // waiting: the claim of an output file (core/output_guard.h: RemoveOnRelease::yes), or of a run
  // directory by path. Every claimer of one lock file must pass the same `remove`.
  static std::optional<RunLock> try_claim_file(const std::string& lock_file,
                                               RemoveOnRelease remove = RemoveOnRelease::no);

  // Replaces the lock file's text with `holder` (who holds it, for the message of a refused
  // claim). Throws nas::Error when it cannot be written.
  void record_holder(const std::string& holder) const;

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  RunLock(int fd, std::string remove_path) : fd_(fd), remove_path_(std::move(remove_path)) {}
  void release() noexcept;
  int fd_ = -1;
  std::string remove_path_;  // unlinked on release, while still held ("" keeps the file)
};

}  // namespace nas
