#include "core/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/json_util.h"

#ifndef NAS_INSTALL_DATA_DIR
#define NAS_INSTALL_DATA_DIR ""
#endif

namespace nas {

namespace fs = std::filesystem;

namespace {

// The first override set in the environment: {variable, folder}; empty when neither is.
std::pair<std::string, std::string> data_dir_override() {
  for (const char* variable : {"NAS_DATA_DIR", "NAS_SCRIPTS_DIR"})
    if (const char* dir = std::getenv(variable); dir != nullptr && *dir != '\0') return {variable, dir};
  return {};
}

}  // namespace

std::string find_data_file(const std::string& name) {
  std::error_code ec;
  const auto [variable, dir] = data_dir_override();
  if (!variable.empty()) {
    const fs::path file = fs::path(dir) / name;
    NAS_CHECK(fs::is_regular_file(file, ec), variable << ": no " << name << " in " << json_excerpt(json(dir)));
    return file.string();
  }
  std::vector<fs::path> candidates;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back((exe.parent_path() / ".." / "share" / kDataDirName / name).lexically_normal());
  if (*NAS_INSTALL_DATA_DIR != '\0') candidates.push_back(fs::path(NAS_INSTALL_DATA_DIR) / name);
  std::string looked;
  for (const fs::path& file : candidates) {
    if (fs::is_regular_file(file, ec)) return file.string();
    looked += (looked.empty() ? "" : ", ") + file.string();
  }
  NAS_THROW("cannot find " << name << " (looked for " << (looked.empty() ? "nothing" : looked)
                           << "); set NAS_DATA_DIR to the folder that holds it (<prefix>/share/" << kDataDirName
                           << ")");
}

}  // namespace nas
