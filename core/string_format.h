#pragma once
// printf-style formatting into a std::string sized to fit, for user-visible text: a fixed buffer
// silently cuts a line once a value is larger than expected (e.g. a share of 1e30 %).
#include <string>

namespace nas {

// std::string of printf(format, ...); the whole text, whatever its length.
std::string string_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));

// `value` with `precision` digits after the point ("%.*f"), never cut.
std::string format_double(double value, int precision);

}  // namespace nas
