#include "search_space/op_kind.h"

#include "core/error.h"

namespace nas {

const char* op_kind_name(OpKind op) {
  switch (op) {
    case OpKind::Mult: return "mult";
    case OpKind::Shift: return "shift";
    case OpKind::Add: return "add";
  }
  return "unknown";
}

OpKind parse_op_kind(const std::string& name) {
  if (name == "mult") return OpKind::Mult;
  if (name == "shift") return OpKind::Shift;
  if (name == "add") return OpKind::Add;
  NAS_THROW("unknown op kind '" << name << "' (accepted: mult, shift, add)");
}

}  // namespace nas
