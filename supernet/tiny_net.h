#pragma once
// TinyNet: the exported multiplication-free tiny network, standalone for inference.
//
// What is kept: shift layers as int8 shift codes + int8 signs (ops::export_shift_codes of the
// quantized weight, so decoding is bit-exact), adder weights as float32 (after the remap R),
// multiplicative weights (stem, classifier, any mult block) as float32, the classifier bias, and
// every BatchNorm as parameters + running statistics (never folded: folding BN into an adder
// layer is not possible). Nothing of the augmented channels.
//
// File format (one file, little endian):
//   8 bytes  magic "NASTINY1"
//   u64      header length H
//   H bytes  header JSON: {"format": "nas-tiny-model", "format_version": 2, "arch": ArchConfig,
//            "preprocessing": {...}, "shift_bits", "bn_eps", "meta": {...},
//            "tensors": [{"name", "dtype": "float32"|"int8", "shape", "offset", "nbytes"}]}
//   data     the tensors' bytes, at the offsets above (relative to the start of the data)
//   u64      FNV-1a 64 checksum of everything before it (version 1: the legacy offset basis,
//            core/fnv1a.h; still read)
// load() checks the magic, the version, the checksum, the architecture, and that every tensor the
// architecture needs is present with the right shape and type (and nothing else), with one-line
// errors naming the file and the tensor.
//
// Bit-for-bit: forward() runs the same functions (supernet/tiny_ops.h) on bit-identical tensors
// as HybridNet's tiny forward in eval mode, so the logits are equal exactly.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/json_util.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "supernet/hybrid_net.h"

namespace nas {

constexpr int kTinyModelFormatVersion = 2;  // 2: the standard FNV-1a offset basis

// How inputs were prepared in training; nas_eval applies the same.
struct TinyPreprocessing {
  std::string dataset;      // canonical data set name
  int64_t resolution = 0;   // H = W the network sees (padded / cropped from the native size)
  std::vector<double> mean, std;  // per channel, pixels in [0, 1]
  // Output i is class class_names[i] (an image folder's classes); empty: not named. Written only
  // when named, so models of the built-in data sets keep their bytes.
  std::vector<std::string> class_names;

  json to_json() const;
  static TinyPreprocessing from_json(const json& j, const std::string& where);
};

// One layer of the tiny network as stored.
struct TinyLayerPlan {
  std::string name;
  OpKind op = OpKind::Mult;
  int64_t c_in = 0, c_out = 0, kernel = 1, stride = 1;
  bool depthwise = false;
  bool has_bias = false;  // the classifier (unless an adder)
  bool has_bn = true;     // every layer but a non-adder classifier
};

// The layers of the tiny network of `arch`, in forward order (names as LayerSpec names).
std::vector<TinyLayerPlan> tiny_layer_plan(const ArchConfig& arch);

class TinyNet {
 public:
  TinyNet() = default;

  // The tiny network of `net` as it is now (eval-mode weights; the net is not modified).
  static TinyNet from_hybrid(HybridNetImpl& net, const TinyPreprocessing& preprocessing,
                             const json& meta = json::object());
  static TinyNet load(const std::string& path);
  // Atomic write.
  void save(const std::string& path) const;
  // The file's bytes (what save() writes).
  std::string serialize() const;

  // Eval-mode logits [N, num_classes]; no autograd. An input of another size than the
  // architecture's resolution is resized to it first (resize_input, as in supernet training).
  torch::Tensor forward(const torch::Tensor& x) const;
  void to(torch::Device device);

  const ArchConfig& arch() const { return arch_; }
  const TinyPreprocessing& preprocessing() const { return preprocessing_; }
  const json& meta() const { return meta_; }
  json& meta() { return meta_; }
  int64_t shift_bits() const { return shift_bits_; }
  // The stored tensors (file form: int8 codes for shift layers), by name.
  const std::map<std::string, torch::Tensor>& stored() const { return stored_; }
  int64_t stored_bytes() const;

 private:
  struct Layer {
    TinyLayerPlan plan;
    torch::Tensor weight;  // op weight (decoded for shift layers)
    torch::Tensor bias;
    torch::Tensor bn_weight, bn_bias, bn_mean, bn_var;
  };

  static TinyNet parse(const std::string& bytes, const std::string& where);
  // Validates stored_ against the architecture and builds layers_ (on the CPU).
  void build(const std::string& where);
  torch::Tensor run_layer(size_t index, const torch::Tensor& x) const;

  ArchConfig arch_;
  ResolvedArch resolved_;
  TinyPreprocessing preprocessing_;
  json meta_ = json::object();
  int64_t shift_bits_ = 5;
  double bn_eps_ = 1e-5;
  std::map<std::string, torch::Tensor> stored_;
  std::vector<Layer> layers_;
};

}  // namespace nas
