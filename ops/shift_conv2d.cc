#include "ops/shift_conv2d.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/init.h>

#include <cmath>
#include <tuple>

namespace nas::ops {
namespace {

using torch::Tensor;

void check_bits(int64_t weight_bits) {
  TORCH_CHECK(weight_bits >= 2 && weight_bits <= 8, "shift: weight_bits must be in [2, 8], got ",
              weight_bits);
}

// round(log2(clamp(|w|, 2^min_exp, 1))) without a log: with |w| = m * 2^e (m in [0.5, 1)),
// log2|w| = e - 1 + log2(2m) and log2(2m) >= 0.5 exactly when m >= sqrt(1/2). No floating-point
// value equals sqrt(1/2), so there are no ties and the result is the same on every device and in
// the export.
constexpr double kSqrtHalf = 0.70710678118654752440;

template <typename T>
inline int shift_exponent(T magnitude, int min_exp) {
  if (!(magnitude < T(1))) return 0;
  int e = 0;
  const T m = std::frexp(magnitude, &e);
  if (magnitude == T(0)) return min_exp;
  const int k = e - 1 + (static_cast<double>(m) >= kSqrtHalf ? 1 : 0);
  return k < min_exp ? min_exp : k;
}

template <typename T>
void shift_round_cpu(const T* w, T* out, int64_t n, int min_exp) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = w[i];
    out[i] = v == T(0) ? T(0) : std::copysign(std::ldexp(T(1), shift_exponent(std::fabs(v), min_exp)), v);
  }
}

// sign(w) * 2^round(log2(clamp(|w|, 2^min_exp, 1))), computed without autograd.
Tensor shift_round(const Tensor& w, int64_t weight_bits) {
  const int min_exp = static_cast<int>(shift_min_exponent(weight_bits));
  if (w.device().is_cpu() && (w.scalar_type() == torch::kFloat || w.scalar_type() == torch::kDouble)) {
    const Tensor src = w.contiguous();
    Tensor out = torch::empty_like(src);
    AT_DISPATCH_FLOATING_TYPES(src.scalar_type(), "shift_round_cpu", [&] {
      shift_round_cpu<scalar_t>(src.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), src.numel(), min_exp);
    });
    return out;
  }
  return shift_round_tensor_ops(w, weight_bits);
}

}  // namespace

Tensor shift_round_tensor_ops(const Tensor& w, int64_t weight_bits) {
  torch::NoGradGuard no_grad;
  const int min_exp = static_cast<int>(shift_min_exponent(weight_bits));
  const auto parts = torch::frexp(w.abs());
  const Tensor& mantissa = std::get<0>(parts);
  // Compare in double: a float tensor would round the constant to a float that m can equal.
  const Tensor round_up = (mantissa.to(torch::kDouble) >= kSqrtHalf).to(w.scalar_type());
  const Tensor exponent = std::get<1>(parts).to(w.scalar_type()) - 1 + round_up;
  const Tensor k = torch::where(w.abs() >= 1, torch::zeros_like(exponent), exponent).clamp_min(min_exp);
  return torch::sign(w) * torch::exp2(k);
}

namespace {

struct QuantizeShiftFunction : public torch::autograd::Function<QuantizeShiftFunction> {
  static Tensor forward(torch::autograd::AutogradContext*, const Tensor& weight, int64_t bits) {
    return shift_round(weight, bits);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*,
                                               torch::autograd::tensor_list grads) {
    return {grads[0], Tensor()};  // straight-through
  }
};

int64_t ps_min_shift(int64_t weight_bits) { return -((int64_t{1} << (weight_bits - 1)) - 2); }

struct QuantizeShiftPSFunction : public torch::autograd::Function<QuantizeShiftPSFunction> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& shift,
                        const Tensor& sign, int64_t bits) {
    const Tensor wq = torch::exp2(torch::round(shift.clamp(static_cast<double>(ps_min_shift(bits)), 0.0))) *
                      torch::sign(torch::round(sign));
    ctx->save_for_backward({wq});
    return wq;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const Tensor wq = ctx->get_saved_variables()[0];
    const Tensor& g = grads[0];
    return {g * wq * std::log(2.0), g, Tensor()};
  }
};

struct RoundFixedPointFunction : public torch::autograd::Function<RoundFixedPointFunction> {
  static Tensor forward(torch::autograd::AutogradContext*, const Tensor& x, int64_t int_bits,
                        int64_t frac_bits) {
    const double scale = std::ldexp(1.0, static_cast<int>(frac_bits));
    const double hi = std::ldexp(1.0, static_cast<int>(int_bits)) - 1.0 / scale;
    const double lo = -std::ldexp(1.0, static_cast<int>(int_bits));
    return torch::round(x * scale).div_(scale).clamp_(lo, hi);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*,
                                               torch::autograd::tensor_list grads) {
    return {grads[0], Tensor(), Tensor()};
  }
};

}  // namespace

int64_t shift_min_exponent(int64_t weight_bits) {
  check_bits(weight_bits);
  return -((int64_t{1} << (weight_bits - 1)) - 1);
}

Tensor quantize_shift(const Tensor& weight, int64_t weight_bits) {
  check_bits(weight_bits);
  return QuantizeShiftFunction::apply(weight, weight_bits);
}

Tensor quantize_shift_ps(const Tensor& shift, const Tensor& sign, int64_t weight_bits) {
  check_bits(weight_bits);
  TORCH_CHECK(shift.sizes() == sign.sizes(), "quantize_shift_ps: shift and sign shapes differ");
  return QuantizeShiftPSFunction::apply(shift, sign, weight_bits);
}

Tensor round_fixed_point(const Tensor& x, int64_t int_bits, int64_t frac_bits) {
  TORCH_CHECK(int_bits >= 0 && frac_bits >= 0 && int_bits + frac_bits <= 30,
              "round_fixed_point: bad bit split ", int_bits, ".", frac_bits);
  return RoundFixedPointFunction::apply(x, int_bits, frac_bits);
}

Tensor shift_conv2d(const Tensor& input, const Tensor& weight, int64_t stride, int64_t padding,
                    int64_t groups, int64_t weight_bits) {
  return torch::conv2d(input, quantize_shift(weight, weight_bits), {}, stride, padding, 1, groups);
}

Tensor shift_linear(const Tensor& input, const Tensor& weight, int64_t weight_bits) {
  return torch::linear(input, quantize_shift(weight, weight_bits));
}

ShiftCodes export_shift_codes(const Tensor& weight, int64_t weight_bits) {
  torch::NoGradGuard no_grad;
  const int min_exp = static_cast<int>(shift_min_exponent(weight_bits));
  const Tensor w = weight.detach().to(torch::kCPU).contiguous();
  TORCH_CHECK(w.scalar_type() == torch::kFloat || w.scalar_type() == torch::kDouble,
              "export_shift_codes: float or double weights expected");
  ShiftCodes codes;
  codes.weight_bits = weight_bits;
  codes.shift = torch::empty(w.sizes(), torch::kInt8);
  codes.sign = torch::empty(w.sizes(), torch::kInt8);
  int8_t* shift = codes.shift.data_ptr<int8_t>();
  int8_t* sign = codes.sign.data_ptr<int8_t>();
  AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "export_shift_codes", [&] {
    const scalar_t* src = w.data_ptr<scalar_t>();
    for (int64_t i = 0; i < w.numel(); ++i) {
      const scalar_t v = src[i];
      sign[i] = static_cast<int8_t>(v > 0 ? 1 : (v < 0 ? -1 : 0));
      shift[i] = static_cast<int8_t>(v == 0 ? min_exp : shift_exponent(std::fabs(v), min_exp));
    }
  });
  return codes;
}

ShiftCodes export_shift_codes_ps(const Tensor& shift, const Tensor& sign, int64_t weight_bits) {
  torch::NoGradGuard no_grad;
  check_bits(weight_bits);
  ShiftCodes codes;
  codes.weight_bits = weight_bits;
  codes.shift = torch::round(shift.detach().clamp(static_cast<double>(ps_min_shift(weight_bits)), 0.0))
                    .to(torch::kInt8);
  codes.sign = torch::sign(torch::round(sign.detach())).to(torch::kInt8);
  return codes;
}

Tensor decode_shift_codes(const ShiftCodes& codes) {
  TORCH_CHECK(codes.shift.sizes() == codes.sign.sizes(), "decode_shift_codes: shape mismatch");
  // 2^shift is exact in float32 for shifts in [-126, 0].
  return torch::exp2(codes.shift.to(torch::kFloat)) * codes.sign.to(torch::kFloat);
}

ShiftConv2dImpl::ShiftConv2dImpl(const ShiftConv2dOptions& opts) : options(opts) {
  check_bits(options.weight_bits());
  TORCH_CHECK(options.in_channels() % options.groups() == 0 &&
                  options.out_channels() % options.groups() == 0,
              "ShiftConv2d: groups must divide the channels");
  Tensor init = torch::empty({options.out_channels(), options.in_channels() / options.groups(),
                              options.kernel_size(), options.kernel_size()});
  torch::nn::init::kaiming_normal_(init, 0.0, torch::kFanOut, torch::kReLU);
  if (options.mode() == ShiftMode::Q) {
    weight = register_parameter("weight", init);
  } else {
    shift = register_parameter("shift", torch::log2(init.abs().clamp_min(1e-12)));
    sign = register_parameter("sign", torch::sign(init));
  }
}

Tensor ShiftConv2dImpl::quantized_weight() const {
  return options.mode() == ShiftMode::Q ? quantize_shift(weight, options.weight_bits())
                                        : quantize_shift_ps(shift, sign, options.weight_bits());
}

ShiftCodes ShiftConv2dImpl::export_codes() const {
  return options.mode() == ShiftMode::Q
             ? export_shift_codes(weight, options.weight_bits())
             : export_shift_codes_ps(shift, sign, options.weight_bits());
}

Tensor ShiftConv2dImpl::forward(const Tensor& input) {
  return torch::conv2d(input, quantized_weight(), {}, options.stride(), options.padding(), 1,
                       options.groups());
}

}  // namespace nas::ops
