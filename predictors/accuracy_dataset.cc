#include "predictors/accuracy_dataset.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "core/error.h"
#include "core/fnv1a.h"
#include "search_space/arch_layers.h"

namespace nas {

namespace {

constexpr const char* kFormat = "nas-accuracy-dataset";

std::string with_checksum(json object) {
  object["checksum"] = fnv1a64_text(object.dump());
  return object.dump();
}

// Removes and checks the "checksum" field of a parsed line.
void check_checksum(json& object, const std::string& where) {
  NAS_CHECK(object.is_object(), where << ": not a JSON object");
  NAS_CHECK(object.contains("checksum") && object["checksum"].is_string(), where << ": no checksum");
  const std::string stored = object["checksum"].get<std::string>();
  object.erase("checksum");
  NAS_CHECK(stored == fnv1a64_text(object.dump()),
            where << ": checksum mismatch (the line was changed or damaged)");
}

AccuracyRecord parse_record(json j, const ArchSpace& space, const std::string& where) {
  check_checksum(j, where);
  for (const char* field : {"key", "arch", "encoding", "val_top1", "energy_mj", "macs", "params"})
    NAS_CHECK(j.contains(field), where << ": field '" << field << "' is missing");
  NAS_CHECK(j.size() == 7, where << ": unexpected fields (a record has key, arch, encoding, val_top1, energy_mj, "
                                    "macs, params, checksum)");
  AccuracyRecord r;
  r.arch = ArchConfig::from_json(j["arch"], where + ": arch");
  const std::string why = space.violation(r.arch);
  NAS_CHECK(why.empty(), where << ": the architecture is not in the data set's space: " << why);
  r.key = json_string(j, "key", where);
  NAS_CHECK(r.key == r.arch.key(), where << ": key does not match the architecture");
  r.val_top1 = json_number(j, "val_top1", where);
  NAS_CHECK(std::isfinite(r.val_top1) && r.val_top1 >= 0 && r.val_top1 <= 100,
            where << ": val_top1 must be a percentage in [0, 100]");
  r.energy_mj = json_number(j, "energy_mj", where);
  NAS_CHECK(std::isfinite(r.energy_mj) && r.energy_mj >= 0, where << ": energy_mj must be a finite number >= 0");
  r.macs = json_int(j, "macs", where);
  r.params = json_int(j, "params", where);
  r.encoding = space.encode(r.arch);
  const json& enc = j["encoding"];
  NAS_CHECK(enc.is_array() && enc.size() == r.encoding.size(),
            where << ": encoding must be an array of " << r.encoding.size() << " numbers");
  for (size_t i = 0; i < r.encoding.size(); ++i)
    NAS_CHECK(enc[i].is_number() && enc[i].get<double>() == static_cast<double>(r.encoding[i]),
              where << ": encoding[" << i << "] does not match the architecture");
  return r;
}

}  // namespace

std::string AccuracyRecord::to_line() const {
  json j;
  j["key"] = key;
  j["arch"] = arch.to_json();
  j["encoding"] = encoding;
  j["val_top1"] = val_top1;
  j["energy_mj"] = energy_mj;
  j["macs"] = macs;
  j["params"] = params;
  return with_checksum(std::move(j));
}

std::string AccuracyDatasetHeader::to_line() const {
  json j;
  j["format"] = kFormat;
  j["format_version"] = kAccuracyDatasetFormatVersion;
  j["space"] = space.to_json();
  j["space_fingerprint"] = space.fingerprint();
  j["source"] = source;
  return with_checksum(std::move(j));
}

AccuracyRecord make_accuracy_record(const ArchSpace& space, const ArchConfig& arch, double val_top1,
                                    double energy_mj) {
  space.check_contains(arch);
  AccuracyRecord r;
  r.key = arch.key();
  r.arch = arch;
  r.encoding = space.encode(arch);
  r.val_top1 = val_top1;
  r.energy_mj = energy_mj;
  const LayerCounts counts = count_layers(arch);
  r.macs = counts.macs;
  r.params = counts.params;
  return r;
}

AccuracyDataset read_accuracy_dataset(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  NAS_CHECK(!ec, "cannot read " << path << ": " << ec.message());
  NAS_CHECK(size <= kMaxAccuracyDatasetBytes,
            path << ": " << size << " bytes, more than an accuracy data set may have (" << kMaxAccuracyDatasetBytes << ")");
  std::ifstream in(path, std::ios::binary);
  NAS_CHECK(in.good(), "cannot open " << path);
  AccuracyDataset out;
  std::unordered_set<std::string> keys;
  std::string line;
  int64_t line_number = 0;
  uint64_t offset = 0;
  bool have_header = false;
  while (true) {
    line.clear();
    char c = 0;
    bool newline = false;
    while (in.get(c)) {
      if (c == '\n') {
        newline = true;
        break;
      }
      NAS_CHECK(line.size() < kMaxAccuracyLineBytes,
                path << ":" << line_number + 1 << ": line longer than " << kMaxAccuracyLineBytes << " bytes");
      line.push_back(c);
    }
    if (!newline) {
      // End of file: a tail without a newline is a line the writer did not finish.
      out.dropped_incomplete_line = !line.empty();
      break;
    }
    ++line_number;
    const std::string where = path + ":" + std::to_string(line_number);
    json j = parse_json_text(line, where);
    if (!have_header) {
      check_checksum(j, where);
      NAS_CHECK(j.value("format", std::string()) == kFormat,
                where << ": not an accuracy data set (format '" << kFormat << "' expected)");
      NAS_CHECK(j.value("format_version", json()) != 1,
                where << ": format_version 1, written by an earlier build whose checksums used a non-standard "
                         "FNV-1a basis; build the data set again (nas_build_acc_dataset)");
      NAS_CHECK(j.contains("format_version") && j["format_version"] == kAccuracyDatasetFormatVersion,
                where << ": format_version " << json_excerpt(j.value("format_version", json())) << " (this build reads "
                      << kAccuracyDatasetFormatVersion << ")");
      NAS_CHECK(j.contains("space"), where << ": the header has no space");
      out.header.space = ArchSpace::from_json(j["space"], where + ": space");
      NAS_CHECK(j.value("space_fingerprint", std::string()) == out.header.space.fingerprint(),
                where << ": space_fingerprint does not match the space");
      out.header.source = j.value("source", json::object());
      have_header = true;
    } else {
      AccuracyRecord r = parse_record(std::move(j), out.header.space, where);
      NAS_CHECK(keys.insert(r.key).second, where << ": duplicate architecture " << r.key);
      out.records.push_back(std::move(r));
    }
    offset += line.size() + 1;
    out.complete_bytes = offset;
  }
  NAS_CHECK(have_header, path << ": empty (no header line)");
  return out;
}

}  // namespace nas
