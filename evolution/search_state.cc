#include "evolution/search_state.h"

#include <filesystem>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "core/rng.h"
#include "search_space/strict_json.h"

namespace nas {

namespace {

// Rng::state() of mt19937_64 is 312 numbers of up to 20 digits; anything much longer is not one.
constexpr size_t kMaxRngStateChars = 16384;

int64_t get_count(const json& j, const char* field, const std::string& where,
                  const std::string& path) {
  const json& v = j.at(field);
  NAS_CHECK(v.is_number_integer() && (v.is_number_unsigned() || v.get<int64_t>() >= 0) &&
                v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX),
            where << ": " << strict::child(path, field) << " must be a non-negative integer, got "
                  << json_excerpt(v));
  return v.get<int64_t>();
}

}  // namespace

json SearchCounters::to_json() const {
  return {{"archs_scored", archs_scored},
          {"energy_evaluations", energy_evaluations},
          {"predict_calls", predict_calls}};
}

json SearchState::to_json() const {
  json pop = json::array(), hist = json::array();
  for (const ScoredArch& s : population) pop.push_back(s.to_json());
  for (const GenerationRecord& r : history) hist.push_back(r.to_json());
  return {{"space_fingerprint", space_fingerprint},
          {"options", options.to_json()},
          {"scorers", scorers},
          {"generation", generation},
          {"rng", rng},
          {"population", std::move(pop)},
          {"history", std::move(hist)},
          {"counters", counters.to_json()}};
}

SearchState SearchState::from_json(const json& j, const std::string& where) {
  strict::check_fields(j, where, "state",
                       {"counters", "generation", "history", "options", "population", "rng",
                        "scorers", "space_fingerprint"});
  SearchState s;
  const json& fingerprint = j.at("space_fingerprint");
  NAS_CHECK(fingerprint.is_string(), where << ": state.space_fingerprint must be a string, got "
                                           << json_excerpt(fingerprint));
  s.space_fingerprint = fingerprint.get<std::string>();
  s.options = SearchOptions::from_json(j.at("options"), where);
  s.scorers = j.at("scorers");
  NAS_CHECK(s.scorers.is_object(),
            where << ": state.scorers must be an object, got " << json_excerpt(s.scorers));
  s.generation = strict::get_int(j, "generation", where, "state");
  NAS_CHECK(s.generation >= 0 && s.generation <= kMaxGenerations,
            where << ": state.generation must be in 0.." << kMaxGenerations << ", got "
                  << s.generation);

  const json& rng = j.at("rng");
  NAS_CHECK(rng.is_string() && rng.get_ref<const std::string&>().size() <= kMaxRngStateChars,
            where << ": state.rng must be a generator state string, got " << json_excerpt(rng));
  s.rng = rng.get<std::string>();
  try {
    Rng probe;
    probe.restore(s.rng);
  } catch (const Error&) {
    NAS_THROW(where << ": state.rng is not a valid generator state");
  }

  const json& pop = strict::get_array(j, "population", where, "state");
  NAS_CHECK(!pop.empty() && pop.size() <= static_cast<size_t>(s.options.population),
            where << ": state.population has " << pop.size() << " architectures, expected 1.."
                  << s.options.population << " (options.population)");
  std::set<std::string> keys;
  for (size_t i = 0; i < pop.size(); ++i) {
    const std::string path = strict::element("state.population", i);
    s.population.push_back(ScoredArch::from_json(pop[i], where + ": " + path));
    NAS_CHECK(keys.insert(s.population.back().key).second,
              where << ": " << path << " repeats an architecture of the population");
  }

  const json& hist = strict::get_array(j, "history", where, "state");
  NAS_CHECK(hist.size() == static_cast<size_t>(s.generation) + 1,
            where << ": state.history has " << hist.size() << " records, expected "
                  << s.generation + 1 << " (generations 0.." << s.generation << ")");
  for (size_t i = 0; i < hist.size(); ++i) {
    const std::string path = strict::element("state.history", i);
    s.history.push_back(GenerationRecord::from_json(hist[i], where + ": " + path));
    NAS_CHECK(s.history.back().generation == static_cast<int>(i),
              where << ": " << path << ".generation is " << s.history.back().generation
                    << ", expected " << i);
  }

  const json& counters = j.at("counters");
  strict::check_fields(counters, where, "state.counters",
                       {"archs_scored", "energy_evaluations", "predict_calls"});
  s.counters.archs_scored = get_count(counters, "archs_scored", where, "state.counters");
  s.counters.energy_evaluations =
      get_count(counters, "energy_evaluations", where, "state.counters");
  s.counters.predict_calls = get_count(counters, "predict_calls", where, "state.counters");
  return s;
}

void write_search_state(const std::string& path, const SearchState& state) {
  const json body = state.to_json();
  const json file = {{"format", kSearchStateFormat},
                     {"version", kSearchStateVersion},
                     {"checksum", fnv1a64_text(body.dump())},
                     {"state", body}};
  // Compact: the file is for the program (a pretty population is 2-3x larger).
  write_file_atomic(path, file.dump() + "\n");
}

SearchState read_search_state(const std::string& path) {
  const std::string where = "search state '" + path + "'";
  const json file = parse_json_text(read_file(path, static_cast<uint64_t>(kMaxSearchStateBytes)), where);
  NAS_CHECK(file.is_object() && file.contains("format") && file["format"].is_string() &&
                file["format"].get<std::string>() == kSearchStateFormat,
            where << " is not a search state (no \"format\": \"" << kSearchStateFormat << "\")");
  NAS_CHECK(file.contains("version") && file["version"].is_number_integer(),
            where << " has no integer \"version\"");
  const json& version = file["version"];
  NAS_CHECK(version != 1, where << " has version 1, written by an earlier build whose checksums used a "
                                   "non-standard FNV-1a basis; run the search again into a new --out");
  NAS_CHECK(version == kSearchStateVersion,
            where << " has version " << json_excerpt(version) << "; this build reads version "
                  << kSearchStateVersion);
  NAS_CHECK(file.contains("checksum") && file["checksum"].is_string() && file.contains("state"),
            where << " is corrupt (no checksum or no state)");
  NAS_CHECK(file["checksum"].get<std::string>() == fnv1a64_text(file["state"].dump()),
            where << " is corrupt (checksum mismatch)");
  return SearchState::from_json(file["state"], where);
}

}  // namespace nas
