#include "core/string_format.h"

#include <cstdarg>
#include <cstdio>

namespace nas {

std::string string_printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list sizing;
  va_copy(sizing, args);
  // The first pass only measures; a negative length is an encoding error.
  const int length = std::vsnprintf(nullptr, 0, format, sizing);
  va_end(sizing);
  std::string out;
  if (length > 0) {
    out.resize(static_cast<size_t>(length));
    std::vsnprintf(out.data(), out.size() + 1, format, args);
  }
  va_end(args);
  return out;
}

std::string format_double(double value, int precision) {
  return string_printf("%.*f", precision, value);
}

}  // namespace nas
