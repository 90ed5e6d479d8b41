#pragma once
// The inference-time building blocks shared by HybridNet's tiny forward and the exported TinyNet.
// Both call exactly these functions with bit-identical tensors, which is what makes the export
// reproduce the hybrid network's tiny logits bit for bit.
#include <cstdint>

#include <torch/types.h>

#include "search_space/op_kind.h"

namespace nas {

// One layer with its op weight: for Shift the quantized (power-of-two) weight, for Add and Mult
// the float weight. Mult and Shift are conv2d; Add is adder_conv2d (eta only matters for
// training). bias may be undefined. x [N, C, H, W].
torch::Tensor apply_layer_op(OpKind op, const torch::Tensor& x, const torch::Tensor& op_weight,
                             const torch::Tensor& bias, int64_t stride, int64_t padding,
                             int64_t groups, double eta);

torch::Tensor batch_norm_eval(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, const torch::Tensor& running_mean,
                              const torch::Tensor& running_var, double eps);

// ReLU6: min(max(x, 0), 6)
torch::Tensor relu6_act(const torch::Tensor& x);
// ReLU6 in place, for a fresh tensor that nothing else needs (a BN output: BN's backward uses its
// input, not its output). Autograd then keeps only the result, one activation tensor per layer
// less than relu6_act (which saves its input): -1/3 of the saved activations of a conv-BN-ReLU6
// layer. Values are bit-identical to relu6_act.
torch::Tensor relu6_act_(torch::Tensor x);

// x [N, C, H, W] resized (bilinear, no corner alignment) to resolution x resolution; x itself
// when it has that size already. The supernet's elastic resolution: training, BN recalibration,
// evaluation and the exported TinyNet all resize with this one function.
torch::Tensor resize_input(const torch::Tensor& x, int64_t resolution);

// Global average pool to [N, C, 1, 1].
torch::Tensor global_avg_pool(const torch::Tensor& x);

}  // namespace nas
