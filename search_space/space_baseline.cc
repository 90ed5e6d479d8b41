#include "search_space/space_baseline.h"

#include "core/error.h"
#include "search_space/named_archs.h"

namespace nas {

std::string SpaceBaseline::label() const { return name + ":" + op_kind_name(op); }

SpaceBaseline space_baseline(const std::string& name_op, const ArchSpace& space) {
  NAS_CHECK(!space.resolutions.empty() && !space.ops.empty(), "space: resolutions and ops must not be empty");
  SpaceBaseline b;
  const size_t colon = name_op.find(':');
  b.name = name_op.substr(0, colon);
  NAS_CHECK(!b.name.empty(),
            "baseline '" << name_op << "': the name is empty (NAME or NAME:OP, e.g. mbv2-micro:shift)");
  if (colon != std::string::npos) {
    const std::string op = name_op.substr(colon + 1);
    NAS_CHECK(!op.empty(), "baseline '" << name_op << "': the op after ':' is empty (mult, shift or add)");
    b.op = parse_op_kind(op);
  } else if (space.ops.size() == 1) {
    b.op = space.ops.front();
  } else {
    std::string choices;
    for (OpKind op : space.ops) choices += std::string(choices.empty() ? "" : " or ") + b.name + ":" + op_kind_name(op);
    NAS_THROW("baseline '" << b.name << "': the space has several ops: name the op: " << choices);
  }
  b.arch = named_arch(b.name, space.resolutions.back(), space.in_channels, space.num_classes);
  set_all_ops(b.arch, b.op);
  b.space_violation = space.violation(b.arch);
  return b;
}

}  // namespace nas
