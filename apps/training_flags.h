#pragma once
// The flags of the ShiftAddAug training recipe, shared by nas_retrain and nas_train_supernet
// (each flag defined once; defaults from TrainerOptions / HybridNetOptions, the one place).
#include <cstdint>
#include <string>

#include "apps/cli_common.h"
#include "supernet/hybrid_net.h"
#include "supernet/shiftaddaug_trainer.h"

namespace nas::cli {

struct TrainingFlags {
  std::string aug = "shiftaddaug";
  std::string expand_list, width_list, sort_mode;
  double warmup_epochs = -1;  // -1: 5 % of the epochs, at most 5
  bool no_cross_term = false, no_sort = false, resume = false;
  int64_t checkpoint_every = 0;
  std::string device = "cpu";
  TrainerOptions trainer;
  HybridNetOptions net;

  TrainingFlags();  // the list flags' defaults from the options structs
};

// --epochs --lr --warmup-epochs --weight-decay --label-smoothing --aug --alpha
// --stop-width-aug-fraction --stop-expand-aug-fraction --expand-list --width-list --no-cross-term
// --sort-channels --no-sort --eta --remap-eta --shift-bits --remap-kl-weight --bn-batches --device
// --checkpoint-every --resume
void add_training_flags(po::options_description& desc, TrainingFlags& flags);

// After parsing: fills flags.trainer / flags.net from the text flags (aug lists, sort mode,
// warm-up default, augment, seed, device) and validates them; errors name the flags.
void apply_training_flags(TrainingFlags& flags, uint64_t seed);

}  // namespace nas::cli
