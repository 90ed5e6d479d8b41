#include "deploy/float_model.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string_view>

#include "core/atomic_file.h"
#include "core/checked_math.h"
#include "core/error.h"
#include "core/sealed_file.h"

namespace nas::deploy {
namespace {

constexpr char kMagic[8] = {'N', 'A', 'S', 'T', 'I', 'N', 'Y', '1'};
constexpr uint64_t kMaxModelBytes = uint64_t{256} << 20;
constexpr int64_t kMaxElements = int64_t{1} << 28;

struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string_view bytes;
};

std::map<std::string, RawTensor> read_table(const json& table, std::string_view data, const std::string& where) {
  NAS_CHECK(table.is_array() && table.size() <= 100000, where << ": field 'tensors' must be an array");
  std::map<std::string, RawTensor> out;
  for (size_t i = 0; i < table.size(); ++i) {
    const json& e = table[i];
    const std::string entry = where + ": tensors[" + std::to_string(i) + "]";
    const std::string name = json_string(e, "name", entry);
    const std::string w = where + ": tensor " + quoted_excerpt(name);
    RawTensor t;
    t.dtype = json_string(e, "dtype", w);
    NAS_CHECK(t.dtype == "float32" || t.dtype == "int8",
              w << ": dtype " << quoted_excerpt(t.dtype) << " is not one a tiny model holds (float32, int8)");
    const int64_t element_bytes = t.dtype == "float32" ? 4 : 1;
    const int64_t offset = json_int(e, "offset", w), nbytes = json_int(e, "nbytes", w);
    NAS_CHECK(e.contains("shape") && e["shape"].is_array() && e["shape"].size() <= 8,
              w << ": field 'shape' must be an array of at most 8 sizes");
    int64_t numel = 1;
    for (const json& d : e["shape"]) {
      const bool size_ok = d.is_number_unsigned() ? d.get<uint64_t>() < (uint64_t{1} << 40)
                                                  : d.is_number_integer() && d.get<int64_t>() >= 0;
      NAS_CHECK(size_ok, w << ": a size of field 'shape' is not an integer >= 0");
      t.shape.push_back(d.get<int64_t>());
      const std::optional<int64_t> p = checked_mul(numel, t.shape.back());
      NAS_CHECK(p && *p <= kMaxElements, w << ": more than " << kMaxElements << " elements");
      numel = *p;
    }
    NAS_CHECK(offset >= 0 && nbytes == numel * element_bytes && static_cast<uint64_t>(offset) <= data.size() &&
                  static_cast<uint64_t>(nbytes) <= data.size() - static_cast<uint64_t>(offset),
              w << ": its bytes lie outside the data section (or do not match its shape)");
    NAS_CHECK(!out.count(name), w << " appears twice");
    t.bytes = data.substr(static_cast<size_t>(offset), static_cast<size_t>(nbytes));
    out.emplace(name, std::move(t));
  }
  return out;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

template <typename T>
std::vector<T> take(std::map<std::string, RawTensor>& table, std::set<std::string>& used, const std::string& name,
                    const std::vector<int64_t>& shape, const std::string& where) {
  const char* dtype = sizeof(T) == 4 ? "float32" : "int8";
  const auto it = table.find(name);
  NAS_CHECK(it != table.end(), where << ": tensor '" << name << "' is missing (the architecture needs it)");
  NAS_CHECK(it->second.dtype == dtype,
            where << ": tensor '" << name << "' has type " << it->second.dtype << ", expected " << dtype);
  NAS_CHECK(it->second.shape == shape, where << ": tensor '" << name << "' has shape " << shape_text(it->second.shape)
                                             << ", the architecture needs " << shape_text(shape));
  std::vector<T> out(it->second.bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), it->second.bytes.data(), it->second.bytes.size());
  used.insert(name);
  return out;
}

void read_layer(FloatLayer& l, std::map<std::string, RawTensor>& table, std::set<std::string>& used,
                int64_t shift_bits, const std::string& where) {
  const std::vector<int64_t> w_shape{l.c_out, l.depthwise ? 1 : l.c_in, l.kernel, l.kernel};
  if (l.op == OpKind::Shift) {
    l.shift_code = take<int8_t>(table, used, l.name + ".shift", w_shape, where);
    l.sign = take<int8_t>(table, used, l.name + ".sign", w_shape, where);
    const int64_t min_exponent = -((int64_t{1} << (shift_bits - 1)) - 1);
    l.weight.resize(l.shift_code.size());
    for (size_t i = 0; i < l.shift_code.size(); ++i) {
      NAS_CHECK(l.shift_code[i] >= min_exponent && l.shift_code[i] <= 0,
                where << ": tensor '" << l.name << ".shift' has codes outside [" << min_exponent << ", 0]");
      NAS_CHECK(l.sign[i] >= -1 && l.sign[i] <= 1, where << ": tensor '" << l.name << ".sign' has values outside {-1, 0, 1}");
      l.weight[i] = static_cast<float>(l.sign[i]) * std::ldexp(1.0f, l.shift_code[i]);
    }
  } else {
    l.weight = take<float>(table, used, l.name + ".weight", w_shape, where);
  }
  if (l.has_bias) l.bias = take<float>(table, used, l.name + ".bias", {l.c_out}, where);
  if (l.has_bn) {
    l.bn_weight = take<float>(table, used, l.name + ".bn.weight", {l.c_out}, where);
    l.bn_bias = take<float>(table, used, l.name + ".bn.bias", {l.c_out}, where);
    l.bn_mean = take<float>(table, used, l.name + ".bn.running_mean", {l.c_out}, where);
    l.bn_var = take<float>(table, used, l.name + ".bn.running_var", {l.c_out}, where);
  }
  for (const std::vector<float>* v : {&l.weight, &l.bias, &l.bn_weight, &l.bn_bias, &l.bn_mean, &l.bn_var})
    for (float x : *v) NAS_CHECK(std::isfinite(x), where << ": layer '" << l.name << "' holds a value that is not finite");
  for (float v : l.bn_var) NAS_CHECK(v >= 0, where << ": layer '" << l.name << "' has a negative BN variance");
}

}  // namespace

const FloatLayer& FloatModel::layer(const std::string& name) const {
  for (const FloatLayer& l : layers)
    if (l.name == name) return l;
  NAS_THROW("float model: no layer '" << name << "'");
}

std::vector<FloatLayer> float_layer_plan(const ArchConfig& arch) {
  const ResolvedArch r = resolve_arch(arch);
  std::vector<FloatLayer> plan;
  auto add = [&](std::string name, OpKind op, int64_t c_in, int64_t c_out, int64_t kernel, int64_t stride,
                 bool depthwise, int64_t h_in, int64_t w_in) {
    FloatLayer l;
    l.name = std::move(name);
    l.op = op;
    l.c_in = c_in;
    l.c_out = c_out;
    l.kernel = kernel;
    l.stride = stride;
    l.depthwise = depthwise;
    l.h_in = h_in;
    l.w_in = w_in;
    l.h_out = (h_in - 1) / stride + 1;
    l.w_out = (w_in - 1) / stride + 1;
    plan.push_back(std::move(l));
  };
  add("stem.conv", arch.stem.op, r.in_channels, r.stem_channels, arch.stem.kernel, arch.stem.stride, false,
      r.resolution, r.resolution);
  for (const ResolvedBlock& b : r.blocks) {
    if (b.has_expand_conv()) add(b.name + ".expand", b.op, b.c_in, b.c_mid, 1, 1, false, b.h_in, b.w_in);
    add(b.name + ".dw", b.op, b.c_mid, b.c_mid, b.kernel, b.stride, true, b.h_in, b.w_in);
    add(b.name + ".project", b.op, b.c_mid, b.c_out, 1, 1, false, b.h_out, b.w_out);
  }
  if (r.head_channels > 0)
    add("head.conv", arch.head.op, r.head_in, r.head_channels, 1, 1, false, r.feature_h, r.feature_w);
  add("classifier", arch.head.classifier_op, r.classifier_in, r.num_classes, 1, 1, false, 1, 1);
  plan.back().has_bias = arch.head.classifier_op != OpKind::Add;
  plan.back().has_bn = arch.head.classifier_op == OpKind::Add;
  return plan;
}

FloatModel parse_float_model(const std::string& bytes, const std::string& where) {
  const SealedFile sealed = open_sealed(bytes, std::string_view(kMagic, sizeof kMagic), where, "a tiny-model", "nas_retrain");
  const json& header = sealed.header;
  NAS_CHECK(header.is_object() && header.contains("format") && header["format"] == "nas-tiny-model",
            where << ": header does not describe a nas-tiny-model");
  const int64_t version = json_int(header, "format_version", where);
  NAS_CHECK(version == 1 || version == 2, where << ": format version " << version << " is not supported (this build reads 1 and 2)");
  NAS_CHECK(sealed.legacy_checksum == (version == 1), where << ": checksum mismatch: the file is corrupt");
  NAS_CHECK(header.contains("arch") && header.contains("preprocessing"), where << ": field 'arch' or 'preprocessing' is missing");
  FloatModel m;
  m.arch = ArchConfig::from_json(header["arch"], where + ": arch");
  m.resolved = resolve_arch(m.arch);
  const json& pre = header["preprocessing"];
  NAS_CHECK(pre.is_object(), where << ": 'preprocessing' must be an object");
  m.dataset = json_string(pre, "dataset", where + ": preprocessing");
  m.source_resolution = json_int(pre, "resolution", where + ": preprocessing");
  m.resolution = m.resolved.resolution;
  NAS_CHECK(m.source_resolution >= 1 && m.source_resolution <= 4096,
            where << ": preprocessing.resolution must be in [1, 4096], got " << m.source_resolution);
  for (const char* key : {"mean", "std"}) {
    NAS_CHECK(pre.contains(key) && pre[key].is_array() &&
                  static_cast<int64_t>(pre[key].size()) == m.resolved.in_channels,
              where << ": preprocessing." << key << " must hold one number per input channel");
    for (const json& v : pre[key]) {
      NAS_CHECK(v.is_number() && std::isfinite(v.get<double>()), where << ": preprocessing." << key << " must hold numbers");
      (std::string(key) == "mean" ? m.mean : m.std).push_back(v.get<double>());
    }
  }
  for (double s : m.std) NAS_CHECK(s > 0, where << ": preprocessing.std must be > 0");
  m.shift_bits = json_int(header, "shift_bits", where);
  NAS_CHECK(m.shift_bits >= 2 && m.shift_bits <= 8, where << ": shift_bits must be in [2, 8]");
  m.bn_eps = json_number(header, "bn_eps", where);
  NAS_CHECK(m.bn_eps > 0 && m.bn_eps < 1, where << ": bn_eps must be in (0, 1)");
  if (header.contains("meta")) m.meta = header["meta"];
  NAS_CHECK(header.contains("tensors"), where << ": field 'tensors' is missing");
  std::map<std::string, RawTensor> table = read_table(header["tensors"], sealed.data, where);
  std::set<std::string> used;
  m.layers = float_layer_plan(m.arch);
  for (FloatLayer& l : m.layers) read_layer(l, table, used, m.shift_bits, where);
  for (const auto& [name, t] : table)
    NAS_CHECK(used.count(name), where << ": unexpected tensor " << quoted_excerpt(name) << " (not part of the architecture)");
  return m;
}

FloatModel load_float_model(const std::string& path) {
  return parse_float_model(read_file(path, kMaxModelBytes), "model file '" + path + "'");
}

}  // namespace nas::deploy
