#pragma once
// Reference AdderNet convolution the way the AdderNet authors wrote it: unfold the input and
// broadcast the N x O x K x L difference tensor. Memory-hungry and slow by design; it exists
// for the parity tests and as the "adder_unfold" baseline of bench_ops. Never use it in training.
#include <cstdint>

#include <torch/types.h>

namespace nas::ops {

// Same contract as adder_conv2d (full-precision dW, HardTanh dX, adaptive scaling when eta > 0).
torch::Tensor adder_conv2d_unfold_reference(const torch::Tensor& input, const torch::Tensor& weight,
                                            int64_t stride, int64_t padding, int64_t groups,
                                            double eta);

}  // namespace nas::ops
