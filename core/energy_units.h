#pragma once
// Energy quantities with units, parsed at the CLI edge into joules: "10mJ", "10 mJ", "250uJ",
// "250µJ", "1e-3J", "5nJ", "3pJ". Everything else is rejected with a message listing what is
// accepted.
#include <string>

namespace nas {

// Parses an energy with a unit into joules. Throws nas::Error on empty, negative, NaN/inf,
// missing or unknown unit, or trailing junk.
double parse_energy_j(const std::string& text);

// Formats joules with the most readable SI unit, e.g. 0.0123 -> "12.3 mJ".
std::string format_energy(double joules);

constexpr double kMillijoulesPerJoule = 1e3;
inline double joules_to_mj(double joules) { return joules * kMillijoulesPerJoule; }
inline double mj_to_joules(double mj) { return mj / kMillijoulesPerJoule; }
// format_energy of an energy in mJ (the unit of the search and the run files).
inline std::string format_energy_mj(double mj) { return format_energy(mj_to_joules(mj)); }

}  // namespace nas
