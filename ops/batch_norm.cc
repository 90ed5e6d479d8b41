#include "ops/batch_norm.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

#include "ops/batch_norm_kernel.h"

namespace nas::ops {

using torch::Tensor;

namespace {

// NHWC: a 4-D input contiguous in channels-last (and not also in NCHW, where the NCHW path runs).
bool nhwc_layout(const Tensor& x) {
  return x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
}

}  // namespace

bool batch_norm_kernel_applies(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat && x.dim() >= 2 &&
         (x.is_contiguous() || nhwc_layout(x)) &&
         weight.defined() && bias.defined() && weight.scalar_type() == torch::kFloat &&
         bias.scalar_type() == torch::kFloat;
}

namespace {

BatchNormShape shape_of(const Tensor& x) {
  BatchNormShape s;
  s.batch = x.size(0);
  s.channels = x.size(1);
  s.spatial = x.numel() / std::max<int64_t>(1, s.batch * s.channels);
  s.channels_last = nhwc_layout(x);
  return s;
}

struct BatchNormTrainFunction : public torch::autograd::Function<BatchNormTrainFunction> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& input, const Tensor& weight,
                        const Tensor& bias, Tensor running_mean, Tensor running_var, double momentum, double eps,
                        bool relu6) {
    RECORD_FUNCTION("nas::batch_norm_train", std::vector<c10::IValue>());  // named in profiles
    const Tensor x = nhwc_layout(input) ? input : input.contiguous();
    const Tensor gamma = weight.contiguous(), beta = bias.contiguous();
    const BatchNormShape s = shape_of(x);
    const int64_t count = s.batch * s.spatial;
    TORCH_CHECK(count > 1, "batch_norm_train: expected more than 1 value per channel when training, got input size ",
                x.sizes());
    TORCH_CHECK(gamma.numel() == s.channels && beta.numel() == s.channels, "batch_norm_train: weight and bias must hold ",
                s.channels, " values, got ", gamma.numel(), " and ", beta.numel());
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat);
    const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
    Tensor mean_f = torch::empty({s.channels}, f32), invstd_f = torch::empty({s.channels}, f32);
    Tensor batch_mean = torch::empty({s.channels}, f64), batch_var = torch::empty({s.channels}, f64);
    Tensor y = torch::empty_like(x);
    batch_norm_forward_cpu(x.data_ptr<float>(), y.data_ptr<float>(), s, gamma.data_ptr<float>(),
                           beta.data_ptr<float>(), eps, relu6, batch_mean.data_ptr<double>(),
                           batch_var.data_ptr<double>(), mean_f.data_ptr<float>(), invstd_f.data_ptr<float>());
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    {
      torch::NoGradGuard no_grad;
      if (running_mean.numel() > 0)
        running_mean.mul_(1.0 - momentum).add_(batch_mean.to(running_mean.scalar_type()), momentum);
      if (running_var.numel() > 0)
        running_var.mul_(1.0 - momentum).add_((batch_var * unbias).to(running_var.scalar_type()), momentum);
    }
    ctx->save_for_backward({x, gamma, beta, mean_f, invstd_f});
    ctx->saved_data["relu6"] = relu6;
    return y;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    RECORD_FUNCTION("nas::batch_norm_train_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &gamma = saved[1], &beta = saved[2], &mean_f = saved[3], &invstd_f = saved[4];
    const bool relu6 = ctx->saved_data["relu6"].toBool();
    const BatchNormShape s = shape_of(x);
    const Tensor gy = grad_outputs[0].contiguous(s.channels_last ? at::MemoryFormat::ChannelsLast
                                                                 : at::MemoryFormat::Contiguous);
    Tensor gx, dgamma, dbeta;
    if (ctx->needs_input_grad(0)) gx = torch::empty_like(x);
    if (ctx->needs_input_grad(1)) dgamma = torch::empty_like(gamma);
    if (ctx->needs_input_grad(2)) dbeta = torch::empty_like(beta);
    if (gx.defined() || dgamma.defined() || dbeta.defined())
      batch_norm_backward_cpu(x.data_ptr<float>(), gy.data_ptr<float>(), gx.defined() ? gx.data_ptr<float>() : nullptr,
                              s, mean_f.data_ptr<float>(), invstd_f.data_ptr<float>(), gamma.data_ptr<float>(),
                              beta.data_ptr<float>(), relu6, dgamma.defined() ? dgamma.data_ptr<float>() : nullptr,
                              dbeta.defined() ? dbeta.data_ptr<float>() : nullptr);
    return {gx, dgamma, dbeta, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                        const Tensor& running_var, double momentum, double eps, bool relu6, BatchNormBackend backend) {
  const bool kernel = backend == BatchNormBackend::Kernel ||
                      (backend == BatchNormBackend::Auto && batch_norm_kernel_applies(x, weight, bias));
  if (!kernel) {
    Tensor y = torch::batch_norm(x, weight, bias, running_mean, running_var, /*training=*/true, momentum, eps,
                                 /*cudnn_enabled=*/true);
    return relu6 ? torch::hardtanh(y, 0.0, 6.0) : y;
  }
  TORCH_CHECK(batch_norm_kernel_applies(x, weight, bias),
              "batch_norm_train: the kernel takes CPU float32 contiguous (NCHW or channels-last) inputs with weight and bias");
  // autograd's inputs must be defined tensors: an empty one stands for "no running statistics".
  const Tensor none = torch::empty({0});
  return BatchNormTrainFunction::apply(x, weight, bias, running_mean.defined() ? running_mean : none,
                                       running_var.defined() ? running_var : none, momentum, eps, relu6);
}

}  // namespace nas::ops
