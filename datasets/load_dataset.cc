#include "datasets/load_dataset.h"

#include <filesystem>

#include "core/error.h"
#include "datasets/cifar_reader.h"
#include "datasets/idx_reader.h"
#include "datasets/image_folder.h"

namespace nas::datasets {

namespace fs = std::filesystem;

std::string resolve_data_dir(const std::string& name, const std::string& data_dir) {
  std::error_code ec;
  if (canonical_dataset_name(name) == "folder") {
    NAS_CHECK(!data_dir.empty(), "folder: give the image folder's root (data_dir), which holds train/<class>/ and test/<class>/");
    NAS_CHECK(fs::is_directory(data_dir, ec), "folder: data directory not found: " << data_dir);
    return data_dir;
  }
  const DatasetInfo& info = dataset_info(name);
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
  LoadOptions options;
  options.limit = limit;
  options.subset = subset;
  return load_dataset(name, data_dir, split, options);
}

void check_class_names(const std::vector<std::string>& expected, const std::vector<std::string>& found,
                       const std::string& where) {
  if (expected == found) return;
  const auto clip = [](const std::string& s) { return s.size() <= 40 ? s : s.substr(0, 40) + "..."; };
  size_t i = 0;
  while (i < expected.size() && i < found.size() && expected[i] == found[i]) ++i;
  NAS_THROW(where << ": the classes are not the recorded ones (" << expected.size() << " recorded, " << found.size()
                  << " found; class " << i << " is '" << (i < expected.size() ? clip(expected[i]) : "(none)")
                  << "' recorded, '" << (i < found.size() ? clip(found[i]) : "(none)") << "' found)");
}

Dataset load_dataset(const std::string& name, const std::string& data_dir, Split split, const LoadOptions& options) {
  const std::string canonical = canonical_dataset_name(name);
  if (canonical == "folder") {
    const ImageFolder& folder = open_image_folder(resolve_data_dir(canonical, data_dir));
    if (!options.class_names.empty()) check_class_names(options.class_names, folder.class_names, folder.root);
    return read_image_folder(folder, split, options.resolution, options.limit, options.subset);
  }
  const DatasetInfo& info = dataset_info(canonical);
  NAS_CHECK(options.class_names.empty() || options.class_names == info.class_names,
            info.name << ": the recorded class names are those of another data set");
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
  return limit_dataset(data, options.limit, options.subset);
}

}  // namespace nas::datasets
