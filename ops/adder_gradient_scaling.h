#pragma once
// AdderNet's adaptive gradient scaling as one function, shared by the adder layers' backward
// (ops/adder_conv2d.cc, ops/adder_reference.cc) and the hybrid network's once-per-step scaling of
// the accumulated gradient (supernet/hybrid_net.cc). Defined in ops/adder_conv2d.cc.

#include <torch/types.h>

namespace nas::ops {

// In place: g <- eta * sqrt(numel(g)) * g / ||g||_2, with the norm of a contiguous copy (so that
// the scale of a slice does not depend on the tensor around it). g may be a view (a slice of a
// gradient): the tensor it views is scaled. Leaves g as it is, and returns false, when g is
// undefined, empty, zero or not finite, or when the scale does not fit g's dtype (relative adder
// scaling multiplies eta by the weights' RMS: at RMS ~3e17 and a gradient of ~1e-20 the float scale
// overflowed to inf, and 0 * inf put NaN into the weights). Returns true when g was scaled.
bool scale_gradient_to_norm(const torch::Tensor& g, double eta);

}  // namespace nas::ops
