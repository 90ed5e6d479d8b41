#include "core/energy_units.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/string_format.h"

namespace nas {
namespace {

const char* kAccepted =
    "accepted: a non-negative number followed by J, mJ, uJ, µJ, nJ or pJ, e.g. 10mJ, 10 mJ, 250uJ, "
    "1e-3J";

struct UnitScale {
  const char* suffix;
  double joules;
};

// Longer suffixes first so "mJ" is not read as "J" with junk before it.
const UnitScale kUnits[] = {{"\xC2\xB5J", 1e-6}, {"mJ", 1e-3}, {"uJ", 1e-6},
                            {"nJ", 1e-9},        {"pJ", 1e-12}, {"J", 1.0}};

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(ws);
  return s.substr(begin, end - begin + 1);
}

}  // namespace

double parse_energy_j(const std::string& text) {
  const std::string s = trim(text);
  NAS_CHECK(!s.empty(), "empty energy value; " << kAccepted);
  const char* begin = s.c_str();
  char* number_end = nullptr;
  const double value = std::strtod(begin, &number_end);
  NAS_CHECK(number_end != begin, "energy '" << text << "' does not start with a number; " << kAccepted);
  // strtod accepts "nan", "inf" and hex floats; only plain decimal numbers are energies.
  NAS_CHECK(std::isfinite(value), "energy '" << text << "' is not a finite number; " << kAccepted);
  for (const char* p = begin; p != number_end; ++p) {
    NAS_CHECK(std::string("0123456789.eE+-").find(*p) != std::string::npos,
              "energy '" << text << "' is not a plain decimal number; " << kAccepted);
  }
  NAS_CHECK(value >= 0.0 && s[0] != '-', "energy '" << text << "' is negative; " << kAccepted);
  const std::string unit = trim(std::string(number_end));
  NAS_CHECK(!unit.empty(), "energy '" << text << "' has no unit; " << kAccepted);
  for (const UnitScale& u : kUnits) {
    if (unit == u.suffix) return value * u.joules;
  }
  NAS_THROW("energy '" << text << "' has an unknown unit '" << unit << "'; " << kAccepted);
}

std::string format_energy(double joules) {
  struct Scale {
    double factor;
    const char* unit;
  };
  const Scale scales[] = {{1.0, "J"}, {1e-3, "mJ"}, {1e-6, "uJ"}, {1e-9, "nJ"}, {1e-12, "pJ"}};
  const double magnitude = std::fabs(joules);
  const Scale* chosen = &scales[4];
  for (const Scale& sc : scales) {
    if (magnitude >= sc.factor) {
      chosen = &sc;
      break;
    }
  }
  if (joules == 0.0) chosen = &scales[1];
  return string_printf("%.4g %s", joules / chosen->factor, chosen->unit);
}

}  // namespace nas
