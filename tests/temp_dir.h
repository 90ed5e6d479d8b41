#pragma once
// TempDir: a fresh, empty directory under the system temp directory for one test, removed at its
// end. Named after the test and the process, so that ctest -j and a rerun never share one.
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace nas_test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           (name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  // The path of `name` inside the directory, as text.
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

}  // namespace nas_test
