#pragma once
// The dedicated CPU kernel of the AdderNet convolution, on raw pointers (no LibTorch types here,
// so the translation unit stays cheap and can be compiled for the host's vector ISA).
//
// Data layout (all contiguous, row-major):
//   x  [N][C][H][W]          input
//   w  [O][C/G][R][S]        weight (G = groups)
//   y  [N][O][Ho][Wo]        output:  y[n,o,p] = -sum_k |x_col[n,k,p] - w[o,k]|
//   gy [N][O][Ho][Wo]        gradient of the loss w.r.t. y
//   gx [N][C][H][W]          dL/dx = col2im( sum_o gy[n,o,p] * clamp(w[o,k] - x_col[n,k,p], -1, 1) )
//   gw [O][C/G][R][S]        dL/dw = sum_{n,p} gy[n,o,p] * (x_col[n,k,p] - w[o,k])
//                                  = (gy . x_col^T)[o,k] - w[o,k] * sum_{n,p} gy[n,o,p]
// where k runs over (c, r, s) of one group and p over the Ho x Wo output positions.
//
// How it is computed: per (sample, group) task, the receptive fields are packed into panels of
// kPanel output positions ([panel][k][kPanel], im2col fused with packing), and a register-tiled
// micro-kernel accumulates |x - w| for a tile of output channels x kPanel positions, so the
// O x K x L difference tensor never exists. Tasks run in parallel (at::parallel_for); each
// thread owns its packing buffers and a partial dW that is reduced at the end.
#include <cstdint>

namespace nas::ops {

struct AdderConvShape {
  int64_t batch = 0, in_channels = 0, in_h = 0, in_w = 0;
  int64_t out_channels = 0, kernel_h = 0, kernel_w = 0;
  int64_t stride = 1, padding = 0, groups = 1;
  int64_t out_h() const { return (in_h + 2 * padding - kernel_h) / stride + 1; }
  int64_t out_w() const { return (in_w + 2 * padding - kernel_w) / stride + 1; }
};

// y must hold N*O*Ho*Wo values; it is fully overwritten.
template <typename T>
void adder_forward_cpu(const T* x, const T* w, T* y, const AdderConvShape& shape);

// gx (N*C*H*W) and gw (O*C/G*R*S) are fully overwritten; either may be null to skip it.
// gw is the raw full-precision gradient (no adaptive scaling).
template <typename T>
void adder_backward_cpu(const T* x, const T* w, const T* gy, T* gx, T* gw,
                        const AdderConvShape& shape);

// Name of the vector ISA the kernel was compiled for ("avx512", "avx2", "sse").
const char* adder_kernel_isa();

}  // namespace nas::ops
