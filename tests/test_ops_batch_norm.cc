// The fused training-mode batch norm (+ ReLU6) kernel against LibTorch's batch_norm + hardtanh.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ops/batch_norm.h"

using nas::ops::batch_norm_train;
using nas::ops::BatchNormBackend;
using torch::Tensor;

namespace {

struct Run {
  Tensor y, gx, gw, gb, running_mean, running_var;
};

// One forward + backward through `backend`, with weight / bias / running statistics that are the
// first `channels` entries of larger buffers (as DynamicBatchNorm passes them).
// With in_double, LibTorch's batch_norm in float64 (the exact values, to float precision),
// returned as float.
Run run(const Tensor& x0, const Tensor& w_full, const Tensor& b_full, const Tensor& upstream, bool relu6,
        BatchNormBackend backend, bool in_double = false) {
  const int64_t c = x0.size(1);
  const auto type = in_double ? torch::kDouble : torch::kFloat;
  Tensor x = x0.to(type).clone().requires_grad_(true);
  Tensor w = w_full.to(type).clone().requires_grad_(true), b = b_full.to(type).clone().requires_grad_(true);
  Tensor rm = torch::linspace(-1, 1, w_full.size(0), type), rv = torch::linspace(0.5, 2, w_full.size(0), type);
  Tensor y = batch_norm_train(x, w.narrow(0, 0, c), b.narrow(0, 0, c), rm.narrow(0, 0, c), rv.narrow(0, 0, c),
                              0.1, 1e-5, relu6, backend);
  y.backward(upstream.to(type));
  auto f = [](const Tensor& t) { return t.to(torch::kFloat); };
  return {f(y.detach()), f(x.grad()), f(w.grad()), f(b.grad()), f(rm), f(rv)};
}

void check_close(const Tensor& a, const Tensor& b, double atol, const std::string& what) {
  INFO(what << ": max |diff| " << (a - b).abs().max().item<double>());
  CHECK(torch::allclose(a, b, 1e-4, atol));
}

}  // namespace

TEST_CASE("batch_norm_train: the kernel equals batch_norm (+ hardtanh) in values, gradients and running statistics") {
  torch::manual_seed(3);
  // (shape, offset): spatial sizes with and without a vector tail, a 2-D input (spatial 1), one
  // row, and a large common offset (the one-pass statistics must not cancel).
  const std::vector<std::pair<std::vector<int64_t>, double>> cases = {
      {{8, 5, 7, 7}, 0.0}, {{4, 3, 4, 4}, 1.5}, {{16, 6}, 0.0}, {{1, 4, 5, 3}, -2.0}, {{6, 4, 9, 9}, 1000.0}};
  for (const auto& [shape, offset] : cases) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool relu6 = variant % 2 == 1, channels_last = variant >= 2;
      if (channels_last && shape.size() != 4) continue;
      CAPTURE(relu6);
      CAPTURE(channels_last);
      CAPTURE(shape.size());
      const int64_t c = shape[1];
      Tensor x = torch::randn(shape) * 3.0 + offset;
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      Tensor w = torch::rand({c + 2}) + 0.5, b = torch::randn({c + 2});
      Tensor up = torch::randn(shape);
      const Run k = run(x, w, b, up, relu6, BatchNormBackend::Kernel);
      // The reference in double: LibTorch's float channels-last batch norm is itself off by
      // ~3e-4 at the offset of 1000 (its statistics cancel), the kernel's shifted sums are not.
      const Run r = run(x, w, b, up, relu6, BatchNormBackend::Reference, /*in_double=*/true);
      // With a common offset of 1000 a float input is only known to ~6e-5: the normalised
      // output carries that error.
      const double value_tol = offset > 100 ? 2e-4 : 1e-5;
      check_close(k.y, r.y, value_tol, "output");
      check_close(k.gx, r.gx, 10 * value_tol, "input gradient");
      check_close(k.gw, r.gw, 1e-3, "weight gradient");
      check_close(k.gb, r.gb, 1e-3, "bias gradient");
      check_close(k.running_mean, r.running_mean, offset > 100 ? 1e-3 : 1e-6, "running mean");
      check_close(k.running_var, r.running_var, 1e-4, "running variance");
      // Only the active prefix moves; the rest of the buffers is untouched.
      CHECK(k.gw[c].item<float>() == 0.0f);
      CHECK(k.running_mean[c].item<float>() == torch::linspace(-1, 1, c + 2)[c].item<float>());
      // The output keeps the input's layout.
      CHECK(k.y.is_contiguous(channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous));
      if (relu6) {
        CHECK(k.y.min().item<float>() >= 0.0f);
        CHECK(k.y.max().item<float>() <= 6.0f);
      }
    }
  }
}

TEST_CASE("batch_norm_train: the ReLU6 mask of the backward is exactly the forward's clamp") {
  // Where the output is clamped the input gradient comes only through the batch statistics: the
  // gradient of sum(y * up) restricted to clamped positions of a channel is the same constant
  // shift for every clamped position (the mean terms), whatever `up` holds there.
  torch::manual_seed(4);
  Tensor x = torch::randn({4, 2, 6, 6}) * 4.0;
  Tensor w = torch::ones({2}), b = torch::zeros({2});
  Tensor up = torch::randn({4, 2, 6, 6});
  const Run k = run(x, w, b, up, true, BatchNormBackend::Kernel);
  Tensor up2 = up.clone();
  const Tensor clamped = (k.y <= 0) | (k.y >= 6);
  REQUIRE(clamped.any().item<bool>());
  up2.masked_fill_(clamped, 100.0);  // changes nothing that passes the mask
  const Run k2 = run(x, w, b, up2, true, BatchNormBackend::Kernel);
  CHECK(torch::equal(k.gx, k2.gx));
  CHECK(torch::equal(k.gw, k2.gw));
}

TEST_CASE("batch_norm_train: results do not depend on the thread count, and Auto picks the kernel where it applies") {
  torch::manual_seed(5);
  // 8 x 20 x 20 rows: several row blocks of the channels-last kernel.
  const Tensor x_nchw = torch::randn({8, 12, 20, 20});
  Tensor w = torch::rand({12}) + 0.5, b = torch::randn({12}), up = torch::randn({8, 12, 20, 20});
  for (bool channels_last : {false, true}) {
    CAPTURE(channels_last);
    const Tensor x = channels_last ? x_nchw.contiguous(torch::MemoryFormat::ChannelsLast) : x_nchw;
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    const Run one = run(x, w, b, up, true, BatchNormBackend::Kernel);
    at::set_num_threads(std::max(2, threads));
    const Run many = run(x, w, b, up, true, BatchNormBackend::Kernel);
    at::set_num_threads(threads);
    CHECK(torch::equal(one.y, many.y));
    CHECK(torch::equal(one.gx, many.gx));
    CHECK(torch::equal(one.gw, many.gw));
    CHECK(torch::equal(one.gb, many.gb));
    CHECK(torch::equal(run(x, w, b, up, true, BatchNormBackend::Auto).y, one.y));
  }
  // Double and other strided inputs take LibTorch's path under Auto, and the kernel refuses them.
  Tensor rm = torch::zeros({12}), rv = torch::ones({12});
  const Tensor strided = x_nchw.contiguous(torch::MemoryFormat::ChannelsLast).narrow(1, 0, 6);
  CHECK_FALSE(nas::ops::batch_norm_kernel_applies(strided, w.narrow(0, 0, 6), b.narrow(0, 0, 6)));
  CHECK(torch::allclose(batch_norm_train(strided, w.narrow(0, 0, 6), b.narrow(0, 0, 6), rm.narrow(0, 0, 6),
                                         rv.narrow(0, 0, 6), 0.1, 1e-5, true),
                        batch_norm_train(strided.contiguous(), w.narrow(0, 0, 6), b.narrow(0, 0, 6), Tensor(),
                                         Tensor(), 0.1, 1e-5, true),
                        1e-4, 1e-5));
  CHECK_THROWS_WITH(batch_norm_train(x_nchw.to(torch::kDouble), w, b, rm, rv, 0.1, 1e-5, true, BatchNormBackend::Kernel),
                    doctest::Contains("CPU float32 contiguous"));
  CHECK_THROWS_WITH(batch_norm_train(torch::randn({1, 3}), torch::ones({3}), torch::zeros({3}), Tensor(), Tensor(),
                                     0.1, 1e-5, false, BatchNormBackend::Kernel),
                    doctest::Contains("more than 1 value per channel"));
}
