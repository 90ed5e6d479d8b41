#pragma once
// Training-mode batch norm, optionally fused with ReLU6: the layer pair of every MobileNetV2
// block, and about a third of a training step's time when run as LibTorch's batch_norm followed
// by a separate activation (results/bench/batch-norm/). The fused CPU kernel
// (ops/batch_norm_kernel.h) reads the input twice forward (one-pass statistics, then the
// normalised and clamped output) and twice backward, and needs only the input saved.
#include <torch/types.h>

namespace nas::ops {

// Which implementation runs. Auto takes the kernel where batch_norm_kernel_applies(), and
// LibTorch's batch_norm (+ hardtanh) everywhere else.
enum class BatchNormBackend { Auto, Kernel, Reference };

// Whether the kernel takes these inputs: CPU float32 x, contiguous in the default (NCHW) layout
// or, 4-D, in channels-last, with float32 weight and bias.
bool batch_norm_kernel_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// x [N, C, ...] (at least two values per channel); weight, bias, running_mean, running_var [C]
// (views of larger buffers are fine: the running statistics are updated in place, LibTorch's
// rule r = (1 - momentum) r + momentum s with the unbiased variance; undefined ones are skipped).
// Returns batch_norm(x) in training mode, clamped to [0, 6] with relu6. Differentiable in x,
// weight and bias (first order).
torch::Tensor batch_norm_train(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& running_mean, const torch::Tensor& running_var,
                               double momentum, double eps, bool relu6,
                               BatchNormBackend backend = BatchNormBackend::Auto);

}  // namespace nas::ops
