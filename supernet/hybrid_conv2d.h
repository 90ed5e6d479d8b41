#pragma once
// HybridConv2d: a convolution whose single weight tensor is held at the largest augmented width
// (and kernel) and sliced per forward (DESIGN.md §5). The tiny channels [:out_t, :in_t] run the
// layer's multiplication-free op (shift or add) on R(W) (the weight remap); the augmented
// channels use plain multiplication:
//   y_t = MF(x[:, :in_t], R(W[:out_t, :in_t])) + Conv(x[:, in_t:in_a], W[:out_t, in_t:in_a])
//   y_a = Conv(x[:, :in_a], W[out_t:out_a, :in_a]),   y = cat(y_t, y_a)
// With the cross term off the second term of y_t is dropped (the tiny outputs then see only the
// tiny inputs; the augmented outputs still see every input). Depthwise layers are channel-wise:
// tiny channels use MF, augmented channels conv, no cross term. The kernel is elastic: a smaller
// kernel is the centre crop of the stored one. A 1x1 layer with a bias on [N, C, 1, 1] inputs is
// the classifier (a linear layer).
//
// The op of the tiny slice is elastic too (the supernet's per-block op choice): `ops` lists the
// ops a layer may run, ConvWidthsActive::op picks one per forward. Every multiplication-free op
// has a remap of its own (shift and adder weights want different distributions), all reading
// the one shared weight tensor: heterogeneous weight sharing across ops. Or, with
// separate_adder_weights, the adder op of a layer that also runs shift / mult reads a tensor of
// its own (`adder_weight`): an adder weight is a template that the input is compared with
// (-|x - w|), a shift or mult weight a filter that it is correlated with, and one tensor serving
// both did not train (results/supernet/README.md); shift is multiplication with the weight
// rounded to a power of two, so shift and mult keep sharing `weight`.
//
// Adder layers run their op without adaptive gradient scaling (eta 0): AdderNet's scaling is
// applied once per optimiser step by HybridNetImpl::scale_adder_gradients() to the gradient
// accumulated over every forward of the step, not once per backward call. To that end a layer
// records the union of the adder slices its gradient-recording forwards used (slices of
// different subnets are nested: first channels, centre crops), see take_adder_slice().
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "search_space/op_kind.h"
#include "supernet/weight_remap.h"

namespace nas {

struct HybridConv2dOptions {
  int64_t max_in = 1, max_out = 1;  // largest widths (depthwise: max_in == max_out)
  int64_t max_kernel = 1;
  int64_t stride = 1;
  bool depthwise = false;
  bool bias = false;
  OpKind op = OpKind::Mult;  // default op of the tiny channels, and the one that initialises them
  std::vector<OpKind> ops;   // every op the tiny channels may run (empty: {op}); must hold op
  RemapKind remap = RemapKind::None;  // applied to the tiny slice of shift/add ops only
  // The adder op sees its slice scaled to unit RMS (w / RMS(w), the RMS detached) before the
  // remap: adder weights must be on the scale of the activations (AdderNet's N(0, 1)), while a
  // slice shared with shift / mult channels lives on the Kaiming scale (see HybridNetOptions).
  bool adder_unit_rms = false;
  // The adder op reads `adder_weight` (drawn like a fixed adder layer's, from a generator of its
  // own) when the layer also runs another op; `weight` is then initialised for that other op.
  bool separate_adder_weights = false;
  int64_t shift_bits = 5;
  // In training mode on the CPU, the multiplicative and shift convolutions (and the mult part of
  // an augmented adder layer) run on channels-last activations: oneDNN's NHWC depthwise and 1x1
  // kernels are 1.5-2.5x faster here than its NCHW ones. Same network, same weights (parameters
  // stay NCHW); sums in another order, so last-bit differences. Evaluation stays NCHW, so an
  // exported network reproduces the trained one's evaluation exactly. Adder convolutions (their
  // kernel is NCHW) take NCHW inputs.
  bool channels_last = true;
  // Initialisation. The tiny slice [:tiny_out, :tiny_in] (0: the whole dimension) is drawn from
  // the global torch generator exactly as a layer allocated at the tiny size would be, so the
  // tiny network starts exactly as the directly trained one of the same seed (DESIGN.md §5):
  // N(0, 0.01) for a classifier (linear_init), AdderNet's N(0, 1) for adder layers, else Kaiming
  // normal with the fan out of the tiny slice. The augmented rest is drawn from its own generator
  // (seeded with aug_init_seed), so the global stream is the same with and without augmentation;
  // it uses the tiny slice's multiplicative scale (Kaiming, or N(0, 0.01) for a classifier).
  bool linear_init = false;
  int64_t tiny_out = 0, tiny_in = 0;
  uint64_t aug_init_seed = 0;
};

// The widths of one forward. tiny_only: x has in_t channels and only the tiny output is made.
struct ConvWidthsActive {
  int64_t in_t = 0, out_t = 0, in_a = 0, out_a = 0;
  int64_t kernel = 1;
  bool tiny_only = true;
  bool cross_term = true;
  std::optional<OpKind> op;  // the op of the tiny channels (unset: the layer's default op)
};

// A slice [:out_t, :in_t] centre-cropped to kernel; all zero: none.
struct SliceExtent {
  int64_t in_t = 0, out_t = 0, kernel = 0;
  bool empty() const { return out_t == 0; }
};

// The RMS of a weight slice as a detached 0-dim tensor, reduced over a contiguous copy (a strided
// view reduces in another order, and a slice's value must not depend on the tensor around it).
// What the adder sees (adder_unit_rms) and what relative adder scaling multiplies eta by.
torch::Tensor slice_rms(const torch::Tensor& w);

class HybridConv2dImpl : public torch::nn::Module {
 public:
  explicit HybridConv2dImpl(const HybridConv2dOptions& options);

  torch::Tensor forward(const torch::Tensor& x, const ConvWidthsActive& active);
  // Whether a forward in the current mode converts x to channels-last (HybridConv2dOptions).
  bool runs_channels_last(const torch::Tensor& x) const;

  // The weight the tiny op uses: R_op(W[:out_t, :in_t]) centre-cropped to `kernel`, quantized for
  // shift; contiguous. Exactly what forward() feeds the op in tiny mode. op unset: the default.
  torch::Tensor tiny_op_weight(int64_t in_t, int64_t out_t, int64_t kernel,
                               std::optional<OpKind> op = std::nullopt);
  // The raw (un-remapped) tiny slice of op's tensor (unset: the default op), centre-cropped.
  torch::Tensor tiny_slice(int64_t in_t, int64_t out_t, int64_t kernel,
                           std::optional<OpKind> op = std::nullopt) const;
  // The same slice (a view) of any tensor shaped like `weight`, e.g. its gradient.
  torch::Tensor tiny_slice_of(const torch::Tensor& full, int64_t in_t, int64_t out_t,
                              int64_t kernel) const;
  // KL term of the piecewise remap of op (default: the default op) on the tiny slice (zero
  // otherwise).
  torch::Tensor remap_kl(int64_t in_t, int64_t out_t, int64_t kernel,
                         std::optional<OpKind> op = std::nullopt);

  const HybridConv2dOptions& options() const { return options_; }
  const std::vector<OpKind>& ops() const { return ops_; }
  bool supports(OpKind op) const;
  // The remap of an op (null for mult, or when the remap is none).
  WeightRemap remap_for(OpKind op) const;
  // The weight tensor op reads (adder_weight for the adder when it has one, else weight).
  const torch::Tensor& weight_for(OpKind op) const;
  // The block of weight_for(Add) that the adder's unit-RMS view covers: the tiny block
  // [:tiny_out, :tiny_in] at every kernel size, as extents of the leading dimensions; empty when
  // the layer does not run the adder, when the adder sees raw weights, or when the adder shares
  // its tensor with shift / mult (whose forward is not scale-invariant).
  std::vector<int64_t> adder_view_block() const;
  // Every weight tensor of the layer: weight, then adder_weight if defined.
  std::vector<torch::Tensor> weights() const;

  // The union of the adder slices used by forwards that recorded gradients since the last call
  // (empty if none), and forget it. The adder remap's parameters were used iff it is not empty.
  SliceExtent take_adder_slice();
  int64_t groups_for(int64_t channels) const { return options_.depthwise ? channels : 1; }

  torch::Tensor weight;  // [max_out, max_in (1 if depthwise), max_kernel, max_kernel]
  torch::Tensor adder_weight;  // the same shape, or undefined (see separate_adder_weights)
  torch::Tensor bias;    // [max_out] or undefined
  WeightRemap remap{nullptr};  // the default op's remap (remap_for(options().op))

 private:
  torch::Tensor cropped(const torch::Tensor& full, int64_t kernel) const;
  OpKind resolve_op(std::optional<OpKind> op) const;
  // The tiny slice's output channels and input channels per group (options' tiny_out / tiny_in,
  // 0: the whole dimension; 1 input channel for a depthwise layer).
  int64_t tiny_out_channels() const;
  int64_t tiny_in_channels() const;
  // A full weight tensor initialised for `op` (see HybridConv2dOptions), the tiny slice drawn
  // from `tiny_gen` (null: the global generator).
  torch::Tensor initial_weight(OpKind op, at::Generator* tiny_gen) const;
  void record_use(OpKind op, int64_t in_t, int64_t out_t, int64_t kernel);

  HybridConv2dOptions options_;
  std::vector<OpKind> ops_;
  // One remap per multiplication-free op; a single one is registered as "remap" (the names of
  // fixed networks' checkpoints), several as "remap_<op>".
  std::vector<std::pair<OpKind, WeightRemap>> remaps_;
  SliceExtent adder_slice_;
};
TORCH_MODULE(HybridConv2d);

}  // namespace nas
