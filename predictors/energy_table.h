#pragma once
// EnergyTable: the unit energies and hardware constants of the energy model, loaded from a
// versioned JSON data file (predictors/energy_tables/default_v1.json). The file is the source of
// truth; a copy of it is compiled into the library so that a moved binary still runs.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "search_space/op_kind.h"

namespace nas {

constexpr uint64_t kMaxEnergyTableFileBytes = uint64_t{1} << 20;

struct EnergyTable {
  // Compute energy per MAC and the Eyeriss capacity scale factors of one precision.
  struct Precision {
    int bits = 32;
    double mult_pj = 0, add_pj = 0, shift_pj = 0;
    int64_t mem_scale = 1;  // "mem" of energy-model.md: scales RF / buffer capacities
    int64_t cmp_scale = 1;  // "cmp": scales the number of MACs the PE array runs at once
    bool operator==(const Precision& o) const;
  };

  // Identity.
  std::string name;         // e.g. "eyeriss-45nm"
  std::string version;      // the table's own version, e.g. "1.0"
  std::string description;
  std::string source;       // the file it was loaded from, or "built-in"

  int word_bits = 16;                 // a memory "word"; q = bits / word_bits
  std::vector<Precision> precisions;  // sorted by bits

  // Memory energy per word access, as multiples of base_pj (DRAM absolute).
  double base_pj = 3.7, dram_pj = 200;
  double gb = 6, noc = 2, psum = 1, rf = 1, rf_weight = 2;
  int shift_word_bits = 10;       // shift layers move words of this many bits at any precision
  bool add_offchip_free = true;   // adder layers: DRAM, GB and NoC (ifmap/weight) cost 0

  // Eyeriss hardware: clock, shift speed-up, capacities (energy-model.md, "Tilings").
  double clock_mhz = 250, shift_speedup = 3.2;
  int64_t max_m0 = 16, pe_count = 192, ifmap_rf_words = 12, weight_rf_words = 960,
          gb_words = 65536;

  // The precision entry for bits; throws nas::Error listing the supported precisions.
  const Precision& precision(int bits) const;
  bool supports_bits(int bits) const;
  // "8, 16, 32": the precisions of the table, for error messages.
  std::string supported_bits_text() const;
  // Compute energy of one MAC of this op kind at this precision, in pJ.
  double compute_pj(OpKind op, int bits) const;

  // Same numbers (ignores source and description).
  bool same_values(const EnergyTable& other) const;

  // Parses and validates a table; errors name `where` and the bad field.
  static EnergyTable from_json(const nlohmann::json& j, const std::string& where);
  // Reads a table file of at most kMaxEnergyTableFileBytes (a real one is ~2 kB).
  static EnergyTable load(const std::string& path);
  // The compiled-in copy of default_v1.json.
  static EnergyTable builtin();
  static const char* builtin_json_text();
};

// Format version of the table files this build reads.
constexpr int kEnergyTableFormatVersion = 1;

// The table file in the source tree (compiled in); may not exist on this machine.
std::string default_energy_table_path();

// The table to use: explicit_path if not empty, else $NAS_ENERGY_TABLE if set, else the
// source-tree file if it exists, else the built-in copy.
EnergyTable resolve_energy_table(const std::string& explicit_path);

// {"name", "version", "source"}
nlohmann::json energy_table_summary(const EnergyTable& table);

}  // namespace nas
