#include "supernet/dynamic_batch_norm.h"

#include "core/error.h"
#include "ops/batch_norm.h"
#include "supernet/tiny_ops.h"

namespace nas {

DynamicBatchNormImpl::DynamicBatchNormImpl(int64_t max_channels, double momentum, double eps)
    : max_channels_(max_channels), momentum_(momentum), eps_(eps) {
  NAS_CHECK(max_channels >= 1, "DynamicBatchNorm: channels must be >= 1, got " << max_channels);
  weight = register_parameter("weight", torch::ones({max_channels}));
  bias = register_parameter("bias", torch::zeros({max_channels}));
  running_mean = register_buffer("running_mean", torch::zeros({max_channels}));
  running_var = register_buffer("running_var", torch::ones({max_channels}));
}

torch::Tensor DynamicBatchNormImpl::forward(const torch::Tensor& x, bool relu6) {
  const int64_t c = x.size(1);
  TORCH_CHECK(c <= max_channels_, "DynamicBatchNorm: input has ", c, " channels, the layer holds ",
              max_channels_);
  torch::Tensor mean = running_mean.narrow(0, 0, c), var = running_var.narrow(0, 0, c);
  if (!is_training()) {
    torch::Tensor y = batch_norm_eval(x, weight.narrow(0, 0, c), bias.narrow(0, 0, c), mean, var, eps_);
    return relu6 ? relu6_act_(y) : y;
  }
  double momentum = momentum_;
  if (reestimating_) {
    if (reestimate_count_ == 0) {
      torch::NoGradGuard no_grad;
      mean.zero_();
      var.fill_(1.0);
    }
    momentum = 1.0 / static_cast<double>(reestimate_count_ + 1);
    ++reestimate_count_;
  }
  // Training mode updates the running statistics of the prefix in place (views of the buffers).
  const torch::Tensor w = weight.narrow(0, 0, c), b = bias.narrow(0, 0, c);
  if (ops::batch_norm_kernel_applies(x, w, b))
    return ops::batch_norm_train(x, w, b, mean, var, momentum, eps_, relu6, ops::BatchNormBackend::Kernel);
  // Elsewhere (CUDA, channels-last, other dtypes) LibTorch's batch norm and the in-place ReLU6
  // that saves only its result.
  torch::Tensor y = torch::batch_norm(x, w, b, mean, var, /*training=*/true, momentum, eps_, /*cudnn_enabled=*/true);
  return relu6 ? relu6_act_(y) : y;
}

void DynamicBatchNormImpl::begin_reestimation() {
  reestimating_ = true;
  reestimate_count_ = 0;
}

void DynamicBatchNormImpl::end_reestimation() {
  reestimating_ = false;
  reestimate_count_ = 0;
}

}  // namespace nas
