#pragma once
// FloatModel: a torch-free reading of tiny_model.nasm (supernet/tiny_net.h's format), what the
// quantizer and the float reference engine consume.
//
// The file is opened with core/sealed_file.h (magic "NASTINY1", checksum), the header's tensor
// table is read strictly (float32 / int8 only, shapes overflow-checked, bytes inside the data
// section, no name twice), and every tensor the architecture needs must be there with its shape
// and nothing else (as TinyNet::load checks). Shift layers are decoded to sign * 2^shift exactly
// (DeepShift-Q codes, ops/shift_conv2d.h) and the codes are kept.
//
// Layers are in forward order (stem.conv, per block expand / dw / project, head.conv,
// classifier), weights OIHW row-major (I = 1 for depthwise).
#include <cstdint>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"

namespace nas::deploy {

struct FloatLayer {
  std::string name;  // "stage1.block0.dw"
  OpKind op = OpKind::Mult;
  int64_t c_in = 0, c_out = 0, kernel = 1, stride = 1;
  bool depthwise = false;
  bool has_bias = false, has_bn = true;
  int64_t h_in = 0, w_in = 0, h_out = 0, w_out = 0;
  std::vector<float> weight;               // OIHW; for Shift the decoded sign * 2^shift
  std::vector<int8_t> shift_code, sign;    // Shift layers only, same layout
  std::vector<float> bias;                 // has_bias
  std::vector<float> bn_weight, bn_bias, bn_mean, bn_var;  // has_bn

  int64_t fan_in() const { return (depthwise ? 1 : c_in) * kernel * kernel; }
  int64_t padding() const { return kernel / 2; }
};

struct FloatModel {
  ArchConfig arch;
  ResolvedArch resolved;
  std::string dataset;            // preprocessing.dataset
  int64_t resolution = 0;         // the network's input resolution (arch.resolution)
  int64_t source_resolution = 0;  // preprocessing.resolution: the data set's images (resized to `resolution` in training)
  std::vector<double> mean, std;  // per input channel, pixels in [0, 1]
  int64_t shift_bits = 5;
  double bn_eps = 1e-5;
  json meta = json::object();
  std::vector<FloatLayer> layers;

  const FloatLayer& layer(const std::string& name) const;
};

// The layers of `arch` in forward order with their shapes (no weights); the same plan as
// supernet/tiny_net.h's tiny_layer_plan.
std::vector<FloatLayer> float_layer_plan(const ArchConfig& arch);

// Parses the bytes of a tiny_model.nasm; `where` names it in one-line errors.
FloatModel parse_float_model(const std::string& bytes, const std::string& where);
FloatModel load_float_model(const std::string& path);

}  // namespace nas::deploy
