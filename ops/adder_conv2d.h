#pragma once
// AdderNet convolution (Chen et al., CVPR 2020): Y[n,o,p] = -sum_k |X[n,k,p] - W[o,k]| over the
// receptive field k of output position p. Backward as in AdderNet: the weight gradient is the
// full-precision sum g * (X - W); the input gradient is sum_o g * HardTanh(W - X); the weight
// gradient is then rescaled per layer by eta * sqrt(numel(W)) / ||dW||_2 (adaptive scaling;
// eta <= 0 turns it off). Always follow an adder layer by BatchNorm: its outputs are negative
// L1 distances with a large offset.
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace nas::ops {

// AdderNet's adaptive gradient scaling eta: the one default of the project (HybridNetOptions and
// nas_retrain take it from here). AdderNet's 0.1-0.2 assumes hundreds of epochs; at tens of
// epochs it leaves direct Add training near chance, and 1.0 was chosen on the validation split
// (results/shiftaddaug/eta-sweep.md).
constexpr double kAdderDefaultEta = 1.0;

// Which implementation runs. Auto picks the dedicated kernel for CPU float/double tensors and the
// portable path (LibTorch tensor ops, chunked) everywhere else (CUDA, other dtypes).
enum class AdderBackend { Auto, Kernel, Portable };

// input [N, C, H, W], weight [O, C/groups, kh, kw] -> [N, O, Ho, Wo]; differentiable in both.
torch::Tensor adder_conv2d(const torch::Tensor& input, const torch::Tensor& weight, int64_t stride,
                           int64_t padding, int64_t groups, double eta);

torch::Tensor adder_conv2d(const torch::Tensor& input, const torch::Tensor& weight, int64_t stride,
                           int64_t padding, int64_t groups, double eta, AdderBackend backend);

// The augmented adder layer of a hybrid network (supernet/hybrid_conv2d.h), as one autograd node:
//   y = conv2d(input, conv_weight, groups = conv_groups);
//   y[:, :O_a] += adder_conv2d(input[:, :adder_in], adder_weight, groups = adder_groups)
// with the same stride and padding (O_a = adder_weight.size(0)), no adaptive gradient scaling
// (the hybrid net scales the accumulated adder gradient once per step). Equal, bit for bit, to
// that composition; but the adder's input gradient is added into the leading channels of the
// convolution's in place, where autograd, seeing two readers of the input, would build an
// input-sized zero-padded gradient and add it to the other (at 28x28 and hundreds of channels,
// the largest memory passes of an augmented step). CPU float / double through the kernel;
// elsewhere the composition itself.
torch::Tensor hybrid_adder_conv2d(const torch::Tensor& input, const torch::Tensor& conv_weight, int64_t conv_groups,
                                  const torch::Tensor& adder_weight, int64_t adder_in, int64_t adder_groups,
                                  int64_t stride, int64_t padding);

// FC form: input [N, in], weight [out, in] -> [N, out] = -sum_i |x[n,i] - w[o,i]|.
torch::Tensor adder_linear(const torch::Tensor& input, const torch::Tensor& weight, double eta,
                           AdderBackend backend = AdderBackend::Auto);

// The portable path's element budget for one broadcast difference chunk (elements, not bytes).
void set_adder_portable_chunk_elements(int64_t elements);
int64_t adder_portable_chunk_elements();

// Name of the vector ISA of the CPU kernel ("avx512", "avx2", "sse").
const char* adder_kernel_isa_name();

struct AdderConv2dOptions {
  AdderConv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, padding) = 0;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(double, eta) = kAdderDefaultEta;
};

// Module wrapper: weight [out, in/groups, k, k], Kaiming-normal initialised; no bias (BN follows).
class AdderConv2dImpl : public torch::nn::Module {
 public:
  explicit AdderConv2dImpl(const AdderConv2dOptions& options);
  torch::Tensor forward(const torch::Tensor& input);
  AdderConv2dOptions options;
  torch::Tensor weight;
};
TORCH_MODULE(AdderConv2d);

}  // namespace nas::ops
