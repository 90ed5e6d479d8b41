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
//   fc         a learnable per-layer map of each weight value, in the spirit of ShiftAddAug's
//              Eq. 5 (a learnable FC layer in the heterogeneous weight sharing): with s the
//              detached std of the slice, R(w) = w + s * fc2(tanh(fc1(w / s))), fc1: 1 -> 16,
//              fc2: 16 -> 1. fc1 is initialised to spread its units over [-3 s, 3 s], fc2 to
//              zero, so R starts as the identity and learns any smooth reshaping of the weight
//              distribution (heavier tails, a sharper peak) shared by the whole layer; being
//              elementwise, it works for every slice of the shared tensor.
#include <cstdint>
#include <string>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace nas {

enum class RemapKind { None, Quantile, Piecewise, Fc };

const char* remap_kind_name(RemapKind kind);
// "none" | "quantile" | "piecewise" | "fc"; anything else is a nas::Error listing them.
RemapKind parse_remap_kind(const std::string& name);

constexpr int64_t kPiecewiseBins = 100;
constexpr int64_t kFcRemapHidden = 16;

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
  torch::Tensor fc1_weight, fc1_bias, fc2_weight, fc2_bias;  // fc: [H], [H], [H], [1]

 private:
  torch::Tensor quantile(const torch::Tensor& w);
  torch::Tensor piecewise(const torch::Tensor& w);
  torch::Tensor fc(const torch::Tensor& w);

  RemapKind kind_;
  int64_t max_out_;
};
TORCH_MODULE(WeightRemap);

}  // namespace nas
