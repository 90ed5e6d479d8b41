#include "supernet/tiny_ops.h"

#include <ATen/core/LegacyTypeDispatch.h>
#include <torch/csrc/autograd/custom_function.h>

#include "ops/adder_conv2d.h"

namespace nas {

torch::Tensor apply_layer_op(OpKind op, const torch::Tensor& x, const torch::Tensor& op_weight,
                             const torch::Tensor& bias, int64_t stride, int64_t padding,
                             int64_t groups, double eta) {
  if (op == OpKind::Add) {
    torch::Tensor y = ops::adder_conv2d(x, op_weight, stride, padding, groups, eta);
    if (bias.defined()) y = y + bias.view({1, -1, 1, 1});
    return y;
  }
  return torch::conv2d(x, op_weight, bias, stride, padding, 1, groups);
}

torch::Tensor batch_norm_eval(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, const torch::Tensor& running_mean,
                              const torch::Tensor& running_var, double eps) {
  return torch::batch_norm(x, weight, bias, running_mean, running_var, /*training=*/false,
                           /*momentum=*/0.0, eps, /*cudnn_enabled=*/true);
}

torch::Tensor relu6_act(const torch::Tensor& x) { return torch::hardtanh(x, 0.0, 6.0); }

namespace {

// In-place ReLU6 whose backward reads the result (0 < y < 6 iff 0 < x < 6, so the gradient equals
// hardtanh's). LibTorch's own hardtanh_ saves a clone of its input for the backward, which would
// cost more memory than the out-of-place op.
struct Relu6InPlace : public torch::autograd::Function<Relu6InPlace> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x) {
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      torch::hardtanh_(x, 0.0, 6.0);
    }
    ctx->mark_dirty({x});
    ctx->save_for_backward({x});
    return x;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    // One fused pass (hardtanh's own backward, given the result for the input: same mask); the
    // mask-and-multiply it replaces took five passes and ~16 % of a direct step.
    const torch::Tensor y = ctx->get_saved_variables()[0];
    return {at::hardtanh_backward(grad[0], y, 0.0, 6.0)};
  }
};

}  // namespace

torch::Tensor relu6_act_(torch::Tensor x) {
  if (!x.requires_grad()) return torch::hardtanh_(x, 0.0, 6.0);
  return Relu6InPlace::apply(x);
}

torch::Tensor global_avg_pool(const torch::Tensor& x) {
  return x.mean(std::vector<int64_t>{2, 3}, /*keepdim=*/true);
}

torch::Tensor resize_input(const torch::Tensor& x, int64_t resolution) {
  if (x.size(2) == resolution && x.size(3) == resolution) return x;
  return torch::upsample_bilinear2d(x, {resolution, resolution}, /*align_corners=*/false);
}

}  // namespace nas
