#pragma once
// The CPU kernel of training-mode batch norm fused with ReLU6, on raw pointers (no LibTorch types
// here, so the translation unit stays cheap and is compiled for the host's vector ISA).
//
// Layout: x, y, gy, gx are [batch][channels][spatial] contiguous (NCHW with H x W = spatial), or
// [batch x spatial][channels] (channels-last; BatchNormShape::channels_last).
// Both functions run the channels in parallel (at::parallel_for over channels; each channel is
// computed by one thread in a fixed order, so the results do not depend on the thread count).
//
// Forward, per channel c over its M = batch x spatial values (the double statistics become the
// float mean and invstd = 1 / sqrt(var + eps) that the output and the backward use):
//   mean, biased variance: one pass of sums of (x - x0) and (x - x0)^2, x0 the channel's first
//   value (shifted sums: no cancellation when |mean| >> std), float partial sums per row of
//   `spatial` values, double across rows;
//   y = act(x * scale[c] + shift[c]), scale = gamma * invstd, shift = beta - mean * scale,
//   act = identity or clamp(., 0, 6).
// Backward (the gradient of y w.r.t. x, gamma, beta; the ReLU6 mask recomputed from x with the
// forward's own arithmetic, so it is exactly the forward's):
//   g = gy where 0 < x * scale + shift < 6 (everywhere without the activation), else 0
//   xhat = (x - mean) * invstd
//   dbeta = sum g,  dgamma = sum g * xhat
//   gx = gamma * invstd * (g - dbeta / M - xhat * dgamma / M)
#include <cstdint>

namespace nas::ops {

struct BatchNormShape {
  int64_t batch = 0, channels = 0, spatial = 0;
  // Channels-last (NHWC): x, y, gy, gx are [batch x spatial rows][channels]. The statistics are
  // then summed over fixed blocks of rows (float within a block, double across blocks in order),
  // vectorised across the channels of a row; the blocks run in parallel, so the results do not
  // depend on the thread count either. Same per-element arithmetic (affine map, mask, xhat).
  bool channels_last = false;
};

// The forward: per channel, its statistics and then its output (while the channel's values are
// still in cache). Writes mean[c] and biased_var[c] (double), mean_f[c] and invstd_f[c] (the float
// values the output and the backward use; invstd = 1 / sqrt(biased_var + eps)) and y, which may
// equal x (in place).
void batch_norm_forward_cpu(const float* x, float* y, const BatchNormShape& shape, const float* gamma,
                            const float* beta, double eps, bool relu6, double* mean, double* biased_var,
                            float* mean_f, float* invstd_f);

// gx (may be null), dgamma and dbeta (per channel, may be null) from gy and the forward's input x.
// mean, invstd, gamma, beta: per channel, as the forward used them.
void batch_norm_backward_cpu(const float* x, const float* gy, float* gx, const BatchNormShape& shape,
                             const float* mean, const float* invstd, const float* gamma, const float* beta,
                             bool relu6, float* dgamma, float* dbeta);

}  // namespace nas::ops
