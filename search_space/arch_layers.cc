#include "search_space/arch_layers.h"

#include <cmath>
#include <optional>

#include "core/checked_math.h"
#include "core/error.h"

namespace nas {

int64_t make_divisible(double value, int64_t divisor, int64_t min_value) {
  NAS_CHECK(divisor > 0, "make_divisible: divisor must be positive, got " << divisor);
  NAS_CHECK(std::isfinite(value) && value >= 0.0 && value < 1e15,
            "make_divisible: value must be finite and >= 0, got " << value);
  if (min_value <= 0) min_value = divisor;
  const auto rounded =
      static_cast<int64_t>(value + static_cast<double>(divisor) / 2.0) / divisor * divisor;
  int64_t result = std::max(min_value, rounded);
  if (static_cast<double>(result) < 0.9 * value) result += divisor;
  return result;
}

int64_t scale_channels(int64_t base_channels, double width_mult) {
  return make_divisible(static_cast<double>(base_channels) * width_mult, 8);
}

int64_t hidden_channels(int64_t c_in, double expand) {
  return make_divisible(std::round(expand * static_cast<double>(c_in)), 8);
}

namespace {
int64_t padded_output(int64_t in, int kernel, int stride) {
  return conv_output_size(in, kernel, stride, kernel / 2);
}
}  // namespace

ResolvedArch resolve_arch(const ArchConfig& arch) {
  arch.validate();
  ResolvedArch r;
  r.resolution = arch.resolution;
  r.in_channels = arch.in_channels;
  r.num_classes = arch.num_classes;
  r.stem_channels = scale_channels(arch.stem.out_channels, arch.width_mult);
  r.stem_h = padded_output(arch.resolution, arch.stem.kernel, arch.stem.stride);
  r.stem_w = r.stem_h;

  int64_t c = r.stem_channels, h = r.stem_h, w = r.stem_w;
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    const StageConfig& stage = arch.stages[s];
    const int64_t c_out = scale_channels(stage.out_channels, arch.width_mult);
    for (size_t b = 0; b < stage.blocks.size(); ++b) {
      const BlockConfig& block = stage.blocks[b];
      ResolvedBlock rb;
      rb.name = "stage" + std::to_string(s) + ".block" + std::to_string(b);
      rb.stage = static_cast<int>(s);
      rb.index = static_cast<int>(b);
      rb.op = block.op;
      rb.kernel = block.kernel;
      rb.expand = block.expand;
      rb.stride = b == 0 ? stage.stride : 1;
      rb.c_in = c;
      rb.c_mid = block.expand == 1 ? c : hidden_channels(c, block.expand);
      rb.c_out = c_out;
      rb.h_in = h;
      rb.w_in = w;
      rb.h_out = padded_output(h, block.kernel, rb.stride);
      rb.w_out = padded_output(w, block.kernel, rb.stride);
      rb.residual = b > 0;
      c = rb.c_out;
      h = rb.h_out;
      w = rb.w_out;
      r.blocks.push_back(std::move(rb));
    }
  }
  r.head_in = c;
  r.head_channels = arch.head.channels > 0 ? scale_channels(arch.head.channels, arch.width_mult) : 0;
  r.feature_h = h;
  r.feature_w = w;
  r.classifier_in = r.head_channels > 0 ? r.head_channels : r.head_in;
  return r;
}

std::vector<LayerSpec> to_layer_specs(const ArchConfig& arch, int bits) {
  NAS_CHECK(bits >= 1 && bits <= 64, "to_layer_specs: bits must be in 1..64, got " << bits);
  const ResolvedArch r = resolve_arch(arch);
  std::vector<LayerSpec> layers;
  layers.reserve(3 * r.blocks.size() + 4);
  const int64_t sk = arch.stem.kernel;
  layers.push_back(make_layer("stem.conv", LayerType::Conv, arch.stem.op, r.in_channels,
                              r.stem_channels, r.resolution, r.resolution, sk, arch.stem.stride,
                              sk / 2, 1, bits));
  for (const ResolvedBlock& b : r.blocks) {
    if (b.has_expand_conv())
      layers.push_back(make_layer(b.name + ".expand", LayerType::Conv, b.op, b.c_in, b.c_mid,
                                  b.h_in, b.w_in, 1, 1, 0, 1, bits));
    layers.push_back(make_layer(b.name + ".dw", LayerType::Conv, b.op, b.c_mid, b.c_mid, b.h_in,
                                b.w_in, b.kernel, b.stride, b.kernel / 2, b.c_mid, bits));
    layers.push_back(make_layer(b.name + ".project", LayerType::Conv, b.op, b.c_mid, b.c_out,
                                b.h_out, b.w_out, 1, 1, 0, 1, bits));
  }
  if (r.head_channels > 0)
    layers.push_back(make_layer("head.conv", LayerType::Conv, arch.head.op, r.head_in,
                                r.head_channels, r.feature_h, r.feature_w, 1, 1, 0, 1, bits));
  // Global average pool: one window over the whole (square) feature map.
  layers.push_back(make_layer("head.pool", LayerType::AvgPool, OpKind::Mult, r.classifier_in,
                              r.classifier_in, r.feature_h, r.feature_w, r.feature_h, r.feature_h,
                              0, 1, bits));
  layers.push_back(make_layer("classifier", LayerType::FC, arch.head.classifier_op,
                              r.classifier_in, r.num_classes, 1, 1, 1, 1, 0, 1, bits));
  return layers;
}

LayerCounts count_layers(const std::vector<LayerSpec>& layers) {
  LayerCounts counts;
  // Per-op sums are at most the totals, so checking the totals covers them.
  auto add = [](int64_t total, int64_t part, const LayerSpec& layer, const char* what) {
    const std::optional<int64_t> sum = checked_add(total, part);
    NAS_CHECK(sum, "layer '" << layer.name << "': the network's " << what
                             << " up to this layer overflow 64-bit integers");
    return *sum;
  };
  for (const LayerSpec& layer : layers) {
    if (layer.type == LayerType::AvgPool || layer.type == LayerType::MaxPool) continue;
    OpCount& c = counts.by_op[layer.op];
    const int64_t macs = layer.macs(), params = layer.params();
    counts.macs = add(counts.macs, macs, layer, "MACs");
    counts.params = add(counts.params, params, layer, "weights");
    c.layers += 1;
    c.macs += macs;
    c.params += params;
  }
  return counts;
}

json LayerCounts::to_json() const {
  json ops = json::object();
  for (const auto& [op, c] : by_op)
    ops[op_kind_name(op)] = {{"layers", c.layers}, {"macs", c.macs}, {"params", c.params}};
  return {{"macs", macs}, {"params", params}, {"by_op", std::move(ops)}};
}

int64_t count_macs(const ArchConfig& arch) { return count_layers(arch).macs; }
int64_t count_params(const ArchConfig& arch) { return count_layers(arch).params; }

}  // namespace nas
