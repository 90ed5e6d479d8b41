#pragma once
// Guards a program runs on its flags before it writes anything (issue 32): a value that is
// required is not empty, an output never replaces one of the program's inputs, and an output (a
// run directory or a result file) is claimed against a second process writing it at the same time.
//
// Paths are compared after resolving symlinks: `resolved` below means weakly_canonical of the
// absolute path (the longest existing prefix through realpath, the rest normalised lexically, so
// "dir/../x" and a not-yet-existing file resolve too). An output is compared in two forms, the
// path whose last component is kept (what rename(2) of an atomic write replaces) and the fully
// resolved one (what a plain open(2) writes through a symlink), and both must miss every input.
// Hard links and bind mounts are caught too where both files exist (same device and inode).
#include <optional>
#include <string>
#include <vector>

#include "core/run_lock.h"

namespace nas {

// `value`, or nas::Error "--FLAG needs a value (got an empty string)" when it is empty, or
// "--FLAG needs a value (got ' ')" when it holds only whitespace. `flag` may be given with or
// without its leading dashes ("budget" and "--budget" both print "--budget").
std::string require_value(const std::string& flag, const std::string& value);

// The items of a `sep`-separated list ("P3,P7"), each without its surrounding whitespace, in the
// given order. Refuses (nas::Error naming the flag, the value and the empty item's position) a
// value that is empty or whitespace, only separators (",", " , "), or holds an empty item
// ("a,,b", "a,", ",a"); duplicates are the caller's to judge.
std::vector<std::string> require_list(const std::string& flag, const std::string& value, char sep = ',');

// One input of a command, as given on its command line.
struct InputPath {
  std::string flag;           // "--pareto", printed in messages
  std::string path;           // as given (relative to the working directory, may be a symlink)
  bool is_directory = false;  // the flag names a directory the program reads files from
  // For a directory: the program reads it as a whole (a data set folder, every file listed), so
  // no output may be written anywhere inside it. Otherwise only its existing files are inputs.
  bool read_as_whole = false;
  // For a directory not read as a whole: the names inside it the program reads (a supernet's
  // supernet.json, space.json, supernet.ckpt); only these are inputs, so the program may write
  // (and resume) other files there. Empty: every file existing inside it is an input.
  std::vector<std::string> files_read = {};
};

// Throws nas::Error (one line naming both flags and the path) when the output file
// `output_path` of `output_flag` would replace an input: it resolves to an input file or to an
// input directory itself, to an existing file inside an input directory (to one of its
// `files_read`, when listed), or to any path inside an input directory read as a whole. A missing input is not an error here (its reader reports
// it); an output that does not exist yet is compared by its resolved path.
void refuse_output_over_inputs(const std::string& output_flag, const std::string& output_path,
                               const std::vector<InputPath>& inputs);

// The same for an output DIRECTORY the program writes `written_entries` into (names relative to
// it: files or subdirectories, e.g. {"pareto.json", "history.json", "checkpoints"}). Refused: the
// directory resolves to an input file; an input file or directory is (or lies inside) one of the
// written entries; when `written_entries` is empty (the program may write anything there), any
// input inside the directory or equal to it; and each entry as an output file, as above.
void refuse_output_directory_over_inputs(const std::string& output_flag, const std::string& output_dir,
                                         const std::vector<std::string>& written_entries,
                                         const std::vector<InputPath>& inputs);

// An exclusive claim on an output, taken without waiting and held until destroyed (or the
// process ends, however it ends: flock(2), which the kernel drops). A directory is claimed through
// DIR/.run.lock, the same file RunLock uses, so nas_retrain's claims and these exclude each other;
// a file FILE through FILE.lock beside it (on the resolved parent directory, so two names of one
// file share one lock). A directory's lock file stays (the run scripts' flock(1) shares it); a
// file's FILE.lock is removed when the claim ends normally (RunLock::RemoveOnRelease), so a
// finished output has nothing beside it; one left by a killed process is reused, never a claim. The holder writes
// "pid PID program PROGRAM since DATE" into the lock file, which a refused claim quotes.
class OutputClaim {
 public:
  // Claims the run directory `dir` (created if missing) for `program` ("" uses the process's own
  // name). Throws nas::Error "--FLAG DIR is in use by PROGRAM (pid N, since DATE); ..." when held.
  static OutputClaim directory(const std::string& flag, const std::string& dir, const std::string& program);
  // Claims the output file `path` (its parent created if missing) the same way.
  static OutputClaim file(const std::string& flag, const std::string& path, const std::string& program);
  // The lock file that claims the output file `path`: resolved parent / (name + ".lock").
  static std::string file_lock_path(const std::string& path);
  // What the lock file's holder recorded ("" when nothing is recorded, or the file is unreadable).
  static std::string recorded_holder(const std::string& lock_file);

  const std::string& lock_file() const { return lock_file_; }

 private:
  OutputClaim(RunLock lock, std::string lock_file) : lock_(std::move(lock)), lock_file_(std::move(lock_file)) {}
  static OutputClaim claim(const std::string& flag, const std::string& output, const std::string& lock_file,
                           RunLock::RemoveOnRelease remove, const std::string& program);
  RunLock lock_;
  std::string lock_file_;
};

}  // namespace nas
