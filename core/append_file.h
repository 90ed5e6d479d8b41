#pragma once
// AppendFile: a file that grows by whole records (JSON lines), each written in full and synced
// before append() returns, so a killed run loses at most the line being written and a reader can
// drop an incomplete last line (no trailing newline). Used by resumable builders
// (nas_build_acc_dataset).
#include <cstdint>
#include <string>

namespace nas {

class AppendFile {
 public:
  // Opens (creates) `path` for appending after cutting it to `keep_bytes` (what a reader found
  // complete; an incomplete tail beyond it is discarded). keep_bytes 0 starts the file afresh.
  // Throws nas::Error naming the file.
  AppendFile(const std::string& path, uint64_t keep_bytes);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  // Writes all of `record` (write loop over partial writes), then fsync.
  void append(const std::string& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace nas
