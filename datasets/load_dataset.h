#pragma once
// load_dataset: one entry point for every known data set by name.
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/dataset_info.h"
#include "datasets/dataset_split.h"

namespace nas::datasets {

// Loads split `split` of data set `name` (fashion-mnist | mnist | cifar10 | cifar100 | folder,
// aliases accepted) from `data_dir`:
//   - (Fashion-)MNIST: {train,t10k}-{images-idx3,labels-idx1}-ubyte, plain or .gz (either name;
//     the content decides). An empty data_dir means the system location of the data set
//     (/usr/share/datasets/fashion-mnist/, /usr/share/datasets/mnist/); an error if absent.
//   - CIFAR-10/100: the official binaries (see cifar_reader.h); data_dir is required.
//   - folder: an image folder (image_folder.h), data_dir its root (required), decoded at
//     kImageFolderResolution.
// limit > 0 keeps only `limit` images, chosen by `subset` (Balanced by default: as many per
// class as possible, earliest in file order; deterministic).
Dataset load_dataset(const std::string& name, const std::string& data_dir, Split split,
                     int64_t limit = 0, SubsetMode subset = SubsetMode::Balanced);

struct LoadOptions {
  int64_t limit = 0;
  SubsetMode subset = SubsetMode::Balanced;
  // An image folder's decoded size (0: kImageFolderResolution); the fixed-size data sets keep
  // theirs (the DataLoader pads or crops them).
  int64_t resolution = 0;
  // Non-empty: the data set's class names must be these, in this order (e.g. those an exported
  // model recorded), else a nas::Error naming the first difference.
  std::vector<std::string> class_names;
};
Dataset load_dataset(const std::string& name, const std::string& data_dir, Split split, const LoadOptions& options);

// A nas::Error unless `found` (the data's class names) equals `expected` (recorded ones);
// `where` names the data.
void check_class_names(const std::vector<std::string>& expected, const std::vector<std::string>& found,
                       const std::string& where);

// The directory load_dataset reads for `name` and `data_dir` (the default location when
// data_dir is empty); a nas::Error when there is none.
std::string resolve_data_dir(const std::string& name, const std::string& data_dir);

// The image and label file of an IDX data set split in `dir`, preferring an existing file
// (name or name.gz); when neither exists, the .gz name (the published one).
std::string find_idx_file(const std::string& dir, const std::string& stem);

}  // namespace nas::datasets
