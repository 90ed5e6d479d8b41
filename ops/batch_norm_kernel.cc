#include "ops/batch_norm_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

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

}  // namespace

void batch_norm_forward_cpu(const float* x, float* y, const BatchNormShape& s, const float* gamma,
                            const float* beta, double eps, bool relu6, double* mean, double* biased_var,
                            float* mean_f, float* invstd_f) {
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
