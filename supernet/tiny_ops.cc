#include "supernet/tiny_ops.h"

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

torch::Tensor global_avg_pool(const torch::Tensor& x) {
  return x.mean(std::vector<int64_t>{2, 3}, /*keepdim=*/true);
}

}  // namespace nas
