#pragma once
// A hand-made network (named_archs.h) built for a search space: `--baseline NAME[:OP]` and
// `--budget-from-baseline NAME[:OP]` (nas_search, nas_arms).
//
// The network is named_arch(NAME) for the space's input: its LARGEST resolution (the data's own
// in the committed spaces: 28 for Fashion-MNIST, 32 for CIFAR), its in_channels and num_classes;
// every block and the head conv get OP (set_all_ops; stem and classifier stay as the network
// defines them). Without ":OP" the op is the space's, which must then be a single one (a space of
// several ops makes the choice an error that lists them). The result need not be in the space
// (space_violation says why not); the scaled arm (workflow/baseline_arms.h) varies it inside it.
#include <string>

#include "search_space/arch_config.h"
#include "search_space/arch_space.h"

namespace nas {

struct SpaceBaseline {
  std::string name;  // "mbv2-micro"
  OpKind op = OpKind::Shift;
  ArchConfig arch;
  std::string space_violation;  // "" when arch is in the space, else why not

  // "mbv2-micro:shift"
  std::string label() const;
};

// Throws nas::Error for an unknown name or op ("unknown architecture ..."), an empty part, or a
// missing op when the space has several ("name the op: mbv2-micro:shift or mbv2-micro:add").
SpaceBaseline space_baseline(const std::string& name_op, const ArchSpace& space);

}  // namespace nas
