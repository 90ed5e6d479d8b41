#include "core/memory_usage.h"

#include <fstream>
#include <string>

namespace nas {

namespace {

// The value of "Key:   123 kB" in /proc/self/status, in bytes; -1 when absent.
int64_t status_kib_field(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0 || line.size() <= key.size() || line[key.size()] != ':')
      continue;
    try {
      return static_cast<int64_t>(std::stoll(line.substr(key.size() + 1))) * 1024;
    } catch (const std::exception&) {
      return -1;
    }
  }
  return -1;
}

}  // namespace

int64_t peak_rss_bytes() { return status_kib_field("VmHWM"); }

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace nas
