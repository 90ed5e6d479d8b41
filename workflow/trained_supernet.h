#pragma once
// A trained supernet as nas_train_supernet left it (docs/DESIGN.md, "workflow/"; DIR/space.json, supernet.json,
// supernet.ckpt), loaded with its data split: what nas_extract and nas_build_acc_dataset start
// from. One definition of what such a directory holds.
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/json_util.h"
#include "datasets/experiment_data.h"
#include "search_space/arch_space.h"
#include "supernet/hybrid_net.h"

namespace nas::cli {

struct TrainedSupernet {
  std::string dir;       // absolute
  ArchSpace space;
  json config;           // supernet.json
  HybridNetOptions net_options;
  datasets::ExperimentData data;  // training + validation split; no test split
  HybridNet net{nullptr};
  json checkpoint_state;  // epoch, step, ... of supernet.ckpt

  int64_t epoch() const { return checkpoint_state.value("epoch", int64_t{0}); }
};

// The files of DIR that load_trained_supernet reads (the inputs the output guards protect).
const std::vector<std::string>& trained_supernet_files();

// Loads DIR (one-line errors: "--supernet DIR: no supernet.ckpt (not the output directory of
// nas_train_supernet?)"); `data_dir` overrides the data set directory recorded in supernet.json
// when not empty. Requires a validation split.
TrainedSupernet load_trained_supernet(const std::string& dir, const std::string& data_dir,
                                      const torch::Device& device);

}  // namespace nas::cli
