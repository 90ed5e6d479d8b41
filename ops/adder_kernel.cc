// Dedicated CPU kernel of the AdderNet convolution; see adder_kernel.h for the data layout.
// Compiled with -O3 (and -march=native when NAS_NATIVE_ARCH is on): the micro-kernels are
// written with GCC vector extensions so that they map onto the host's widest vector registers.
#include "ops/adder_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__AVX512DQ__)
#include <immintrin.h>
#endif

namespace nas::ops {
namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
constexpr const char* kIsa = "avx512";
#elif defined(__AVX2__)
constexpr int kVecBytes = 32;
constexpr const char* kIsa = "avx2";
#else
constexpr int kVecBytes = 16;
constexpr const char* kIsa = "sse";
#endif

template <typename T>
struct VecTraits;
template <>
struct VecTraits<float> {
  typedef float V __attribute__((vector_size(kVecBytes)));
  typedef int32_t M __attribute__((vector_size(kVecBytes)));
  static constexpr int32_t kAbsMask = 0x7fffffff;
};
template <>
struct VecTraits<double> {
  typedef double V __attribute__((vector_size(kVecBytes)));
  typedef int64_t M __attribute__((vector_size(kVecBytes)));
  static constexpr int64_t kAbsMask = 0x7fffffffffffffffLL;
};

// Tile geometry per element type. A panel is kNV vectors wide (kPanel output positions).
// With 32 registers (AVX-512) one vector per panel and taller tiles; with 16, two vectors.
template <typename T>
struct Tile {
  static constexpr int kLanes = kVecBytes / static_cast<int>(sizeof(T));
  static constexpr int kNV = (kVecBytes == 64 && kLanes >= 16) ? 1 : 2;
  static constexpr int kPanel = kNV * kLanes;
  static constexpr int kOR = kNV == 1 ? 12 : 6;   // forward / dW: output channels per tile
  static constexpr int kKR = kNV == 1 ? 8 : 2;    // dX: receptive-field rows per tile
};

template <typename V, typename T>
inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V, typename T>
inline void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}
// All lanes = s. (`V{} + s` would cost a scalar add: 0 + -0 is +0, so it cannot be folded.)
template <typename V, typename T>
inline V bcast(T s) {
  return s - V{};  // exact for every s (x - +0 == x, also for -0), so it folds to a broadcast
}
// clamp(d, -1, 1). With AVX512-DQ one VRANGEPS does it: the operand of smaller magnitude out of
// (d, 1), with the sign of d.
template <typename T>
inline typename VecTraits<T>::V clamp_unit(typename VecTraits<T>::V d,
                                           typename VecTraits<T>::V lo,
                                           typename VecTraits<T>::V hi) {
#if defined(__AVX512DQ__)
  if constexpr (std::is_same_v<T, float> && sizeof(d) == 64) {
    return reinterpret_cast<typename VecTraits<T>::V>(
        _mm512_range_ps(reinterpret_cast<__m512>(d), reinterpret_cast<__m512>(hi), 0x02));
  } else if constexpr (std::is_same_v<T, double> && sizeof(d) == 64) {
    return reinterpret_cast<typename VecTraits<T>::V>(
        _mm512_range_pd(reinterpret_cast<__m512d>(d), reinterpret_cast<__m512d>(hi), 0x02));
  }
#endif
  d = d < lo ? lo : d;
  return d > hi ? hi : d;
}

template <typename T>
inline typename VecTraits<T>::V vabs(typename VecTraits<T>::V v) {
  using M = typename VecTraits<T>::M;
  return reinterpret_cast<typename VecTraits<T>::V>(reinterpret_cast<M>(v) & VecTraits<T>::kAbsMask);
}

// Geometry of one call, shared by the packing routines.
struct Geometry {
  int64_t C, H, W, O, R, S, stride, padding, G;
  int64_t Cg, Og, K, Ho, Wo, L, panels, Lp;  // Lp = panels * kPanel
  std::vector<int64_t> k_chan, k_r, k_s;     // per receptive-field row k: (c, r, s)

  template <typename T>
  static Geometry make(const AdderConvShape& s) {
    Geometry g;
    g.C = s.in_channels; g.H = s.in_h; g.W = s.in_w; g.O = s.out_channels;
    g.R = s.kernel_h; g.S = s.kernel_w; g.stride = s.stride; g.padding = s.padding; g.G = s.groups;
    g.Cg = g.C / g.G; g.Og = g.O / g.G; g.K = g.Cg * g.R * g.S;
    g.Ho = s.out_h(); g.Wo = s.out_w(); g.L = g.Ho * g.Wo;
    constexpr int P = Tile<T>::kPanel;
    g.panels = (g.L + P - 1) / P;
    g.Lp = g.panels * P;
    g.k_chan.resize(g.K); g.k_r.resize(g.K); g.k_s.resize(g.K);
    for (int64_t k = 0; k < g.K; ++k) {
      g.k_chan[k] = k / (g.R * g.S);
      g.k_r[k] = (k / g.S) % g.R;
      g.k_s[k] = k % g.S;
    }
    return g;
  }
};

// Valid output columns [ow_lo, ow_hi) of receptive-field column s: 0 <= ow*stride - pad + s < W.
inline void valid_columns(const Geometry& g, int64_t s, int64_t* ow_lo, int64_t* ow_hi) {
  const int64_t lead = g.padding - s;  // need ow*stride >= lead
  *ow_lo = lead > 0 ? (lead + g.stride - 1) / g.stride : 0;
  const int64_t last = g.W - 1 + g.padding - s;  // need ow*stride <= last
  *ow_hi = last < 0 ? 0 : std::min(g.Wo, last / g.stride + 1);
  if (*ow_lo > *ow_hi) *ow_lo = *ow_hi;
}

// One row of the im2col matrix: row[p] = x_col[k][p] for p < L, 0 for L <= p < Lp.
// Interior segments are contiguous copies for stride 1.
template <typename T>
void im2col_row(const T* xg, const Geometry& g, int64_t k, T* row) {
  const T* plane = xg + g.k_chan[k] * g.H * g.W;
  const int64_t r = g.k_r[k], s = g.k_s[k];
  int64_t ow_lo, ow_hi;
  valid_columns(g, s, &ow_lo, &ow_hi);
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    T* dst = row + oh * g.Wo;
    const int64_t ih = oh * g.stride - g.padding + r;
    if (ih < 0 || ih >= g.H || ow_lo == ow_hi) {
      std::fill(dst, dst + g.Wo, T(0));
      continue;
    }
    const T* src = plane + ih * g.W - g.padding + s;  // src[ow*stride] is the tap of column ow
    std::fill(dst, dst + ow_lo, T(0));
    if (g.stride == 1) {
      std::memcpy(dst + ow_lo, src + ow_lo, (ow_hi - ow_lo) * sizeof(T));
    } else {
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow] = src[ow * g.stride];
    }
    std::fill(dst + ow_hi, dst + g.Wo, T(0));
  }
  std::fill(row + g.L, row + g.Lp, T(0));
}

// The adjoint of im2col_row: plane taps += row[p] for the valid positions of row k.
template <typename T>
void col2im_row_add(const T* row, const Geometry& g, int64_t k, T* gxg) {
  T* plane = gxg + g.k_chan[k] * g.H * g.W;
  const int64_t r = g.k_r[k], s = g.k_s[k];
  int64_t ow_lo, ow_hi;
  valid_columns(g, s, &ow_lo, &ow_hi);
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const int64_t ih = oh * g.stride - g.padding + r;
    if (ih < 0 || ih >= g.H) continue;
    const T* src = row + oh * g.Wo;
    T* dst = plane + ih * g.W - g.padding + s;
    if (g.stride == 1) {
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow] += src[ow];
    } else {
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow * g.stride] += src[ow];
    }
  }
}

// im2col fused with packing: out[pb][k][j] = x_col[k][pb*P + j] (0 past L). `row` holds Lp values.
template <typename T>
void pack_input_panels(const T* xg, const Geometry& g, T* row, T* out) {
  constexpr int P = Tile<T>::kPanel;
  for (int64_t k = 0; k < g.K; ++k) {
    im2col_row(xg, g, k, row);
    for (int64_t pb = 0; pb < g.panels; ++pb)
      std::memcpy(out + (pb * g.K + k) * P, row + pb * P, P * sizeof(T));
  }
}

// Calls f(std::integral_constant<int, rows>{}) for 1 <= rows <= Max: the micro-kernels take the
// tile height as a template argument so that their accumulators stay in registers.
template <typename F, int... I>
inline void dispatch_rows_impl(int rows, F& f, std::integer_sequence<int, I...>) {
  ((rows == I + 1 ? (f(std::integral_constant<int, I + 1>{}), true) : false) || ...);
}
template <int Max, typename F>
inline void dispatch_rows(int rows, F&& f) {
  dispatch_rows_impl(rows, f, std::make_integer_sequence<int, Max>{});
}

// Forward micro-kernel: tile[r][j] = -sum_k |xpanel[k][j] - wpanel[k][r]| for r < OR.
template <typename T, int OR>
inline void forward_tile(const T* xpanel, const T* wpanel, int64_t K, T* tile) {
  using V = typename VecTraits<T>::V;
  constexpr int NV = Tile<T>::kNV, L = Tile<T>::kLanes, P = Tile<T>::kPanel, WS = Tile<T>::kOR;
  V acc[OR][NV];
  for (int r = 0; r < OR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  for (int64_t k = 0; k < K; ++k) {
    V xv[NV];
    for (int v = 0; v < NV; ++v) xv[v] = load<V>(xpanel + k * P + v * L);
    for (int r = 0; r < OR; ++r) {
      const V wb = bcast<V>(wpanel[k * WS + r]);
      for (int v = 0; v < NV; ++v) acc[r][v] += vabs<T>(xv[v] - wb);
    }
  }
  for (int r = 0; r < OR; ++r)
    for (int v = 0; v < NV; ++v) store(tile + r * P + v * L, -acc[r][v]);
}


// dX micro-kernel: dx[r][j] = sum_o gpanel[o][j] * clamp(wt[o][r] - xpanel[r][j], -1, 1).
template <typename T, int KR>
inline void dx_tile(const T* xpanel, const T* gpanel, const T* wt, int64_t Og, T* dxpanel) {
  using V = typename VecTraits<T>::V;
  constexpr int NV = Tile<T>::kNV, L = Tile<T>::kLanes, P = Tile<T>::kPanel, WS = Tile<T>::kKR;
  const V lo = bcast<V>(T(-1)), hi = bcast<V>(T(1));
  V xv[KR][NV], acc[KR][NV];
  for (int r = 0; r < KR; ++r)
    for (int v = 0; v < NV; ++v) {
      xv[r][v] = load<V>(xpanel + r * P + v * L);
      acc[r][v] = V{};
    }
  for (int64_t o = 0; o < Og; ++o) {
    V gv[NV];
    for (int v = 0; v < NV; ++v) gv[v] = load<V>(gpanel + o * P + v * L);
    for (int r = 0; r < KR; ++r) {
      const V wb = bcast<V>(wt[o * WS + r]);
      for (int v = 0; v < NV; ++v) {
        acc[r][v] += gv[v] * clamp_unit<T>(wb - xv[r][v], lo, hi);
      }
    }
  }
  for (int r = 0; r < KR; ++r)
    for (int v = 0; v < NV; ++v) store(dxpanel + r * P + v * L, acc[r][v]);
}


// dW micro-kernel (outer products over p): dw[r][j] += sum_p gy[r][p] * xt[p][j].
template <typename T, int OR>
inline void dw_tile(const T* xt, const T* gy, int64_t L, T* dw, int64_t dw_stride, int cols) {
  using V = typename VecTraits<T>::V;
  constexpr int NV = Tile<T>::kNV, LN = Tile<T>::kLanes, P = Tile<T>::kPanel;
  V acc[OR][NV];
  for (int r = 0; r < OR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  for (int64_t p = 0; p < L; ++p) {
    V xv[NV];
    for (int v = 0; v < NV; ++v) xv[v] = load<V>(xt + p * P + v * LN);
    for (int r = 0; r < OR; ++r) {
      const V gb = bcast<V>(gy[r * L + p]);
      for (int v = 0; v < NV; ++v) acc[r][v] += gb * xv[v];
    }
  }
  T buffer[P];
  for (int r = 0; r < OR; ++r) {
    for (int v = 0; v < NV; ++v) store(buffer + v * LN, acc[r][v]);
    T* row = dw + r * dw_stride;
    for (int j = 0; j < cols; ++j) row[j] += buffer[j];
  }
}


inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Per-thread scratch, grown on demand and reused across tasks.
template <typename T>
struct Scratch {
  std::vector<T> row, xpack, gpack, dxpack, xt, tile;
};


// ---- depthwise (one input and one output channel per group) --------------------------------
// Planes are small (e.g. 14x14), so vectors run across channels instead: a task takes one sample
// and a block of kLanes channels, transposed into a zero-padded [Hp][Wp][kLanes] buffer, and
// every tap is then one full-vector operation with a per-channel weight vector. Padding taps
// read 0 exactly as in the im2col formulation. Lanes past the last channel carry stale values
// whose results are never written back.

template <typename T>
struct DepthwiseScratch {
  std::vector<T> xp, gp, dxp;
};

// out[(ih + pad) * Wp + iw + pad][cc] = planes[cc][ih][iw] for cc < channels.
template <typename T>
void gather_channel_block(const T* planes, int64_t channels, const Geometry& g, T* out) {
  constexpr int64_t CB = Tile<T>::kLanes;
  const int64_t Wp = g.W + 2 * g.padding;
  for (int64_t cc = 0; cc < channels; ++cc) {
    const T* plane = planes + cc * g.H * g.W;
    for (int64_t ih = 0; ih < g.H; ++ih) {
      T* dst = out + ((ih + g.padding) * Wp + g.padding) * CB + cc;
      for (int64_t iw = 0; iw < g.W; ++iw) dst[iw * CB] = plane[ih * g.W + iw];
    }
  }
}

// Weights as per-channel vectors: [block][r*S + s][lane] (0 past the last channel).
template <typename T>
std::vector<T> depthwise_weight_vectors(const T* w, const Geometry& g) {
  constexpr int64_t CB = Tile<T>::kLanes;
  const int64_t RS = g.R * g.S;
  std::vector<T> wv(static_cast<size_t>(ceil_div(g.C, CB) * RS * CB), T(0));
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t rs = 0; rs < RS; ++rs) wv[((c / CB) * RS + rs) * CB + c % CB] = w[c * RS + rs];
  return wv;
}

template <typename T>
void depthwise_forward(const T* x, const T* w, T* y, const Geometry& g, int64_t N) {
  using V = typename VecTraits<T>::V;
  constexpr int64_t CB = Tile<T>::kLanes;
  const int64_t Hp = g.H + 2 * g.padding, Wp = g.W + 2 * g.padding, RS = g.R * g.S;
  const int64_t blocks = ceil_div(g.C, CB);
  const std::vector<T> wv = depthwise_weight_vectors(w, g);
  std::vector<DepthwiseScratch<T>> scratch(static_cast<size_t>(std::max(1, at::get_num_threads())));
  at::parallel_for(0, N * blocks, 1, [&](int64_t begin, int64_t end) {
    DepthwiseScratch<T>& sc = scratch[static_cast<size_t>(at::get_thread_num()) % scratch.size()];
    sc.xp.assign(static_cast<size_t>(Hp * Wp * CB), T(0));
    sc.gp.resize(static_cast<size_t>(g.L * CB));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, cb = task % blocks, c0 = cb * CB;
      const int64_t channels = std::min(CB, g.C - c0);
      gather_channel_block(x + (n * g.C + c0) * g.H * g.W, channels, g, sc.xp.data());
      const T* wblock = wv.data() + cb * RS * CB;
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          V acc = V{};
          for (int64_t r = 0; r < g.R; ++r) {
            const T* row = sc.xp.data() + ((oh * g.stride + r) * Wp + ow * g.stride) * CB;
            for (int64_t s = 0; s < g.S; ++s)
              acc += vabs<T>(load<V>(row + s * CB) - load<V>(wblock + (r * g.S + s) * CB));
          }
          store(sc.gp.data() + (oh * g.Wo + ow) * CB, -acc);
        }
      }
      for (int64_t cc = 0; cc < channels; ++cc) {
        T* yp = y + (n * g.C + c0 + cc) * g.L;
        for (int64_t p = 0; p < g.L; ++p) yp[p] = sc.gp[p * CB + cc];
      }
    }
  });
}

template <typename T>
void depthwise_backward(const T* x, const T* w, const T* gy, T* gx, T* gw, const Geometry& g,
                        int64_t N) {
  using V = typename VecTraits<T>::V;
  constexpr int64_t CB = Tile<T>::kLanes;
  const int64_t Hp = g.H + 2 * g.padding, Wp = g.W + 2 * g.padding, RS = g.R * g.S;
  const int64_t blocks = ceil_div(g.C, CB);
  const std::vector<T> wv = depthwise_weight_vectors(w, g);
  const int threads = std::max(1, at::get_num_threads());
  std::vector<DepthwiseScratch<T>> scratch(static_cast<size_t>(threads));
  // Per-thread partial dW as vectors: [thread][block][rs][lane].
  std::vector<std::vector<T>> gw_part(static_cast<size_t>(threads));
  at::parallel_for(0, N * blocks, 1, [&](int64_t begin, int64_t end) {
    const size_t tid = static_cast<size_t>(at::get_thread_num()) % scratch.size();
    DepthwiseScratch<T>& sc = scratch[tid];
    sc.xp.assign(static_cast<size_t>(Hp * Wp * CB), T(0));
    sc.gp.resize(static_cast<size_t>(g.L * CB));
    sc.dxp.resize(static_cast<size_t>(Hp * Wp * CB));
    if (gw && gw_part[tid].empty()) gw_part[tid].assign(static_cast<size_t>(blocks * RS * CB), T(0));
    const V lo = bcast<V>(T(-1)), hi = bcast<V>(T(1));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, cb = task % blocks, c0 = cb * CB;
      const int64_t channels = std::min(CB, g.C - c0);
      gather_channel_block(x + (n * g.C + c0) * g.H * g.W, channels, g, sc.xp.data());
      for (int64_t cc = 0; cc < channels; ++cc) {
        const T* gplane = gy + (n * g.C + c0 + cc) * g.L;
        for (int64_t p = 0; p < g.L; ++p) sc.gp[p * CB + cc] = gplane[p];
      }
      if (gx) std::fill(sc.dxp.begin(), sc.dxp.end(), T(0));
      const T* wblock = wv.data() + cb * RS * CB;
      T* gwp = gw ? gw_part[tid].data() + cb * RS * CB : nullptr;
      for (int64_t r = 0; r < g.R; ++r) {
        for (int64_t s = 0; s < g.S; ++s) {
          const V wr = load<V>(wblock + (r * g.S + s) * CB);
          V gw_acc = V{};
          for (int64_t oh = 0; oh < g.Ho; ++oh) {
            for (int64_t ow = 0; ow < g.Wo; ++ow) {
              const V gv = load<V>(sc.gp.data() + (oh * g.Wo + ow) * CB);
              const int64_t at = ((oh * g.stride + r) * Wp + ow * g.stride + s) * CB;
              const V d = wr - load<V>(sc.xp.data() + at);
              gw_acc -= gv * d;  // g * (x - w)
              // Each position is a whole vector: no partially overlapping stores.
              if (gx) store(sc.dxp.data() + at, load<V>(sc.dxp.data() + at) + gv * clamp_unit<T>(d, lo, hi));
            }
          }
          if (gw) store(gwp + (r * g.S + s) * CB, load<V>(gwp + (r * g.S + s) * CB) + gw_acc);
        }
      }
      if (gx) {
        for (int64_t cc = 0; cc < channels; ++cc) {
          T* plane = gx + (n * g.C + c0 + cc) * g.H * g.W;
          for (int64_t ih = 0; ih < g.H; ++ih) {
            const T* src = sc.dxp.data() + ((ih + g.padding) * Wp + g.padding) * CB + cc;
            for (int64_t iw = 0; iw < g.W; ++iw) plane[ih * g.W + iw] = src[iw * CB];
          }
        }
      }
    }
  });
  if (gw) {
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t rs = 0; rs < RS; ++rs) {
        T acc = 0;
        for (int t = 0; t < threads; ++t)
          if (!gw_part[t].empty()) acc += gw_part[t][((c / CB) * RS + rs) * CB + c % CB];
        gw[c * RS + rs] = acc;
      }
  }
}

}  // namespace

const char* adder_kernel_isa() { return kIsa; }

template <typename T>
void adder_forward_cpu(const T* x, const T* w, T* y, const AdderConvShape& shape) {
  constexpr int P = Tile<T>::kPanel, OR = Tile<T>::kOR;
  const Geometry g = Geometry::make<T>(shape);
  const int64_t N = shape.batch, K = g.K, Og = g.Og, G = g.G, L = g.L;
  if (g.Cg == 1 && Og == 1) return depthwise_forward(x, w, y, g, N);
  // Weight panels: wpack[grp][ob][k][r] = w[grp*Og + ob*OR + r][k] (0 past Og).
  const int64_t o_blocks = ceil_div(Og, OR);
  std::vector<T> wpack(static_cast<size_t>(G * o_blocks * K * OR), T(0));
  for (int64_t grp = 0; grp < G; ++grp)
    for (int64_t o = 0; o < Og; ++o)
      for (int64_t k = 0; k < K; ++k)
        wpack[((grp * o_blocks + o / OR) * K + k) * OR + o % OR] = w[(grp * Og + o) * K + k];

  std::vector<Scratch<T>> scratch(static_cast<size_t>(std::max(1, at::get_num_threads())));
  at::parallel_for(0, N * G, 1, [&](int64_t begin, int64_t end) {
    Scratch<T>& s = scratch[static_cast<size_t>(at::get_thread_num()) % scratch.size()];
    s.row.resize(static_cast<size_t>(g.Lp));
    s.xpack.resize(static_cast<size_t>(g.panels * K * P));
    s.tile.resize(static_cast<size_t>(OR * P));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / G, grp = task % G;
      pack_input_panels(x + (n * g.C + grp * g.Cg) * g.H * g.W, g, s.row.data(), s.xpack.data());
      T* yg = y + (n * g.O + grp * Og) * L;
      for (int64_t pb = 0; pb < g.panels; ++pb) {
        const int cols = static_cast<int>(std::min<int64_t>(P, L - pb * P));
        for (int64_t ob = 0; ob < o_blocks; ++ob) {
          const int rows = static_cast<int>(std::min<int64_t>(OR, Og - ob * OR));
          dispatch_rows<OR>(rows, [&](auto n) {
            forward_tile<T, decltype(n)::value>(s.xpack.data() + pb * K * P,
                                                wpack.data() + (grp * o_blocks + ob) * K * OR, K,
                                                s.tile.data());
          });
          for (int r = 0; r < rows; ++r)
            std::memcpy(yg + (ob * OR + r) * L + pb * P, s.tile.data() + r * P, cols * sizeof(T));
        }
      }
    }
  });
}

template <typename T>
void adder_backward_cpu(const T* x, const T* w, const T* gy, T* gx, T* gw,
                        const AdderConvShape& shape) {
  constexpr int P = Tile<T>::kPanel, OR = Tile<T>::kOR, KR = Tile<T>::kKR;
  const Geometry g = Geometry::make<T>(shape);
  const int64_t N = shape.batch, K = g.K, Og = g.Og, G = g.G, L = g.L;
  if (g.Cg == 1 && Og == 1) return depthwise_backward(x, w, gy, gx, gw, g, N);
  const int64_t k_blocks = ceil_div(K, KR);   // dX tiles
  const int64_t kt_blocks = ceil_div(K, P);   // dW column blocks (xt layout)
  // W^T panels for dX: wt[grp][kb][o][r] = w[grp*Og + o][kb*KR + r] (0 past K).
  std::vector<T> wt;
  if (gx) {
    wt.assign(static_cast<size_t>(G * k_blocks * Og * KR), T(0));
    for (int64_t grp = 0; grp < G; ++grp)
      for (int64_t o = 0; o < Og; ++o)
        for (int64_t k = 0; k < K; ++k)
          wt[((grp * k_blocks + k / KR) * Og + o) * KR + k % KR] = w[(grp * Og + o) * K + k];
    std::fill(gx, gx + N * g.C * g.H * g.W, T(0));
  }
  const int threads = std::max(1, at::get_num_threads());
  // Per-thread partial (gy . x_col^T) and row sums of gy, reduced after the parallel loop.
  std::vector<std::vector<T>> dw_part, rowsum_part;
  if (gw) {
    dw_part.assign(threads, std::vector<T>(static_cast<size_t>(g.O * K), T(0)));
    rowsum_part.assign(threads, std::vector<T>(static_cast<size_t>(g.O), T(0)));
  }
  std::vector<Scratch<T>> scratch(static_cast<size_t>(threads));

  at::parallel_for(0, N * G, 1, [&](int64_t begin, int64_t end) {
    const size_t tid = static_cast<size_t>(at::get_thread_num()) % scratch.size();
    Scratch<T>& s = scratch[tid];
    s.row.resize(static_cast<size_t>(g.Lp));
    s.xpack.resize(static_cast<size_t>(g.panels * K * P));
    if (gx) {
      s.gpack.resize(static_cast<size_t>(g.panels * Og * P));
      s.dxpack.resize(static_cast<size_t>(g.panels * k_blocks * KR * P));
    }
    if (gw) s.xt.resize(static_cast<size_t>(kt_blocks * L * P));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / G, grp = task % G;
      const T* xg = x + (n * g.C + grp * g.Cg) * g.H * g.W;
      const T* gyg = gy + (n * g.O + grp * Og) * L;
      pack_input_panels(xg, g, s.row.data(), s.xpack.data());

      if (gx) {
        // gy panels: gpack[pb][o][j] = gy[o][pb*P + j] (0 past L).
        std::fill(s.gpack.begin(), s.gpack.end(), T(0));
        for (int64_t pb = 0; pb < g.panels; ++pb) {
          const int64_t cols = std::min<int64_t>(P, L - pb * P);
          for (int64_t o = 0; o < Og; ++o)
            std::memcpy(s.gpack.data() + (pb * Og + o) * P, gyg + o * L + pb * P, cols * sizeof(T));
        }
        // dX_col panels, then col2im into this sample's (and group's) channels.
        const int64_t dx_rows = k_blocks * KR;  // dxpack[pb][k][j], k padded to a KR multiple
        for (int64_t pb = 0; pb < g.panels; ++pb) {
          for (int64_t kb = 0; kb < k_blocks; ++kb) {
            const int rows = static_cast<int>(std::min<int64_t>(KR, K - kb * KR));
            dispatch_rows<KR>(rows, [&](auto n) {
              dx_tile<T, decltype(n)::value>(s.xpack.data() + (pb * K + kb * KR) * P,
                                             s.gpack.data() + pb * Og * P,
                                             wt.data() + (grp * k_blocks + kb) * Og * KR, Og,
                                             s.dxpack.data() + (pb * dx_rows + kb * KR) * P);
            });
          }
        }
        T* gxg = gx + (n * g.C + grp * g.Cg) * g.H * g.W;
        for (int64_t k = 0; k < K; ++k) {
          for (int64_t pb = 0; pb < g.panels; ++pb)
            std::memcpy(s.row.data() + pb * P, s.dxpack.data() + (pb * dx_rows + k) * P,
                        P * sizeof(T));
          col2im_row_add(s.row.data(), g, k, gxg);
        }
      }

      if (gw) {
        // xt[kb][p][j] = x_col[kb*P + j][p]: P x P block transposes of the panels (0 past K).
        for (int64_t kb = 0; kb < kt_blocks; ++kb) {
          const int64_t kcols = std::min<int64_t>(P, K - kb * P);
          for (int64_t pb = 0; pb < g.panels; ++pb) {
            const int64_t cols = std::min<int64_t>(P, L - pb * P);
            const T* src = s.xpack.data() + (pb * K + kb * P) * P;  // [j][jj]
            T* dst = s.xt.data() + (kb * L + pb * P) * P;           // [jj][j]
            for (int64_t jj = 0; jj < cols; ++jj) {
              T* out = dst + jj * P;
              for (int64_t j = 0; j < kcols; ++j) out[j] = src[j * P + jj];
              for (int64_t j = kcols; j < P; ++j) out[j] = T(0);
            }
          }
        }
        T* dwp = dw_part[tid].data() + grp * Og * K;
        T* rs = rowsum_part[tid].data() + grp * Og;
        for (int64_t o = 0; o < Og; ++o) {
          T sum = 0;
          for (int64_t p = 0; p < L; ++p) sum += gyg[o * L + p];
          rs[o] += sum;
        }
        for (int64_t kb = 0; kb < kt_blocks; ++kb) {
          const int cols = static_cast<int>(std::min<int64_t>(P, K - kb * P));
          for (int64_t ob = 0; ob < ceil_div(Og, OR); ++ob) {
            const int rows = static_cast<int>(std::min<int64_t>(OR, Og - ob * OR));
            dispatch_rows<OR>(rows, [&](auto n) {
              dw_tile<T, decltype(n)::value>(s.xt.data() + kb * L * P, gyg + ob * OR * L, L,
                                             dwp + ob * OR * K + kb * P, K, cols);
            });
          }
        }
      }
    }
  });

  if (gw) {
    // dW = sum_threads (gy . x_col^T) - w * rowsum(gy)
    for (int64_t o = 0; o < g.O; ++o) {
      T rowsum = 0;
      for (int t = 0; t < threads; ++t) rowsum += rowsum_part[t][o];
      for (int64_t k = 0; k < K; ++k) {
        T acc = 0;
        for (int t = 0; t < threads; ++t) acc += dw_part[t][o * K + k];
        gw[o * K + k] = acc - w[o * K + k] * rowsum;
      }
    }
  }
}

template void adder_forward_cpu<float>(const float*, const float*, float*, const AdderConvShape&);
template void adder_forward_cpu<double>(const double*, const double*, double*,
                                        const AdderConvShape&);
template void adder_backward_cpu<float>(const float*, const float*, const float*, float*, float*,
                                        const AdderConvShape&);
template void adder_backward_cpu<double>(const double*, const double*, const double*, double*,
                                         double*, const AdderConvShape&);

}  // namespace nas::ops
