#include "report/plot_png.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/json_util.h"
#include "core/data_dir.h"

extern char** environ;

namespace nas::report {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPlotScript = "plot_report.py";
constexpr const char* kDefaultPython = "/usr/bin/python3";
// Output of the script kept for the error message (its last line).
constexpr size_t kMaxScriptOutput = 64 * 1024;
constexpr size_t kMaxErrorLine = 300;

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string output;  // stdout and stderr, the last kMaxScriptOutput bytes
};

// Runs argv[0] (a path, no PATH search, no shell) with stdout and stderr captured.
ChildResult run_captured(const std::vector<std::string>& argv) {
  int fds[2];
  NAS_CHECK(::pipe2(fds, O_CLOEXEC) == 0, "cannot create a pipe: " << std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    NAS_THROW("cannot run " << argv[0] << ": " << std::strerror(rc)
                            << " (install python3 and python3-matplotlib, or set NAS_PYTHON)");
  }
  ChildResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
    if (result.output.size() > kMaxScriptOutput) result.output.erase(0, result.output.size() - kMaxScriptOutput);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// The last non-empty line, without the script's "plot_report.py: error: " prefix, bounded.
std::string last_line(const std::string& output) {
  std::string line;
  std::stringstream in(output);
  for (std::string l; std::getline(in, l);)
    if (l.find_first_not_of(" \t\r") != std::string::npos) line = l;
  const std::string prefix = std::string(kPlotScript) + ": error: ";
  if (line.compare(0, prefix.size(), prefix) == 0) line.erase(0, prefix.size());
  if (line.size() > kMaxErrorLine) line = line.substr(0, kMaxErrorLine) + "...";
  return line.empty() ? "no output" : line;
}

}  // namespace

void render_png(const std::string& report_json, const std::string& pareto_json, const std::string& png) {
  const std::string script = find_data_file(kPlotScript);
  const char* python_env = std::getenv("NAS_PYTHON");
  const std::string python = python_env != nullptr && *python_env != '\0' ? python_env : kDefaultPython;
  const ChildResult child = run_captured({python, script, report_json, pareto_json, png});
  NAS_CHECK(child.exit_code == 0,
            png << ": " << last_line(child.output) << " (" << script << " "
                << (child.exit_code < 0 ? std::string("was killed") : "exited with " + std::to_string(child.exit_code))
                << ")");
  std::error_code ec;
  NAS_CHECK(fs::is_regular_file(png, ec) && fs::file_size(png, ec) > 0, script << " exited 0 but wrote no " << png);
}

}  // namespace nas::report
