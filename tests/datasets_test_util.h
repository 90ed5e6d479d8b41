#pragma once
// Helpers shared by the datasets/ test files (test_datasets*.cc). Include after <doctest/doctest.h>.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>

#include "core/error.h"

namespace nas::test {

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("nas_test_datasets_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::string str() const { return path.string(); }
};

// Runs fn, which must throw nas::Error whose message is one line containing every fragment.
inline void check_error(const std::function<void()>& fn, std::initializer_list<std::string> fragments) {
  try {
    fn();
    FAIL("no error thrown; expected one mentioning '" << *fragments.begin() << "'");
  } catch (const nas::Error& e) {
    const std::string msg = e.message();
    for (const std::string& f : fragments) {
      INFO("message: " << msg);
      CHECK_MESSAGE(msg.find(f) != std::string::npos, "missing '" << f << "'");
    }
    CHECK(msg.find('\n') == std::string::npos);
  }
}

}  // namespace nas::test
