#pragma once
// ArchSpace: the space of architectures the supernet covers and the evolutionary search explores
// (OFA style). A fixed skeleton (input, stem, per-stage stride and base channels, head channels,
// classifier op) plus choice lists:
//   resolution       resolutions
//   width            widths (the width multiplier)
//   per stage        depths (elastic depth keeps the first blocks), kernels, expands
//   per block        op (from ops), kernel, expand
//   head conv op     head_ops
// The stem op and classifier op are fixed (multiplicative in ShiftAddAug).
//
// An ArchConfig is *in* the space when its skeleton equals the space's and every choice is
// one of the listed values (doubles compared exactly: values written by to_json round-trip).
//
// encode() layout (fixed length for the space; blocks beyond a stage's depth are all zeros):
//   [resolution one-hot][width one-hot]
//   for each stage: [depth one-hot] then for each block slot 0..max_depth-1:
//                   [op one-hot][kernel one-hot][expand one-hot]
//   [head op one-hot]
// encoding_names() gives a name per position ("stage2.block1.kernel=5").
#include <optional>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "core/rng.h"
#include "search_space/arch_config.h"

namespace nas {

struct StageSpace {
  int stride = 1;
  int out_channels = 16;      // base channels
  std::vector<int> depths;    // ascending, unique, >= 1
  std::vector<int> kernels;   // ascending, unique, each 3, 5 or 7
  std::vector<int> expands;   // ascending, unique, each 1..16

  int max_depth() const { return depths.back(); }
};

struct ArchSpace {
  int in_channels = 3;
  int num_classes = 1000;
  StemConfig stem;
  std::vector<StageSpace> stages;
  int head_channels = 1280;  // base channels of the head conv (0 = none)
  OpKind classifier_op = OpKind::Mult;

  std::vector<int> resolutions;  // ascending, unique
  std::vector<double> widths;    // ascending, unique
  std::vector<OpKind> ops;       // block ops, unique, in the order given
  std::vector<OpKind> head_ops;  // head conv ops, unique, in the order given

  // Throws nas::Error naming the first bad field ("space: stages[1].depths must be ascending").
  void validate(const std::string& where = "space") const;

  // Uniform random architecture of the space (draws: resolution, width, then per stage the
  // depth and per block op, kernel, expand, then the head op).
  ArchConfig sample(Rng& rng) const;
  // Resamples each choice of `parent` independently with probability `prob`: resolution, width,
  // each stage depth, each block's op / kernel / expand, the head op. Blocks added by a deeper
  // depth are sampled fresh. `parent` must be in the space.
  ArchConfig mutate(const ArchConfig& parent, Rng& rng, double prob = 0.1) const;
  // Uniform crossover: each choice from either parent with probability 1/2; a block slot only one
  // parent has (because the depths differ) comes from that parent. Both must be in the space.
  ArchConfig crossover(const ArchConfig& a, const ArchConfig& b, Rng& rng) const;

  bool contains(const ArchConfig& arch) const { return violation(arch).empty(); }
  // Empty when `arch` is in the space, else why not ("stages[2].blocks[0].kernel 7 is not one of
  // 3, 5").
  std::string violation(const ArchConfig& arch) const;
  // Throws nas::Error "<where>: architecture is not in the search space: <violation>".
  void check_contains(const ArchConfig& arch, const std::string& where = "arch") const;

  size_t encoding_size() const;
  std::vector<float> encode(const ArchConfig& arch) const;
  std::vector<std::string> encoding_names() const;

  // The cheapest architecture: minimum resolution, width, depths, kernels and expands; every block
  // and the head conv use `op` (must be in ops / head_ops; default ops.front() and
  // head_ops.front()). MACs are minimal over the space; the energy of an op is the predictor's
  // business, so a budget feasibility check should try smallest(op) for every op in ops.
  ArchConfig smallest(std::optional<OpKind> op = std::nullopt) const;
  // The largest architecture (maximum of every choice): the width the supernet allocates.
  ArchConfig largest(std::optional<OpKind> op = std::nullopt) const;

  // log10 of the number of architectures in the space.
  double log10_size() const;

  // {"in_channels", "num_classes", "stem": {...}, "stages": [{"stride", "out_channels", "depths",
  //  "kernels", "expands"}], "head_channels", "classifier_op", "resolutions", "widths", "ops",
  //  "head_ops"}
  json to_json() const;
  static ArchSpace from_json(const json& j, const std::string& where = "space");

  // "fnv1a64:<16 hex digits>" of the canonical JSON (to_json().dump()): files made for one space
  // (accuracy predictors, search states) record it, and using them with another space is an error.
  std::string fingerprint() const;
};

// The default space around mbv2-tiny (named_archs.h) for an input of resolution x resolution x
// in_channels: the same skeleton (strides adapted to the input size as in named_arch()), with
//   resolutions {r - 2d, r - d, r} (d = max(4, r / 8 rounded down to a multiple of 4), values
//                below 8 dropped), widths {0.25, 0.35, 0.5}, ops {shift, add}, head_ops = ops,
//   kernels {3, 5, 7}, expands {3, 4, 6}; depths: stage 0 {1} with k3 e1 only (MobileNetV2's
//   depthwise-separable first block), stage 1 {1, 2, 3} (mbv2-tiny: 2), stages 2..5 {2, 3, 4}
//   (mbv2-tiny: 3, 4, 3, 3), stage 6 {1}.
// mbv2-tiny with its ops set to shift or add is in it.
ArchSpace default_space(int resolution, int in_channels, int num_classes);

// Reads a space file (--space; at most kMaxSpaceFileBytes) with ArchSpace::from_json; errors name
// the file and the field.
constexpr uint64_t kMaxSpaceFileBytes = uint64_t{1} << 20;
ArchSpace read_space_file(const std::string& path);

}  // namespace nas
