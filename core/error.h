#pragma once
// nas::Error and NAS_CHECK: user-facing errors carry the file:line that raised them (as faiss does),
// while what() stays a single readable line.
#include <sstream>
#include <stdexcept>
#include <string>

namespace nas {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line);
  // The message without the location, for one-line CLI output.
  const std::string& message() const { return message_; }
  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string message_;
  std::string file_;
  int line_;
};

// Strips the directories of a __FILE__ path so messages stay short.
const char* short_file_name(const char* path);

// The first line of a foreign library's error text (c10 and nlohmann messages can span many lines
// and carry backtraces), cut to at most max_chars ("..." marks a cut): for quoting inside our
// one-line messages.
std::string first_line_excerpt(const std::string& text, size_t max_chars = 160);

}  // namespace nas

#define NAS_THROW(msg_stream)                                              \
  do {                                                                     \
    std::ostringstream nas_error_stream_;                                  \
    nas_error_stream_ << msg_stream;                                       \
    throw ::nas::Error(nas_error_stream_.str(), __FILE__, __LINE__);       \
  } while (0)

// NAS_CHECK(cond, "message " << value): throws nas::Error when cond is false.
#define NAS_CHECK(cond, msg_stream) \
  do {                              \
    if (!(cond)) NAS_THROW(msg_stream); \
  } while (0)
