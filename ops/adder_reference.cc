#include "ops/adder_reference.h"

#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "ops/adder_gradient_scaling.h"

namespace nas::ops {
namespace {

using torch::Tensor;

struct UnfoldAdderFunction : public torch::autograd::Function<UnfoldAdderFunction> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& input,
                        const Tensor& weight, int64_t stride, int64_t padding, int64_t groups,
                        double eta) {
    const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
    const int64_t O = weight.size(0), R = weight.size(2), S = weight.size(3);
    const int64_t G = groups, Og = O / G, K = C / G * R * S;
    const int64_t Ho = (H + 2 * padding - R) / stride + 1, Wo = (W + 2 * padding - S) / stride + 1;
    const Tensor cols = at::im2col(input, {R, S}, {1, 1}, {padding, padding}, {stride, stride})
                            .view({N, G, 1, K, Ho * Wo});
    const Tensor w = weight.reshape({1, G, Og, K, 1});
    ctx->save_for_backward({cols, w});
    ctx->saved_data["shape"] = std::vector<int64_t>{N, C, H, W, O, R, S, stride, padding, G};
    ctx->saved_data["eta"] = eta;
    return (cols - w).abs().sum(3).neg().reshape({N, O, Ho, Wo});
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& cols = saved[0];  // [N, G, 1, K, L]
    const Tensor& w = saved[1];     // [1, G, Og, K, 1]
    const auto s = ctx->saved_data["shape"].toIntVector();
    const int64_t N = s[0], C = s[1], H = s[2], W = s[3], O = s[4], R = s[5], S = s[6];
    const int64_t stride = s[7], padding = s[8], G = s[9];
    const double eta = ctx->saved_data["eta"].toDouble();
    const int64_t L = cols.size(4);
    const Tensor g = grads[0].reshape({N, G, O / G, 1, L});
    const Tensor diff = cols - w;  // [N, G, Og, K, L]
    Tensor grad_w = (diff * g).sum(std::vector<int64_t>{0, 4}).reshape({O, C / G, R, S});
    const Tensor grad_cols = ((-diff).clamp(-1.0, 1.0) * g).sum(2).reshape({N, C * R * S, L});
    const Tensor grad_x = at::col2im(grad_cols, {H, W}, {R, S}, {1, 1}, {padding, padding},
                                     {stride, stride});
    if (eta > 0) {
      scale_gradient_to_norm(grad_w, eta);
    }
    return {grad_x, grad_w, Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

Tensor adder_conv2d_unfold_reference(const Tensor& input, const Tensor& weight, int64_t stride,
                                     int64_t padding, int64_t groups, double eta) {
  return UnfoldAdderFunction::apply(input, weight, stride, padding, groups, eta);
}

}  // namespace nas::ops
