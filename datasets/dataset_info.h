#pragma once
// The data sets the project knows by name, with their shapes and default training constants
// (normalisation, augmentation, default location).
#include <cstdint>
#include <string>
#include <vector>

namespace nas::datasets {

enum class Split { Train, Test };

// "train" | "test"; anything else is a nas::Error listing the accepted values.
Split parse_split(const std::string& text);
const char* split_name(Split split);

struct DatasetInfo {
  std::string name;          // canonical: "fashion-mnist", "mnist", "cifar10", "cifar100"
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t num_classes = 0;
  int64_t train_size = 0;    // images in the published training split
  int64_t test_size = 0;
  std::vector<double> mean;  // per channel, pixels scaled to [0, 1]
  std::vector<double> std;
  bool augment_by_default = false;  // random crop (padding 4) + horizontal flip when training
  std::string default_dir;          // "" when the data set has no system location
};

// Canonical names, in a fixed order.
const std::vector<std::string>& dataset_names();
// Canonical name for a name or alias ("fashion_mnist", "fmnist", "cifar-10", ...), case-insensitive;
// a nas::Error listing the known names otherwise.
std::string canonical_dataset_name(const std::string& name);
// Info of a known data set (by name or alias).
const DatasetInfo& dataset_info(const std::string& name);
// True when `name` (or an alias) is known.
bool is_known_dataset(const std::string& name);

}  // namespace nas::datasets
