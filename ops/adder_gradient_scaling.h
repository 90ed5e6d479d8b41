#pragma once
// AdderNet's adaptive gradient scaling as one function, shared by the adder layers' backward
// (ops/adder_conv2d.cc, ops/adder_reference.cc) and the hybrid network's once-per-step scaling of
// the accumulated gradient (supernet/hybrid_net.cc). Defined in ops/adder_conv2d.cc.

#include <torch/types.h>

namespace nas::ops {

// In place: g <- eta * sqrt(numel(g)) * g / ||g||_2, with the norm of a contiguous copy (so that
// the scale of a slice does not depend on the tensor around it). Leaves g as it is, and returns
// false, when g is undefined, empty, zero or not finite, or when the scale does not fit g's dtype:
// a float gradient with a norm below ~3e-39 * eta * sqrt(numel) has underflowed and carries no
// direction, and multiplying it by an infinite scale would turn its zeros into NaN (0 * inf) and
// the weights with them. Returns true when g was scaled.
bool scale_gradient_to_norm(torch::Tensor& g, double eta);

}  // namespace nas::ops
