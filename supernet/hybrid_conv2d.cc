#include "supernet/hybrid_conv2d.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/adder_conv2d.h"
#include "ops/shift_conv2d.h"
#include "supernet/tiny_ops.h"

namespace nas {

HybridConv2dImpl::HybridConv2dImpl(const HybridConv2dOptions& options) : options_(options) {
  NAS_CHECK(options.max_in >= 1 && options.max_out >= 1 && options.max_kernel >= 1 &&
                options.max_kernel % 2 == 1 && options.stride >= 1,
            "HybridConv2d: bad shape " << options.max_out << "x" << options.max_in << " k"
                                       << options.max_kernel << " s" << options.stride);
  NAS_CHECK(!options.depthwise || options.max_in == options.max_out,
            "HybridConv2d: a depthwise layer needs max_in == max_out");
  ops_ = options.ops.empty() ? std::vector<OpKind>{options.op} : options.ops;
  NAS_CHECK(std::find(ops_.begin(), ops_.end(), options.op) != ops_.end(),
            "HybridConv2d: the default op " << op_kind_name(options.op) << " is not in its op list");
  const auto other_op = std::find_if(ops_.begin(), ops_.end(), [](OpKind o) { return o != OpKind::Add; });
  const bool own_adder = options.separate_adder_weights && supports(OpKind::Add) && other_op != ops_.end();
  // `weight` is initialised for the default op, or for the other op when the adder has its own.
  const torch::Tensor w = initial_weight(own_adder && options.op == OpKind::Add ? *other_op : options.op, nullptr);
  weight = register_parameter("weight", w);
  if (own_adder) {
    // From a generator of its own: the global stream (and so `weight` and every other layer) is
    // the same with and without separate adder weights.
    at::Generator gen = at::detail::createCPUGenerator(options.aug_init_seed ^ 0x6164646572ULL);  // "adder"
    adder_weight = register_parameter("adder_weight", initial_weight(OpKind::Add, &gen));
  }
  if (options.bias) bias = register_parameter("bias", torch::zeros({options.max_out}));
  if (options.remap != RemapKind::None) {
    std::vector<OpKind> mf;
    for (OpKind o : ops_)
      if (o != OpKind::Mult && std::find(mf.begin(), mf.end(), o) == mf.end()) mf.push_back(o);
    for (OpKind o : mf) {
      const std::string name = mf.size() == 1 ? "remap" : std::string("remap_") + op_kind_name(o);
      remaps_.emplace_back(o, register_module(name, WeightRemap(options.remap, options.max_out)));
    }
  }
  remap = remap_for(options.op);
}

int64_t HybridConv2dImpl::tiny_out_channels() const {
  return options_.tiny_out > 0 ? std::min(options_.tiny_out, options_.max_out) : options_.max_out;
}

int64_t HybridConv2dImpl::tiny_in_channels() const {
  if (options_.depthwise) return 1;
  return options_.tiny_in > 0 ? std::min(options_.tiny_in, options_.max_in) : options_.max_in;
}

torch::Tensor HybridConv2dImpl::initial_weight(OpKind op, at::Generator* tiny_gen) const {
  const HybridConv2dOptions& options = options_;
  const int64_t in_per_group = options.depthwise ? 1 : options.max_in;
  const int64_t tiny_out = tiny_out_channels();
  const int64_t tiny_in = tiny_in_channels();
  const int64_t k = options.max_kernel;
  // The multiplicative scale of the tiny slice: Kaiming normal (fan out), or N(0, 0.01) for a
  // classifier.
  const double mult_std = options.linear_init ? 0.01 : std::sqrt(2.0 / static_cast<double>(tiny_out * k * k));
  // The tiny slice, exactly as a layer of the tiny size draws it from the global generator.
  torch::Tensor tiny = torch::empty({tiny_out, tiny_in, k, k});
  if (tiny_gen) {
    torch::NoGradGuard no_grad;
    tiny.normal_(0.0, !options.linear_init && op == OpKind::Add ? 1.0 : mult_std, *tiny_gen);
  } else if (options.linear_init) {
    torch::nn::init::normal_(tiny, 0.0, 0.01);
  } else if (op == OpKind::Add) {
    // AdderNet's initialisation, N(0, 1): adder weights must be on the scale of the activations.
    // With Kaiming-sized weights (~0.1) on non-negative (post-ReLU6) inputs, |x - w| ~ x - w and
    // every output channel is about -sum(x) plus a constant: after BN all channels coincide and
    // the network does not learn (measured: loss stuck at ln 10 for two epochs of Fashion-MNIST).
    torch::nn::init::normal_(tiny, 0.0, 1.0);
  } else {
    torch::nn::init::kaiming_normal_(tiny, 0.0, torch::kFanOut, torch::kReLU);
  }
  if (tiny_out == options.max_out && tiny_in == in_per_group) return tiny;
  // The augmented rest: multiplicative channels on the tiny slice's multiplicative scale, from
  // a generator of its own (the global stream stays that of the tiny network).
  at::Generator gen = at::detail::createCPUGenerator(options.aug_init_seed);
  torch::Tensor w = torch::empty({options.max_out, in_per_group, k, k});
  torch::NoGradGuard no_grad;
  w.normal_(0.0, mult_std, gen);
  w.narrow(0, 0, tiny_out).narrow(1, 0, tiny_in).copy_(tiny);
  return w;
}

const torch::Tensor& HybridConv2dImpl::weight_for(OpKind op) const {
  return op == OpKind::Add && adder_weight.defined() ? adder_weight : weight;
}

std::vector<int64_t> HybridConv2dImpl::adder_view_block() const {
  if (!supports(OpKind::Add) || !options_.adder_unit_rms) return {};
  if (!adder_weight.defined() && ops_.size() > 1) return {};
  return {tiny_out_channels(), tiny_in_channels()};
}

std::vector<torch::Tensor> HybridConv2dImpl::weights() const {
  std::vector<torch::Tensor> out{weight};
  if (adder_weight.defined()) out.push_back(adder_weight);
  return out;
}

torch::Tensor slice_rms(const torch::Tensor& w) { return w.detach().contiguous().pow(2).mean().sqrt(); }

bool HybridConv2dImpl::supports(OpKind op) const {
  return std::find(ops_.begin(), ops_.end(), op) != ops_.end();
}

WeightRemap HybridConv2dImpl::remap_for(OpKind op) const {
  for (const auto& [o, r] : remaps_)
    if (o == op) return r;
  return WeightRemap{nullptr};
}

OpKind HybridConv2dImpl::resolve_op(std::optional<OpKind> op) const {
  const OpKind o = op.value_or(options_.op);
  TORCH_CHECK(supports(o), "HybridConv2d: op ", op_kind_name(o), " is not one of this layer's ops");
  return o;
}

void HybridConv2dImpl::record_use(OpKind op, int64_t in_t, int64_t out_t, int64_t kernel) {
  if (op != OpKind::Add || !is_training() || !torch::GradMode::is_enabled()) return;
  adder_slice_.in_t = std::max(adder_slice_.in_t, in_t);
  adder_slice_.out_t = std::max(adder_slice_.out_t, out_t);
  adder_slice_.kernel = std::max(adder_slice_.kernel, kernel);
}

SliceExtent HybridConv2dImpl::take_adder_slice() {
  const SliceExtent s = adder_slice_;
  adder_slice_ = SliceExtent{};
  return s;
}

torch::Tensor HybridConv2dImpl::cropped(const torch::Tensor& full, int64_t kernel) const {
  TORCH_CHECK(kernel >= 1 && kernel % 2 == 1 && kernel <= options_.max_kernel,
              "HybridConv2d: kernel ", kernel, " is not an odd size <= ", options_.max_kernel);
  if (kernel == options_.max_kernel) return full;
  const int64_t offset = (options_.max_kernel - kernel) / 2;
  return full.narrow(2, offset, kernel).narrow(3, offset, kernel);
}

torch::Tensor HybridConv2dImpl::tiny_slice_of(const torch::Tensor& full, int64_t in_t, int64_t out_t,
                                              int64_t kernel) const {
  torch::Tensor w = cropped(full, kernel).narrow(0, 0, out_t);
  return options_.depthwise ? w : w.narrow(1, 0, in_t);
}

torch::Tensor HybridConv2dImpl::tiny_slice(int64_t in_t, int64_t out_t, int64_t kernel,
                                           std::optional<OpKind> op) const {
  return tiny_slice_of(weight_for(resolve_op(op)), in_t, out_t, kernel);
}

torch::Tensor HybridConv2dImpl::tiny_op_weight(int64_t in_t, int64_t out_t, int64_t kernel,
                                               std::optional<OpKind> op_choice) {
  const OpKind op = resolve_op(op_choice);
  torch::Tensor w = tiny_slice(in_t, out_t, kernel, op);
  if (op == OpKind::Mult) return w.contiguous();
  if (op == OpKind::Add && options_.adder_unit_rms) w = w / slice_rms(w).clamp_min(1e-12);
  if (WeightRemap r = remap_for(op)) w = r->forward(w);
  if (op == OpKind::Shift) w = ops::quantize_shift(w, options_.shift_bits);
  return w.contiguous();
}

torch::Tensor HybridConv2dImpl::remap_kl(int64_t in_t, int64_t out_t, int64_t kernel,
                                         std::optional<OpKind> op) {
  WeightRemap r = remap_for(resolve_op(op));
  if (!r) return torch::zeros({}, weight.options());
  return r->kl_term(tiny_slice(in_t, out_t, kernel, op));
}

bool HybridConv2dImpl::runs_channels_last(const torch::Tensor& x) const {
  return options_.channels_last && is_training() && x.dim() == 4 && x.is_cpu() && x.size(1) > 1;
}

torch::Tensor HybridConv2dImpl::forward(const torch::Tensor& input, const ConvWidthsActive& a) {
  const OpKind op = resolve_op(a.op);
  // Channels-last where a multiplicative or shift convolution runs over the input (a no-op when
  // it already is); an adder-only forward keeps the input's layout (the adder kernel reads NCHW):
  // a tiny adder forward, or an augmented one with nothing for the convolution to compute.
  const bool has_conv =
      op != OpKind::Add ||
      (!a.tiny_only && (options_.depthwise ? a.in_a > a.in_t
                                           : (a.cross_term && a.in_a > a.in_t) || a.out_a > a.out_t));
  const bool to_channels_last = has_conv && runs_channels_last(input);
  const torch::Tensor x = to_channels_last ? input.contiguous(at::MemoryFormat::ChannelsLast) : input;
  const int64_t k = a.kernel, pad = a.kernel / 2, stride = options_.stride;
  const double eta = 0.0;  // scaled once per step by the net (see the header)
  TORCH_CHECK(a.in_t >= 1 && a.out_t >= 1 && a.in_t <= a.in_a && a.out_t <= a.out_a &&
                  a.in_a <= options_.max_in && a.out_a <= options_.max_out,
              "HybridConv2d: bad widths in ", a.in_t, "/", a.in_a, " out ", a.out_t, "/", a.out_a,
              " for a layer of ", options_.max_in, " -> ", options_.max_out);
  if (options_.depthwise)
    TORCH_CHECK(a.in_t == a.out_t && a.in_a == a.out_a, "HybridConv2d: depthwise widths differ");
  record_use(op, a.in_t, a.out_t, k);

  if (a.tiny_only) {
    TORCH_CHECK(x.size(1) == a.in_t, "HybridConv2d: tiny input has ", x.size(1),
                " channels, expected ", a.in_t);
    const torch::Tensor b = bias.defined() ? bias.narrow(0, 0, a.out_t) : torch::Tensor();
    return apply_layer_op(op, x, tiny_op_weight(a.in_t, a.out_t, k, op), b, stride, pad,
                          groups_for(a.out_t), eta);
  }

  TORCH_CHECK(x.size(1) == a.in_a, "HybridConv2d: augmented input has ", x.size(1),
              " channels, expected ", a.in_a);
  const torch::Tensor W = cropped(weight_for(op), k);
  const torch::Tensor b = bias.defined() ? bias.narrow(0, 0, a.out_a) : torch::Tensor();

  if (options_.depthwise) {
    const int64_t ct = a.in_t, ca = a.in_a, extra = ca - ct;
    if (op == OpKind::Mult)
      return torch::conv2d(x, W.narrow(0, 0, ca), b, stride, pad, 1, ca);
    if (op == OpKind::Shift) {
      // One depthwise conv: quantized tiny rows followed by the real augmented rows.
      torch::Tensor w = tiny_op_weight(ct, ct, k, op);
      if (extra > 0) w = torch::cat({w, W.narrow(0, ct, extra)}, 0);
      return torch::conv2d(x, w, b, stride, pad, 1, ca);
    }
    // Add: the adder on the tiny channels; one depthwise conv over all channels whose tiny rows
    // are zero, and the adder output added into its tiny channels in place, as one autograd node
    // (ops::hybrid_adder_conv2d: no slicing copies of x, no padded copy of the adder output, the
    // adder's input gradient added in place into the convolution's).
    const torch::Tensor wt = tiny_op_weight(ct, ct, k, op);
    torch::Tensor y;
    if (extra > 0) {
      const torch::Tensor w = torch::cat({torch::zeros_like(W.narrow(0, 0, ct)), W.narrow(0, ct, extra)}, 0);
      y = ops::hybrid_adder_conv2d(x, w, ca, wt, ct, ct, stride, pad);
    } else {
      y = ops::adder_conv2d(x, wt, stride, pad, ct, eta);
    }
    if (b.defined()) y = y + b.view({1, -1, 1, 1});
    return y;
  }

  const int64_t it = a.in_t, ia = a.in_a, ot = a.out_t, oa = a.out_a;
  const bool has_cross = a.cross_term && ia > it;
  const torch::Tensor w_tt = W.narrow(0, 0, ot).narrow(1, 0, it);
  const torch::Tensor w_ta = W.narrow(0, 0, ot).narrow(1, it, ia - it);
  const torch::Tensor w_a = W.narrow(0, ot, oa - ot).narrow(1, 0, ia);

  if (op == OpKind::Mult || op == OpKind::Shift) {
    // One convolution over the assembled weight: [[MF weight, cross or 0], [augmented rows]].
    if (op == OpKind::Mult && (has_cross || ia == it))
      return torch::conv2d(x, W.narrow(0, 0, oa).narrow(1, 0, ia), b, stride, pad, 1, 1);
    torch::Tensor top = op == OpKind::Shift ? tiny_op_weight(it, ot, k, op) : w_tt;
    if (ia > it) top = torch::cat({top, has_cross ? w_ta : torch::zeros_like(w_ta)}, 1);
    const torch::Tensor w = oa > ot ? torch::cat({top, w_a}, 0) : top;
    return torch::conv2d(x, w, b, stride, pad, 1, 1);
  }

  // Add: the adder on the tiny block; the multiplicative rest is one convolution over the whole
  // input with a zero tiny block ([[0, cross or 0], [augmented rows]]), and the adder output is
  // added into the tiny rows of its output in place, as one autograd node
  // (ops::hybrid_adder_conv2d: no slicing copies of x, no second convolution, no padded copy, the
  // adder's input gradient added in place into the convolution's).
  const torch::Tensor wt = tiny_op_weight(it, ot, k, op);
  torch::Tensor y;
  if (has_cross || oa > ot) {
    torch::Tensor top = torch::zeros_like(w_tt);
    if (ia > it) top = torch::cat({top, has_cross ? w_ta : torch::zeros_like(w_ta)}, 1);
    const torch::Tensor w = oa > ot ? torch::cat({top, w_a}, 0) : top;
    y = ops::hybrid_adder_conv2d(x, w, 1, wt, it, 1, stride, pad);
  } else {
    y = ops::adder_conv2d(x.narrow(1, 0, it), wt, stride, pad, 1, eta);
  }
  if (b.defined()) y = y + b.view({1, -1, 1, 1});
  return y;
}

}  // namespace nas
