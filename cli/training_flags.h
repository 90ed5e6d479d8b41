#pragma once
// The flags of the ShiftAddAug training recipe, shared by nas_retrain and nas_train_supernet
// (each flag defined once; defaults from TrainerOptions / HybridNetOptions, the one place).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_common.h"
#include "supernet/gloo_data_parallel.h"
#include "supernet/hybrid_net.h"
#include "supernet/shiftaddaug_trainer.h"

namespace nas::cli {

struct TrainingFlags {
  std::string aug = "shiftaddaug";
  std::string expand_list, width_list, sort_mode;
  double warmup_epochs = -1;  // -1: 5 % of the epochs, at most 5
  bool no_cross_term = false, no_sort = false, resume = false;
  int64_t checkpoint_every = 0;
  int nproc = 1;  // data-parallel ranks to launch on this machine
  std::string device = "cpu";
  std::string memory_format;  // --memory-format: channels-last | nchw (default from HybridNetOptions)
  TrainerOptions trainer;
  HybridNetOptions net;

  TrainingFlags();  // the list flags' defaults from the options structs
};

// --epochs --lr --warmup-epochs --weight-decay --label-smoothing --aug --alpha
// --stop-width-aug-fraction --stop-expand-aug-fraction --expand-list --width-list --no-cross-term
// --sort-channels --no-sort --eta --remap-eta --shift-bits --remap-kl-weight --bn-batches --device
// --checkpoint-every --resume --nproc --micro-batches --aug-micro-batches --memory-format
void add_training_flags(po::options_description& desc, TrainingFlags& flags);

// After parsing: fills flags.trainer / flags.net from the text flags (aug lists, sort mode,
// warm-up default, augment, seed, device) and validates them; errors name the flags.
void apply_training_flags(TrainingFlags& flags, uint64_t seed);

// Data-parallel training (README "Distributed training"). With --nproc N > 1 in a process that is
// not yet a rank: launches N ranks of this program on this machine and returns the job's exit
// code (the caller returns it). Otherwise nullopt: the caller trains.
std::optional<int> launch_ranks_if_requested(const TrainingFlags& flags, const std::string& program, int argc,
                                             char** argv);
// In a rank (WORLD_SIZE > 1, from the launcher or torchrun-style variables): joins the process
// group; else null. --nproc, when given, must equal WORLD_SIZE.
std::unique_ptr<GlooDataParallel> join_process_group(const TrainingFlags& flags, const po::variables_map& vm);

}  // namespace nas::cli
