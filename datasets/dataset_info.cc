#include "datasets/dataset_info.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "datasets/image_folder.h"

namespace nas::datasets {

Split parse_split(const std::string& text) {
  if (text == "train") return Split::Train;
  if (text == "test") return Split::Test;
  NAS_THROW("unknown data split '" << text
                                   << "'; accepted: train, test (a validation set is carved out "
                                      "of train with split_train_val)");
}

const char* split_name(Split split) { return split == Split::Train ? "train" : "test"; }

namespace {

const std::vector<DatasetInfo>& registry() {
  // Normalisation constants are the per-channel mean / std of each published training split
  // (pixels in [0, 1]); CIFAR uses the true per-pixel std, not the often-copied 0.2023/0.1994/0.2010.
  static const std::vector<DatasetInfo> infos = {
      {"fashion-mnist", 1, 28, 28, 10, 60000, 10000, {0.2860}, {0.3530}, false,
       "/usr/share/datasets/fashion-mnist/", {}},
      {"mnist", 1, 28, 28, 10, 60000, 10000, {0.1307}, {0.3081}, false, "/usr/share/datasets/mnist/", {}},
      {"cifar10", 3, 32, 32, 10, 50000, 10000, {0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616},
       true, "", {}},
      {"cifar100", 3, 32, 32, 100, 50000, 10000, {0.5071, 0.4865, 0.4409},
       {0.2673, 0.2564, 0.2762}, true, "", {}},
  };
  return infos;
}

std::string normalise(const std::string& name) {
  std::string out;
  for (char ch : name) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower != '-' && lower != '_') out += lower;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const DatasetInfo& info : registry()) v.push_back(info.name);
    v.push_back("folder");
    return v;
  }();
  return names;
}

std::string canonical_dataset_name(const std::string& name) {
  const std::string key = normalise(name);
  if (key == "fashionmnist" || key == "fmnist") return "fashion-mnist";
  if (key == "mnist") return "mnist";
  if (key == "cifar10") return "cifar10";
  if (key == "cifar100") return "cifar100";
  if (key == "folder" || key == "imagefolder") return "folder";
  std::string known;
  for (const std::string& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
  NAS_THROW("unknown data set '" << name << "'; accepted: " << known);
}

bool is_known_dataset(const std::string& name) {
  try {
    canonical_dataset_name(name);
    return true;
  } catch (const Error&) {
    return false;
  }
}

const DatasetInfo* builtin_dataset_info(const std::string& name) {
  if (!is_known_dataset(name)) return nullptr;
  const std::string canonical = canonical_dataset_name(name);
  const auto& infos = registry();
  const auto at = std::find_if(infos.begin(), infos.end(), [&](const DatasetInfo& info) { return info.name == canonical; });
  return at == infos.end() ? nullptr : &*at;
}

const DatasetInfo& dataset_info(const std::string& name) {
  const std::string canonical = canonical_dataset_name(name);
  if (const DatasetInfo* info = builtin_dataset_info(canonical)) return *info;
  const ImageFolder* folder = last_opened_image_folder();
  NAS_CHECK(folder != nullptr, "folder: no image folder was opened: give its root (data_dir)");
  return folder->info;
}

const DatasetInfo& dataset_info(const std::string& name, const std::string& data_dir) {
  if (const DatasetInfo* info = builtin_dataset_info(name)) return *info;
  canonical_dataset_name(name);  // an unknown name: the error listing the known ones
  return open_image_folder(data_dir).info;
}

}  // namespace nas::datasets
