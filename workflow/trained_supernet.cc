#include "workflow/trained_supernet.h"

#include <filesystem>

#include "core/error.h"
#include "supernet/shiftaddaug_trainer.h"

namespace nas::cli {

const std::vector<std::string>& trained_supernet_files() {
  static const std::vector<std::string> files = {"supernet.json", "space.json", "supernet.ckpt"};
  return files;
}

TrainedSupernet load_trained_supernet(const std::string& dir, const std::string& data_dir,
                                      const torch::Device& device) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  for (const std::string& file : trained_supernet_files()) {
    std::error_code ec;
    NAS_CHECK(fs::exists(root / file, ec),
              "--supernet " << dir << ": no " << file << " (not the output directory of nas_train_supernet?)");
  }
  TrainedSupernet s;
  s.dir = fs::absolute(root).string();
  const std::string config_path = (root / "supernet.json").string();
  s.config = read_json_file(config_path);
  const std::string space_path = (root / "space.json").string();
  s.space = read_space_file(space_path);
  NAS_CHECK(s.config.contains("net") && s.config.contains("data_options"),
            config_path << ": 'net' or 'data_options' is missing");
  s.net_options = HybridNetOptions::from_json(s.config["net"], config_path + ": net");
  datasets::ExperimentDataOptions d =
      datasets::ExperimentDataOptions::from_json(s.config["data_options"], config_path + ": data_options");
  if (!data_dir.empty()) d.data_dir = data_dir;
  d.load_test = false;
  s.data = datasets::load_experiment_data(d);
  NAS_CHECK(s.data.val_loader, "--supernet " << dir << ": trained without a validation split (val_size 0)");
  s.net = HybridNet(s.space, s.net_options);
  s.net->to(device);
  s.checkpoint_state = load_checkpoint_weights(*s.net, (root / "supernet.ckpt").string());
  return s;
}

}  // namespace nas::cli
