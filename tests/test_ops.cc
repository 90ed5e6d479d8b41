// Parity, finite-difference and edge-case tests of the multiplication-free operators.
// <torch/...> must come before <doctest/doctest.h> (toolchain.md, gotcha 1).
#include <torch/cuda.h>
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ops/adder_conv2d.h"
#include "ops/adder_gradient_scaling.h"
#include "ops/adder_reference.h"
#include "ops/shift_conv2d.h"

using namespace nas::ops;
using torch::Tensor;

namespace {

struct ConvCase {
  const char* name;
  int64_t N, C, O, H, W, kernel, stride, padding, groups;
};

// Odd shapes: 1x1, 5x5, stride 2, padding 0, depthwise, grouped, batch 1, non-square, channel
// counts that leave remainders in every tile dimension.
const std::vector<ConvCase> kCases = {
    {"3x3 s1 p1", 2, 4, 6, 7, 5, 3, 1, 1, 1},
    {"1x1", 3, 5, 13, 4, 6, 1, 1, 0, 1},
    {"5x5 p2", 2, 3, 7, 9, 8, 5, 1, 2, 1},
    {"stride 2", 2, 6, 8, 9, 7, 3, 2, 1, 1},
    {"padding 0", 2, 3, 5, 6, 6, 3, 1, 0, 1},
    {"depthwise", 2, 8, 8, 6, 5, 3, 1, 1, 8},
    {"depthwise s2", 1, 5, 5, 7, 7, 3, 2, 1, 5},
    {"groups 2", 2, 6, 4, 5, 5, 3, 1, 1, 2},
    {"batch 1 wide", 1, 3, 17, 3, 11, 3, 1, 1, 1},
    {"many k", 1, 19, 3, 5, 4, 3, 1, 1, 1},
};

// Plain-loop float64 AdderNet: forward, and gradients for a given upstream gradient g
// (eta off: raw full-precision dW, HardTanh dX).
struct LoopReference {
  Tensor y, gx, gw;
};

LoopReference loop_reference(const Tensor& x_in, const Tensor& w_in, const Tensor& g_in,
                             const ConvCase& cc) {
  const Tensor x = x_in.to(torch::kDouble).contiguous(), w = w_in.to(torch::kDouble).contiguous();
  const Tensor g = g_in.to(torch::kDouble).contiguous();
  const int64_t Ho = (cc.H + 2 * cc.padding - cc.kernel) / cc.stride + 1;
  const int64_t Wo = (cc.W + 2 * cc.padding - cc.kernel) / cc.stride + 1;
  const int64_t Cg = cc.C / cc.groups, Og = cc.O / cc.groups;
  LoopReference ref;
  ref.y = torch::zeros({cc.N, cc.O, Ho, Wo}, torch::kDouble);
  ref.gx = torch::zeros_like(x);
  ref.gw = torch::zeros_like(w);
  auto X = x.accessor<double, 4>();
  auto Wt = w.accessor<double, 4>();
  auto G = g.accessor<double, 4>();
  auto Y = ref.y.accessor<double, 4>();
  auto GX = ref.gx.accessor<double, 4>();
  auto GW = ref.gw.accessor<double, 4>();
  for (int64_t n = 0; n < cc.N; ++n)
    for (int64_t o = 0; o < cc.O; ++o)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const int64_t grp = o / Og;
          double acc = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t r = 0; r < cc.kernel; ++r)
              for (int64_t s = 0; s < cc.kernel; ++s) {
                const int64_t ih = oh * cc.stride - cc.padding + r;
                const int64_t iw = ow * cc.stride - cc.padding + s;
                const bool inside = ih >= 0 && ih < cc.H && iw >= 0 && iw < cc.W;
                const double xv = inside ? X[n][grp * Cg + c][ih][iw] : 0.0;
                const double wv = Wt[o][c][r][s];
                acc += std::fabs(xv - wv);
                GW[o][c][r][s] += G[n][o][oh][ow] * (xv - wv);
                if (inside)
                  GX[n][grp * Cg + c][ih][iw] +=
                      G[n][o][oh][ow] * std::max(-1.0, std::min(1.0, wv - xv));
              }
          Y[n][o][oh][ow] = -acc;
        }
  return ref;
}

// max |a - b| / max |b|: relative to the tensor's scale, robust to entries near zero.
double rel_error(const Tensor& a, const Tensor& b) {
  const double scale = b.abs().max().item<double>();
  const double err = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
  return scale > 0 ? err / scale : err;
}

struct RunResult {
  Tensor y, gx, gw;
};

RunResult run_adder(const Tensor& x0, const Tensor& w0, const Tensor& g, const ConvCase& cc,
                    AdderBackend backend, double eta = 0.0) {
  Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
  Tensor y = adder_conv2d(x, w, cc.stride, cc.padding, cc.groups, eta, backend);
  y.backward(g);
  return {y.detach(), x.grad(), w.grad()};
}

Tensor random_inputs(const ConvCase& cc, torch::ScalarType dtype) {
  return torch::randn({cc.N, cc.C, cc.H, cc.W}, torch::TensorOptions().dtype(dtype));
}
Tensor random_weight(const ConvCase& cc, torch::ScalarType dtype) {
  return torch::randn({cc.O, cc.C / cc.groups, cc.kernel, cc.kernel},
                      torch::TensorOptions().dtype(dtype)) * 0.7;
}

}  // namespace

TEST_CASE("adder_conv2d: kernel, portable and unfold paths match a plain-loop reference") {
  torch::manual_seed(1);
  for (const ConvCase& cc : kCases) {
    for (auto dtype : {torch::kDouble, torch::kFloat}) {
      CAPTURE(cc.name);
      CAPTURE(dtype);
      const double tol = dtype == torch::kDouble ? 1e-5 : 1e-4;
      const Tensor x = random_inputs(cc, dtype), w = random_weight(cc, dtype);
      const int64_t Ho = (cc.H + 2 * cc.padding - cc.kernel) / cc.stride + 1;
      const int64_t Wo = (cc.W + 2 * cc.padding - cc.kernel) / cc.stride + 1;
      const Tensor g = torch::randn({cc.N, cc.O, Ho, Wo}, torch::TensorOptions().dtype(dtype));
      const LoopReference ref = loop_reference(x, w, g, cc);
      for (auto backend : {AdderBackend::Kernel, AdderBackend::Portable}) {
        CAPTURE(static_cast<int>(backend));
        const RunResult r = run_adder(x, w, g, cc, backend);
        CHECK((r.y.scalar_type() == dtype));
        CHECK(rel_error(r.y, ref.y) <= tol);
        CHECK(rel_error(r.gx, ref.gx) <= tol);
        CHECK(rel_error(r.gw, ref.gw) <= tol);
      }
      Tensor xr = x.clone().requires_grad_(true), wr = w.clone().requires_grad_(true);
      Tensor yr = adder_conv2d_unfold_reference(xr, wr, cc.stride, cc.padding, cc.groups, 0.0);
      yr.backward(g);
      CHECK(rel_error(yr.detach(), ref.y) <= tol);
      CHECK(rel_error(xr.grad(), ref.gx) <= tol);
      CHECK(rel_error(wr.grad(), ref.gw) <= tol);
    }
  }
}

TEST_CASE("adder_conv2d: input gradient equals finite differences where HardTanh is exact") {
  // With |w - x| >= 1 everywhere, HardTanh(w - x) = sign(w - x) = dY/dx exactly, so the
  // surrogate input gradient must match finite differences of the forward pass.
  torch::manual_seed(2);
  for (const ConvCase& cc : kCases) {
    CAPTURE(cc.name);
    const Tensor x = torch::rand({cc.N, cc.C, cc.H, cc.W}, torch::kDouble) + 2.0;   // [2, 3)
    const Tensor w = -torch::rand({cc.O, cc.C / cc.groups, cc.kernel, cc.kernel}, torch::kDouble);
    for (auto backend : {AdderBackend::Kernel, AdderBackend::Portable}) {
      Tensor xg = x.clone().requires_grad_(true);
      const Tensor y = adder_conv2d(xg, w, cc.stride, cc.padding, cc.groups, 0.0, backend);
      const Tensor g = torch::randn(y.sizes(), torch::kDouble);
      (y * g).sum().backward();
      const double h = 1e-6;
      auto loss = [&](const Tensor& xx) {
        return (adder_conv2d(xx, w, cc.stride, cc.padding, cc.groups, 0.0, backend) * g)
            .sum()
            .item<double>();
      };
      // Check a spread of coordinates (all of them for the small cases).
      const Tensor flat = x.reshape({-1});
      const int64_t step = std::max<int64_t>(1, flat.numel() / 40);
      for (int64_t i = 0; i < flat.numel(); i += step) {
        Tensor xp = x.clone(), xm = x.clone();
        xp.view({-1})[i] += h;
        xm.view({-1})[i] -= h;
        const double fd = (loss(xp) - loss(xm)) / (2 * h);
        CHECK(xg.grad().view({-1})[i].item<double>() == doctest::Approx(fd).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("adder_conv2d: weight gradient is the exact gradient of the l2 surrogate") {
  // AdderNet's full-precision dW = sum g (x - w) is the gradient of
  // Phi(w) = -1/2 sum_{n,o,p} g[n,o,p] sum_k (x_col[n,k,p] - w[o,k])^2, checked by finite
  // differences of Phi computed independently here.
  torch::manual_seed(3);
  for (const ConvCase& cc : kCases) {
    CAPTURE(cc.name);
    const Tensor x = torch::randn({cc.N, cc.C, cc.H, cc.W}, torch::kDouble);
    const Tensor w = torch::randn({cc.O, cc.C / cc.groups, cc.kernel, cc.kernel}, torch::kDouble);
    Tensor wg = w.clone().requires_grad_(true);
    const Tensor y = adder_conv2d(x, wg, cc.stride, cc.padding, cc.groups, 0.0);
    const Tensor g = torch::randn(y.sizes(), torch::kDouble);
    y.backward(g);
    const int64_t G = cc.groups, Og = cc.O / G, K = cc.C / G * cc.kernel * cc.kernel;
    const Tensor cols = torch::nn::functional::unfold(
                            x, torch::nn::functional::UnfoldFuncOptions({cc.kernel, cc.kernel})
                                   .padding(cc.padding)
                                   .stride(cc.stride))
                            .view({cc.N, G, 1, K, -1});
    const Tensor gg = g.reshape({cc.N, G, Og, 1, -1});
    auto phi = [&](const Tensor& ww) {
      return (-0.5 * (gg * (cols - ww.reshape({1, G, Og, K, 1})).pow(2))).sum().item<double>();
    };
    const double h = 1e-5;
    for (int64_t i = 0; i < w.numel(); i += std::max<int64_t>(1, w.numel() / 30)) {
      Tensor wp = w.clone(), wm = w.clone();
      wp.view({-1})[i] += h;
      wm.view({-1})[i] -= h;
      const double fd = (phi(wp) - phi(wm)) / (2 * h);
      CHECK(wg.grad().view({-1})[i].item<double>() == doctest::Approx(fd).epsilon(1e-6));
    }
  }
}

TEST_CASE("adder_conv2d: adaptive gradient scaling") {
  torch::manual_seed(4);
  const ConvCase cc = kCases[0];
  const Tensor x = random_inputs(cc, torch::kDouble), w = random_weight(cc, torch::kDouble);
  const Tensor g = torch::randn({cc.N, cc.O, 7, 5}, torch::kDouble);
  const RunResult raw = run_adder(x, w, g, cc, AdderBackend::Kernel, 0.0);
  const RunResult scaled = run_adder(x, w, g, cc, AdderBackend::Kernel, 0.2);
  const RunResult off = run_adder(x, w, g, cc, AdderBackend::Kernel, -1.0);
  const double expected_norm = 0.2 * std::sqrt(static_cast<double>(w.numel()));
  CHECK(scaled.gw.norm().item<double>() == doctest::Approx(expected_norm).epsilon(1e-9));
  // Same direction as the raw gradient; input gradient untouched.
  CHECK(rel_error(scaled.gw * (raw.gw.norm() / scaled.gw.norm()), raw.gw) < 1e-12);
  CHECK(rel_error(scaled.gx, raw.gx) < 1e-12);
  CHECK(rel_error(off.gw, raw.gw) < 1e-12);
  const RunResult portable = run_adder(x, w, g, cc, AdderBackend::Portable, 0.2);
  CHECK(rel_error(portable.gw, scaled.gw) < 1e-9);
}

TEST_CASE("scale_gradient_to_norm: AdderNet's scaling, and the gradients it must leave alone") {
  // Ordinary: the norm becomes eta * sqrt(numel), the direction stays.
  Tensor g = torch::randn({6, 4, 3, 3});
  const Tensor before = g.clone();
  CHECK(scale_gradient_to_norm(g, 0.5));
  CHECK(g.norm().item<double>() == doctest::Approx(0.5 * std::sqrt(216.0)).epsilon(1e-5));
  CHECK(rel_error(g * (before.norm() / g.norm()), before) < 1e-6);
  // The case a supernet run diverged on: with relative adder scaling eta is multiplied by the
  // weights' RMS, which had grown to ~3e17, while the gradient had shrunk to ~1e-20; the scale
  // (~5e38) overflowed float to inf and 0 * inf put NaN into the weights. Such a float gradient is
  // left as it is, finite.
  Tensor tiny = torch::zeros({32, 8, 1, 1});
  tiny.view({-1})[3] = 1e-20f;
  tiny.view({-1})[9] = -3e-21f;
  const Tensor tiny_before = tiny.clone();
  const double big_eta = 3.3e17;
  // The premise: a positive norm whose scale does not fit a float (the old code multiplied anyway).
  const double tiny_norm = tiny.norm().item<double>();
  REQUIRE(tiny_norm > 0);
  REQUIRE(big_eta * std::sqrt(256.0) / tiny_norm > std::numeric_limits<float>::max());
  CHECK(torch::isnan(tiny.mul(big_eta * std::sqrt(256.0) / tiny_norm)).any().item<bool>());
  CHECK_FALSE(scale_gradient_to_norm(tiny, big_eta));
  CHECK(torch::isfinite(tiny).all().item<bool>());
  CHECK(torch::equal(tiny, tiny_before));
  // ... while the same values in double scale normally (the scale fits a double).
  Tensor tiny_double = tiny_before.to(torch::kDouble);
  CHECK(scale_gradient_to_norm(tiny_double, big_eta));
  CHECK(tiny_double.norm().item<double>() == doctest::Approx(big_eta * 16.0).epsilon(1e-6));
  // Zero, undefined and non-finite gradients are left alone.
  Tensor zero = torch::zeros({3, 3});
  CHECK_FALSE(scale_gradient_to_norm(zero, 1.0));
  CHECK(torch::equal(zero, torch::zeros({3, 3})));
  Tensor undefined;
  CHECK_FALSE(scale_gradient_to_norm(undefined, 1.0));
  Tensor with_inf = torch::ones({4});
  with_inf[1] = std::numeric_limits<float>::infinity();
  CHECK_FALSE(scale_gradient_to_norm(with_inf, 1.0));
  // A slice is scaled by its own norm, in place in the tensor around it.
  Tensor whole = torch::randn({8, 5});
  const Tensor rest = whole.slice(0, 4, 8).clone();
  Tensor slice = whole.slice(0, 0, 4);
  CHECK(scale_gradient_to_norm(slice, 1.0));
  CHECK(whole.slice(0, 0, 4).norm().item<double>() == doctest::Approx(std::sqrt(20.0)).epsilon(1e-5));
  CHECK(torch::equal(whole.slice(0, 4, 8), rest));
}

TEST_CASE("adder_conv2d: portable path is exact under tiny memory chunks") {
  torch::manual_seed(5);
  const int64_t saved = adder_portable_chunk_elements();
  for (const ConvCase& cc : {kCases[0], kCases[5], kCases[7]}) {
    CAPTURE(cc.name);
    const Tensor x = random_inputs(cc, torch::kDouble), w = random_weight(cc, torch::kDouble);
    const Tensor y0 = adder_conv2d(x, w, cc.stride, cc.padding, cc.groups, 0.0);
    const Tensor g = torch::randn(y0.sizes(), torch::kDouble);
    const RunResult big = run_adder(x, w, g, cc, AdderBackend::Portable);
    set_adder_portable_chunk_elements(7);  // forces one sample and one channel per chunk
    const RunResult small = run_adder(x, w, g, cc, AdderBackend::Portable);
    set_adder_portable_chunk_elements(saved);
    CHECK(rel_error(small.y, big.y) < 1e-12);
    CHECK(rel_error(small.gx, big.gx) < 1e-12);
    CHECK(rel_error(small.gw, big.gw) < 1e-12);
  }
}

TEST_CASE("hybrid_adder_conv2d equals conv2d + adder on the leading channels, bit for bit, gradients too") {
  struct Case {
    int64_t c_in, adder_in, c_out, adder_out, kernel, stride, conv_groups, adder_groups;
  };
  // Dense (the adder's block of a wider layer) and depthwise (adder on the first channels).
  const Case cases[] = {{10, 4, 9, 3, 3, 1, 1, 1}, {10, 4, 9, 3, 3, 2, 1, 1}, {12, 5, 12, 5, 3, 1, 12, 5},
                        {12, 5, 12, 5, 5, 2, 12, 5}, {8, 8, 6, 6, 1, 1, 1, 1}};
  for (const Case& c : cases) {
    for (bool channels_last : {false, true}) {
      CAPTURE(c.c_in);
      CAPTURE(c.kernel);
      CAPTURE(c.stride);
      CAPTURE(c.conv_groups);
      CAPTURE(channels_last);
      torch::manual_seed(c.c_in * 10 + c.kernel + c.stride);
      Tensor x = torch::randn({3, c.c_in, 7, 7});
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      const Tensor wc0 = torch::randn({c.c_out, c.c_in / c.conv_groups, c.kernel, c.kernel}) * 0.3;
      const Tensor wa0 = torch::randn({c.adder_out, c.adder_in / c.adder_groups, c.kernel, c.kernel});
      const int64_t pad = c.kernel / 2;
      std::vector<Tensor> outputs, grads;
      for (bool fused : {true, false}) {
        const Tensor xi = x.detach().clone(channels_last ? torch::MemoryFormat::ChannelsLast
                                                         : torch::MemoryFormat::Contiguous).requires_grad_();
        const Tensor wc = wc0.clone().requires_grad_(), wa = wa0.clone().requires_grad_();
        Tensor y;
        if (fused) {
          y = hybrid_adder_conv2d(xi, wc, c.conv_groups, wa, c.adder_in, c.adder_groups, c.stride, pad);
        } else {
          y = torch::conv2d(xi, wc, {}, c.stride, pad, 1, c.conv_groups);
          y.narrow(1, 0, c.adder_out).add_(adder_conv2d(xi.narrow(1, 0, c.adder_in), wa, c.stride, pad, c.adder_groups, 0.0));
        }
        torch::manual_seed(3);  // the same upstream gradient both ways
        (y * torch::randn(y.sizes())).sum().backward();
        outputs.push_back(y.detach().contiguous());
        grads.push_back(xi.grad().contiguous());
        grads.push_back(wc.grad());
        grads.push_back(wa.grad());
      }
      CHECK(torch::equal(outputs[0], outputs[1]));
      CHECK(torch::equal(grads[0], grads[3]));  // input
      CHECK(torch::equal(grads[1], grads[4]));  // convolution weight
      CHECK(torch::equal(grads[2], grads[5]));  // adder weight
      CHECK(grads[0].abs().sum().item<double>() > 0);
    }
  }
  CHECK_THROWS_WITH_AS(hybrid_adder_conv2d(torch::randn({1, 3, 5, 5}), torch::randn({4, 3, 3, 3}), 1,
                                           torch::randn({2, 4, 3, 3}), 4, 1, 1, 1),
                       doctest::Contains("do not fit the input"), c10::Error);
}

TEST_CASE("adder_linear: FC form equals the 1x1 convolution") {
  torch::manual_seed(6);
  const Tensor x = torch::randn({9, 20}, torch::kDouble), w = torch::randn({7, 20}, torch::kDouble);
  Tensor xa = x.clone().requires_grad_(true), wa = w.clone().requires_grad_(true);
  const Tensor y = adder_linear(xa, wa, 0.0);
  const Tensor expected = -(x.unsqueeze(1) - w.unsqueeze(0)).abs().sum(2);
  CHECK(rel_error(y.detach(), expected) < 1e-12);
  const Tensor g = torch::randn({9, 7}, torch::kDouble);
  y.backward(g);
  Tensor xc = x.view({9, 20, 1, 1}).clone().requires_grad_(true);
  Tensor wc = w.view({7, 20, 1, 1}).clone().requires_grad_(true);
  adder_conv2d(xc, wc, 1, 0, 1, 0.0, AdderBackend::Portable).backward(g.view({9, 7, 1, 1}));
  CHECK(rel_error(xa.grad(), xc.grad().view({9, 20})) < 1e-12);
  CHECK(rel_error(wa.grad(), wc.grad().view({7, 20})) < 1e-12);
}

TEST_CASE("adder_conv2d: argument errors are clear") {
  const Tensor x = torch::randn({1, 4, 5, 5}), w = torch::randn({6, 4, 3, 3});
  CHECK_THROWS_WITH(adder_conv2d(x, w, 1, 1, 3, 0.2), doctest::Contains("groups 3 must divide"));
  CHECK_THROWS_WITH(adder_conv2d(x, torch::randn({6, 2, 3, 3}), 1, 1, 1, 0.2),
                    doctest::Contains("input channels per group"));
  CHECK_THROWS_WITH(adder_conv2d(x, torch::randn({6, 4, 9, 9}), 1, 0, 1, 0.2),
                    doctest::Contains("larger than the padded input"));
  CHECK_THROWS(adder_conv2d(x, w.to(torch::kDouble), 1, 1, 1, 0.2));
  CHECK_THROWS(adder_conv2d(x.to(torch::kHalf), w.to(torch::kHalf), 1, 1, 1, 0.2,
                            AdderBackend::Kernel));
}

TEST_CASE("AdderConv2d module") {
  AdderConv2d layer(AdderConv2dOptions(4, 8, 3).padding(1).stride(2));
  const Tensor y = layer->forward(torch::randn({2, 4, 9, 9}));
  CHECK((y.sizes() == torch::IntArrayRef({2, 8, 5, 5})));
  CHECK(layer->parameters().size() == 1);
  y.sum().backward();
  CHECK(layer->weight.grad().defined());
}

// ---- DeepShift ---------------------------------------------------------------------------

TEST_CASE("quantize_shift: DeepShift-Q rounding edge cases") {
  const int64_t bits = 5;
  CHECK(shift_min_exponent(5) == -15);
  CHECK(shift_min_exponent(3) == -3);
  const double tiny = std::ldexp(1.0, -15);
  const std::vector<std::pair<double, double>> cases = {
      {0.0, 0.0},                              // sign(0) = 0
      {1.0, 1.0},   {-1.0, -1.0},              // exact powers of two stay
      {0.25, 0.25}, {-0.125, -0.125}, {tiny, tiny},
      {3.7, 1.0},   {-250.0, -1.0},            // above 1: clamped to +-1
      {1e-9, tiny}, {-1e-12, -tiny},           // below the smallest shift: +-2^-15
      {0.7, 0.5},   {0.75, 1.0},   {-0.3, -0.25}, {0.09, 0.125},
  };
  std::vector<double> in, expected;
  for (auto& c : cases) {
    in.push_back(c.first);
    expected.push_back(c.second);
  }
  const Tensor w = torch::tensor(in, torch::kDouble);
  const Tensor q = quantize_shift(w, bits);
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(in[i]);
    CHECK(q[static_cast<int64_t>(i)].item<double>() == expected[i]);
  }
  // 3 bits: shifts -3..0
  CHECK(quantize_shift(torch::tensor({0.01}), 3).item<float>() == 0.125f);
  CHECK_THROWS(quantize_shift(w, 1));
}

TEST_CASE("quantize_shift: straight-through gradient") {
  Tensor w = torch::randn({5, 3}, torch::kDouble).requires_grad_(true);
  const Tensor g = torch::randn({5, 3}, torch::kDouble);
  quantize_shift(w, 5).backward(g);
  CHECK(torch::equal(w.grad(), g));
}

TEST_CASE("shift_conv2d equals conv2d with quantized weights, gradients STE") {
  torch::manual_seed(7);
  for (const ConvCase& cc : kCases) {
    CAPTURE(cc.name);
    Tensor x = torch::randn({cc.N, cc.C, cc.H, cc.W}, torch::kDouble).requires_grad_(true);
    Tensor w = (torch::randn({cc.O, cc.C / cc.groups, cc.kernel, cc.kernel}, torch::kDouble) * 0.3)
                   .requires_grad_(true);
    const Tensor y = shift_conv2d(x, w, cc.stride, cc.padding, cc.groups, 5);
    const Tensor g = torch::randn(y.sizes(), torch::kDouble);
    y.backward(g);
    Tensor x2 = x.detach().clone().requires_grad_(true);
    Tensor wq = quantize_shift(w.detach(), 5).requires_grad_(true);
    const Tensor y2 = torch::conv2d(x2, wq, {}, cc.stride, cc.padding, 1, cc.groups);
    y2.backward(g);
    CHECK(rel_error(y.detach(), y2.detach()) < 1e-12);
    CHECK(rel_error(x.grad(), x2.grad()) < 1e-12);
    CHECK(rel_error(w.grad(), wq.grad()) < 1e-12);  // STE: dL/dw = dL/dwq
    // The input gradient is exact: check finite differences of the (linear in x) forward.
    const double h = 1e-6;
    for (int64_t i = 0; i < x.numel(); i += std::max<int64_t>(1, x.numel() / 20)) {
      Tensor xp = x.detach().clone(), xm = x.detach().clone();
      xp.view({-1})[i] += h;
      xm.view({-1})[i] -= h;
      const double fd = ((shift_conv2d(xp, w.detach(), cc.stride, cc.padding, cc.groups, 5) * g)
                             .sum()
                             .item<double>() -
                         (shift_conv2d(xm, w.detach(), cc.stride, cc.padding, cc.groups, 5) * g)
                             .sum()
                             .item<double>()) /
                        (2 * h);
      CHECK(x.grad().view({-1})[i].item<double>() == doctest::Approx(fd).epsilon(1e-6));
    }
  }
}

TEST_CASE("quantize_shift_ps: forward values and gradients") {
  const Tensor p = torch::tensor({-0.4, -2.6, 0.8, -20.0, -3.0}, torch::kDouble).requires_grad_(true);
  const Tensor s = torch::tensor({0.7, -0.6, 1.2, -3.0, 0.2}, torch::kDouble).requires_grad_(true);
  const Tensor wq = quantize_shift_ps(p, s, 5);  // shifts clamped to [-14, 0]
  const std::vector<double> expected = {1.0, -0.125, 1.0, -std::ldexp(1.0, -14), 0.0};
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK(wq[static_cast<int64_t>(i)].item<double>() == expected[i]);
  const Tensor g = torch::tensor({1.0, 2.0, -1.0, 0.5, 3.0}, torch::kDouble);
  wq.backward(g);
  CHECK(torch::allclose(s.grad(), g));
  CHECK(torch::allclose(p.grad(), g * wq.detach() * std::log(2.0)));
  // dP is the exact derivative of 2^P * sign where rounding is inactive (integer P):
  // finite differences of 2^P at P = -3 give 2^-3 ln 2.
  const double h = 1e-6;
  const double fd = (std::exp2(-3.0 + h) - std::exp2(-3.0 - h)) / (2 * h);
  CHECK(std::exp2(-3.0) * std::log(2.0) == doctest::Approx(fd).epsilon(1e-8));
}

TEST_CASE("shift export: integer codes decode bit-exactly") {
  torch::manual_seed(8);
  const Tensor w = torch::randn({16, 8, 3, 3}) * 0.2;
  const ShiftCodes codes = export_shift_codes(w, 5);
  CHECK((codes.shift.scalar_type() == torch::kInt8));
  CHECK((codes.sign.scalar_type() == torch::kInt8));
  CHECK(codes.shift.min().item<int>() >= -15);
  CHECK(codes.shift.max().item<int>() <= 0);
  CHECK(torch::equal(decode_shift_codes(codes), quantize_shift(w, 5)));
  ShiftConv2d ps(ShiftConv2dOptions(8, 16, 3).mode(ShiftMode::PS).padding(1));
  CHECK(torch::equal(decode_shift_codes(ps->export_codes()), ps->quantized_weight().detach()));
  ShiftConv2d q(ShiftConv2dOptions(8, 16, 3).padding(1));
  CHECK(torch::equal(decode_shift_codes(q->export_codes()), q->quantized_weight().detach()));
  const Tensor x = torch::randn({2, 8, 6, 6});
  CHECK(torch::equal(q->forward(x), shift_conv2d(x, q->weight, 1, 1, 1, 5)));
}

TEST_CASE("round_fixed_point: rounding, clamping and STE") {
  Tensor x = torch::tensor({0.30, -0.30, 5.0, -9.0, 0.126}, torch::kDouble).requires_grad_(true);
  const Tensor y = round_fixed_point(x, 2, 3);  // step 1/8, range [-4, 4 - 1/8]
  const std::vector<double> expected = {0.25, -0.25, 3.875, -4.0, 0.125};
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK(y[static_cast<int64_t>(i)].item<double>() == expected[i]);
  y.sum().backward();
  CHECK(torch::equal(x.grad(), torch::ones_like(x)));
}

TEST_CASE("shift_linear equals linear with quantized weights") {
  const Tensor x = torch::randn({4, 10}), w = torch::randn({3, 10}) * 0.3;
  CHECK(torch::allclose(shift_linear(x, w, 5), torch::linear(x, quantize_shift(w, 5))));
}

TEST_CASE("CUDA: portable adder and shift on the GPU match the CPU kernel") {
  if (!torch::cuda::is_available()) {
    MESSAGE("skipped: no CUDA device");
    return;
  }
  torch::manual_seed(9);
  const torch::Device cuda(torch::kCUDA);
  for (const ConvCase& cc : kCases) {
    CAPTURE(cc.name);
    const Tensor x = random_inputs(cc, torch::kFloat), w = random_weight(cc, torch::kFloat);
    const Tensor y0 = adder_conv2d(x, w, cc.stride, cc.padding, cc.groups, 0.0);
    const Tensor g = torch::randn(y0.sizes());
    const RunResult cpu = run_adder(x, w, g, cc, AdderBackend::Kernel, 0.2);
    const RunResult gpu = run_adder(x.to(cuda), w.to(cuda), g.to(cuda), cc, AdderBackend::Auto, 0.2);
    CHECK(gpu.y.device().is_cuda());
    CHECK(rel_error(gpu.y.cpu(), cpu.y) <= 1e-4);
    CHECK(rel_error(gpu.gx.cpu(), cpu.gx) <= 1e-4);
    CHECK(rel_error(gpu.gw.cpu(), cpu.gw) <= 1e-4);
    const Tensor ys = shift_conv2d(x.to(cuda), w.to(cuda), cc.stride, cc.padding, cc.groups, 5);
    CHECK(rel_error(ys.cpu(), shift_conv2d(x, w, cc.stride, cc.padding, cc.groups, 5)) <= 1e-4);
  }
}

TEST_CASE("quantize_shift: CPU loop, tensor-op path and export agree everywhere") {
  // Dense sweep over magnitudes including values next to the rounding boundaries 2^(k+1/2).
  std::vector<double> values;
  for (int k = -17; k <= 1; ++k) {
    const double boundary = std::ldexp(std::sqrt(2.0), k);
    for (double f : {1.0 - 1e-7, 1.0, 1.0 + 1e-7}) {
      values.push_back(boundary * f);
      values.push_back(-boundary * f);
    }
  }
  torch::manual_seed(10);
  const Tensor random = torch::randn({2000}, torch::kDouble) * torch::exp2(torch::randint(-18, 2, {2000}).to(torch::kDouble));
  Tensor w = torch::cat({torch::tensor(values, torch::kDouble), random});
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    const Tensor wt = w.to(dtype);
    const Tensor cpu = quantize_shift(wt, 5);
    // The tensor-op path (taken on CUDA) must give the same bits as the CPU loop.
    CHECK(torch::equal(shift_round_tensor_ops(wt, 5), cpu));
    const Tensor reference = torch::sign(wt) *
        torch::exp2(torch::round(torch::log2(wt.abs().to(torch::kDouble).clamp(std::ldexp(1.0, -15), 1.0))));
    // Away from the boundaries the log2 formula is exact; near them both are valid roundings,
    // but export and quantize must agree bit for bit everywhere.
    CHECK(torch::equal(decode_shift_codes(export_shift_codes(wt, 5)).to(dtype), cpu));
    const Tensor far = (torch::log2(wt.abs().to(torch::kDouble)) - torch::log2(wt.abs().to(torch::kDouble)).floor() - 0.5).abs() > 1e-6;
    CHECK(torch::equal(cpu.to(torch::kDouble).masked_select(far), reference.to(torch::kDouble).masked_select(far)));
  }
}
