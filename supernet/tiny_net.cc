#include "supernet/tiny_net.h"

#include <cstring>
#include <set>
#include <sstream>
#include <string_view>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sealed_file.h"
#include "core/fnv1a.h"
#include "supernet/tensor_table.h"
#include "ops/shift_conv2d.h"
#include "supernet/tiny_ops.h"

namespace nas {

namespace {

constexpr char kMagic[8] = {'N', 'A', 'S', 'T', 'I', 'N', 'Y', '1'};

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  return out.str() + "]";
}

const char* dtype_name(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat) return "float32";
  if (t.scalar_type() == torch::kChar) return "int8";
  return "?";
}

struct ExpectedTensor {
  std::string name;
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
};

std::vector<ExpectedTensor> expected_tensors(const TinyLayerPlan& l) {
  std::vector<ExpectedTensor> out;
  const std::vector<int64_t> w_shape{l.c_out, l.depthwise ? 1 : l.c_in, l.kernel, l.kernel};
  if (l.op == OpKind::Shift) {
    out.push_back({l.name + ".shift", torch::kChar, w_shape});
    out.push_back({l.name + ".sign", torch::kChar, w_shape});
  } else {
    out.push_back({l.name + ".weight", torch::kFloat, w_shape});
  }
  if (l.has_bias) out.push_back({l.name + ".bias", torch::kFloat, {l.c_out}});
  if (l.has_bn)
    for (const char* p : {".bn.weight", ".bn.bias", ".bn.running_mean", ".bn.running_var"})
      out.push_back({l.name + p, torch::kFloat, {l.c_out}});
  return out;
}

}  // namespace

json TinyPreprocessing::to_json() const {
  json j = {{"dataset", dataset}, {"resolution", resolution}, {"mean", mean}, {"std", std}};
  if (!class_names.empty()) j["class_names"] = class_names;
  return j;
}

TinyPreprocessing TinyPreprocessing::from_json(const json& j, const std::string& where) {
  NAS_CHECK(j.is_object(), where << ": 'preprocessing' must be an object");
  TinyPreprocessing p;
  p.dataset = json_string(j, "dataset", where + ": preprocessing");
  p.resolution = json_int(j, "resolution", where + ": preprocessing");
  for (const char* key : {"mean", "std"}) {
    NAS_CHECK(j.contains(key) && j[key].is_array() && !j[key].empty(),
              where << ": preprocessing." << key << " must be a non-empty array of numbers");
    std::vector<double>& dst = std::string(key) == "mean" ? p.mean : p.std;
    for (const json& v : j[key]) {
      NAS_CHECK(v.is_number(), where << ": preprocessing." << key << " must hold numbers");
      dst.push_back(v.get<double>());
    }
  }
  NAS_CHECK(p.resolution >= 1, where << ": preprocessing.resolution must be >= 1");
  if (j.contains("class_names")) {
    const json& names = j["class_names"];
    NAS_CHECK(names.is_array() && !names.empty() && names.size() <= 10000,
              where << ": preprocessing.class_names must be an array of 1 to 10000 names");
    for (const json& name : names) {
      NAS_CHECK(name.is_string() && name.get_ref<const std::string&>().size() <= 255,
                where << ": preprocessing.class_names must hold strings of at most 255 bytes");
      p.class_names.push_back(name.get<std::string>());
    }
  }
  return p;
}

std::vector<TinyLayerPlan> tiny_layer_plan(const ArchConfig& arch) {
  const ResolvedArch r = resolve_arch(arch);
  std::vector<TinyLayerPlan> plan;
  auto add = [&](std::string name, OpKind op, int64_t c_in, int64_t c_out, int64_t kernel,
                 int64_t stride, bool depthwise) {
    TinyLayerPlan l;
    l.name = std::move(name);
    l.op = op;
    l.c_in = c_in;
    l.c_out = c_out;
    l.kernel = kernel;
    l.stride = stride;
    l.depthwise = depthwise;
    plan.push_back(std::move(l));
  };
  add("stem.conv", arch.stem.op, r.in_channels, r.stem_channels, arch.stem.kernel, arch.stem.stride,
      false);
  for (const ResolvedBlock& b : r.blocks) {
    if (b.has_expand_conv()) add(b.name + ".expand", b.op, b.c_in, b.c_mid, 1, 1, false);
    add(b.name + ".dw", b.op, b.c_mid, b.c_mid, b.kernel, b.stride, true);
    add(b.name + ".project", b.op, b.c_mid, b.c_out, 1, 1, false);
  }
  if (r.head_channels > 0) add("head.conv", arch.head.op, r.head_in, r.head_channels, 1, 1, false);
  add("classifier", arch.head.classifier_op, r.classifier_in, r.num_classes, 1, 1, false);
  plan.back().has_bias = arch.head.classifier_op != OpKind::Add;
  plan.back().has_bn = arch.head.classifier_op == OpKind::Add;
  return plan;
}

TinyNet TinyNet::from_hybrid(HybridNetImpl& net, const TinyPreprocessing& preprocessing,
                             const json& meta) {
  torch::NoGradGuard no_grad;
  TinyNet t;
  t.arch_ = net.arch();
  t.resolved_ = net.resolved();
  t.preprocessing_ = preprocessing;
  t.meta_ = meta;
  t.shift_bits_ = net.options().shift_bits;
  t.bn_eps_ = net.options().bn_eps;
  auto cpu = [](const torch::Tensor& x) { return x.detach().to(torch::kCPU).contiguous().clone(); };
  for (HybridNetImpl::LayerRef& l : net.tiny_layers()) {
    const torch::Tensor w = cpu(l.conv->tiny_op_weight(l.in_t, l.out_t, l.kernel, l.op));
    if (l.op == OpKind::Shift) {
      // Codes of the quantized weight: log2 of an exact power of two is exact, so the codes
      // decode to exactly the weight the hybrid network uses.
      const ops::ShiftCodes codes = ops::export_shift_codes(w, t.shift_bits_);
      NAS_CHECK(torch::equal(ops::decode_shift_codes(codes), w),
                "export: shift codes of layer '" << l.name << "' do not decode bit-exactly");
      t.stored_[l.name + ".shift"] = codes.shift.contiguous();
      t.stored_[l.name + ".sign"] = codes.sign.contiguous();
    } else {
      t.stored_[l.name + ".weight"] = w;
    }
    if (l.conv->bias.defined()) t.stored_[l.name + ".bias"] = cpu(l.conv->bias.narrow(0, 0, l.out_t));
    if (l.bn) {
      t.stored_[l.name + ".bn.weight"] = cpu(l.bn->weight.narrow(0, 0, l.out_t));
      t.stored_[l.name + ".bn.bias"] = cpu(l.bn->bias.narrow(0, 0, l.out_t));
      t.stored_[l.name + ".bn.running_mean"] = cpu(l.bn->running_mean.narrow(0, 0, l.out_t));
      t.stored_[l.name + ".bn.running_var"] = cpu(l.bn->running_var.narrow(0, 0, l.out_t));
    }
  }
  t.build("export");
  return t;
}

void TinyNet::build(const std::string& where) {
  resolved_ = resolve_arch(arch_);
  layers_.clear();
  std::set<std::string> expected_names;
  for (const TinyLayerPlan& plan : tiny_layer_plan(arch_)) {
    Layer layer;
    layer.plan = plan;
    for (const ExpectedTensor& e : expected_tensors(plan)) {
      expected_names.insert(e.name);
      const auto it = stored_.find(e.name);
      NAS_CHECK(it != stored_.end(), where << ": tensor '" << e.name
                                           << "' is missing (the architecture needs it)");
      const torch::Tensor& t = it->second;
      NAS_CHECK(t.scalar_type() == e.dtype,
                where << ": tensor '" << e.name << "' has type " << dtype_name(t)
                      << ", expected " << (e.dtype == torch::kChar ? "int8" : "float32"));
      NAS_CHECK(t.sizes().vec() == e.shape,
                where << ": tensor '" << e.name << "' has shape " << shape_str(t.sizes().vec())
                      << ", the architecture needs " << shape_str(e.shape));
    }
    const std::string& n = plan.name;
    if (plan.op == OpKind::Shift) {
      ops::ShiftCodes codes;
      codes.shift = stored_.at(n + ".shift");
      codes.sign = stored_.at(n + ".sign");
      codes.weight_bits = shift_bits_;
      const int64_t min_exp = ops::shift_min_exponent(shift_bits_);
      NAS_CHECK(codes.shift.min().item<int64_t>() >= min_exp && codes.shift.max().item<int64_t>() <= 0,
                where << ": tensor '" << n << ".shift' has codes outside [" << min_exp << ", 0]");
      NAS_CHECK(codes.sign.abs().max().item<int64_t>() <= 1,
                where << ": tensor '" << n << ".sign' has values outside {-1, 0, 1}");
      layer.weight = ops::decode_shift_codes(codes).contiguous();
    } else {
      layer.weight = stored_.at(n + ".weight");
    }
    if (plan.has_bias) layer.bias = stored_.at(n + ".bias");
    if (plan.has_bn) {
      layer.bn_weight = stored_.at(n + ".bn.weight");
      layer.bn_bias = stored_.at(n + ".bn.bias");
      layer.bn_mean = stored_.at(n + ".bn.running_mean");
      layer.bn_var = stored_.at(n + ".bn.running_var");
    }
    layers_.push_back(std::move(layer));
  }
  for (const auto& [name, tensor] : stored_)
    NAS_CHECK(expected_names.count(name),
              where << ": unexpected tensor '" << name << "' (not part of the architecture)");
}

torch::Tensor TinyNet::run_layer(size_t index, const torch::Tensor& x) const {
  const Layer& l = layers_[index];
  torch::Tensor y = apply_layer_op(l.plan.op, x, l.weight, l.bias, l.plan.stride, l.plan.kernel / 2,
                                   l.plan.depthwise ? l.plan.c_out : 1, 0.0);
  if (l.plan.has_bn) y = batch_norm_eval(y, l.bn_weight, l.bn_bias, l.bn_mean, l.bn_var, bn_eps_);
  return y;
}

torch::Tensor TinyNet::forward(const torch::Tensor& input) const {
  NAS_CHECK(!layers_.empty(), "TinyNet: empty model");
  NAS_CHECK(input.dim() == 4 && input.size(1) == resolved_.in_channels,
            "TinyNet: input must be [N, " << resolved_.in_channels << ", H, W]");
  torch::NoGradGuard no_grad;
  size_t li = 0;
  torch::Tensor x = relu6_act(run_layer(li++, resize_input(input, resolved_.resolution)));
  for (const ResolvedBlock& b : resolved_.blocks) {
    torch::Tensor h = x;
    if (b.has_expand_conv()) h = relu6_act(run_layer(li++, h));
    h = relu6_act(run_layer(li++, h));
    h = run_layer(li++, h);
    x = b.residual ? h + x : h;
  }
  if (resolved_.head_channels > 0) x = relu6_act(run_layer(li++, x));
  x = global_avg_pool(x);
  x = run_layer(li++, x);
  return x.flatten(1);
}

void TinyNet::to(torch::Device device) {
  for (Layer& l : layers_)
    for (torch::Tensor* t : {&l.weight, &l.bias, &l.bn_weight, &l.bn_bias, &l.bn_mean, &l.bn_var})
      if (t->defined()) *t = t->to(device);
}

int64_t TinyNet::stored_bytes() const {
  int64_t total = 0;
  for (const auto& [name, t] : stored_) total += t.numel() * static_cast<int64_t>(t.element_size());
  return total;
}

std::string TinyNet::serialize() const {
  json header;
  header["format"] = "nas-tiny-model";
  header["format_version"] = kTinyModelFormatVersion;
  header["arch"] = arch_.to_json();
  header["preprocessing"] = preprocessing_.to_json();
  header["shift_bits"] = shift_bits_;
  header["bn_eps"] = bn_eps_;
  header["meta"] = meta_;
  json tensors = json::array();
  std::string data;
  for (const auto& [name, t] : stored_) append_tensor(tensors, data, name, t);
  header["tensors"] = tensors;
  return seal(std::string_view(kMagic, sizeof kMagic), header.dump(), data);
}

void TinyNet::save(const std::string& path) const { write_file_atomic(path, serialize()); }

TinyNet TinyNet::load(const std::string& path) {
  return parse(read_file(path), "model file '" + path + "'");
}

TinyNet TinyNet::parse(const std::string& bytes, const std::string& where) {
  const SealedFile sealed = open_sealed(bytes, std::string_view(kMagic, sizeof kMagic), where, "a tiny-model", "nas_retrain");
  const json& header = sealed.header;
  NAS_CHECK(header.is_object() && header.contains("format") && header["format"] == "nas-tiny-model",
            where << ": header does not describe a nas-tiny-model");
  const int64_t version = json_int(header, "format_version", where);
  NAS_CHECK(version == kTinyModelFormatVersion || version == 1,
            where << ": format version " << version << " is not supported (this build reads 1 and "
                  << kTinyModelFormatVersion << ")");
  // Version 1 files were sealed with the legacy FNV basis, later ones with the standard one.
  NAS_CHECK(sealed.legacy_checksum == (version == 1),
            where << ": checksum mismatch: the file is corrupt (its checksum does not match its format version "
                  << version << ")");
  NAS_CHECK(header.contains("arch"), where << ": field 'arch' is missing");
  TinyNet t;
  t.arch_ = ArchConfig::from_json(header["arch"], where + ": arch");
  NAS_CHECK(header.contains("preprocessing"), where << ": field 'preprocessing' is missing");
  t.preprocessing_ = TinyPreprocessing::from_json(header["preprocessing"], where);
  const size_t named = t.preprocessing_.class_names.size();
  NAS_CHECK(named == 0 || named == static_cast<size_t>(t.arch_.num_classes),
            where << ": preprocessing.class_names has " << named << " names for " << t.arch_.num_classes << " classes");
  t.shift_bits_ = json_int(header, "shift_bits", where);
  NAS_CHECK(t.shift_bits_ >= 2 && t.shift_bits_ <= 8, where << ": shift_bits must be in [2, 8]");
  t.bn_eps_ = json_number(header, "bn_eps", where);
  if (header.contains("meta")) t.meta_ = header["meta"];
  NAS_CHECK(header.contains("tensors") && header["tensors"].is_array(),
            where << ": field 'tensors' must be an array");
  t.stored_ = read_tensor_table(header["tensors"], sealed.data, where);
  t.build(where);
  return t;
}

}  // namespace nas
