#include "deploy/int_model.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>

#include "core/atomic_file.h"
#include "core/checked_math.h"
#include "core/error.h"
#include "core/sealed_file.h"
#include "deploy/int_bounds.h"

namespace nas::deploy {
namespace {

constexpr char kMagic[8] = {'N', 'A', 'S', 'Q', 'I', 'N', 'T', '1'};
constexpr int kFormatVersion = 1;
constexpr uint64_t kMaxFileBytes = uint64_t{256} << 20;
constexpr int64_t kMaxArrayElements = int64_t{1} << 28;
constexpr int64_t kMaxTensorElements = int64_t{1} << 26;
constexpr size_t kMaxSteps = 10000;

template <typename T>
json put_array(std::string& data, const std::vector<T>& v, const char* dtype) {
  const json ref = {{"dtype", dtype}, {"offset", data.size()}, {"count", v.size()}};
  if (!v.empty()) data.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  return ref;
}

template <typename T>
std::vector<T> get_array(const json& arrays, const char* name, const char* dtype, std::string_view data,
                         const std::string& where) {
  NAS_CHECK(arrays.is_object() && arrays.contains(name) && arrays[name].is_object(),
            where << ": array '" << name << "' is missing");
  const json& ref = arrays[name];
  NAS_CHECK(json_string(ref, "dtype", where) == dtype, where << ": array '" << name << "' must be " << dtype);
  const int64_t offset = json_int(ref, "offset", where), count = json_int(ref, "count", where);
  NAS_CHECK(count >= 0 && count <= kMaxArrayElements && offset >= 0 && static_cast<uint64_t>(offset) <= data.size() &&
                static_cast<uint64_t>(count) * sizeof(T) <= data.size() - static_cast<uint64_t>(offset),
            where << ": array '" << name << "' lies outside the data section");
  std::vector<T> out(static_cast<size_t>(count));
  if (count > 0) std::memcpy(out.data(), data.data() + offset, static_cast<size_t>(count) * sizeof(T));
  return out;
}

int64_t int_field(const json& j, const char* name, int64_t lo, int64_t hi, const std::string& where) {
  const int64_t v = json_int(j, name, where);
  NAS_CHECK(v >= lo && v <= hi, where << ": field '" << name << "' = " << v << " is outside [" << lo << ", " << hi << "]");
  return v;
}

bool bool_field(const json& j, const char* name, const std::string& where) {
  NAS_CHECK(j.contains(name) && j[name].is_boolean(), where << ": field '" << name << "' must be true or false");
  return j[name].get<bool>();
}

StepKind parse_step_kind(const std::string& s, const std::string& where) {
  for (StepKind k : {StepKind::Conv, StepKind::Residual, StepKind::Pool})
    if (s == step_kind_name(k)) return k;
  NAS_THROW(where << ": unknown step kind " << quoted_excerpt(s) << " (accepted: conv, residual, pool)");
}

void validate_conv(const IntModel& m, const IntStep& s, const std::string& w) {
  const IntTensor& in = m.tensors[s.input];
  const IntTensor& out = m.tensors[s.output];
  NAS_CHECK(s.kernel >= 1 && s.kernel <= 31 && s.stride >= 1 && s.stride <= 16 && s.padding >= 0 && s.padding < s.kernel,
            w << ": kernel, stride or padding out of range");
  NAS_CHECK(in.c == s.c_in && out.c == s.c_out && (!s.depthwise || s.c_in == s.c_out),
            w << ": channels do not match its tensors");
  NAS_CHECK(in.h + 2 * s.padding >= s.kernel && in.w + 2 * s.padding >= s.kernel &&
                out.h == (in.h + 2 * s.padding - s.kernel) / s.stride + 1 &&
                out.w == (in.w + 2 * s.padding - s.kernel) / s.stride + 1,
            w << ": spatial sizes do not match its tensors");
  const std::optional<int64_t> n = checked_product({s.c_out, s.kernel, s.kernel, s.depthwise ? 1 : s.c_in});
  NAS_CHECK(n && static_cast<int64_t>(s.weight.size()) == *n, w << ": weight count does not match its shape");
  if (s.op == OpKind::Mult)
    for (int32_t v : s.weight) NAS_CHECK(v >= -128 && v <= 127, w << ": a multiplicative weight is outside int8");
  if (s.op == OpKind::Shift)
    for (int32_t v : s.weight) NAS_CHECK(v >= -31 && v <= 31, w << ": a shift code is outside [-31, 31]");
}

void validate_requant(const IntModel& m, const IntStep& s, const std::string& w, bool logits) {
  const size_t c = static_cast<size_t>(s.c_out);
  NAS_CHECK(s.terms >= 0 && s.terms <= 8, w << ": terms must be in [0, 8]");
  NAS_CHECK(s.bias.size() == c && s.rshift.size() == c &&
                (s.multiplier_mode ? s.multiplier.size() == c : s.term_code.size() == c * static_cast<size_t>(s.terms)),
            w << ": requantization arrays do not match its channels");
  for (int8_t r : s.rshift) NAS_CHECK(r >= 0 && r <= 62, w << ": a right shift is outside [0, 62]");
  for (int8_t t : s.term_code) NAS_CHECK(t >= -63 && t <= 63, w << ": a term code is outside [-63, 63]");
  const int64_t lo = logits ? std::numeric_limits<int32_t>::min() : m.qmin();
  const int64_t hi = logits ? std::numeric_limits<int32_t>::max() : m.qmax();
  NAS_CHECK(s.clamp_lo >= lo && s.clamp_hi <= hi && s.clamp_lo <= s.clamp_hi, w << ": clamp range outside its type");
}

}  // namespace

const char* step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::Conv: return "conv";
    case StepKind::Residual: return "residual";
    case StepKind::Pool: return "pool";
  }
  return "?";
}

bool IntStep::is_mf() const { return kind != StepKind::Conv || op != OpKind::Mult; }

OpCounts& OpCounts::operator+=(const OpCounts& o) {
  mul += o.mul;
  shift += o.shift;
  add += o.add;
  cmp += o.cmp;
  return *this;
}

json OpCounts::to_json() const {
  return {{"multiplies", mul}, {"shifts", shift}, {"adds", add}, {"comparisons", cmp}};
}

int weight_element_bytes(const IntStep& step) {
  if (step.kind != StepKind::Conv) return 0;
  if (step.op != OpKind::Add) return 1;
  int32_t most = 0;
  for (int32_t v : step.weight) most = std::max(most, v < 0 ? -(v + 1) : v);
  return most <= 127 ? 1 : most <= 32767 ? 2 : 4;
}

int64_t IntModel::weight_bytes(const IntStep& s) const {
  // Weights, then per channel: bias (4 or 8 bytes), right shift (1), terms (1 each) or multiplier (4).
  const int64_t bias_bytes = 8;  // int64 in the generated C
  const int64_t per_channel = bias_bytes + 1 + (s.multiplier_mode ? 4 : s.terms);
  return static_cast<int64_t>(s.weight.size()) * weight_element_bytes(s) +
         (s.kind == StepKind::Residual ? 0 : s.c_out * per_channel);
}

int64_t IntModel::weight_bytes() const {
  int64_t total = 0;
  for (const IntStep& s : steps) total += weight_bytes(s);
  return total;
}

int64_t requantize(const IntStep& s, int64_t c, int64_t acc) {
  int64_t v = s.bias[static_cast<size_t>(c)];
  if (s.multiplier_mode) {
    v += acc * s.multiplier[static_cast<size_t>(c)];
  } else {
    const int8_t* code = s.term_code.data() + c * s.terms;
    for (int t = 0; t < s.terms; ++t) {
      if (code[t] > 0) v += shift_left(acc, code[t] - 1);
      if (code[t] < 0) v -= shift_left(acc, -code[t] - 1);
    }
  }
  const int64_t y = round_shift(v, s.rshift[static_cast<size_t>(c)]);
  return y < s.clamp_lo ? s.clamp_lo : y > s.clamp_hi ? s.clamp_hi : y;
}

ResizeAxis resize_axis(int64_t in, int64_t out, int frac_bits) {
  NAS_CHECK(in >= 1 && out >= 1 && in <= 4096 && out <= 4096 && frac_bits >= 1 && frac_bits <= 11,
            "input resize: sizes " << in << " -> " << out << " or fraction bits " << frac_bits << " out of range");
  ResizeAxis a;
  const int64_t one = int64_t{1} << frac_bits;
  for (int64_t d = 0; d < out; ++d) {
    // src 2^q = max(0, (2d + 1) in - out) 2^q / (2 out), rounded half up.
    const int64_t num = std::max<int64_t>(0, (2 * d + 1) * in - out);
    const int64_t q = (num * one + out) / (2 * out);
    int64_t i0 = q >> frac_bits, f = q & (one - 1);
    if (i0 >= in - 1) {
      i0 = in - 1;
      f = 0;
    }
    a.i0.push_back(static_cast<int32_t>(i0));
    a.i1.push_back(static_cast<int32_t>(std::min(i0 + 1, in - 1)));
    a.w0.push_back(static_cast<int32_t>(one - f));
    a.w1.push_back(static_cast<int32_t>(f));
  }
  return a;
}

OpCounts resize_image(const IntModel& m, const uint8_t* source, std::vector<uint8_t>& out) {
  const ResizeAxis ay = resize_axis(m.source_h, m.image_h, m.resize_frac_bits);
  const ResizeAxis ax = resize_axis(m.source_w, m.image_w, m.resize_frac_bits);
  const int64_t C = m.image_c, row = m.source_w * C, q2 = 2 * m.resize_frac_bits;
  out.assign(static_cast<size_t>(m.image_h * m.image_w * C), 0);
  OpCounts n;
  for (int64_t oy = 0; oy < m.image_h; ++oy) {
    const size_t y = static_cast<size_t>(oy);
    const uint8_t* r0 = source + ay.i0[y] * row;
    const uint8_t* r1 = source + ay.i1[y] * row;
    for (int64_t ox = 0; ox < m.image_w; ++ox) {
      const size_t x = static_cast<size_t>(ox);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t x0 = ax.i0[x] * C + c, x1 = ax.i1[x] * C + c;
        const int64_t top = ax.w0[x] * int64_t{r0[x0]} + ax.w1[x] * int64_t{r0[x1]};
        const int64_t bottom = ax.w0[x] * int64_t{r1[x0]} + ax.w1[x] * int64_t{r1[x1]};
        const int64_t v = ay.w0[y] * top + ay.w1[y] * bottom + (int64_t{1} << (q2 - 1));
        out[static_cast<size_t>((oy * m.image_w + ox) * C + c)] = static_cast<uint8_t>(v >> q2);
        n.mul += 6;
        n.add += 4;
        n.shift += 1;
      }
    }
  }
  return n;
}

void validate_int_model(const IntModel& m, const std::string& where) {
  NAS_CHECK(m.source_h >= 1 && m.source_w >= 1 && m.source_h <= 4096 && m.source_w <= 4096,
            where << ": the source image size must be in [1, 4096]");
  NAS_CHECK(m.resize_frac_bits >= 1 && m.resize_frac_bits <= 11, where << ": resize_frac_bits must be in [1, 11]");
  NAS_CHECK(m.bits == 8 || m.bits == 16, where << ": bits must be 8 or 16");
  NAS_CHECK(!m.steps.empty() && m.steps.size() <= kMaxSteps && m.tensors.size() == m.steps.size() + 1,
            where << ": needs one tensor per step plus the image");
  NAS_CHECK(m.image_c >= 1 && m.image_c <= 4 && static_cast<int64_t>(m.input_zero_point.size()) == m.image_c,
            where << ": the image must have 1 to 4 channels, each with a zero point");
  for (int32_t z : m.input_zero_point) NAS_CHECK(z >= 0 && z <= 255, where << ": an input zero point is outside [0, 255]");
  const IntTensor& image = m.tensors[0];
  NAS_CHECK(image.h == m.image_h && image.w == m.image_w && image.c == m.image_c && image.arena_offset == -1,
            where << ": tensor 0 must be the image");
  NAS_CHECK(m.arena_bytes >= 0 && m.arena_bytes <= (int64_t{1} << 30), where << ": arena_bytes out of range");
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    const IntTensor& x = m.tensors[t];
    const std::optional<int64_t> n = checked_product({x.h, x.w, x.c});
    NAS_CHECK(x.h >= 1 && x.w >= 1 && x.c >= 1 && n && *n <= kMaxTensorElements && x.frac_bits >= -32 && x.frac_bits <= 62,
              where << ": tensor " << t << " has sizes or a scale out of range");
    const bool in_arena = t != 0 && t + 1 != m.tensors.size();
    NAS_CHECK(in_arena ? x.arena_offset >= 0 && x.arena_offset + *n * m.act_bytes() <= m.arena_bytes : x.arena_offset == -1,
              where << ": tensor " << t << " lies outside the arena");
  }
  std::vector<int64_t> magnitude(m.tensors.size(), 0);
  magnitude[0] = 255;
  for (size_t i = 0; i < m.steps.size(); ++i) {
    const IntStep& s = m.steps[i];
    const std::string w = where + ": step " + std::to_string(i) + " " + quoted_excerpt(s.name);
    NAS_CHECK(s.output == static_cast<int>(i) + 1, w << ": must write tensor " << i + 1);
    NAS_CHECK(s.input >= 0 && s.input <= static_cast<int>(i) && (s.input == 0) == (i == 0) &&
                  (s.kind != StepKind::Residual || (s.input2 > 0 && s.input2 <= static_cast<int>(i))),
              w << ": reads a tensor that is not written before it");
    const IntTensor& in = m.tensors[s.input];
    const IntTensor& out = m.tensors[s.output];
    const bool logits = i + 1 == m.steps.size();
    if (s.kind == StepKind::Conv) {
      validate_conv(m, s, w);
      validate_requant(m, s, w, logits);
    } else if (s.kind == StepKind::Pool) {
      NAS_CHECK(out.h == 1 && out.w == 1 && out.c == in.c && s.c_out == in.c && s.c_in == in.c, w << ": pool sizes do not match");
      validate_requant(m, s, w, false);
    } else {
      const IntTensor& in2 = m.tensors[s.input2];
      NAS_CHECK(in.h == out.h && in.w == out.w && in.c == out.c && in2.h == out.h && in2.w == out.w && in2.c == out.c,
                w << ": residual operands do not match");
      NAS_CHECK(s.shift_a >= -30 && s.shift_a <= 30 && s.shift_b >= -30 && s.shift_b <= 30 && !logits,
                w << ": residual shifts outside [-30, 30]");
      NAS_CHECK(s.clamp_lo >= m.qmin() && s.clamp_hi <= m.qmax() && s.clamp_lo <= s.clamp_hi, w << ": clamp range outside its type");
    }
    NAS_CHECK(i != 0 || (s.kind == StepKind::Conv && s.op == OpKind::Mult), w << ": the first step must be the multiplicative stem");
    NAS_CHECK(!logits || (s.kind == StepKind::Conv && out.h == 1 && out.w == 1 && out.c == m.num_classes),
              w << ": the last step must write the logits");
    // The overflow proof, redone on what the file says (a crafted file must not overflow either).
    const StepBounds b = step_bounds(s, magnitude[s.input], s.input2 >= 0 ? magnitude[s.input2] : 0, in.h * in.w);
    NAS_CHECK(b.acc_bound <= s.acc_bound && (s.acc_bits == 64 || (s.acc_bits == 32 && s.acc_bound <= std::numeric_limits<int32_t>::max())),
              w << ": its accumulator bound does not hold");
    NAS_CHECK(b.requant_bound <= s.requant_bound && s.requant_bound <= kMaxRequantBound, w << ": its requantization bound does not hold");
    magnitude[s.output] = std::max(-s.clamp_lo, s.clamp_hi);
  }
}

std::string serialize_int_model(const IntModel& m) {
  json header;
  header["format"] = "nas-int-model";
  header["format_version"] = kFormatVersion;
  header["bits"] = m.bits;
  header["image"] = {m.image_h, m.image_w, m.image_c};
  header["source_image"] = {m.source_h, m.source_w};
  header["resize_frac_bits"] = m.resize_frac_bits;
  header["input_zero_point"] = m.input_zero_point;
  header["num_classes"] = m.num_classes;
  header["logit_frac_bits"] = m.logit_frac_bits;
  header["arena_bytes"] = m.arena_bytes;
  header["source"] = m.source;
  json tensors = json::array();
  for (const IntTensor& t : m.tensors)
    tensors.push_back({{"h", t.h}, {"w", t.w}, {"c", t.c}, {"frac_bits", t.frac_bits}, {"arena_offset", t.arena_offset}});
  header["tensors"] = tensors;
  std::string data;
  json steps = json::array();
  for (const IntStep& s : m.steps) {
    json j = {{"kind", step_kind_name(s.kind)}, {"name", s.name}, {"input", s.input}, {"input2", s.input2},
              {"output", s.output}, {"op", op_kind_name(s.op)}, {"c_in", s.c_in}, {"c_out", s.c_out},
              {"kernel", s.kernel}, {"stride", s.stride}, {"padding", s.padding}, {"depthwise", s.depthwise},
              {"multiplier_mode", s.multiplier_mode}, {"terms", s.terms}, {"clamp_lo", s.clamp_lo},
              {"clamp_hi", s.clamp_hi}, {"shift_a", s.shift_a}, {"shift_b", s.shift_b}, {"acc_bound", s.acc_bound},
              {"acc_bits", s.acc_bits}, {"requant_bound", s.requant_bound}};
    j["arrays"] = {{"weight", put_array(data, s.weight, "int32")},
                   {"term_code", put_array(data, s.term_code, "int8")},
                   {"multiplier", put_array(data, s.multiplier, "int32")},
                   {"bias", put_array(data, s.bias, "int64")},
                   {"rshift", put_array(data, s.rshift, "int8")}};
    steps.push_back(j);
  }
  header["steps"] = steps;
  return seal(std::string_view(kMagic, sizeof kMagic), header.dump(), data);
}

IntModel parse_int_model(const std::string& bytes, const std::string& where) {
  const SealedFile sealed = open_sealed(bytes, std::string_view(kMagic, sizeof kMagic), where, "an integer-model (.nasq)", "nas_deploy");
  const json& h = sealed.header;
  NAS_CHECK(h.is_object() && h.value("format", "") == "nas-int-model", where << ": header does not describe a nas-int-model");
  NAS_CHECK(!sealed.legacy_checksum, where << ": checksum mismatch: the file is corrupt");
  const int64_t version = json_int(h, "format_version", where);
  NAS_CHECK(version == kFormatVersion, where << ": format version " << version << " is not supported (this build reads " << kFormatVersion << ")");
  IntModel m;
  m.bits = static_cast<int>(int_field(h, "bits", 8, 16, where));
  NAS_CHECK(h.contains("image") && h["image"].is_array() && h["image"].size() == 3, where << ": field 'image' must be [h, w, c]");
  for (const json& v : h["image"]) NAS_CHECK(v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 4096, where << ": field 'image' must hold sizes in [1, 4096]");
  m.image_h = h["image"][0].get<int64_t>();
  m.image_w = h["image"][1].get<int64_t>();
  m.image_c = h["image"][2].get<int64_t>();
  m.source_h = m.image_h;  // files without a resize
  m.source_w = m.image_w;
  if (h.contains("source_image")) {
    NAS_CHECK(h["source_image"].is_array() && h["source_image"].size() == 2, where << ": field 'source_image' must be [h, w]");
    for (const json& v : h["source_image"])
      NAS_CHECK(v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 4096,
                where << ": field 'source_image' must hold sizes in [1, 4096]");
    m.source_h = h["source_image"][0].get<int64_t>();
    m.source_w = h["source_image"][1].get<int64_t>();
  }
  if (h.contains("resize_frac_bits")) m.resize_frac_bits = static_cast<int>(int_field(h, "resize_frac_bits", 1, 11, where));
  NAS_CHECK(h.contains("input_zero_point") && h["input_zero_point"].is_array() && h["input_zero_point"].size() <= 4,
            where << ": field 'input_zero_point' must be an array of at most 4");
  for (const json& v : h["input_zero_point"]) {
    NAS_CHECK(v.is_number_integer(), where << ": field 'input_zero_point' must hold integers");
    m.input_zero_point.push_back(static_cast<int32_t>(std::clamp<int64_t>(v.get<int64_t>(), -1, 256)));
  }
  m.num_classes = int_field(h, "num_classes", 1, 1000000, where);
  m.logit_frac_bits = static_cast<int>(int_field(h, "logit_frac_bits", -64, 64, where));
  m.arena_bytes = int_field(h, "arena_bytes", 0, int64_t{1} << 30, where);
  if (h.contains("source")) m.source = h["source"];
  NAS_CHECK(h.contains("tensors") && h["tensors"].is_array() && h["tensors"].size() <= kMaxSteps + 1,
            where << ": field 'tensors' must be an array");
  for (const json& t : h["tensors"]) {
    IntTensor x;
    x.h = int_field(t, "h", 1, 1 << 16, where);
    x.w = int_field(t, "w", 1, 1 << 16, where);
    x.c = int_field(t, "c", 1, 1 << 16, where);
    x.frac_bits = static_cast<int>(int_field(t, "frac_bits", -32, 62, where));
    x.arena_offset = int_field(t, "arena_offset", -1, int64_t{1} << 30, where);
    m.tensors.push_back(x);
  }
  NAS_CHECK(h.contains("steps") && h["steps"].is_array() && h["steps"].size() <= kMaxSteps, where << ": field 'steps' must be an array");
  for (const json& j : h["steps"]) {
    IntStep s;
    const std::string w = where + ": steps[" + std::to_string(m.steps.size()) + "]";
    s.kind = parse_step_kind(json_string(j, "kind", w), w);
    s.name = json_string(j, "name", w);
    NAS_CHECK(s.name.size() <= 200 && !has_control_character(s.name), w << ": field 'name' is too long or holds control characters");
    s.input = static_cast<int>(int_field(j, "input", -1, kMaxSteps, w));
    s.input2 = static_cast<int>(int_field(j, "input2", -1, kMaxSteps, w));
    s.output = static_cast<int>(int_field(j, "output", -1, kMaxSteps + 1, w));
    s.op = parse_op_kind(json_string(j, "op", w));
    s.c_in = int_field(j, "c_in", 0, 1 << 16, w);
    s.c_out = int_field(j, "c_out", 0, 1 << 16, w);
    s.kernel = int_field(j, "kernel", 1, 31, w);
    s.stride = int_field(j, "stride", 1, 16, w);
    s.padding = int_field(j, "padding", 0, 30, w);
    s.depthwise = bool_field(j, "depthwise", w);
    s.multiplier_mode = bool_field(j, "multiplier_mode", w);
    s.terms = static_cast<int>(int_field(j, "terms", 0, 8, w));
    s.clamp_lo = int_field(j, "clamp_lo", std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), w);
    s.clamp_hi = int_field(j, "clamp_hi", std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), w);
    s.shift_a = static_cast<int>(int_field(j, "shift_a", -30, 30, w));
    s.shift_b = static_cast<int>(int_field(j, "shift_b", -30, 30, w));
    s.acc_bound = int_field(j, "acc_bound", 0, std::numeric_limits<int64_t>::max(), w);
    s.acc_bits = static_cast<int>(int_field(j, "acc_bits", 32, 64, w));
    s.requant_bound = int_field(j, "requant_bound", 0, std::numeric_limits<int64_t>::max(), w);
    NAS_CHECK(j.contains("arrays"), w << ": field 'arrays' is missing");
    const json& a = j["arrays"];
    s.weight = get_array<int32_t>(a, "weight", "int32", sealed.data, w);
    s.term_code = get_array<int8_t>(a, "term_code", "int8", sealed.data, w);
    s.multiplier = get_array<int32_t>(a, "multiplier", "int32", sealed.data, w);
    s.bias = get_array<int64_t>(a, "bias", "int64", sealed.data, w);
    s.rshift = get_array<int8_t>(a, "rshift", "int8", sealed.data, w);
    m.steps.push_back(std::move(s));
  }
  validate_int_model(m, where);
  return m;
}

void save_int_model(const IntModel& model, const std::string& path) {
  write_file_atomic(path, serialize_int_model(model));
}

IntModel load_int_model(const std::string& path) {
  return parse_int_model(read_file(path, kMaxFileBytes), "quantized model '" + path + "'");
}

}  // namespace nas::deploy
