#pragma once
// The arithmetic of a layer: multiplication (plain conv), bit shift (DeepShift) or addition
// (AdderNet). Torch-free so the energy model and the search can use it.
#include <string>

namespace nas {

enum class OpKind { Mult, Shift, Add };

// "mult" | "shift" | "add"
const char* op_kind_name(OpKind op);
// Parses "mult" | "shift" | "add"; throws nas::Error naming the accepted values otherwise.
OpKind parse_op_kind(const std::string& name);

}  // namespace nas
