#include "search_space/layer_spec.h"

#include <algorithm>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/checked_math.h"
#include "core/error.h"
#include "core/json_util.h"

namespace nas {

namespace {

// What validate() accepts, for its "exceeds the maximum" errors.
struct AcceptedSizes {};
std::ostream& operator<<(std::ostream& os, AcceptedSizes) {
  return os << "accepted: channels and groups 1.." << kMaxLayerChannels
            << ", h_in/w_in/stride/padding/pool kernel up to " << kMaxLayerSpatial
            << ", conv and fc kernel 1.." << kMaxConvKernel << ", bits 1.." << kMaxLayerBits;
}

// Streams "layer 'NAME'" lazily, so validate() allocates nothing unless it throws.
struct Who {
  const LayerSpec& layer;
};
std::ostream& operator<<(std::ostream& os, const Who& who) {
  return os << "layer '" << (who.layer.name.empty() ? "<unnamed>" : who.layer.name) << "'";
}

bool is_pool(LayerType type) { return type == LayerType::AvgPool || type == LayerType::MaxPool; }

}  // namespace

const char* layer_type_name(LayerType type) {
  switch (type) {
    case LayerType::Conv: return "conv";
    case LayerType::FC: return "fc";
    case LayerType::AvgPool: return "avgpool";
    case LayerType::MaxPool: return "maxpool";
  }
  return "unknown";
}

const char* layer_op_name(const LayerSpec& layer) {
  if (layer.type == LayerType::Conv) {
    switch (layer.op) {
      case OpKind::Mult: return "conv";
      case OpKind::Shift: return "shift";
      case OpKind::Add: return "add";
    }
  }
  return layer_type_name(layer.type);
}

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  NAS_CHECK(stride > 0, "conv_output_size: stride must be positive, got " << stride);
  const int64_t span = in + 2 * padding - kernel;
  if (span < 0) return 0;
  return span / stride + 1;
}

int64_t LayerSpec::macs() const {
  if (is_pool(type)) return 0;
  const std::optional<int64_t> macs =
      checked_product({h_out, w_out, c_out, kernel, kernel, groups ? c_in / groups : 0});
  NAS_CHECK(macs, Who{*this} << ": MACs h_out x w_out x c_out x kernel^2 x c_in/groups = "
                             << h_out << "x" << w_out << "x" << c_out << "x" << kernel << "^2x"
                             << c_in << "/" << groups << " overflow 64-bit integers");
  return *macs;
}

int64_t LayerSpec::params() const {
  if (is_pool(type)) return 0;
  const std::optional<int64_t> params =
      checked_product({c_out, kernel, kernel, groups ? c_in / groups : 0});
  NAS_CHECK(params, Who{*this} << ": weights c_out x kernel^2 x c_in/groups = " << c_out << "x"
                               << kernel << "^2x" << c_in << "/" << groups
                               << " overflow 64-bit integers");
  return *params;
}

void LayerSpec::validate() const {
  const Who who{*this};
  struct Bounded {
    const char* field;
    int64_t value, max;
  };
  const int64_t max_kernel = is_pool(type) ? kMaxLayerSpatial : kMaxConvKernel;
  const Bounded positive[] = {
      {"c_in", c_in, kMaxLayerChannels},   {"c_out", c_out, kMaxLayerChannels},
      {"h_in", h_in, kMaxLayerSpatial},    {"w_in", w_in, kMaxLayerSpatial},
      {"kernel", kernel, max_kernel},      {"stride", stride, kMaxLayerSpatial},
      {"groups", groups, kMaxLayerChannels}, {"bits", bits, kMaxLayerBits}};
  for (const Bounded& b : positive) {
    NAS_CHECK(b.value > 0, who << ": field '" << b.field << "' must be positive, got " << b.value);
    NAS_CHECK(b.value <= b.max, who << ": field '" << b.field << "' = " << b.value
                                    << " exceeds the maximum " << b.max << " (" << AcceptedSizes{}
                                    << ")");
  }
  NAS_CHECK(padding >= 0, who << ": field 'padding' must be >= 0, got " << padding);
  NAS_CHECK(padding <= kMaxLayerSpatial, who << ": field 'padding' = " << padding
                                             << " exceeds the maximum " << kMaxLayerSpatial << " ("
                                             << AcceptedSizes{} << ")");
  // More padding than that adds output pixels that see nothing but padding (PyTorch refuses more
  // than kernel / 2 for pools); the energy model's tiling cannot map such a layer either.
  const int64_t max_padding = is_pool(type) ? kernel / 2 : kernel - 1;
  NAS_CHECK(padding <= max_padding, who << ": field 'padding' = " << padding << " is more than "
                                        << (is_pool(type) ? "kernel / 2 = " : "kernel - 1 = ") << max_padding
                                        << " (accepted: 0.." << max_padding << " for a "
                                        << layer_type_name(type) << " layer with kernel " << kernel << ")");
  NAS_CHECK(kernel <= h_in + 2 * padding && kernel <= w_in + 2 * padding,
            who << ": field 'kernel' = " << kernel << " is larger than the padded input "
                << h_in + 2 * padding << "x" << w_in + 2 * padding << " (h_in " << h_in << ", w_in "
                << w_in << ", padding " << padding << ")");
  switch (type) {
    case LayerType::Conv:
      NAS_CHECK(c_in % groups == 0, who << ": field 'groups' = " << groups
                                        << " does not divide c_in = " << c_in);
      NAS_CHECK(c_out % groups == 0, who << ": field 'groups' = " << groups
                                         << " does not divide c_out = " << c_out);
      break;
    case LayerType::FC:
      NAS_CHECK(h_in == 1 && w_in == 1 && kernel == 1,
                who << ": an fc layer needs h_in = w_in = kernel = 1 (fold the spatial size into "
                       "c_in), got h_in "
                    << h_in << ", w_in " << w_in << ", kernel " << kernel);
      NAS_CHECK(groups == 1, who << ": field 'groups' must be 1 for an fc layer, got " << groups);
      NAS_CHECK(padding == 0, who << ": field 'padding' must be 0 for an fc layer, got " << padding);
      break;
    case LayerType::AvgPool:
    case LayerType::MaxPool:
      NAS_CHECK(c_out == c_in, who << ": a pool keeps its channels: c_out = " << c_out
                                   << " must equal c_in = " << c_in);
      NAS_CHECK(groups == 1 || groups == c_in,
                who << ": field 'groups' of a pool must be 1 or c_in, got " << groups);
      break;
    default:
      NAS_THROW(who << ": unknown layer type " << static_cast<int>(type));
  }
  NAS_CHECK(h_out == conv_output_size(h_in, kernel, stride, padding) &&
                w_out == conv_output_size(w_in, kernel, stride, padding),
            who << ": output size " << h_out << "x" << w_out << " is inconsistent with the input "
                << h_in << "x" << w_in << ", kernel " << kernel << ", stride " << stride
                << ", padding " << padding << " (expected "
                << conv_output_size(h_in, kernel, stride, padding) << "x"
                << conv_output_size(w_in, kernel, stride, padding) << ")");
  // Every size is bounded now, but their product still can overflow: check it exactly.
  const std::optional<int64_t> macs_per_image =
      is_pool(type) ? std::optional<int64_t>(0)
                    : checked_product({h_out, w_out, c_out, kernel, kernel, c_in / groups});
  NAS_CHECK(macs_per_image && *macs_per_image <= kMaxLayerMacs,
            who << ": MACs per image h_out x w_out x c_out x kernel^2 x c_in/groups = " << h_out
                << "x" << w_out << "x" << c_out << "x" << kernel << "^2x" << c_in << "/" << groups
                << " exceed the maximum " << kMaxLayerMacs << " (2^44)");
}

std::string LayerSpec::key() const {
  std::ostringstream s;
  s << layer_op_name(*this);
  if (type == LayerType::FC && op != OpKind::Mult) s << '/' << op_kind_name(op);
  s << " c" << c_in << '>' << c_out << " i" << h_in << 'x' << w_in << " k" << kernel << " s"
    << stride << " p" << padding << " g" << groups << " b" << bits;
  return s.str();
}

LayerSpec make_layer(std::string name, LayerType type, OpKind op, int64_t c_in, int64_t c_out,
                     int64_t h_in, int64_t w_in, int64_t kernel, int64_t stride, int64_t padding,
                     int64_t groups, int bits) {
  LayerSpec layer;
  layer.name = std::move(name);
  layer.type = type;
  layer.op = op;
  layer.c_in = c_in;
  layer.c_out = c_out;
  layer.h_in = h_in;
  layer.w_in = w_in;
  layer.kernel = kernel;
  layer.stride = stride;
  layer.padding = padding;
  layer.groups = groups;
  layer.bits = bits;
  if (stride > 0) {
    layer.h_out = conv_output_size(h_in, kernel, stride, padding);
    layer.w_out = conv_output_size(w_in, kernel, stride, padding);
  }
  layer.validate();
  return layer;
}

LayerSpec layer_from_json(const nlohmann::json& j, const std::string& where) {
  NAS_CHECK(j.is_object(), where << ": a layer must be a JSON object, got " << json_excerpt(j));
  static const char* const kKnown[] = {"name",   "op",     "arith",   "c_in",  "c_out",
                                       "h_in",   "w_in",   "kernel",  "stride", "padding",
                                       "groups", "bits",   "h_out",   "w_out", "macs"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    const bool known = std::any_of(std::begin(kKnown), std::end(kKnown),
                                   [&](const char* k) { return it.key() == k; });
    NAS_CHECK(known, where << ": unknown field " << quoted_excerpt(it.key())
                           << " (accepted: name, op, arith, c_in, c_out, h_in, w_in, kernel, "
                              "stride, padding, groups, bits, h_out, w_out, macs)");
  }
  const std::string name = json_string(j, "name", where);
  NAS_CHECK(name.size() <= kMaxLayerNameChars, where << ": field 'name' has " << name.size()
                                                     << " characters, more than the " << kMaxLayerNameChars
                                                     << " accepted");
  NAS_CHECK(!has_control_character(name),
            where << ": field 'name' " << quoted_excerpt(name) << " holds a control character");
  const std::string w = where + " ('" + name + "')";
  const std::string op = json_string(j, "op", w);

  LayerType type = LayerType::Conv;
  OpKind kind = OpKind::Mult;
  if (op == "conv") {
  } else if (op == "shift") {
    kind = OpKind::Shift;
  } else if (op == "add") {
    kind = OpKind::Add;
  } else if (op == "fc") {
    type = LayerType::FC;
  } else if (op == "avgpool") {
    type = LayerType::AvgPool;
  } else if (op == "maxpool") {
    type = LayerType::MaxPool;
  } else {
    NAS_THROW(w << ": unknown op " << quoted_excerpt(op)
                << " (accepted: conv, shift, add, fc, avgpool, maxpool)");
  }
  if (j.contains("arith")) {
    NAS_CHECK(type == LayerType::FC,
              w << ": field 'arith' is only for fc layers (use op shift/add for convolutions)");
    try {
      kind = parse_op_kind(json_string(j, "arith", w));
    } catch (const Error& e) {
      NAS_THROW(w << ": field 'arith': " << e.message());
    }
  }

  // fc layers are 1x1 on a 1x1 input; let the file omit those sizes.
  const bool fc = type == LayerType::FC;
  auto get = [&](const char* field, int64_t fallback, bool has_default) {
    if (!j.contains(field) && has_default) return fallback;
    return json_int(j, field, w);
  };
  const int64_t c_in = get("c_in", 0, false);
  const int64_t c_out = get("c_out", 0, false);
  const int64_t h_in = get("h_in", 1, fc);
  const int64_t w_in = get("w_in", 1, fc);
  const int64_t kernel = get("kernel", 1, fc);
  const int64_t stride = get("stride", 1, fc);
  const int64_t padding = get("padding", kernel / 2, true);
  const int64_t groups = get("groups", 1, true);
  const int64_t bits = get("bits", 32, true);
  NAS_CHECK(bits > 0 && bits <= 64, w << ": field 'bits' must be in 1..64, got " << bits);

  LayerSpec layer;
  try {
    layer = make_layer(name, type, kind, c_in, c_out, h_in, w_in, kernel, stride, padding, groups,
                       static_cast<int>(bits));
  } catch (const Error& e) {
    NAS_THROW(where << ": " << e.message());
  }
  if (j.contains("h_out") || j.contains("w_out")) {
    const int64_t h_out = get("h_out", layer.h_out, true);
    const int64_t w_out = get("w_out", layer.w_out, true);
    NAS_CHECK(h_out == layer.h_out && w_out == layer.w_out,
              w << ": output size " << h_out << "x" << w_out << " is inconsistent with the input (expected "
                << layer.h_out << "x" << layer.w_out << ")");
  }
  if (j.contains("macs")) {
    const int64_t macs = json_int(j, "macs", w);
    NAS_CHECK(macs == layer.macs(),
              w << ": field 'macs' = " << macs << " disagrees with the shapes (" << layer.macs() << ")");
  }
  return layer;
}

nlohmann::json layer_to_json(const LayerSpec& layer) {
  nlohmann::json j;
  j["name"] = layer.name;
  j["op"] = layer_op_name(layer);
  if (layer.type == LayerType::FC && layer.op != OpKind::Mult) j["arith"] = op_kind_name(layer.op);
  j["c_in"] = layer.c_in;
  j["c_out"] = layer.c_out;
  j["h_in"] = layer.h_in;
  j["w_in"] = layer.w_in;
  j["h_out"] = layer.h_out;
  j["w_out"] = layer.w_out;
  j["kernel"] = layer.kernel;
  j["stride"] = layer.stride;
  j["padding"] = layer.padding;
  j["groups"] = layer.groups;
  j["bits"] = layer.bits;
  j["macs"] = layer.macs();
  return j;
}

std::vector<LayerSpec> layers_from_json(const nlohmann::json& array, const std::string& where) {
  NAS_CHECK(array.is_array(), where << ": expected a JSON array of layers, got "
                                    << (array.is_object() ? "an object" : json_excerpt(array)));
  NAS_CHECK(!array.empty(), where << ": the layer list is empty");
  NAS_CHECK(array.size() <= kMaxLayers, where << ": " << array.size() << " layers, more than the " << kMaxLayers
                                              << " accepted");
  std::vector<LayerSpec> layers;
  layers.reserve(array.size());
  int64_t total_macs = 0;  // each layer is <= 2^44, so the sum stays exact until it is refused
  for (size_t i = 0; i < array.size(); ++i) {
    layers.push_back(layer_from_json(array[i], where + ": layers[" + std::to_string(i) + "]"));
    total_macs += layers.back().macs();
    NAS_CHECK(total_macs <= kMaxNetworkMacs,
              where << ": layers[0.." << i << "] have more than " << kMaxNetworkMacs
                    << " (2^50) MACs per image, the accepted maximum for a network");
  }
  return layers;
}

std::vector<LayerSpec> read_layers_file(const std::string& path) {
  return layers_from_json(read_json_file(path, kMaxLayersFileBytes), path);
}

}  // namespace nas
