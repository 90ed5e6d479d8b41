#include "core/error.h"

#include <cstring>

namespace nas {

const char* short_file_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(message + " (" + short_file_name(file) + ":" + std::to_string(line) + ")"),
      message_(message),
      file_(short_file_name(file)),
      line_(line) {}

}  // namespace nas
