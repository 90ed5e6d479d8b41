#include "predictors/energy_table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>

#include "core/error.h"
#include "core/json_util.h"

#ifndef NAS_DEFAULT_ENERGY_TABLE
#define NAS_DEFAULT_ENERGY_TABLE ""
#endif

namespace nas {

namespace {

constexpr const char* kFormatName = "nas-energy-table";

void check_keys(const json& object, std::initializer_list<const char*> allowed,
                const std::string& where) {
  NAS_CHECK(object.is_object(), where << ": expected a JSON object, got " << json_excerpt(object));
  for (auto it = object.begin(); it != object.end(); ++it) {
    const bool known = std::any_of(allowed.begin(), allowed.end(),
                                   [&](const char* k) { return it.key() == k; });
    if (known) continue;
    std::string list;
    for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
    NAS_THROW(where << ": unknown field " << quoted_excerpt(it.key()) << " (accepted: " << list << ")");
  }
}

const json& object_field(const json& object, const char* name, const std::string& where) {
  auto it = object.find(name);
  NAS_CHECK(it != object.end(), where << ": field '" << name << "' is missing");
  NAS_CHECK(it->is_object(), where << ": field '" << name << "' must be an object, got "
                                   << json_excerpt(*it));
  return *it;
}

// A number in [0, kMaxTableNumber] (or (0, ...] when positive is set). The bound keeps every
// energy the model forms finite: a unit energy of 1e308 pJ made them overflow to inf, and the
// tiling choice then compared NaNs and found none (a crash).
constexpr double kMaxTableNumber = 1e9;
double energy_number(const json& object, const char* name, const std::string& where,
                     bool positive = false) {
  const double v = json_number(object, name, where);
  NAS_CHECK(std::isfinite(v) && (positive ? v > 0 : v >= 0) && v <= kMaxTableNumber,
            where << ": field '" << name << "' must be a number " << (positive ? "> 0" : ">= 0") << " and at most "
                  << kMaxTableNumber << ", got " << v);
  return v;
}

// Bounded before any narrowing: a value checked after a cast to int could wrap to 0 (word_bits
// 2^32 did, and the model divided by it).
int64_t positive_int(const json& object, const char* name, const std::string& where,
                     int64_t max = int64_t{1} << 40) {
  const int64_t v = json_int(object, name, where);
  NAS_CHECK(v > 0 && v <= max, where << ": field '" << name << "' must be a positive integer (at most " << max
                                     << "), got " << v);
  return v;
}

int bits_key(const std::string& key, const std::string& where) {
  char* end = nullptr;
  const long bits = std::strtol(key.c_str(), &end, 10);
  NAS_CHECK(!key.empty() && end && *end == '\0' && bits > 0 && bits <= 64,
            where << ": key " << quoted_excerpt(key) << " must be a precision in bits (e.g. \"32\", \"8\")");
  return static_cast<int>(bits);
}

}  // namespace

bool EnergyTable::Precision::operator==(const Precision& o) const {
  return bits == o.bits && mult_pj == o.mult_pj && add_pj == o.add_pj && shift_pj == o.shift_pj &&
         mem_scale == o.mem_scale && cmp_scale == o.cmp_scale;
}

bool EnergyTable::supports_bits(int bits) const {
  return std::any_of(precisions.begin(), precisions.end(),
                     [&](const Precision& p) { return p.bits == bits; });
}

std::string EnergyTable::supported_bits_text() const {
  std::string list;
  for (const Precision& p : precisions) list += (list.empty() ? "" : ", ") + std::to_string(p.bits);
  return list;
}

const EnergyTable::Precision& EnergyTable::precision(int bits) const {
  for (const Precision& p : precisions)
    if (p.bits == bits) return p;
  NAS_THROW("energy table '" << name << "' has no " << bits << "-bit entry (supported bits: "
                             << supported_bits_text() << ")");
}

double EnergyTable::compute_pj(OpKind op, int bits) const {
  const Precision& p = precision(bits);
  switch (op) {
    case OpKind::Mult: return p.mult_pj;
    case OpKind::Shift: return p.shift_pj;
    case OpKind::Add: return p.add_pj;
  }
  return p.mult_pj;
}

bool EnergyTable::same_values(const EnergyTable& o) const {
  return name == o.name && version == o.version && word_bits == o.word_bits &&
         precisions == o.precisions && base_pj == o.base_pj && dram_pj == o.dram_pj &&
         gb == o.gb && noc == o.noc && psum == o.psum && rf == o.rf &&
         rf_weight == o.rf_weight && shift_word_bits == o.shift_word_bits &&
         add_offchip_free == o.add_offchip_free && clock_mhz == o.clock_mhz &&
         shift_speedup == o.shift_speedup && max_m0 == o.max_m0 && pe_count == o.pe_count &&
         ifmap_rf_words == o.ifmap_rf_words && weight_rf_words == o.weight_rf_words &&
         gb_words == o.gb_words;
}

EnergyTable EnergyTable::from_json(const json& j, const std::string& where) {
  check_keys(j,
             {"format", "format_version", "name", "version", "description", "word_bits",
              "compute_pj", "memory", "hardware"},
             where);
  const std::string format = json_string(j, "format", where);
  NAS_CHECK(format == kFormatName, where << ": field 'format' must be \"" << kFormatName
                                         << "\", got " << quoted_excerpt(format));
  const int64_t format_version = json_int(j, "format_version", where);
  NAS_CHECK(format_version == kEnergyTableFormatVersion,
            where << ": format_version " << format_version << " is not supported (this build reads "
                  << kEnergyTableFormatVersion << ")");

  EnergyTable t;
  t.name = json_string(j, "name", where);
  // The name and version appear in messages and reports: short, one line.
  const auto short_line = [](const std::string& s) {
    return !s.empty() && s.size() <= 100 && !has_control_character(s);
  };
  NAS_CHECK(short_line(t.name), where << ": field 'name' must be 1..100 characters on one line, got "
                                      << quoted_excerpt(t.name));
  t.version = json_string(j, "version", where);
  NAS_CHECK(short_line(t.version), where << ": field 'version' must be 1..100 characters on one line, got "
                                         << quoted_excerpt(t.version));
  if (j.contains("description")) t.description = json_string(j, "description", where);
  t.word_bits = static_cast<int>(positive_int(j, "word_bits", where, 64));

  const json& memory = object_field(j, "memory", where);
  const std::string mw = where + ": memory";
  check_keys(memory,
             {"base_pj", "dram_pj", "gb", "noc", "psum", "rf", "rf_weight", "shift_word_bits",
              "add_offchip_free"},
             mw);
  t.base_pj = energy_number(memory, "base_pj", mw);
  t.dram_pj = energy_number(memory, "dram_pj", mw);
  t.gb = energy_number(memory, "gb", mw);
  t.noc = energy_number(memory, "noc", mw);
  t.psum = energy_number(memory, "psum", mw);
  t.rf = energy_number(memory, "rf", mw);
  t.rf_weight = energy_number(memory, "rf_weight", mw);
  t.shift_word_bits = static_cast<int>(positive_int(memory, "shift_word_bits", mw, 64));
  NAS_CHECK(memory.contains("add_offchip_free") && memory["add_offchip_free"].is_boolean(),
            mw << ": field 'add_offchip_free' must be true or false");
  t.add_offchip_free = memory["add_offchip_free"].get<bool>();

  const json& hw = object_field(j, "hardware", where);
  const std::string hw_where = where + ": hardware";
  check_keys(hw,
             {"clock_mhz", "shift_speedup", "max_m0", "pe_count", "ifmap_rf_words",
              "weight_rf_words", "gb_words", "scale"},
             hw_where);
  t.clock_mhz = energy_number(hw, "clock_mhz", hw_where, true);
  t.shift_speedup = energy_number(hw, "shift_speedup", hw_where, true);
  t.max_m0 = positive_int(hw, "max_m0", hw_where);
  t.pe_count = positive_int(hw, "pe_count", hw_where);
  t.ifmap_rf_words = positive_int(hw, "ifmap_rf_words", hw_where);
  t.weight_rf_words = positive_int(hw, "weight_rf_words", hw_where);
  t.gb_words = positive_int(hw, "gb_words", hw_where);
  const json& scale = object_field(hw, "scale", hw_where);

  const json& compute = object_field(j, "compute_pj", where);
  NAS_CHECK(!compute.empty(), where << ": compute_pj has no precision entries");
  for (auto it = compute.begin(); it != compute.end(); ++it) {
    Precision p;
    p.bits = bits_key(it.key(), where + ": compute_pj");
    const std::string cw = where + ": compute_pj." + it.key();
    check_keys(*it, {"mult", "add", "shift"}, cw);
    p.mult_pj = energy_number(*it, "mult", cw);
    p.add_pj = energy_number(*it, "add", cw);
    p.shift_pj = energy_number(*it, "shift", cw);
    const std::string sw = hw_where + ": scale";
    NAS_CHECK(scale.contains(it.key()),
              sw << ": missing the entry for " << it.key() << " bits (compute_pj has one)");
    const json& s = scale[it.key()];
    check_keys(s, {"mem", "cmp"}, sw + "." + it.key());
    p.mem_scale = positive_int(s, "mem", sw + "." + it.key());
    p.cmp_scale = positive_int(s, "cmp", sw + "." + it.key());
    t.precisions.push_back(p);
  }
  for (auto it = scale.begin(); it != scale.end(); ++it)
    NAS_CHECK(compute.contains(it.key()), hw_where << ": scale has an entry for " << quoted_excerpt(it.key())
                                                   << " bits but compute_pj has none");
  std::sort(t.precisions.begin(), t.precisions.end(),
            [](const Precision& a, const Precision& b) { return a.bits < b.bits; });
  return t;
}

EnergyTable EnergyTable::load(const std::string& path) {
  const json j = read_json_file(path, kMaxEnergyTableFileBytes);
  EnergyTable t = from_json(j, "energy table " + path);
  t.source = path;
  return t;
}

EnergyTable EnergyTable::builtin() {
  EnergyTable t = from_json(parse_json_text(builtin_json_text(), "built-in energy table"),
                                "built-in energy table");
  t.source = "built-in";
  return t;
}

std::string default_energy_table_path() { return NAS_DEFAULT_ENERGY_TABLE; }

EnergyTable resolve_energy_table(const std::string& explicit_path) {
  if (!explicit_path.empty()) return EnergyTable::load(explicit_path);
  if (const char* env = std::getenv("NAS_ENERGY_TABLE"); env && *env) {
    try {
      return EnergyTable::load(env);
    } catch (const Error& e) {
      NAS_THROW("$NAS_ENERGY_TABLE: " << e.message());
    }
  }
  const std::string path = default_energy_table_path();
  std::error_code ec;
  if (!path.empty() && std::filesystem::is_regular_file(path, ec)) return EnergyTable::load(path);
  return EnergyTable::builtin();
}

json energy_table_summary(const EnergyTable& table) {
  return json{{"name", table.name}, {"version", table.version}, {"source", table.source}};
}

}  // namespace nas
