#pragma once
// LayerSpec: what the energy model consumes for one layer — shapes plus the op kind.
// search_space turns an ArchConfig into a list of these.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "search_space/op_kind.h"

namespace nas {

// Largest sizes a layer may have: well above any real network (ImageNet models stay under 4096
// channels, 1024 pixels and 11x11 kernels), and small enough that the MAC count and the energy
// model's access counts cannot overflow 64 bits. Pools may use a window up to the spatial limit
// (a global pool covers the whole feature map).
constexpr int64_t kMaxLayerChannels = 65536;  // c_in, c_out, groups
constexpr int64_t kMaxLayerSpatial = 16384;   // h_in, w_in, stride, padding, pool kernel
constexpr int64_t kMaxConvKernel = 31;        // kernel of conv and fc layers
constexpr int64_t kMaxLayerBits = 64;
// MACs per image of one layer (~1.8e13, over 100x the largest conv layer of a 1024px ResNet) and
// of a whole layer list.
constexpr int64_t kMaxLayerMacs = int64_t{1} << 44;
constexpr int64_t kMaxNetworkMacs = int64_t{1} << 50;
// Bounds of a layers file: names, layer count and file size (a 10,000-layer network's file is
// about 2 MB; a parsed file takes ~50x its size in memory).
constexpr size_t kMaxLayerNameChars = 200;
constexpr size_t kMaxLayers = 50000;
constexpr uint64_t kMaxLayersFileBytes = uint64_t{16} << 20;

// Conv covers every convolution (1x1, kxk, depthwise when groups == c_in == c_out);
// FC is a fully connected layer (1x1 on a 1x1 input); pools have no weights.
enum class LayerType { Conv, FC, AvgPool, MaxPool };

struct LayerSpec {
  std::string name;
  LayerType type = LayerType::Conv;
  OpKind op = OpKind::Mult;  // arithmetic of the MACs (pools: ignored)
  int64_t c_in = 0, c_out = 0;
  int64_t h_in = 0, w_in = 0;
  int64_t h_out = 0, w_out = 0;
  int64_t kernel = 1, stride = 1, padding = 0, groups = 1;
  int bits = 32;

  // MACs per image: h_out * w_out * c_out * kernel^2 * c_in / groups (pools: 0). Throws
  // nas::Error naming the layer when the product overflows (only for a layer validate() rejects).
  int64_t macs() const;
  // Weight count (pools: 0); throws like macs().
  int64_t params() const;
  bool depthwise() const { return groups > 1 && groups == c_in && groups == c_out; }

  // Throws nas::Error naming the layer and the bad field: non-positive sizes, sizes above the
  // kMax* limits, kernel larger than the padded input, groups not dividing the channels, output
  // size inconsistent with the input, more than kMaxLayerMacs MACs.
  void validate() const;

  // Stable text key of the full description (cache key of the energy model).
  std::string key() const;
};

// Name of a layer type: "conv" | "fc" | "avgpool" | "maxpool".
const char* layer_type_name(LayerType type);
// The layers-file "op" of a layer: "conv" | "shift" | "add" (Conv by op kind), "fc", "avgpool",
// "maxpool". An FC layer whose op is not Mult keeps "fc" and records the op as "arith".
const char* layer_op_name(const LayerSpec& layer);

// Output size of a convolution/pool along one axis.
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding);

// Builds a validated LayerSpec, computing h_out/w_out from the input, kernel, stride, padding.
LayerSpec make_layer(std::string name, LayerType type, OpKind op, int64_t c_in, int64_t c_out,
                     int64_t h_in, int64_t w_in, int64_t kernel, int64_t stride, int64_t padding,
                     int64_t groups = 1, int bits = 32);

// The layers-file form: {"name", "op": "conv"|"shift"|"add"|"fc"|"avgpool"|"maxpool", "c_in",
// "c_out", "h_in", "w_in", "kernel", "stride", "padding" (default kernel/2), "groups" (default 1)}
// plus optional "bits" and (output only) "h_out", "w_out", "macs".
LayerSpec layer_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json layer_to_json(const LayerSpec& layer);
// Also refuses a list of more than kMaxNetworkMacs MACs per image or kMaxLayers layers.
std::vector<LayerSpec> layers_from_json(const nlohmann::json& array, const std::string& where);
// Reads a layers file (at most kMaxLayersFileBytes) with layers_from_json.
std::vector<LayerSpec> read_layers_file(const std::string& path);

}  // namespace nas
