#pragma once
// SearchState: everything an evolutionary search needs to continue exactly where it stopped,
// and its file. The search writes it atomically after every generation.
//
// File layout (JSON):
//   {"format": "nas-search-state", "version": 1,
//    "checksum": fnv1a64_text(state.dump()) (core/fnv1a.h: "fnv1a64:<16 hex digits>"),
//    "state": {"space_fingerprint", "options": SearchOptions JSON,
//              "scorers": {"accuracy": describe(), "energy": describe()},
//              "generation", "rng", "population": [ScoredArch JSON], "history": [GenerationRecord
//              JSON], "counters": {"archs_scored", "energy_evaluations", "predict_calls"}}}
// state.dump() is canonical (nlohmann objects are key-sorted; doubles print as the shortest text
// that reads back to the same value), so the checksum survives a parse / dump round trip.
//
// read_search_state() checks the envelope and the shape of every field; whether the state fits
// a search (space, options, scorers, population in the space and the budget) is the search's
// check (EvolutionSearch::run).
#include <cstdint>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "evolution/generation_record.h"
#include "evolution/scored_arch.h"
#include "evolution/search_options.h"

namespace nas {

constexpr const char* kSearchStateFormat = "nas-search-state";
constexpr int kSearchStateVersion = 2;  // 2: the standard FNV-1a basis (version 1 is refused)
// Largest state file read back: a population of 100 takes well under 1 MiB, and a population of
// kMaxPopulation architectures of the default space about 250 MiB.
constexpr int64_t kMaxSearchStateBytes = int64_t{256} << 20;

struct SearchCounters {
  int64_t archs_scored = 0;        // architectures given to AccuracyScorer::predict
  int64_t energy_evaluations = 0;  // calls of EnergyScorer::energy_mj (over-budget draws too)
  int64_t predict_calls = 0;       // calls of AccuracyScorer::predict

  json to_json() const;
};

struct SearchState {
  std::string space_fingerprint;  // ArchSpace::fingerprint()
  SearchOptions options;
  json scorers;                   // {"accuracy": ..., "energy": ...}
  int generation = 0;             // generations completed; 0 = the initial population
  std::string rng;                // Rng::state() after `generation`
  std::vector<ScoredArch> population;
  std::vector<GenerationRecord> history;  // one per generation 0..generation
  SearchCounters counters;

  json to_json() const;
  // Strict; checks every field's type and range, that history covers 0..generation and that the
  // population is non-empty, at most options.population and without duplicate keys.
  static SearchState from_json(const json& j, const std::string& where);
};

// Writes the file atomically (write_file_atomic).
void write_search_state(const std::string& path, const SearchState& state);

// Reads and checks a state file: size (kMaxSearchStateBytes), JSON (nesting bounded), format,
// version, checksum, then SearchState::from_json. Every error is one line that names the file:
// "search state 'run/search_state.json' is corrupt (checksum mismatch)".
SearchState read_search_state(const std::string& path);

}  // namespace nas
