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
  std::string name;          // canonical: "fashion-mnist", "mnist", "cifar10", "cifar100", "folder"
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
  std::vector<std::string> class_names;  // label i is class_names[i]; empty: not named (the built-in sets)
};

// Canonical names, in a fixed order; the last, "folder", is a user's image folder
// (datasets/image_folder.h), whose shape and classes are those of the folder's data.
const std::vector<std::string>& dataset_names();
// Canonical name for a name or alias ("fashion_mnist", "fmnist", "cifar-10", "image-folder", ...),
// case-insensitive; a nas::Error listing the known names otherwise.
std::string canonical_dataset_name(const std::string& name);
// Info of a known data set (by name or alias). "folder": the image folder opened last in this
// process (open_image_folder, which ExperimentDataOptions::validate() and load_dataset call); a
// nas::Error before any was opened.
const DatasetInfo& dataset_info(const std::string& name);
// Info of data set `name` read from `data_dir`: for "folder" that folder's (opened and cached),
// for the others dataset_info(name).
const DatasetInfo& dataset_info(const std::string& name, const std::string& data_dir);
// The fixed info of a built-in data set; null for "folder" and unknown names.
const DatasetInfo* builtin_dataset_info(const std::string& name);
// True when `name` (or an alias) is known.
bool is_known_dataset(const std::string& name);

}  // namespace nas::datasets
