#include "datasets/load_dataset.h"

#include <filesystem>

#include "core/error.h"
#include "datasets/cifar_reader.h"
#include "datasets/idx_reader.h"

namespace nas::datasets {

namespace fs = std::filesystem;

std::string resolve_data_dir(const std::string& name, const std::string& data_dir) {
  const DatasetInfo& info = dataset_info(name);
  std::error_code ec;
  if (!data_dir.empty()) {
    NAS_CHECK(fs::is_directory(data_dir, ec),
              info.name << ": data directory not found: " << data_dir);
    return data_dir;
  }
  NAS_CHECK(!info.default_dir.empty(),
            info.name << " has no default location: give its directory (data_dir)");
  NAS_CHECK(fs::is_directory(info.default_dir, ec),
            info.name << ": default data directory " << info.default_dir << " does not exist: "
                      << (info.name == "fashion-mnist" ? "install it (apt-get install dataset-fashion-mnist) or "
                                                       : "")
                      << "give its directory (data_dir)");
  return info.default_dir;
}

std::string find_idx_file(const std::string& dir, const std::string& stem) {
  const fs::path raw = fs::path(dir) / stem;
  const fs::path gz = fs::path(dir) / (stem + ".gz");
  std::error_code ec;
  if (fs::exists(raw, ec)) return raw.string();
  if (fs::exists(gz, ec)) return gz.string();
  NAS_THROW(dir << ": file not found: expected " << gz.string() << " (or " << raw.string() << ")");
}

Dataset load_dataset(const std::string& name, const std::string& data_dir, Split split,
                     int64_t limit, SubsetMode subset) {
  const DatasetInfo& info = dataset_info(name);
  const std::string dir = resolve_data_dir(info.name, data_dir);
  Dataset data;
  if (info.name == "cifar10") {
    data = read_cifar10(dir, split);
  } else if (info.name == "cifar100") {
    data = read_cifar100(dir, split);
  } else {
    const std::string prefix = split == Split::Train ? "train" : "t10k";
    const std::string images = find_idx_file(dir, prefix + "-images-idx3-ubyte");
    const std::string labels = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
    data = read_idx_dataset(images, labels, info.name, info.num_classes);
    NAS_CHECK(data.height() == info.height && data.width() == info.width,
              images << ": images are " << data.height() << "x" << data.width() << ", "
                     << info.name << " has " << info.height << "x" << info.width);
  }
  return limit_dataset(data, limit, subset);
}

}  // namespace nas::datasets
