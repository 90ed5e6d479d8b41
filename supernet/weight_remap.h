#pragma once
// Weight remap R for heterogeneous weight sharing (DESIGN.md §5, "weight tearing"): the shared
// weights are trained as multiplicative (Gaussian-like) weights, while shift and adder layers
// prefer Laplacian-like weights. R maps the tiny (MF) slice of a shared weight before the MF op;
// the augmented (multiplicative) channels use the raw weights.
//
//   none       R(w) = w
//   quantile   z = (w - mu) / sigma over the slice (statistics detached); the normal CDF of z
//              mapped through the inverse Laplace CDF with the same mean and variance
//              (b = sigma / sqrt 2):  L(w) = mu - b * sign(z) * ln(erfc(|z| / sqrt 2)),
//              then a learnable per-output-channel affine a_o * L + c_o (init 1, 0)
//   piecewise  100 equal bins over [min w, max w] of the slice (edges detached); one learnable
//              slope s_i per bin (init 1, clamped >= 0.01), continuous and monotone, anchored so
//              that R(0) = 0; all slopes 1 is the identity. kl_term() is the KL divergence of the
//              remapped weights' distribution (piecewise uniform: bin mass p_i spread over the
//              mapped bin) to Laplace(0, b) with b = sigma / sqrt 2 (the variance of the raw
//              slice), added to the loss with a small weight.
#include <cstdint>
#include <string>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace nas {

enum class RemapKind { None, Quantile, Piecewise };

const char* remap_kind_name(RemapKind kind);
// "none" | "quantile" | "piecewise"; anything else is a nas::Error listing them.
RemapKind parse_remap_kind(const std::string& name);

constexpr int64_t kPiecewiseBins = 100;

class WeightRemapImpl : public torch::nn::Module {
 public:
  // max_out: the largest number of output channels the remapped slice can have.
  WeightRemapImpl(RemapKind kind, int64_t max_out);

  RemapKind kind() const { return kind_; }
  // R(w) for a weight slice [out, ...] (out <= max_out). Differentiable in w and in R's own
  // parameters; deterministic (the same slice gives bit-identical results).
  torch::Tensor forward(const torch::Tensor& w);
  // KL(remapped || Laplace) for the piecewise remap of slice w; a zero scalar otherwise.
  torch::Tensor kl_term(const torch::Tensor& w);

  torch::Tensor scale, shift;  // quantile: per-output-channel affine [max_out]
  torch::Tensor slopes;        // piecewise: [kPiecewiseBins]

 private:
  torch::Tensor quantile(const torch::Tensor& w);
  torch::Tensor piecewise(const torch::Tensor& w);

  RemapKind kind_;
  int64_t max_out_;
};
TORCH_MODULE(WeightRemap);

}  // namespace nas
