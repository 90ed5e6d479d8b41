#pragma once
// DeepShift (Elhoushi et al. 2021): weights restricted to signed powers of two, so a
// multiplication becomes a bit shift (and a sign flip).
//
// DeepShift-Q (default): a real weight w is rounded in the forward pass,
//   wq = sign(w) * 2^round(log2(clamp(|w|, 2^-(2^(b-1)-1), 1)))      (b = weight bits; sign(0) = 0)
// so with b = 5 the shifts are -15..0; backward is straight-through (dL/dw = dL/dwq).
// DeepShift-PS: parameters P (shift) and S (sign),
//   wq = 2^round(clamp(P, -(2^(b-1)-2), 0)) * sign(round(S)),
//   dL/dS = dL/dwq, dL/dP = dL/dwq * wq * ln 2.
// The convolution itself is an ordinary conv with wq (bit-exact with shifts for integer inputs).
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace nas::ops {

constexpr int64_t kShiftDefaultBits = 5;

// Smallest exponent representable with `weight_bits` bits in DeepShift-Q: -(2^(b-1) - 1).
int64_t shift_min_exponent(int64_t weight_bits);

// DeepShift-Q rounding with the straight-through gradient.
torch::Tensor quantize_shift(const torch::Tensor& weight, int64_t weight_bits);

// The same rounding with LibTorch tensor ops only (the path taken on CUDA); no autograd.
// quantize_shift on CPU float/double uses a scalar loop with bit-identical results.
torch::Tensor shift_round_tensor_ops(const torch::Tensor& weight, int64_t weight_bits);

// DeepShift-PS: (P, S) -> wq with the gradients above.
torch::Tensor quantize_shift_ps(const torch::Tensor& shift, const torch::Tensor& sign,
                                int64_t weight_bits);

// Optional fixed-point activation rounding with STE: round to multiples of 2^-frac_bits and
// clamp to the signed range of int_bits integer bits.
torch::Tensor round_fixed_point(const torch::Tensor& x, int64_t int_bits, int64_t frac_bits);

// conv2d with DeepShift-Q weights: conv2d(input, quantize_shift(weight, bits), ...).
torch::Tensor shift_conv2d(const torch::Tensor& input, const torch::Tensor& weight, int64_t stride,
                           int64_t padding, int64_t groups, int64_t weight_bits = kShiftDefaultBits);

// FC form: input [N, in], weight [out, in].
torch::Tensor shift_linear(const torch::Tensor& input, const torch::Tensor& weight,
                           int64_t weight_bits = kShiftDefaultBits);

// Integer export: wq = sign * 2^shift exactly. shift and sign are int8 tensors of the weight's
// shape; sign is -1, 0 or +1 (0 only for zero weights, whose shift is then the minimum).
struct ShiftCodes {
  torch::Tensor shift;  // int8, in [shift_min_exponent(bits), 0]
  torch::Tensor sign;   // int8, in {-1, 0, 1}
  int64_t weight_bits = kShiftDefaultBits;
};
ShiftCodes export_shift_codes(const torch::Tensor& weight, int64_t weight_bits);
ShiftCodes export_shift_codes_ps(const torch::Tensor& shift, const torch::Tensor& sign,
                                 int64_t weight_bits);
// float32 weights from codes, bit-exactly equal to the quantized weights.
torch::Tensor decode_shift_codes(const ShiftCodes& codes);

enum class ShiftMode { Q, PS };

struct ShiftConv2dOptions {
  ShiftConv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, padding) = 0;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(int64_t, weight_bits) = kShiftDefaultBits;
  TORCH_ARG(ShiftMode, mode) = ShiftMode::Q;
};

// Module wrapper. Mode Q holds `weight`; mode PS holds `shift` and `sign` (initialised from a
// Kaiming-normal weight). No bias: BN follows.
class ShiftConv2dImpl : public torch::nn::Module {
 public:
  explicit ShiftConv2dImpl(const ShiftConv2dOptions& options);
  torch::Tensor forward(const torch::Tensor& input);
  // The quantized weight the forward pass uses.
  torch::Tensor quantized_weight() const;
  ShiftCodes export_codes() const;
  ShiftConv2dOptions options;
  torch::Tensor weight;       // mode Q
  torch::Tensor shift, sign;  // mode PS
};
TORCH_MODULE(ShiftConv2d);

}  // namespace nas::ops
