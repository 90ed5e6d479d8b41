#include "supernet/weight_remap.h"

#include <cmath>

#include "core/error.h"

namespace nas {

namespace {

constexpr double kMinSlope = 0.01;

// Detached mean and standard deviation of a slice (population std; at least a tiny epsilon).
std::pair<double, double> slice_stats(const torch::Tensor& w) {
  torch::NoGradGuard no_grad;
  const torch::Tensor flat = w.detach().reshape({-1}).to(torch::kDouble);
  const double mean = flat.mean().item<double>();
  const double std = std::sqrt(std::max((flat - mean).pow(2).mean().item<double>(), 1e-24));
  return {mean, std};
}

// Piecewise-linear map with slopes s over equal bins [lo + i d, lo + (i+1) d]:
// g(w) = lo + sum_{j < i} s_j d + s_i (w - lo - i d) for w in bin i.
torch::Tensor piecewise_map(const torch::Tensor& w, const torch::Tensor& s, double lo, double d) {
  const int64_t bins = s.size(0);
  const torch::Tensor index =
      ((w.detach() - lo) / d).floor().clamp(0, static_cast<double>(bins - 1)).to(torch::kLong);
  // cumulative[i] = sum_{j < i} s_j d
  const torch::Tensor cumulative =
      torch::cat({torch::zeros({1}, s.options()), torch::cumsum(s * d, 0).narrow(0, 0, bins - 1)});
  const torch::Tensor flat_index = index.reshape({-1});
  const torch::Tensor left = lo + index.to(w.scalar_type()) * d;
  return lo + cumulative.index_select(0, flat_index).view_as(w) +
         s.index_select(0, flat_index).view_as(w) * (w - left);
}

}  // namespace

const char* remap_kind_name(RemapKind kind) {
  switch (kind) {
    case RemapKind::None: return "none";
    case RemapKind::Quantile: return "quantile";
    case RemapKind::Piecewise: return "piecewise";
    case RemapKind::Fc: return "fc";
  }
  return "?";
}

RemapKind parse_remap_kind(const std::string& name) {
  if (name == "none") return RemapKind::None;
  if (name == "quantile") return RemapKind::Quantile;
  if (name == "piecewise") return RemapKind::Piecewise;
  if (name == "fc") return RemapKind::Fc;
  NAS_THROW("unknown remap '" << name << "' (accepted: none, quantile, piecewise, fc)");
}

WeightRemapImpl::WeightRemapImpl(RemapKind kind, int64_t max_out) : kind_(kind), max_out_(max_out) {
  NAS_CHECK(max_out >= 1, "WeightRemap: max_out must be >= 1, got " << max_out);
  if (kind == RemapKind::Quantile) {
    scale = register_parameter("scale", torch::ones({max_out}));
    shift = register_parameter("shift", torch::zeros({max_out}));
  } else if (kind == RemapKind::Piecewise) {
    slopes = register_parameter("slopes", torch::ones({kPiecewiseBins}));
  } else if (kind == RemapKind::Fc) {
    // Unit j: tanh(2 (u - c_j)) with centres c_j evenly over [-3, 3] (u = w / s); deterministic.
    const torch::Tensor centres = torch::linspace(-3.0, 3.0, kFcRemapHidden);
    fc1_weight = register_parameter("fc1_weight", torch::full({kFcRemapHidden}, 2.0));
    fc1_bias = register_parameter("fc1_bias", -2.0 * centres);
    fc2_weight = register_parameter("fc2_weight", torch::zeros({kFcRemapHidden}));
    fc2_bias = register_parameter("fc2_bias", torch::zeros({1}));
  }
}

torch::Tensor WeightRemapImpl::forward(const torch::Tensor& w) {
  switch (kind_) {
    case RemapKind::None: return w;
    case RemapKind::Quantile: return quantile(w);
    case RemapKind::Piecewise: return piecewise(w);
    case RemapKind::Fc: return fc(w);
  }
  return w;
}

torch::Tensor WeightRemapImpl::fc(const torch::Tensor& w) {
  const torch::Tensor wd = w.detach();
  const torch::Tensor s = (wd - wd.mean()).pow(2).mean().clamp_min(1e-24).sqrt();
  const torch::Tensor u = (w / s).unsqueeze(-1);  // [..., 1]
  const torch::Tensor hidden = torch::tanh(u * fc1_weight + fc1_bias);  // [..., H]
  const torch::Tensor delta = (hidden * fc2_weight).sum(-1) + fc2_bias;
  return w + s * delta;
}

torch::Tensor WeightRemapImpl::quantile(const torch::Tensor& w) {
  TORCH_CHECK(w.dim() >= 1 && w.size(0) <= max_out_, "WeightRemap: slice has ", w.size(0),
              " output channels, the remap holds ", max_out_);
  // Detached statistics as tensors (no device synchronisation).
  const torch::Tensor wd = w.detach();
  const torch::Tensor mean = wd.mean();
  const torch::Tensor std = (wd - mean).pow(2).mean().clamp_min(1e-24).sqrt();
  const torch::Tensor b = std / std::sqrt(2.0);
  const torch::Tensor z = (w - mean) / std;
  // 1 - 2|Phi(z) - 1/2| = erfc(|z| / sqrt 2), computed directly so the tails keep their precision.
  const torch::Tensor tail = torch::erfc(z.abs() / std::sqrt(2.0)).clamp_min(1e-30);
  const torch::Tensor laplace = mean - b * torch::sign(z) * torch::log(tail);
  std::vector<int64_t> shape(static_cast<size_t>(w.dim()), 1);
  shape[0] = w.size(0);
  return laplace * scale.narrow(0, 0, w.size(0)).view(shape) +
         shift.narrow(0, 0, w.size(0)).view(shape);
}

torch::Tensor WeightRemapImpl::piecewise(const torch::Tensor& w) {
  double lo, hi;
  {
    torch::NoGradGuard no_grad;
    lo = w.detach().min().item<double>();
    hi = w.detach().max().item<double>();
  }
  if (!(hi > lo)) return w;
  const double d = (hi - lo) / static_cast<double>(kPiecewiseBins);
  const torch::Tensor s = slopes.clamp_min(kMinSlope);
  const torch::Tensor zero = torch::zeros({1}, w.options());
  const torch::Tensor anchor = piecewise_map(zero.clamp(lo, hi), s, lo, d);
  return piecewise_map(w, s, lo, d) - anchor;
}

torch::Tensor WeightRemapImpl::kl_term(const torch::Tensor& w) {
  if (kind_ != RemapKind::Piecewise) return torch::zeros({}, w.options());
  double lo, hi;
  torch::Tensor mass;
  {
    torch::NoGradGuard no_grad;
    lo = w.detach().min().item<double>();
    hi = w.detach().max().item<double>();
    if (!(hi > lo)) return torch::zeros({}, w.options());
    mass = torch::histc(w.detach().reshape({-1}).to(torch::kFloat), kPiecewiseBins, lo, hi);
    mass = (mass / mass.sum()).to(w.scalar_type());
  }
  const auto stats = slice_stats(w);
  const double b = stats.second / std::sqrt(2.0);
  const double d = (hi - lo) / static_cast<double>(kPiecewiseBins);
  const torch::Tensor s = slopes.clamp_min(kMinSlope);
  // Mapped bin i: [u_i, u_i + s_i d], u anchored like forward().
  const torch::Tensor cumulative =
      torch::cat({torch::zeros({1}, s.options()), torch::cumsum(s * d, 0).narrow(0, 0, kPiecewiseBins - 1)});
  const torch::Tensor anchor =
      piecewise_map(torch::zeros({1}, w.options()).clamp(lo, hi), s, lo, d);
  const torch::Tensor left = lo + cumulative - anchor;
  const torch::Tensor length = s * d;
  const torch::Tensor right = left + length;
  // E|u| over a uniform interval: (F(right) - F(left)) / length with F(u) = u |u| / 2.
  const torch::Tensor mean_abs = (right * right.abs() - left * left.abs()) / (2.0 * length);
  // KL = sum_i p_i [log p_i - log(length_i) + log(2b) + E|u| / b]   (bins with p_i = 0 add 0)
  const torch::Tensor p = mass;
  const torch::Tensor plogp = torch::where(p > 0, p * torch::log(p.clamp_min(1e-30)), torch::zeros_like(p));
  return (plogp + p * (std::log(2.0 * b) - torch::log(length) + mean_abs / b)).sum();
}

}  // namespace nas
