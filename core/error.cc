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

std::string first_line_excerpt(const std::string& text, size_t max_chars) {
  std::string line = text.substr(0, text.find_first_of("\r\n"));
  if (line.size() > max_chars) line = line.substr(0, max_chars) + "...";
  return line;
}

}  // namespace nas
