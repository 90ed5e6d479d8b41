// deploy/: the integer model against the float reference on a small random network, the overflow
// refusal, a damaged .nasq, an unsupported layer kind, the memory plan. Torch-free.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>

#include "core/error.h"
#include "deploy/c_codegen.h"
#include "deploy/float_engine.h"
#include "deploy/int_engine.h"
#include "deploy/quantizer.h"

namespace {

using namespace nas;
using namespace nas::deploy;

// A small network (8x8x1 inputs, 4 classes, a residual block, a head conv) with `op` blocks and
// random weights: DeepShift codes for shift layers, Laplacian-like adder weights, BN not identity.
FloatModel random_model(OpKind op, uint32_t seed) {
  ArchConfig a;
  a.resolution = 8;
  a.in_channels = 1;
  a.num_classes = 4;
  a.width_mult = 1.0;
  a.stem = StemConfig{OpKind::Mult, 8, 3, 1};
  StageConfig s0;
  s0.stride = 1;
  s0.out_channels = 8;
  s0.blocks = {BlockConfig{op, 3, 1}};
  StageConfig s1;
  s1.stride = 2;
  s1.out_channels = 16;
  s1.blocks = {BlockConfig{op, 3, 2}, BlockConfig{op, 5, 2}};
  a.stages = {s0, s1};
  a.head = HeadConfig{op, 24, OpKind::Mult};
  a.validate();
  FloatModel m;
  m.arch = a;
  m.resolved = resolve_arch(a);
  m.dataset = "fashion-mnist";
  m.resolution = 8;
  m.source_resolution = 8;
  m.mean = {0.3};
  m.std = {0.35};
  m.layers = float_layer_plan(a);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  for (FloatLayer& l : m.layers) {
    const size_t n = static_cast<size_t>(l.c_out * (l.depthwise ? 1 : l.c_in) * l.kernel * l.kernel);
    const float scale = 1.0f / std::sqrt(static_cast<float>(l.fan_in()));
    l.weight.resize(n);
    if (l.op == OpKind::Shift) {
      l.shift_code.resize(n);
      l.sign.resize(n);
      for (size_t i = 0; i < n; ++i) {
        l.sign[i] = static_cast<int8_t>(normal(rng) > 0 ? 1 : -1);
        l.shift_code[i] = static_cast<int8_t>(-std::min(15, static_cast<int>(std::fabs(normal(rng)) * 2) + 1));
        l.weight[i] = l.sign[i] * std::ldexp(1.0f, l.shift_code[i]);
      }
    } else {
      for (float& w : l.weight) w = normal(rng) * (l.op == OpKind::Add ? 0.5f : scale);
    }
    if (l.has_bias) l.bias.assign(static_cast<size_t>(l.c_out), 0.1f);
    if (l.has_bn) {
      const double fan = static_cast<double>(l.fan_in());
      for (int64_t c = 0; c < l.c_out; ++c) {
        l.bn_weight.push_back(uniform(rng));
        l.bn_bias.push_back(0.1f * normal(rng));
        // Running statistics roughly those of the layer's output, as after training.
        l.bn_mean.push_back(l.op == OpKind::Add ? static_cast<float>(-fan) : 0.0f);
        l.bn_var.push_back(static_cast<float>(l.op == OpKind::Add ? fan * 0.3 : 0.5) * uniform(rng));
      }
    }
  }
  return m;
}

std::vector<std::vector<uint8_t>> random_images(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> out(static_cast<size_t>(n), std::vector<uint8_t>(64));
  for (auto& img : out)
    for (uint8_t& p : img) p = static_cast<uint8_t>(rng() % 256);
  return out;
}

// Mean |int logit - float logit| relative to the float logits' spread, over images.
double relative_logit_error(const FloatModel& fm, const IntModel& im, const std::vector<std::vector<uint8_t>>& images) {
  FloatEngine fe(fm);
  IntEngine ie(im);
  double err = 0, spread = 0;
  for (const auto& img : images) {
    const std::vector<float> f = fe.run(img.data());
    const std::vector<int32_t> q = ie.run(img.data());
    for (size_t k = 0; k < f.size(); ++k) {
      err += std::fabs(std::ldexp(static_cast<double>(q[k]), -im.logit_frac_bits) - f[k]);
      spread += std::fabs(f[k]);
    }
  }
  return err / spread;
}

}  // namespace

TEST_CASE("deploy: the integer model follows the float model (shift, add, mult blocks)") {
  for (OpKind op : {OpKind::Shift, OpKind::Add, OpKind::Mult}) {
    const std::string op_name = op_kind_name(op);
    CAPTURE(op_name);
    const FloatModel fm = random_model(op, 7);
    const auto calib = random_images(64, 1), test = random_images(32, 2);
    QuantizerOptions o;
    const IntModel q8 = quantize(fm, calib, o);
    o.bits = 16;
    const IntModel q16 = quantize(fm, calib, o);
    const double e8 = relative_logit_error(fm, q8, test), e16 = relative_logit_error(fm, q16, test);
    CHECK(e8 < 0.15);
    CHECK(e16 <= e8);
    CHECK(e16 < 0.08);  // 16-bit activations; the 2-term BN factors bound the precision
    // MF blocks hold no multiplies: only the stem and the classifier do.
    IntEngine engine(q8);
    std::vector<OpCounts> counts;
    engine.run(test[0].data(), &counts);
    for (size_t k = 0; k < counts.size(); ++k)
      if (q8.steps[k].is_mf()) CHECK(counts[k].mul == 0);
    CHECK(counts.front().mul > 0);
  }
}

TEST_CASE("deploy: BN as a per-channel multiplier is counted as multiplies, and one power of two is coarser") {
  const FloatModel fm = random_model(OpKind::Shift, 3);
  const auto calib = random_images(64, 1), test = random_images(32, 2);
  QuantizerOptions o;
  o.bits = 16;
  o.bn_fold = BnFold::Multiplier;
  const IntModel qm = quantize(fm, calib, o);
  IntEngine engine(qm);
  std::vector<OpCounts> counts;
  engine.run(test[0].data(), &counts);
  int64_t mf_mul = 0;
  for (size_t k = 0; k < counts.size(); ++k)
    if (qm.steps[k].is_mf() && qm.steps[k].kind == StepKind::Conv) mf_mul += counts[k].mul;
  CHECK(mf_mul > 0);
  o.bn_fold = BnFold::ShiftAdd;
  o.bn_terms = 1;
  const double e1 = relative_logit_error(fm, quantize(fm, calib, o), test);
  o.bn_terms = 3;
  const double e3 = relative_logit_error(fm, quantize(fm, calib, o), test);
  CHECK(e3 < e1);
}

TEST_CASE("deploy: an accumulator that could overflow int32 is refused, or widened to int64") {
  FloatModel fm = random_model(OpKind::Shift, 5);
  // Weights of 2^0 beside one of 2^-15: 16-bit inputs shifted left by 15, over the fan-in.
  FloatLayer& l = fm.layers[3];
  for (size_t i = 0; i < l.shift_code.size(); ++i) l.shift_code[i] = i == 0 ? -15 : 0;
  for (size_t i = 0; i < l.shift_code.size(); ++i) l.weight[i] = l.sign[i] * std::ldexp(1.0f, l.shift_code[i]);
  const auto calib = random_images(16, 1);
  QuantizerOptions o;
  o.bits = 16;
  o.max_accumulator_bits = 32;
  CHECK_THROWS_WITH_AS(quantize(fm, calib, o), doctest::Contains("could overflow int32"), nas::Error);
  o.max_accumulator_bits = 64;
  const IntModel q = quantize(fm, calib, o);
  bool widened = false;
  for (const IntStep& s : q.steps) widened |= s.acc_bits == 64;
  CHECK(widened);
}

TEST_CASE("deploy: a layer kind the integer model lacks is refused with one line") {
  FloatModel fm = random_model(OpKind::Add, 5);
  fm.layers.back().op = OpKind::Add;  // an adder classifier
  fm.layers.back().has_bias = false;
  CHECK_THROWS_WITH_AS(quantize(fm, random_images(4, 1), QuantizerOptions{}),
                       doctest::Contains("layer 'classifier': the integer model does not support a add classifier"), nas::Error);
  QuantizerOptions bad;
  bad.bits = 4;
  CHECK_THROWS_WITH_AS(quantize(random_model(OpKind::Shift, 1), random_images(4, 1), bad),
                       doctest::Contains("quantizer.bits must be 8 or 16, got 4"), nas::Error);
  CHECK_THROWS_WITH_AS(quantize(random_model(OpKind::Shift, 1), {std::vector<uint8_t>(10)}, QuantizerOptions{}),
                       doctest::Contains("a calibration image has 10 bytes"), nas::Error);
}

// Bilinear, align_corners = false, in double (PyTorch's upsample_bilinear2d rule).
double bilinear_reference(const std::vector<uint8_t>& img, int64_t in, int64_t out, int64_t oy, int64_t ox) {
  auto axis = [&](int64_t d, int64_t& i0, int64_t& i1, double& l) {
    const double src = std::max(0.0, (static_cast<double>(d) + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5);
    i0 = std::min<int64_t>(static_cast<int64_t>(src), in - 1);
    i1 = std::min<int64_t>(i0 + 1, in - 1);
    l = i0 == in - 1 ? 0.0 : src - static_cast<double>(i0);
  };
  int64_t y0, y1, x0, x1;
  double ly, lx;
  axis(oy, y0, y1, ly);
  axis(ox, x0, x1, lx);
  auto p = [&](int64_t y, int64_t x) { return static_cast<double>(img[static_cast<size_t>(y * in + x)]); };
  return (1 - ly) * ((1 - lx) * p(y0, x0) + lx * p(y0, x1)) + ly * ((1 - lx) * p(y1, x0) + lx * p(y1, x1));
}

TEST_CASE("deploy: the integer input resize follows bilinear (align_corners false) within one level") {
  const ResizeAxis same = resize_axis(28, 28, 8);
  for (int32_t d = 0; d < 28; ++d) {
    CHECK(same.i0[static_cast<size_t>(d)] == d);
    CHECK(same.w1[static_cast<size_t>(d)] == 0);
  }
  const ResizeAxis down = resize_axis(28, 20, 8);  // src = 1.4 d + 0.2
  CHECK(down.i0[0] == 0);
  CHECK(down.w1[0] == 51);  // 0.2 * 256
  CHECK(down.i0[19] == 26);
  CHECK(down.w0[19] + down.w1[19] == 256);
  std::mt19937 rng(3);
  for (const auto& [in, out] : std::vector<std::pair<int64_t, int64_t>>{{28, 20}, {28, 24}, {8, 13}, {5, 1}}) {
    IntModel m;
    m.image_h = m.image_w = out;
    m.source_h = m.source_w = in;
    m.image_c = 1;
    std::vector<uint8_t> img(static_cast<size_t>(in * in)), resized;
    for (uint8_t& p : img) p = static_cast<uint8_t>(rng() % 256);
    const OpCounts n = resize_image(m, img.data(), resized);
    CHECK(n.mul == 6 * out * out);
    CHECK(n.add == 4 * out * out);
    CHECK(n.shift == out * out);
    double worst = 0;
    for (int64_t y = 0; y < out; ++y)
      for (int64_t x = 0; x < out; ++x)
        worst = std::max(worst, std::fabs(resized[static_cast<size_t>(y * out + x)] - bilinear_reference(img, in, out, y, x)));
    CHECK_MESSAGE(worst <= 1.0, in << " -> " << out << ": worst difference " << worst);
  }
}

TEST_CASE("deploy: a network at another resolution takes the raw images and resizes them inside") {
  FloatModel fm = random_model(OpKind::Shift, 1);
  fm.source_resolution = 11;  // trained on 11x11 images resized to 8x8
  std::vector<std::vector<uint8_t>> calib(16, std::vector<uint8_t>(121));
  std::mt19937 rng(5);
  for (auto& img : calib)
    for (uint8_t& p : img) p = static_cast<uint8_t>(rng() % 256);
  CHECK_THROWS_WITH_AS(quantize(fm, random_images(4, 1), QuantizerOptions{}),
                       doctest::Contains("a calibration image has 64 bytes, the model needs 11x11x1"), nas::Error);
  const IntModel q = quantize(fm, calib, QuantizerOptions{});
  CHECK(q.resizes());
  CHECK(q.source_h == 11);
  CHECK(q.image_h == 8);
  // The same network without the resize, on images resized beforehand: the same logits.
  IntModel plain = q;
  plain.source_h = plain.source_w = 8;
  IntEngine with(q), without(plain);
  std::vector<uint8_t> resized;
  OpCounts rc;
  const std::vector<int32_t> a = with.run(calib[3].data(), nullptr, &rc);
  resize_image(q, calib[3].data(), resized);
  CHECK(a == without.run(resized.data()));
  CHECK(rc.mul == 6 * 64);
  const IntModel back = parse_int_model(serialize_int_model(q), "test");
  CHECK(back.source_h == 11);
  CHECK(back.resize_frac_bits == q.resize_frac_bits);
  const GeneratedC c = generate_c(q);
  CHECK(c.header.find("#define NAS_MODEL_IMAGE_H 11") != std::string::npos);
  CHECK(c.header.find("#define NAS_MODEL_INPUT_H 8") != std::string::npos);
  CHECK(c.source.find("nas_resize(image, nas_resized);") != std::string::npos);
  CHECK(c.source.find("static void nas_resize(") < c.source.find("MF kernels begin"));  // multiplicative: outside the MF kernels
}

TEST_CASE("deploy: .nasq round trip, and a damaged file is refused") {
  const IntModel q = quantize(random_model(OpKind::Add, 9), random_images(16, 1), QuantizerOptions{});
  const std::string bytes = serialize_int_model(q);
  const IntModel back = parse_int_model(bytes, "test");
  CHECK(serialize_int_model(back) == bytes);
  const auto img = random_images(1, 4);
  IntEngine a(q), b(back);
  CHECK(a.run(img[0].data()) == b.run(img[0].data()));
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x10;
  CHECK_THROWS_WITH_AS(parse_int_model(damaged, "m.nasq"), doctest::Contains("checksum"), nas::Error);
  CHECK_THROWS_WITH_AS(parse_int_model(bytes.substr(0, 40), "m.nasq"), doctest::Contains("m.nasq"), nas::Error);
}

TEST_CASE("deploy: the arena plan never puts a tensor on one that is still needed") {
  const IntModel q = quantize(random_model(OpKind::Shift, 2), random_images(8, 1), QuantizerOptions{});
  int64_t largest = 0, sum = 0;
  for (size_t t = 1; t + 1 < q.tensors.size(); ++t) {
    largest = std::max(largest, q.tensors[t].elements());
    sum += q.tensors[t].elements();
  }
  CHECK(q.arena_bytes >= largest);
  CHECK(q.arena_bytes < sum);  // buffers are reused
  for (size_t i = 0; i < q.steps.size(); ++i) {
    const IntStep& s = q.steps[i];
    const IntTensor& out = q.tensors[static_cast<size_t>(s.output)];
    if (out.arena_offset < 0) continue;
    for (int in : {s.input, s.input2}) {
      if (in <= 0) continue;
      const IntTensor& x = q.tensors[static_cast<size_t>(in)];
      const bool disjoint = out.arena_offset + out.elements() <= x.arena_offset || x.arena_offset + x.elements() <= out.arena_offset;
      CHECK(disjoint);
    }
  }
}
