#include "ops/batch_norm_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace nas::ops {
namespace {

constexpr int kLanes = 16;  // independent float partial sums per row (vectorises, short chains)

// The forward's affine map, shared by the forward and the backward so that the backward's ReLU6
// mask is computed with exactly the forward's arithmetic (this file is built without FP
// contraction).
struct Affine {
  float scale, shift;
  Affine(float mean, float invstd, float gamma, float beta) : scale(gamma * invstd), shift(beta - mean * scale) {}
  float operator()(float x) const { return x * scale + shift; }
};

inline bool passes(float pre, bool relu6) { return !relu6 || (pre > 0.0f && pre < 6.0f); }

// NHWC: rows of `channels` values; statistics over blocks of kRowBlock rows.
constexpr int64_t kRowBlock = 128;

// Per block of rows, per channel, float sums of a(row, c) and b(row, c); then the blocks' sums
// added in block order in double. `terms(row, sa, sb)` adds one row's terms into the float arrays.
template <typename Terms>
void nhwc_channel_sums(int64_t rows, int64_t channels, const Terms& terms, double* sum_a, double* sum_b) {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<float> partial(static_cast<size_t>(blocks * channels * 2), 0.0f);
  at::parallel_for(0, blocks, 1, [&](int64_t b_begin, int64_t b_end) {
    for (int64_t blk = b_begin; blk < b_end; ++blk) {
      float* sa = partial.data() + blk * channels * 2;
      float* sb = sa + channels;
      const int64_t r_end = std::min(rows, (blk + 1) * kRowBlock);
      for (int64_t r = blk * kRowBlock; r < r_end; ++r) terms(r, sa, sb);
    }
  });
  std::fill(sum_a, sum_a + channels, 0.0);
  std::fill(sum_b, sum_b + channels, 0.0);
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const float* sa = partial.data() + blk * channels * 2;
    const float* sb = sa + channels;
    for (int64_t c = 0; c < channels; ++c) {
      sum_a[c] += sa[c];
      sum_b[c] += sb[c];
    }
  }
}

void nhwc_forward(const float* x, float* y, const BatchNormShape& s, const float* gamma, const float* beta,
                  double eps, bool relu6, double* mean, double* biased_var, float* mean_f, float* invstd_f) {
  const int64_t rows = s.batch * s.spatial, C = s.channels;
  const float* x0 = x;  // the first row: each channel's shift
  std::vector<double> sum(static_cast<size_t>(C)), sum_sq(static_cast<size_t>(C));
  nhwc_channel_sums(
      rows, C,
      [&](int64_t r, float* __restrict__ sa, float* __restrict__ sb) {
        const float* __restrict__ row = x + r * C;
        const float* __restrict__ first = x0;
        for (int64_t c = 0; c < C; ++c) {
          const float d = row[c] - first[c];
          sa[c] += d;
          sb[c] += d * d;
        }
      },
      sum.data(), sum_sq.data());
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const double shifted_mean = sum[c] / static_cast<double>(rows);
    mean[c] = x0[c] + shifted_mean;
    biased_var[c] = std::max(0.0, sum_sq[c] / static_cast<double>(rows) - shifted_mean * shifted_mean);
    mean_f[c] = static_cast<float>(mean[c]);
    invstd_f[c] = static_cast<float>(1.0 / std::sqrt(biased_var[c] + eps));
    const Affine f(mean_f[c], invstd_f[c], gamma[c], beta[c]);
    scale[c] = f.scale;
    shift[c] = f.shift;
  }
  const float* __restrict__ sc = scale.data();
  const float* __restrict__ sh = shift.data();
  at::parallel_for(0, rows, kRowBlock, [&](int64_t r_begin, int64_t r_end) {
    for (int64_t r = r_begin; r < r_end; ++r) {
      // y may equal x (in place): element c is read before it is written.
      const float* in = x + r * C;
      float* out = y + r * C;
      if (relu6) {
        for (int64_t c = 0; c < C; ++c) out[c] = std::min(std::max(in[c] * sc[c] + sh[c], 0.0f), 6.0f);
      } else {
        for (int64_t c = 0; c < C; ++c) out[c] = in[c] * sc[c] + sh[c];
      }
    }
  });
}

// One row's backward terms: for every channel the masked gradient gm and xhat. The pointers are
// restrict-qualified and the mask is a compile-time choice, so the channel loop vectorises.
template <bool kRelu6>
inline void nhwc_backward_sums_row(const float* __restrict__ in, const float* __restrict__ g,
                                   const float* __restrict__ sc, const float* __restrict__ sh,
                                   const float* __restrict__ mean, const float* __restrict__ invstd, int64_t C,
                                   float* __restrict__ sa, float* __restrict__ sb) {
  for (int64_t c = 0; c < C; ++c) {
    const float gm = passes(in[c] * sc[c] + sh[c], kRelu6) ? g[c] : 0.0f;
    sa[c] += gm;
    sb[c] += gm * ((in[c] - mean[c]) * invstd[c]);
  }
}

template <bool kRelu6>
inline void nhwc_backward_gx_row(const float* __restrict__ in, const float* __restrict__ g,
                                 const float* __restrict__ sc, const float* __restrict__ sh,
                                 const float* __restrict__ mean, const float* __restrict__ invstd,
                                 const float* __restrict__ k1, const float* __restrict__ mean_g,
                                 const float* __restrict__ mean_gx, int64_t C, float* __restrict__ out) {
  for (int64_t c = 0; c < C; ++c) {
    const float gm = passes(in[c] * sc[c] + sh[c], kRelu6) ? g[c] : 0.0f;
    out[c] = k1[c] * (gm - mean_g[c] - ((in[c] - mean[c]) * invstd[c]) * mean_gx[c]);
  }
}

void nhwc_backward(const float* x, const float* gy, float* gx, const BatchNormShape& s, const float* mean,
                   const float* invstd, const float* gamma, const float* beta, bool relu6, float* dgamma,
                   float* dbeta) {
  const int64_t rows = s.batch * s.spatial, C = s.channels;
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const Affine f(mean[c], invstd[c], gamma[c], beta[c]);
    scale[c] = f.scale;
    shift[c] = f.shift;
  }
  const float *sc = scale.data(), *sh = shift.data();
  std::vector<double> sum_g(static_cast<size_t>(C)), sum_gx(static_cast<size_t>(C));
  nhwc_channel_sums(
      rows, C,
      [&](int64_t r, float* sa, float* sb) {
        if (relu6)
          nhwc_backward_sums_row<true>(x + r * C, gy + r * C, sc, sh, mean, invstd, C, sa, sb);
        else
          nhwc_backward_sums_row<false>(x + r * C, gy + r * C, sc, sh, mean, invstd, C, sa, sb);
      },
      sum_g.data(), sum_gx.data());
  for (int64_t c = 0; c < C; ++c) {
    if (dbeta) dbeta[c] = static_cast<float>(sum_g[c]);
    if (dgamma) dgamma[c] = static_cast<float>(sum_gx[c]);
  }
  if (!gx) return;
  const double count = static_cast<double>(rows);
  std::vector<float> k1(static_cast<size_t>(C)), mean_g(static_cast<size_t>(C)), mean_gx(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    k1[c] = gamma[c] * invstd[c];
    mean_g[c] = static_cast<float>(sum_g[c] / count);
    mean_gx[c] = static_cast<float>(sum_gx[c] / count);
  }
  at::parallel_for(0, rows, kRowBlock, [&](int64_t r_begin, int64_t r_end) {
    for (int64_t r = r_begin; r < r_end; ++r) {
      if (relu6)
        nhwc_backward_gx_row<true>(x + r * C, gy + r * C, sc, sh, mean, invstd, k1.data(), mean_g.data(),
                                   mean_gx.data(), C, gx + r * C);
      else
        nhwc_backward_gx_row<false>(x + r * C, gy + r * C, sc, sh, mean, invstd, k1.data(), mean_g.data(),
                                    mean_gx.data(), C, gx + r * C);
    }
  });
}

}  // namespace

void batch_norm_forward_cpu(const float* x, float* y, const BatchNormShape& s, const float* gamma,
                            const float* beta, double eps, bool relu6, double* mean, double* biased_var,
                            float* mean_f, float* invstd_f) {
  if (s.channels_last) return nhwc_forward(x, y, s, gamma, beta, eps, relu6, mean, biased_var, mean_f, invstd_f);
  const int64_t count = s.batch * s.spatial;
  at::parallel_for(0, s.channels, 1, [&](int64_t c_begin, int64_t c_end) {
    for (int64_t c = c_begin; c < c_end; ++c) {
      const float x0 = x[c * s.spatial];  // the shift of the sums
      double sum = 0, sum_sq = 0;
      for (int64_t n = 0; n < s.batch; ++n) {
        const float* row = x + (n * s.channels + c) * s.spatial;
        float a[kLanes] = {}, b[kLanes] = {};
        int64_t i = 0;
        for (; i + kLanes <= s.spatial; i += kLanes)
          for (int k = 0; k < kLanes; ++k) {
            const float d = row[i + k] - x0;
            a[k] += d;
            b[k] += d * d;
          }
        double row_sum = 0, row_sq = 0;
        for (; i < s.spatial; ++i) {
          const float d = row[i] - x0;
          row_sum += d;
          row_sq += static_cast<double>(d) * d;
        }
        for (int k = 0; k < kLanes; ++k) {
          row_sum += a[k];
          row_sq += b[k];
        }
        sum += row_sum;
        sum_sq += row_sq;
      }
      const double shifted_mean = sum / static_cast<double>(count);
      mean[c] = x0 + shifted_mean;
      biased_var[c] = std::max(0.0, sum_sq / static_cast<double>(count) - shifted_mean * shifted_mean);
      mean_f[c] = static_cast<float>(mean[c]);
      invstd_f[c] = static_cast<float>(1.0 / std::sqrt(biased_var[c] + eps));

      const Affine f(mean_f[c], invstd_f[c], gamma[c], beta[c]);
      for (int64_t n = 0; n < s.batch; ++n) {
        const float* in = x + (n * s.channels + c) * s.spatial;
        float* out = y + (n * s.channels + c) * s.spatial;
        if (relu6) {
          for (int64_t i = 0; i < s.spatial; ++i) out[i] = std::min(std::max(f(in[i]), 0.0f), 6.0f);
        } else {
          for (int64_t i = 0; i < s.spatial; ++i) out[i] = f(in[i]);
        }
      }
    }
  });
}

void batch_norm_backward_cpu(const float* x, const float* gy, float* gx, const BatchNormShape& s,
                             const float* mean, const float* invstd, const float* gamma, const float* beta,
                             bool relu6, float* dgamma, float* dbeta) {
  if (s.channels_last) return nhwc_backward(x, gy, gx, s, mean, invstd, gamma, beta, relu6, dgamma, dbeta);
  const double count = static_cast<double>(s.batch * s.spatial);
  at::parallel_for(0, s.channels, 1, [&](int64_t c_begin, int64_t c_end) {
    for (int64_t c = c_begin; c < c_end; ++c) {
      const Affine f(mean[c], invstd[c], gamma[c], beta[c]);
      const float m = mean[c], is = invstd[c];
      double sum_g = 0, sum_gx = 0;
      for (int64_t n = 0; n < s.batch; ++n) {
        const float* in = x + (n * s.channels + c) * s.spatial;
        const float* g = gy + (n * s.channels + c) * s.spatial;
        float a[kLanes] = {}, b[kLanes] = {};
        int64_t i = 0;
        for (; i + kLanes <= s.spatial; i += kLanes)
          for (int k = 0; k < kLanes; ++k) {
            const float v = in[i + k];
            const float gm = passes(f(v), relu6) ? g[i + k] : 0.0f;
            a[k] += gm;
            b[k] += gm * ((v - m) * is);
          }
        double row_g = 0, row_gx = 0;
        for (; i < s.spatial; ++i) {
          const float v = in[i];
          const float gm = passes(f(v), relu6) ? g[i] : 0.0f;
          row_g += gm;
          row_gx += static_cast<double>(gm) * ((v - m) * is);
        }
        for (int k = 0; k < kLanes; ++k) {
          row_g += a[k];
          row_gx += b[k];
        }
        sum_g += row_g;
        sum_gx += row_gx;
      }
      if (dbeta) dbeta[c] = static_cast<float>(sum_g);
      if (dgamma) dgamma[c] = static_cast<float>(sum_gx);
      if (!gx) continue;
      const float k1 = gamma[c] * is;
      const float mean_g = static_cast<float>(sum_g / count), mean_gx = static_cast<float>(sum_gx / count);
      for (int64_t n = 0; n < s.batch; ++n) {
        const float* in = x + (n * s.channels + c) * s.spatial;
        const float* g = gy + (n * s.channels + c) * s.spatial;
        float* out = gx + (n * s.channels + c) * s.spatial;
        for (int64_t i = 0; i < s.spatial; ++i) {
          const float v = in[i];
          const float gm = passes(f(v), relu6) ? g[i] : 0.0f;
          out[i] = k1 * (gm - mean_g - ((v - m) * is) * mean_gx);
        }
      }
    }
  });
}

}  // namespace nas::ops
