#pragma once
// ArchConfig: one architecture of the MobileNetV2-style space (DESIGN.md §3) as a plain value.
//
// Layout of the network it describes (search_space/arch_layers.h turns it into layers):
//   stem      kxk conv, stride stem.stride, make_divisible(stem.out_channels * width_mult) outputs
//   stages    each stage: `depth` inverted-residual blocks; the first block has the stage stride
//             and changes the channels to make_divisible(out_channels * width_mult); a block is
//             1x1 expand (omitted when expand == 1), kxk depthwise, 1x1 project, all with the
//             block's op
//   head      1x1 conv to make_divisible(head.channels * width_mult) (omitted when channels == 0),
//             global average pool, fully connected classifier (head.classifier_op)
//
// Channel counts in the config are *base* counts, before the width multiplier.
//
// Canonical JSON (nlohmann objects are key-sorted, so dump() of to_json() is canonical):
//   {"resolution": 28, "in_channels": 1, "num_classes": 10, "width_mult": 0.35,
//    "stem": {"op": "mult", "out_channels": 32, "kernel": 3, "stride": 1},
//    "stages": [{"depth": 2, "stride": 2, "out_channels": 24,
//                "blocks": [{"op": "shift", "kernel": 3, "expand": 6}, ...]}, ...],
//    "head": {"op": "mult", "channels": 1280, "classifier_op": "mult"}}
// from_json() accepts exactly these fields (unknown fields are errors) and names the path of
// any bad field: "arch: stages[2].blocks[1].kernel must be one of 3, 5, 7, got 4".
#include <cstdint>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/op_kind.h"

namespace nas {

// Accepted depthwise kernels of a block.
inline constexpr int kBlockKernels[] = {3, 5, 7};
// Accepted ranges (inclusive) of the integer fields; wider than any sane network, they only
// catch typos and overflow.
inline constexpr int kMaxResolution = 4096;
inline constexpr int kMaxChannels = 65536;
inline constexpr int kMaxExpand = 16;
inline constexpr int kMaxDepth = 32;
inline constexpr int kMaxStages = 16;
inline constexpr int kMaxClasses = 1000000;
inline constexpr double kMaxWidthMult = 8.0;

struct BlockConfig {
  OpKind op = OpKind::Mult;
  int kernel = 3;  // depthwise kernel: 3, 5 or 7
  int expand = 6;  // hidden = make_divisible(round(expand * c_in), 8); 1 = no expand conv
};

struct StageConfig {
  int stride = 1;                   // stride of the first block: 1 or 2
  int out_channels = 16;            // base output channels (before width_mult)
  std::vector<BlockConfig> blocks;  // depth = blocks.size() >= 1

  int depth() const { return static_cast<int>(blocks.size()); }
};

struct StemConfig {
  OpKind op = OpKind::Mult;  // ShiftAddAug keeps the first conv multiplicative
  int out_channels = 32;     // base channels
  int kernel = 3;            // 1, 3, 5 or 7
  int stride = 2;            // 1 or 2
};

struct HeadConfig {
  OpKind op = OpKind::Mult;             // op of the final 1x1 conv
  int channels = 1280;                  // base channels of the final 1x1 conv; 0 = no such conv
  OpKind classifier_op = OpKind::Mult;  // op of the fully connected classifier
};

struct ArchConfig {
  int resolution = 224;  // input height = width
  int in_channels = 3;
  int num_classes = 1000;
  double width_mult = 1.0;  // (0, 8]
  StemConfig stem;
  std::vector<StageConfig> stages;
  HeadConfig head;

  int num_blocks() const;
  std::vector<int> depths() const;

  // Throws nas::Error naming the first bad field ("<where>: stages[1].stride must be 1 or 2,
  // got 3"). Every ArchConfig that leaves this library has passed it.
  void validate(const std::string& where = "arch") const;

  // Canonical JSON (see the top of this file).
  json to_json() const;
  // Parses and validates; strict types (an integer field rejects 3.5, "3" and true) and no
  // unknown fields. `where` prefixes every error message (e.g. the file name).
  static ArchConfig from_json(const json& j, const std::string& where = "arch");

  // Compact, unique text form for dedup and caching, e.g.
  // "r28.i1.n10.w0.35|stem:m.k3.s1.c32|s1.c16:m3e1|s2.c24:s3e6-a5e4|...|head:m.c1280.fc:m"
  // (op letters m/s/a; a block is <op><kernel>e<expand>). Equal keys <=> equal configs.
  std::string key() const;
};

bool operator==(const BlockConfig& a, const BlockConfig& b);
bool operator==(const StageConfig& a, const StageConfig& b);
bool operator==(const StemConfig& a, const StemConfig& b);
bool operator==(const HeadConfig& a, const HeadConfig& b);
bool operator==(const ArchConfig& a, const ArchConfig& b);
inline bool operator!=(const BlockConfig& a, const BlockConfig& b) { return !(a == b); }
inline bool operator!=(const StageConfig& a, const StageConfig& b) { return !(a == b); }
inline bool operator!=(const StemConfig& a, const StemConfig& b) { return !(a == b); }
inline bool operator!=(const HeadConfig& a, const HeadConfig& b) { return !(a == b); }
inline bool operator!=(const ArchConfig& a, const ArchConfig& b) { return !(a == b); }

// The stem's JSON form ({"op", "out_channels", "kernel", "stride"}), shared with ArchSpace;
// `path` names the object in errors ("stem").
json stem_to_json(const StemConfig& stem);
StemConfig stem_from_json(const json& j, const std::string& where, const std::string& path);
void validate_stem(const StemConfig& stem, const std::string& where, const std::string& path);

// One-letter op code used in keys: 'm', 's', 'a'.
char op_kind_letter(OpKind op);

// Reads and validates an architecture file of at most kMaxArchFileBytes (errors name the file and
// the field); a real architecture's file is a few kB.
constexpr uint64_t kMaxArchFileBytes = uint64_t{1} << 20;
ArchConfig read_arch_file(const std::string& path);
// Writes the canonical JSON (pretty, atomic).
void write_arch_file(const std::string& path, const ArchConfig& arch);

// Sets the op of every multiplication-free-able layer: every block and the head's 1x1 conv.
// The stem and the classifier keep their op (ShiftAddAug keeps them multiplicative); set them
// explicitly if wanted. Used by `nas_retrain --op shift|add|mult`.
void set_all_ops(ArchConfig& arch, OpKind op);

}  // namespace nas
