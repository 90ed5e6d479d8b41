#pragma once
// The accuracy predictor's data set: architectures of a supernet's space with their inherited,
// BN-recalibrated validation top-1 (nas_build_acc_dataset writes it, nas_train_predictor reads
// it). One JSON line per record, so that a killed builder keeps every finished line:
//
//   line 1   header {"format": "nas-accuracy-dataset", "format_version": 2, "space": ArchSpace
//            JSON, "space_fingerprint", "source": {...what made it: supernet dir, epoch, split...}}
//   line 2+  record {"key", "arch", "encoding", "val_top1" (%), "energy_mj" (eyeriss, 32 bit,
//            per image), "macs", "params", "checksum": "fnv1a64:<hex of the record without it>"}
//
// The reader checks every line (strict JSON, bounded length, checksum, arch in the space, key and
// encoding consistent with the arch) and names the line in its one-line errors. An incomplete
// last line (no newline: the writer was killed mid-line) is dropped, not an error; the reader
// says where the complete part ends so that the writer can cut the file there and go on.
#include <cstdint>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/arch_config.h"
#include "search_space/arch_space.h"

namespace nas {

constexpr int kAccuracyDatasetFormatVersion = 2;  // 2: the standard FNV-1a basis (1 is refused)
// Bounds on untrusted input: a record of the largest sane space is a few kB.
constexpr size_t kMaxAccuracyLineBytes = size_t{1} << 20;
constexpr uint64_t kMaxAccuracyDatasetBytes = uint64_t{1} << 30;

struct AccuracyRecord {
  std::string key;
  ArchConfig arch;
  std::vector<float> encoding;  // space.encode(arch)
  double val_top1 = 0;          // %
  double energy_mj = 0;         // per image
  int64_t macs = 0, params = 0;

  // The record's line (compact JSON, no newline), checksum included.
  std::string to_line() const;
};

struct AccuracyDatasetHeader {
  ArchSpace space;
  json source = json::object();

  std::string to_line() const;
};

struct AccuracyDataset {
  AccuracyDatasetHeader header;
  std::vector<AccuracyRecord> records;  // in file order, unique keys
  uint64_t complete_bytes = 0;          // bytes up to the end of the last complete line
  bool dropped_incomplete_line = false;
};

// Reads and checks a data set file (see the top). Throws nas::Error naming the file and line.
AccuracyDataset read_accuracy_dataset(const std::string& path);

// A record of `arch` (in `space`): key, encoding, MACs and params filled in here.
AccuracyRecord make_accuracy_record(const ArchSpace& space, const ArchConfig& arch, double val_top1,
                                    double energy_mj);

}  // namespace nas
