#include "ops/adder_conv2d.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "ops/adder_gradient_scaling.h"
#include "ops/adder_kernel.h"

namespace nas::ops {

bool scale_gradient_to_norm(const torch::Tensor& g, double eta) {
  if (!g.defined() || g.numel() == 0) return false;
  const double norm = g.contiguous().norm().item<double>();
  if (!(norm > 0) || !std::isfinite(norm)) return false;
  const double scale = eta * std::sqrt(static_cast<double>(g.numel())) / norm;
  double max_scale = std::numeric_limits<double>::max();
  switch (g.scalar_type()) {
    case torch::kFloat: max_scale = std::numeric_limits<float>::max(); break;
    case torch::kHalf: max_scale = 65504.0; break;
    case torch::kBFloat16: max_scale = 3.38e38; break;
    default: break;
  }
  if (!std::isfinite(scale) || scale > max_scale) return false;
  g.mul_(scale);
  return true;
}

namespace {

using torch::Tensor;
using torch::indexing::Slice;

std::atomic<int64_t> g_portable_chunk_elements{int64_t{1} << 24};  // 16M elements

struct Geometry {
  int64_t N, C, H, W, O, R, S, G, Cg, Og, K, Ho, Wo, L;
};

Geometry check_and_describe(const Tensor& input, const Tensor& weight, int64_t stride,
                            int64_t padding, int64_t groups) {
  TORCH_CHECK(input.dim() == 4, "adder_conv2d: input must be [N, C, H, W], got ", input.sizes());
  TORCH_CHECK(weight.dim() == 4, "adder_conv2d: weight must be [O, C/groups, kh, kw], got ",
              weight.sizes());
  TORCH_CHECK(stride >= 1 && padding >= 0 && groups >= 1,
              "adder_conv2d: need stride >= 1, padding >= 0, groups >= 1; got stride ", stride,
              ", padding ", padding, ", groups ", groups);
  TORCH_CHECK(input.scalar_type() == weight.scalar_type(),
              "adder_conv2d: input and weight dtypes differ");
  TORCH_CHECK(input.device() == weight.device(), "adder_conv2d: input and weight devices differ");
  Geometry g;
  g.N = input.size(0); g.C = input.size(1); g.H = input.size(2); g.W = input.size(3);
  g.O = weight.size(0); g.R = weight.size(2); g.S = weight.size(3); g.G = groups;
  TORCH_CHECK(g.C % groups == 0 && g.O % groups == 0, "adder_conv2d: groups ", groups,
              " must divide input channels ", g.C, " and output channels ", g.O);
  g.Cg = g.C / groups; g.Og = g.O / groups;
  TORCH_CHECK(weight.size(1) == g.Cg, "adder_conv2d: weight has ", weight.size(1),
              " input channels per group, expected ", g.Cg);
  TORCH_CHECK(g.H + 2 * padding >= g.R && g.W + 2 * padding >= g.S,
              "adder_conv2d: kernel ", g.R, "x", g.S, " larger than the padded input ",
              g.H + 2 * padding, "x", g.W + 2 * padding);
  g.K = g.Cg * g.R * g.S;
  g.Ho = (g.H + 2 * padding - g.R) / stride + 1;
  g.Wo = (g.W + 2 * padding - g.S) / stride + 1;
  g.L = g.Ho * g.Wo;
  return g;
}

AdderConvShape kernel_shape(const Geometry& g, int64_t stride, int64_t padding) {
  AdderConvShape s;
  s.batch = g.N; s.in_channels = g.C; s.in_h = g.H; s.in_w = g.W;
  s.out_channels = g.O; s.kernel_h = g.R; s.kernel_w = g.S;
  s.stride = stride; s.padding = padding; s.groups = g.G;
  return s;
}

bool use_kernel(const Tensor& input, AdderBackend backend) {
  const bool supported = input.device().is_cpu() && (input.scalar_type() == torch::kFloat ||
                                                     input.scalar_type() == torch::kDouble);
  if (backend == AdderBackend::Kernel) {
    TORCH_CHECK(supported, "adder_conv2d: the dedicated kernel runs on CPU float/double only");
    return true;
  }
  return backend == AdderBackend::Auto && supported;
}

// The dedicated kernel's forward: a new [N, O, Ho, Wo] tensor from contiguous x and w.
Tensor kernel_forward(const Tensor& x, const Tensor& w, const Geometry& g, int64_t stride, int64_t padding) {
  Tensor y = torch::empty({g.N, g.O, g.Ho, g.Wo}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_forward_cpu", [&] {
    adder_forward_cpu<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                                kernel_shape(g, stride, padding));
  });
  return y;
}

// The dedicated kernel's backward from contiguous x, w and grad: fills *grad_input and
// *grad_weight (new tensors, raw weight gradient) where they are asked for (non-null).
void kernel_backward(const Tensor& x, const Tensor& w, const Tensor& grad, const Geometry& g, int64_t stride,
                     int64_t padding, Tensor* grad_input, Tensor* grad_weight) {
  if (grad_input) *grad_input = torch::empty_like(x);
  if (grad_weight) *grad_weight = torch::empty_like(w);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_backward_cpu", [&] {
    adder_backward_cpu<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
                                 grad_input ? grad_input->data_ptr<scalar_t>() : nullptr,
                                 grad_weight ? grad_weight->data_ptr<scalar_t>() : nullptr,
                                 kernel_shape(g, stride, padding));
  });
}

Tensor im2col(const Tensor& x, const Geometry& g, int64_t stride, int64_t padding) {
  return at::im2col(x, {g.R, g.S}, {1, 1}, {padding, padding}, {stride, stride});
}

// Samples per chunk so that one chunk's `per_sample` elements stay within the budget.
int64_t samples_per_chunk(int64_t per_sample) {
  return std::max<int64_t>(1, g_portable_chunk_elements.load() / std::max<int64_t>(1, per_sample));
}

// ---- portable path: LibTorch tensor ops only, memory bounded by the chunk budget -------------

Tensor portable_forward(const Tensor& input, const Tensor& weight, const Geometry& g,
                        int64_t stride, int64_t padding) {
  Tensor out = torch::empty({g.N, g.O, g.Ho, g.Wo}, input.options());
  const Tensor w = weight.reshape({1, g.G, g.Og, g.K});
  // cdist(p=1) accumulates |x - w| without materialising the difference tensor.
  const int64_t chunk = samples_per_chunk(g.C * g.R * g.S * g.L);
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.N - n0);
    const Tensor cols = im2col(input.narrow(0, n0, nb), g, stride, padding)
                            .view({nb, g.G, g.K, g.L})
                            .transpose(2, 3)
                            .contiguous();                                // [nb, G, L, K]
    const Tensor dist = at::cdist(cols, w.expand({nb, g.G, g.Og, g.K}).contiguous(), 1.0);
    out.narrow(0, n0, nb).view({nb, g.G, g.Og, g.L}).copy_(dist.transpose(2, 3)).neg_();
  }
  return out;
}

void portable_backward(const Tensor& input, const Tensor& weight, const Tensor& grad,
                       const Geometry& g, int64_t stride, int64_t padding, Tensor* grad_input,
                       Tensor* grad_weight) {
  const Tensor w = weight.reshape({g.G, g.Og, g.K});
  Tensor gw_acc = grad_weight ? torch::zeros({g.G, g.Og, g.K}, weight.options()) : Tensor();
  Tensor rowsum = grad_weight ? torch::zeros({g.G, g.Og}, weight.options()) : Tensor();
  if (grad_input) *grad_input = torch::empty_like(input);
  const int64_t per_sample_diff = g.G * g.Og * g.K * g.L;
  const int64_t chunk = samples_per_chunk(per_sample_diff);
  const int64_t o_chunk = std::max<int64_t>(
      1, std::min<int64_t>(g.Og, g_portable_chunk_elements.load() / (g.G * g.K * g.L)));
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.N - n0);
    const Tensor cols = im2col(input.narrow(0, n0, nb), g, stride, padding)
                            .view({nb, g.G, g.K, g.L});                  // [nb, G, K, L]
    const Tensor gc = grad.narrow(0, n0, nb).reshape({nb, g.G, g.Og, g.L});
    if (grad_weight) {
      // sum_{n,p} g * (x - w) = g . x^T - w * rowsum(g): one batched GEMM plus a row sum.
      gw_acc.add_(at::matmul(gc, cols.transpose(2, 3)).sum(0));
      rowsum.add_(gc.sum(std::vector<int64_t>{0, 3}));
    }
    if (grad_input) {
      Tensor dcols = torch::zeros({nb, g.G, g.K, g.L}, input.options());
      for (int64_t o0 = 0; o0 < g.Og; o0 += o_chunk) {
        const int64_t oc = std::min(o_chunk, g.Og - o0);
        // [nb, G, oc, K, L]: HardTanh(w - x) * g, reduced over the output channels.
        Tensor diff = w.narrow(1, o0, oc).unsqueeze(0).unsqueeze(-1) - cols.unsqueeze(2);
        diff.clamp_(-1.0, 1.0).mul_(gc.narrow(2, o0, oc).unsqueeze(3));
        dcols.add_(diff.sum(2));
      }
      grad_input->narrow(0, n0, nb)
          .copy_(at::col2im(dcols.view({nb, g.C * g.R * g.S, g.L}), {g.H, g.W}, {g.R, g.S},
                            {1, 1}, {padding, padding}, {stride, stride}));
    }
  }
  if (grad_weight) *grad_weight = (gw_acc - w * rowsum.unsqueeze(-1)).view_as(weight);
}

// ---- autograd -------------------------------------------------------------------------------

struct AdderConv2dFunction : public torch::autograd::Function<AdderConv2dFunction> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& input,
                        const Tensor& weight, int64_t stride, int64_t padding, int64_t groups,
                        double eta, int64_t backend) {
    const Tensor x = input.contiguous(), w = weight.contiguous();
    const Geometry g = check_and_describe(x, w, stride, padding, groups);
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["eta"] = eta;
    ctx->saved_data["backend"] = backend;
    if (use_kernel(x, static_cast<AdderBackend>(backend))) return kernel_forward(x, w, g, stride, padding);
    return portable_forward(x, w, g, stride, padding);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& x = saved[0];
    const Tensor& w = saved[1];
    const int64_t stride = ctx->saved_data["stride"].toInt();
    const int64_t padding = ctx->saved_data["padding"].toInt();
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const double eta = ctx->saved_data["eta"].toDouble();
    const auto backend = static_cast<AdderBackend>(ctx->saved_data["backend"].toInt());
    const Geometry g = check_and_describe(x, w, stride, padding, groups);
    const Tensor grad = grad_outputs[0].contiguous();
    const bool want_x = ctx->needs_input_grad(0), want_w = ctx->needs_input_grad(1);
    Tensor grad_input, grad_weight;
    if (use_kernel(x, backend)) {
      kernel_backward(x, w, grad, g, stride, padding, want_x ? &grad_input : nullptr,
                      want_w ? &grad_weight : nullptr);
    } else {
      portable_backward(x, w, grad, g, stride, padding, want_x ? &grad_input : nullptr,
                        want_w ? &grad_weight : nullptr);
    }
    if (want_w && eta > 0) {
      // AdderNet's adaptive gradient scaling: eta * sqrt(numel(W)) / ||dW||_2.
      scale_gradient_to_norm(grad_weight, eta);
    }
    return {grad_input, grad_weight, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

// The augmented adder layer as one autograd node (see hybrid_adder_conv2d in the header).
struct HybridAdderConv2dFunction : public torch::autograd::Function<HybridAdderConv2dFunction> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& input, const Tensor& conv_weight,
                        const Tensor& adder_weight, int64_t adder_in, int64_t adder_groups, int64_t conv_groups,
                        int64_t stride, int64_t padding) {
    const Tensor xt = input.narrow(1, 0, adder_in).contiguous(), wa = adder_weight.contiguous();
    const Geometry g = check_and_describe(xt, wa, stride, padding, adder_groups);
    Tensor y = at::convolution(input, conv_weight, {}, {stride, stride}, {padding, padding}, {1, 1}, false,
                               {0, 0}, conv_groups);
    TORCH_CHECK(y.size(1) >= g.O && y.size(2) == g.Ho && y.size(3) == g.Wo,
                "hybrid_adder_conv2d: the convolution's output ", y.sizes(), " cannot hold the adder's ",
                g.O, " channels of ", g.Ho, "x", g.Wo);
    const Tensor yt = kernel_forward(xt, wa, g, stride, padding);
    // In the convolution's layout first: a mixed-layout add into a channel slice does not vectorise.
    y.narrow(1, 0, g.O).add_(yt.contiguous(y.suggest_memory_format()));
    ctx->save_for_backward({input, conv_weight, xt, wa});
    ctx->saved_data["adder_groups"] = adder_groups;
    ctx->saved_data["conv_groups"] = conv_groups;
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return y;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &input = saved[0], &conv_weight = saved[1], &xt = saved[2], &wa = saved[3];
    const int64_t stride = ctx->saved_data["stride"].toInt(), padding = ctx->saved_data["padding"].toInt();
    const int64_t conv_groups = ctx->saved_data["conv_groups"].toInt();
    const Geometry g = check_and_describe(xt, wa, stride, padding, ctx->saved_data["adder_groups"].toInt());
    const Tensor& gy = grad_outputs[0];
    const bool want_x = ctx->needs_input_grad(0), want_wc = ctx->needs_input_grad(1),
               want_wa = ctx->needs_input_grad(2);
    Tensor grad_input, grad_conv_weight;
    if (want_x || want_wc) {
      auto grads = at::convolution_backward(gy, input, conv_weight, c10::nullopt, {stride, stride},
                                            {padding, padding}, {1, 1}, false, {0, 0}, conv_groups,
                                            {want_x, want_wc, false});
      grad_input = std::get<0>(grads);
      grad_conv_weight = std::get<1>(grads);
    }
    Tensor grad_xt, grad_adder_weight;
    if (want_x || want_wa) {
      kernel_backward(xt, wa, gy.narrow(1, 0, g.O).contiguous(), g, stride, padding,
                      want_x ? &grad_xt : nullptr, want_wa ? &grad_adder_weight : nullptr);
    }
    // The adder's input gradient goes into the leading channels of the convolution's, in place:
    // no input-sized zero tensor and no input-sized sum, which autograd would make for two readers.
    if (want_x) grad_input.narrow(1, 0, g.C).add_(grad_xt.contiguous(grad_input.suggest_memory_format()));
    return {grad_input, grad_conv_weight, grad_adder_weight, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

Tensor hybrid_adder_conv2d(const Tensor& input, const Tensor& conv_weight, int64_t conv_groups,
                           const Tensor& adder_weight, int64_t adder_in, int64_t adder_groups, int64_t stride,
                           int64_t padding) {
  TORCH_CHECK(input.dim() == 4 && adder_in >= 1 && adder_in <= input.size(1),
              "hybrid_adder_conv2d: the adder's ", adder_in, " input channels do not fit the input ", input.sizes());
  if (!use_kernel(input, AdderBackend::Auto)) {
    // Elsewhere (CUDA, other dtypes): the same function, composed.
    Tensor y = at::convolution(input, conv_weight, {}, {stride, stride}, {padding, padding}, {1, 1}, false,
                               {0, 0}, conv_groups);
    const Tensor yt = adder_conv2d(input.narrow(1, 0, adder_in), adder_weight, stride, padding, adder_groups, 0.0);
    y.narrow(1, 0, yt.size(1)).add_(yt);
    return y;
  }
  return HybridAdderConv2dFunction::apply(input, conv_weight, adder_weight, adder_in, adder_groups, conv_groups,
                                          stride, padding);
}

void set_adder_portable_chunk_elements(int64_t elements) {
  TORCH_CHECK(elements > 0, "adder portable chunk must be positive");
  g_portable_chunk_elements = elements;
}
int64_t adder_portable_chunk_elements() { return g_portable_chunk_elements.load(); }

const char* adder_kernel_isa_name() { return adder_kernel_isa(); }

Tensor adder_conv2d(const Tensor& input, const Tensor& weight, int64_t stride, int64_t padding,
                    int64_t groups, double eta, AdderBackend backend) {
  return AdderConv2dFunction::apply(input, weight, stride, padding, groups, eta,
                                    static_cast<int64_t>(backend));
}

Tensor adder_conv2d(const Tensor& input, const Tensor& weight, int64_t stride, int64_t padding,
                    int64_t groups, double eta) {
  return adder_conv2d(input, weight, stride, padding, groups, eta, AdderBackend::Auto);
}

Tensor adder_linear(const Tensor& input, const Tensor& weight, double eta, AdderBackend backend) {
  TORCH_CHECK(input.dim() == 2 && weight.dim() == 2 && input.size(1) == weight.size(1),
              "adder_linear: need input [N, in] and weight [out, in], got ", input.sizes(),
              " and ", weight.sizes());
  // The batch becomes the spatial axis of a single 1x1 convolution, so the kernel's panels
  // vectorise over samples: [N, in] -> [1, in, 1, N].
  const Tensor x = input.t().unsqueeze(0).unsqueeze(2);
  const Tensor w = weight.unsqueeze(-1).unsqueeze(-1);
  return adder_conv2d(x, w, 1, 0, 1, eta, backend).squeeze(2).squeeze(0).t();
}

AdderConv2dImpl::AdderConv2dImpl(const AdderConv2dOptions& opts) : options(opts) {
  TORCH_CHECK(options.in_channels() % options.groups() == 0 &&
                  options.out_channels() % options.groups() == 0,
              "AdderConv2d: groups must divide the channels");
  weight = register_parameter(
      "weight", torch::empty({options.out_channels(), options.in_channels() / options.groups(),
                              options.kernel_size(), options.kernel_size()}));
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor AdderConv2dImpl::forward(const torch::Tensor& input) {
  return adder_conv2d(input, weight, options.stride(), options.padding(), options.groups(),
                      options.eta());
}

}  // namespace nas::ops
