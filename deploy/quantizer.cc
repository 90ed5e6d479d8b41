#include "deploy/quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "deploy/float_engine.h"
#include "deploy/int_bounds.h"

namespace nas::deploy {
namespace {

// Bits of the integer target of an inexact requantization factor (m * 2^R ~ 2^kFactorBits).
constexpr int kFactorBits = 16;

int frac_bits_for(double max_abs, int64_t qmax) {
  if (!(max_abs > 0)) return 0;
  return static_cast<int>(std::clamp(std::floor(std::log2(static_cast<double>(qmax) / max_abs)), -16.0, 30.0));
}

struct ChannelFactor {
  double m = 0;         // acc -> output units
  double bias = 0;      // output units
  double mean_acc = 0;  // calibration mean of acc (bias correction)
};

// At most `terms` signed powers of two approximating the integer M (greedy, nearest power first).
std::vector<int> power_terms(int64_t M, int terms) {
  std::vector<int> codes;
  int64_t r = M;
  for (int t = 0; t < terms && r != 0; ++t) {
    const int64_t a = r < 0 ? -r : r;
    int d = 63 - __builtin_clzll(static_cast<unsigned long long>(a));
    if (d < 62 && a - (int64_t{1} << d) > (int64_t{1} << (d + 1)) - a) ++d;
    codes.push_back(r > 0 ? d + 1 : -(d + 1));
    r -= r > 0 ? (int64_t{1} << d) : -(int64_t{1} << d);
  }
  return codes;
}

// Fills the requantization arrays of `s` from per-channel factors. exact: every m is a power of
// two (a single shift term, no rounding of the factor).
void set_requant(IntStep& s, const std::vector<ChannelFactor>& f, bool exact, bool multiplier, int terms) {
  s.multiplier_mode = multiplier && !exact;
  s.terms = s.multiplier_mode ? 0 : exact ? 1 : terms;
  s.term_code.assign(s.multiplier_mode ? 0 : f.size() * static_cast<size_t>(s.terms), 0);
  s.multiplier.assign(s.multiplier_mode ? f.size() : 0, 0);
  s.bias.assign(f.size(), 0);
  s.rshift.assign(f.size(), 0);
  for (size_t c = 0; c < f.size(); ++c) {
    const double m = f[c].m;
    int R = 0;
    double approx = 0;
    if (m != 0 && exact) {
      const int e = static_cast<int>(std::lround(std::log2(std::fabs(m))));
      R = std::max(0, -e);
      s.term_code[c] = static_cast<int8_t>((m > 0 ? 1 : -1) * (e + R + 1));
      approx = std::ldexp(m > 0 ? 1.0 : -1.0, e + R);
    } else if (m != 0) {
      R = static_cast<int>(std::clamp(std::ceil(kFactorBits - std::log2(std::fabs(m))), 0.0, 60.0));
      const int64_t M = std::llround(std::ldexp(m, R));
      if (s.multiplier_mode) {
        NAS_CHECK(M >= std::numeric_limits<int32_t>::min() && M <= std::numeric_limits<int32_t>::max(),
                  "layer '" << s.name << "': a BN multiplier does not fit int32");
        s.multiplier[c] = static_cast<int32_t>(M);
        approx = static_cast<double>(M);
      } else {
        const std::vector<int> codes = power_terms(M, terms);
        for (size_t t = 0; t < codes.size(); ++t) {
          s.term_code[c * static_cast<size_t>(terms) + t] = static_cast<int8_t>(codes[t]);
          const int d = std::abs(codes[t]) - 1;
          approx += codes[t] > 0 ? std::ldexp(1.0, d) : -std::ldexp(1.0, d);
        }
      }
    }
    s.rshift[c] = static_cast<int8_t>(R);
    const double corrected = f[c].bias + (m - std::ldexp(approx, -R)) * f[c].mean_acc;
    const double B = std::ldexp(corrected, R);
    NAS_CHECK(std::fabs(B) < 1e18, "layer '" << s.name << "': its integer bias does not fit 64 bits");
    s.bias[c] = std::llround(B);
  }
}

void set_clamp(IntStep& s, const IntModel& m, int f_out, bool relu6, bool logits) {
  if (logits) {
    s.clamp_lo = std::numeric_limits<int32_t>::min();
    s.clamp_hi = std::numeric_limits<int32_t>::max();
  } else if (relu6) {
    s.clamp_lo = 0;
    s.clamp_hi = std::min<int64_t>(m.qmax(), std::llround(std::ldexp(6.0, f_out)));
  } else {
    s.clamp_lo = m.qmin();
    s.clamp_hi = m.qmax();
  }
}

// Weights OIHW (float) -> [O][KH][KW][I] order index.
int64_t ohwi_index(const FloatLayer& l, int64_t o, int64_t i, int64_t ky, int64_t kx) {
  const int64_t I = l.depthwise ? 1 : l.c_in;
  return ((o * l.kernel + ky) * l.kernel + kx) * I + i;
}

void check_supported(const FloatModel& model) {
  for (const FloatLayer& l : model.layers) {
    const bool end = l.name == "stem.conv" || l.name == "classifier";
    NAS_CHECK(!end || l.op == OpKind::Mult,
              "layer '" << l.name << "': the integer model does not support a " << op_kind_name(l.op) << " "
                        << (l.name == "classifier" ? "classifier" : "stem")
                        << " (it keeps the stem and the classifier multiplicative, as the energy model counts them)");
    NAS_CHECK(l.kernel % 2 == 1, "layer '" << l.name << "': even kernels are not supported");
  }
}

struct Context {
  const FloatModel& model;
  const QuantizerOptions& options;
  const FloatStats& stats;
  IntModel& out;
};

void quantize_conv(Context& ctx, const GraphNode& n, size_t k, IntStep& s) {
  const FloatLayer& l = ctx.model.layers[static_cast<size_t>(n.layer)];
  const bool stem = k == 0, logits = k + 1 == ctx.out.steps.size();
  s.op = l.op;
  s.c_in = l.c_in;
  s.c_out = l.c_out;
  s.kernel = l.kernel;
  s.stride = l.stride;
  s.padding = l.padding();
  s.depthwise = l.depthwise;
  const int64_t I = l.depthwise ? 1 : l.c_in, per_o = I * l.kernel * l.kernel;
  s.weight.assign(static_cast<size_t>(l.c_out * per_o), 0);
  const int f_in = stem ? 0 : ctx.out.tensors[static_cast<size_t>(s.input)].frac_bits;
  std::vector<ChannelFactor> factor(static_cast<size_t>(l.c_out));
  std::vector<double> a(static_cast<size_t>(l.c_out), 1.0), b(static_cast<size_t>(l.c_out), 0.0);
  for (int64_t o = 0; o < l.c_out; ++o) {
    const size_t u = static_cast<size_t>(o);
    if (l.has_bn) {
      a[u] = l.bn_weight[u] / std::sqrt(static_cast<double>(l.bn_var[u]) + ctx.model.bn_eps);
      b[u] = l.bn_bias[u] - a[u] * l.bn_mean[u];
    }
    if (l.has_bias) b[u] += a[u] * l.bias[u];
  }
  if (l.op == OpKind::Mult) {
    // Float weights on the integer input (BN folded; the stem also folds 1 / (255 std)).
    std::vector<double> wf(s.weight.size());
    for (int64_t o = 0; o < l.c_out; ++o)
      for (int64_t i = 0; i < I; ++i)
        for (int64_t ky = 0; ky < l.kernel; ++ky)
          for (int64_t kx = 0; kx < l.kernel; ++kx) {
            double w = l.weight[static_cast<size_t>(((o * I + i) * l.kernel + ky) * l.kernel + kx)] * a[static_cast<size_t>(o)];
            if (stem) w /= 255.0 * ctx.model.std[static_cast<size_t>(i)];
            wf[static_cast<size_t>(ohwi_index(l, o, i, ky, kx))] = w;
          }
    std::vector<int> fw(static_cast<size_t>(l.c_out));
    double tensor_max = 0;
    for (double w : wf) tensor_max = std::max(tensor_max, std::fabs(w));
    for (int64_t o = 0; o < l.c_out; ++o) {
      double mx = 0;
      for (int64_t j = 0; j < per_o; ++j) mx = std::max(mx, std::fabs(wf[static_cast<size_t>(o * per_o + j)]));
      fw[static_cast<size_t>(o)] = frac_bits_for(logits ? tensor_max : mx, 127);  // logits share one scale
    }
    const int f_out = logits ? f_in + fw[0] : ctx.out.tensors[static_cast<size_t>(s.output)].frac_bits;
    for (int64_t o = 0; o < l.c_out; ++o) {
      const int f = fw[static_cast<size_t>(o)];
      for (int64_t j = 0; j < per_o; ++j) {
        const size_t idx = static_cast<size_t>(o * per_o + j);
        s.weight[idx] = static_cast<int32_t>(std::clamp<long long>(std::llround(std::ldexp(wf[idx], f)), -127, 127));
      }
      factor[static_cast<size_t>(o)] = {std::ldexp(1.0, f_out - f_in - f), std::ldexp(b[static_cast<size_t>(o)], f_out), 0.0};
    }
    if (logits) {
      ctx.out.tensors[static_cast<size_t>(s.output)].frac_bits = f_out;
      ctx.out.logit_frac_bits = f_out;
    }
    set_requant(s, factor, true, false, 1);
    set_clamp(s, ctx.out, f_out, n.relu6, logits);
    return;
  }
  const int f_out = ctx.out.tensors[static_cast<size_t>(s.output)].frac_bits;
  int acc_frac = f_in;
  if (l.op == OpKind::Shift) {
    int S = 0;
    for (size_t j = 0; j < l.sign.size(); ++j)
      if (l.sign[j] != 0) S = std::max(S, -static_cast<int>(l.shift_code[j]));
    acc_frac = f_in + S;
    for (int64_t o = 0; o < l.c_out; ++o)
      for (int64_t i = 0; i < I; ++i)
        for (int64_t ky = 0; ky < l.kernel; ++ky)
          for (int64_t kx = 0; kx < l.kernel; ++kx) {
            const size_t src = static_cast<size_t>(((o * I + i) * l.kernel + ky) * l.kernel + kx);
            s.weight[static_cast<size_t>(ohwi_index(l, o, i, ky, kx))] = l.sign[src] * (l.shift_code[src] + S + 1);
          }
  } else {
    for (int64_t o = 0; o < l.c_out; ++o)
      for (int64_t i = 0; i < I; ++i)
        for (int64_t ky = 0; ky < l.kernel; ++ky)
          for (int64_t kx = 0; kx < l.kernel; ++kx) {
            const double w = std::ldexp(static_cast<double>(l.weight[static_cast<size_t>(((o * I + i) * l.kernel + ky) * l.kernel + kx)]), f_in);
            NAS_CHECK(std::fabs(w) < 2147483647.0,
                      "layer '" << l.name << "': an adder weight does not fit int32 on its input's scale (2^-" << f_in << ")");
            s.weight[static_cast<size_t>(ohwi_index(l, o, i, ky, kx))] = static_cast<int32_t>(std::llround(w));
          }
  }
  const FloatStats& st = ctx.stats;
  for (int64_t o = 0; o < l.c_out; ++o) {
    const size_t u = static_cast<size_t>(o);
    const double mean_pre_bn = st.pre_bn_count[k] > 0 ? st.pre_bn_sum[k][u] / static_cast<double>(st.pre_bn_count[k]) : 0.0;
    factor[u] = {a[u] * std::ldexp(1.0, f_out - acc_frac), std::ldexp(b[u], f_out), std::ldexp(mean_pre_bn, acc_frac)};
  }
  set_requant(s, factor, false, ctx.options.bn_fold == BnFold::Multiplier, ctx.options.bn_terms);
  set_clamp(s, ctx.out, f_out, n.relu6, false);
}

void quantize_pool(Context& ctx, IntStep& s) {
  const IntTensor& in = ctx.out.tensors[static_cast<size_t>(s.input)];
  const IntTensor& out = ctx.out.tensors[static_cast<size_t>(s.output)];
  s.c_in = s.c_out = in.c;
  const int64_t positions = in.h * in.w;
  const double m = std::ldexp(1.0, out.frac_bits - in.frac_bits) / static_cast<double>(positions);
  const bool exact = (positions & (positions - 1)) == 0;
  set_requant(s, std::vector<ChannelFactor>(static_cast<size_t>(in.c), ChannelFactor{m, 0.0, 0.0}), exact, false,
              ctx.options.pool_terms);
  set_clamp(s, ctx.out, out.frac_bits, false, false);
}

void prove_bounds(IntModel& m, int max_accumulator_bits) {
  std::vector<int64_t> magnitude(m.tensors.size(), 0);
  magnitude[0] = 255;
  for (IntStep& s : m.steps) {
    const IntTensor& in = m.tensors[static_cast<size_t>(s.input)];
    const StepBounds b = step_bounds(s, magnitude[static_cast<size_t>(s.input)],
                                     s.input2 >= 0 ? magnitude[static_cast<size_t>(s.input2)] : 0, in.h * in.w);
    s.acc_bound = b.acc_bound;
    s.requant_bound = b.requant_bound;
    const bool fits32 = b.acc_bound <= std::numeric_limits<int32_t>::max();
    NAS_CHECK(fits32 || (max_accumulator_bits == 64 && b.acc_bound < std::numeric_limits<int64_t>::max()),
              "layer '" << s.name << "': its worst-case accumulator (|acc| <= " << b.acc_bound
                        << ") could overflow int" << max_accumulator_bits << " (" << m.bits
                        << "-bit activations); refused (--max-accumulator-bits 64 widens it to int64)");
    NAS_CHECK(b.requant_bound <= kMaxRequantBound,
              "layer '" << s.name << "': its requantization could overflow 64 bits; refused");
    s.acc_bits = fits32 ? 32 : 64;
    magnitude[static_cast<size_t>(s.output)] = std::max(-s.clamp_lo, s.clamp_hi);
  }
}

}  // namespace

const char* bn_fold_name(BnFold fold) { return fold == BnFold::ShiftAdd ? "shift-add" : "multiplier"; }

BnFold parse_bn_fold(const std::string& name) {
  if (name == "shift-add") return BnFold::ShiftAdd;
  if (name == "multiplier") return BnFold::Multiplier;
  NAS_THROW("unknown BN folding " << quoted_excerpt(name) << " (accepted: shift-add, multiplier)");
}

void QuantizerOptions::validate() const {
  NAS_CHECK(bits == 8 || bits == 16, "quantizer.bits must be 8 or 16, got " << bits);
  NAS_CHECK(bn_terms >= 1 && bn_terms <= 4, "quantizer.bn_terms must be in [1, 4], got " << bn_terms);
  NAS_CHECK(pool_terms >= 1 && pool_terms <= 6, "quantizer.pool_terms must be in [1, 6], got " << pool_terms);
  NAS_CHECK(max_accumulator_bits == 32 || max_accumulator_bits == 64,
            "quantizer.max_accumulator_bits must be 32 or 64, got " << max_accumulator_bits);
}

json QuantizerOptions::to_json() const {
  return {{"bits", bits}, {"bn_fold", bn_fold_name(bn_fold)}, {"bn_terms", bn_terms}, {"pool_terms", pool_terms},
          {"max_accumulator_bits", max_accumulator_bits}};
}

IntModel quantize(const FloatModel& model, const std::vector<std::vector<uint8_t>>& calibration,
                  const QuantizerOptions& options) {
  options.validate();
  check_supported(model);
  NAS_CHECK(!calibration.empty(), "quantizer: no calibration images");
  const int64_t C = model.resolved.in_channels, H = model.resolution, S = model.source_resolution;
  IntModel out;
  out.bits = options.bits;
  out.image_h = out.image_w = H;
  out.image_c = C;
  out.source_h = out.source_w = S;
  for (const std::vector<uint8_t>& image : calibration)
    NAS_CHECK(static_cast<int64_t>(image.size()) == S * S * C,
              "quantizer: a calibration image has " << image.size() << " bytes, the model needs " << S << "x" << S << "x" << C);
  // Calibration sees the images as the deployed network does: through the integer resize.
  FloatEngine engine(model);
  FloatStats stats = engine.empty_stats();
  std::vector<uint8_t> resized;
  for (const std::vector<uint8_t>& image : calibration) {
    const uint8_t* input = image.data();
    if (out.resizes()) {
      resize_image(out, image.data(), resized);
      input = resized.data();
    }
    engine.run(input, &stats);
  }
  for (double mean : model.mean) out.input_zero_point.push_back(static_cast<int32_t>(std::lround(255.0 * mean)));
  out.num_classes = model.resolved.num_classes;
  const std::vector<GraphNode>& graph = engine.graph();
  out.tensors.resize(graph.size() + 1);
  out.tensors[0] = {H, H, C, 0, -1};
  for (size_t k = 0; k < graph.size(); ++k) {
    const GraphNode& n = graph[k];
    IntTensor t;
    if (n.kind == StepKind::Conv) {
      const FloatLayer& l = model.layers[static_cast<size_t>(n.layer)];
      t.h = l.h_out;
      t.w = l.w_out;
      t.c = l.c_out;
    } else {
      t = out.tensors[static_cast<size_t>(n.input)];
      if (n.kind == StepKind::Pool) t.h = t.w = 1;
    }
    t.frac_bits = frac_bits_for(stats.max_abs[k + 1], out.qmax());
    t.arena_offset = -1;
    out.tensors[k + 1] = t;
    IntStep s;
    s.kind = n.kind;
    s.name = n.name;
    s.input = n.input;
    s.input2 = n.input2;
    s.output = static_cast<int>(k) + 1;
    out.steps.push_back(s);
  }
  Context ctx{model, options, stats, out};
  for (size_t k = 0; k < graph.size(); ++k) {
    IntStep& s = out.steps[k];
    if (s.kind == StepKind::Conv) {
      quantize_conv(ctx, graph[k], k, s);
    } else if (s.kind == StepKind::Pool) {
      quantize_pool(ctx, s);
    } else {
      const int f_out = out.tensors[k + 1].frac_bits;
      s.c_in = s.c_out = out.tensors[k + 1].c;
      s.shift_a = out.tensors[static_cast<size_t>(s.input)].frac_bits - f_out;
      s.shift_b = out.tensors[static_cast<size_t>(s.input2)].frac_bits - f_out;
      NAS_CHECK(std::abs(s.shift_a) <= 30 && std::abs(s.shift_b) <= 30, "layer '" << s.name << "': operand scales too far apart");
      set_clamp(s, out, f_out, false, false);
    }
  }
  prove_bounds(out, options.max_accumulator_bits);
  plan_memory(out);
  out.source = {{"arch", model.arch.to_json()},
                {"dataset", model.dataset},
                {"preprocessing", {{"resolution", model.resolution}, {"source_resolution", model.source_resolution},
                                   {"resize", out.resizes() ? "bilinear, align_corners false, Q" + std::to_string(out.resize_frac_bits) + " integer weights" : "none"},
                                   {"mean", model.mean}, {"std", model.std}}},
                {"quantizer", options.to_json()},
                {"calibration_images", calibration.size()},
                {"float_meta", model.meta}};
  validate_int_model(out, "quantizer");
  return out;
}

void plan_memory(IntModel& m) {
  const size_t n = m.tensors.size();
  std::vector<size_t> last_use(n, 0);
  for (size_t i = 0; i < m.steps.size(); ++i) {
    last_use[static_cast<size_t>(m.steps[i].input)] = std::max(last_use[static_cast<size_t>(m.steps[i].input)], i);
    if (m.steps[i].input2 >= 0)
      last_use[static_cast<size_t>(m.steps[i].input2)] = std::max(last_use[static_cast<size_t>(m.steps[i].input2)], i);
  }
  m.arena_bytes = 0;
  for (size_t i = 0; i < m.steps.size(); ++i) {
    const size_t t = i + 1;
    m.tensors[t].arena_offset = -1;
    if (t + 1 == n) break;  // the logits go to the caller's array
    // Tensors still needed at step i (inputs included), by offset.
    std::vector<std::pair<int64_t, int64_t>> live;
    for (size_t u = 1; u < t; ++u)
      if (last_use[u] >= i) live.push_back({m.tensors[u].arena_offset, m.tensors[u].arena_offset + m.tensors[u].elements() * m.act_bytes()});
    std::sort(live.begin(), live.end());
    const int64_t size = m.tensors[t].elements() * m.act_bytes();
    int64_t offset = 0;
    for (const auto& [begin, end] : live) {
      if (offset + size <= begin) break;
      offset = std::max(offset, (end + 3) / 4 * 4);
    }
    m.tensors[t].arena_offset = offset;
    m.arena_bytes = std::max(m.arena_bytes, offset + size);
  }
  m.arena_bytes = (m.arena_bytes + 3) / 4 * 4;
}

}  // namespace nas::deploy
