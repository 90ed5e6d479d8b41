#pragma once
// ArchConfig -> concrete channel counts, spatial sizes and LayerSpecs. This file is the single
// place where the channel arithmetic lives; the supernet builds its layers from resolve_arch()
// so that its shapes agree with what the energy model is given.
//
// Rules (MobileNetV2 / OFA / NetAug):
//   channels   make_divisible(base * width_mult, 8) for the stem, every stage and the head conv
//   hidden     make_divisible(round(expand * c_in), 8) inside a block; no expand conv when
//              expand == 1 (then hidden = c_in)
//   stride     the stem stride, and each stage's stride on the depthwise conv of its first block
//   padding    kernel / 2 everywhere, so H_out = floor((H_in - 1) / stride) + 1
//   residual   every block but the first of its stage (those have stride 1 and c_in == c_out);
//              the first block never has a shortcut, as in OFA and NetAug
// Layer names (0-based, matching the ArchConfig field paths):
//   stem.conv, stage<s>.block<b>.expand / .dw / .project, head.conv, head.pool, classifier
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/arch_config.h"
#include "search_space/layer_spec.h"

namespace nas {

// MobileNetV2's rounding: the nearest multiple of `divisor` (at least min_value, which defaults
// to divisor), bumped up by one divisor when rounding lost more than 10 %.
int64_t make_divisible(double value, int64_t divisor = 8, int64_t min_value = 0);
// make_divisible(base_channels * width_mult, 8).
int64_t scale_channels(int64_t base_channels, double width_mult);
// make_divisible(round(expand * c_in), 8): the hidden width of an inverted residual block.
int64_t hidden_channels(int64_t c_in, double expand);

struct ResolvedBlock {
  std::string name;  // "stage2.block1"
  int stage = 0, index = 0;
  OpKind op = OpKind::Mult;
  int kernel = 3, expand = 1, stride = 1;
  int64_t c_in = 0, c_mid = 0, c_out = 0;
  int64_t h_in = 0, w_in = 0, h_out = 0, w_out = 0;
  bool residual = false;

  bool has_expand_conv() const { return expand != 1; }
};

struct ResolvedArch {
  int64_t resolution = 0, in_channels = 0, num_classes = 0;
  int64_t stem_channels = 0;
  int64_t stem_h = 0, stem_w = 0;  // spatial size after the stem
  std::vector<ResolvedBlock> blocks;
  int64_t head_in = 0;        // channels entering the head
  int64_t head_channels = 0;  // output of the head 1x1 conv; 0 = no head conv
  int64_t feature_h = 0, feature_w = 0;  // spatial size entering the global pool
  int64_t classifier_in = 0;
};

// Validates `arch` and computes every channel count and spatial size.
ResolvedArch resolve_arch(const ArchConfig& arch);

// The layer list of the network: stem conv, per block expand (when expand != 1) / depthwise /
// project, head conv (when head.channels > 0), global average pool, FC classifier. Every layer
// is validated; `bits` is stored in each layer for the energy model.
std::vector<LayerSpec> to_layer_specs(const ArchConfig& arch, int bits = 32);

struct OpCount {
  int64_t layers = 0, macs = 0, params = 0;
};

// MACs per image and weight counts (no biases, no BN) summed over layers, total and per OpKind.
struct LayerCounts {
  int64_t macs = 0, params = 0;
  std::map<OpKind, OpCount> by_op;  // layers with weights only (pools are left out)

  // {"macs", "params", "by_op": {"mult": {"layers", "macs", "params"}, ...}}
  json to_json() const;
};

LayerCounts count_layers(const std::vector<LayerSpec>& layers);
inline LayerCounts count_layers(const ArchConfig& arch) { return count_layers(to_layer_specs(arch)); }
int64_t count_macs(const ArchConfig& arch);
int64_t count_params(const ArchConfig& arch);

}  // namespace nas
