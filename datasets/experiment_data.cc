#include "datasets/experiment_data.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "datasets/dataset_split.h"
#include "datasets/image_folder.h"
#include "datasets/load_dataset.h"

namespace nas::datasets {

void ExperimentDataOptions::validate() const {
  NAS_CHECK(is_known_dataset(dataset), "data.dataset '" << dataset
                                           << "' is unknown (accepted: fashion-mnist, mnist, cifar10, cifar100, folder)");
  NAS_CHECK(batch_size >= 1, "data.batch_size must be >= 1, got " << batch_size);
  NAS_CHECK(eval_batch_size >= 1, "data.eval_batch_size must be >= 1, got " << eval_batch_size);
  NAS_CHECK(limit_train >= 0, "data.limit_train must be >= 0, got " << limit_train);
  NAS_CHECK(limit_test >= 0, "data.limit_test must be >= 0, got " << limit_test);
  NAS_CHECK(val_size >= -1, "data.val_size must be >= -1, got " << val_size);
  NAS_CHECK(split_seed >= -1, "data.split_seed must be >= -1, got " << split_seed);
  NAS_CHECK(resolution >= 0 && resolution <= 4096, "data.resolution must be in [0, 4096], got " << resolution);
  if (!data_dir.empty()) {
    std::error_code ec;
    NAS_CHECK(std::filesystem::is_directory(data_dir, ec), "data.data_dir " << data_dir << ": no such directory");
  }
  if (canonical_dataset_name(dataset) == "folder") {
    NAS_CHECK(!data_dir.empty(), "data.dataset folder needs data.data_dir: the image folder's root, which holds "
                                 "train/<class>/<image> and test/<class>/<image>");
    const ImageFolder& folder = open_image_folder(data_dir);
    if (!class_names.empty()) check_class_names(class_names, folder.class_names, folder.root);
  }
}

const DatasetInfo& ExperimentDataOptions::info() const { return dataset_info(dataset, data_dir); }

json ExperimentDataOptions::to_json() const {
  json j = {{"dataset", dataset},       {"data_dir", data_dir},
          {"limit_train", limit_train}, {"limit_test", limit_test},
          {"val_size", val_size},     {"seed", seed},
          {"batch_size", batch_size}, {"eval_batch_size", eval_batch_size},
          {"resolution", resolution}, {"load_test", load_test}};
  if (split_seed >= 0) j["split_seed"] = split_seed;
  if (canonical_dataset_name(dataset) == "folder")
    j["class_names"] = class_names.empty() ? open_image_folder(data_dir).class_names : class_names;
  return j;
}

ExperimentDataOptions ExperimentDataOptions::from_json(const json& j, const std::string& where) {
  NAS_CHECK(j.is_object(), where << " must be an object");
  ExperimentDataOptions o;
  o.dataset = json_string(j, "dataset", where);
  o.data_dir = json_string(j, "data_dir", where);
  o.limit_train = json_int(j, "limit_train", where);
  o.limit_test = json_int(j, "limit_test", where);
  o.val_size = json_int(j, "val_size", where);
  const int64_t seed = json_int(j, "seed", where);
  NAS_CHECK(seed >= 0, where << ".seed must be >= 0");
  o.seed = static_cast<uint64_t>(seed);
  if (j.contains("split_seed")) {
    o.split_seed = json_int(j, "split_seed", where);
    NAS_CHECK(o.split_seed >= 0, where << ".split_seed must be >= 0 where present, got " << o.split_seed);
  }
  o.batch_size = json_int(j, "batch_size", where);
  o.eval_batch_size = json_int(j, "eval_batch_size", where);
  o.resolution = json_int(j, "resolution", where);
  NAS_CHECK(j.contains("load_test") && j["load_test"].is_boolean(), where << ".load_test must be true or false");
  o.load_test = j["load_test"].get<bool>();
  if (j.contains("class_names")) {
    const json& names = j["class_names"];
    NAS_CHECK(names.is_array() && !names.empty() && static_cast<int64_t>(names.size()) <= kMaxImageFolderClasses,
              where << ".class_names must be an array of 1 to " << kMaxImageFolderClasses << " strings");
    for (const json& name : names) {
      NAS_CHECK(name.is_string() && !name.get_ref<const std::string&>().empty() &&
                    name.get_ref<const std::string&>().size() <= static_cast<size_t>(kMaxClassNameBytes),
                where << ".class_names must hold non-empty strings of at most " << kMaxClassNameBytes << " bytes");
      o.class_names.push_back(name.get<std::string>());
    }
  }
  return o;
}

ExperimentData load_experiment_data(const ExperimentDataOptions& o) {
  o.validate();
  ExperimentData d;
  const std::string name = canonical_dataset_name(o.dataset);
  d.info = o.info();
  LoadOptions load;
  load.resolution = o.resolution;
  load.class_names = o.class_names;
  if (name == "folder") d.info.height = d.info.width = o.resolution > 0 ? o.resolution : kImageFolderResolution;
  load.limit = o.limit_train;
  Dataset train_full = load_dataset(name, o.data_dir, Split::Train, load);
  d.val_size = o.effective_val_size(train_full.size());
  NAS_CHECK(d.val_size == 0 || d.val_size < train_full.size(),
            "data.val_size " << d.val_size << " leaves no training images (the training set has "
                             << train_full.size() << ")");
  if (d.val_size > 0) {
    TrainValSplit split = split_train_val(train_full, d.val_size, o.effective_split_seed());
    d.train = std::make_shared<const Dataset>(std::move(split.train));
    d.val = std::make_shared<const Dataset>(std::move(split.val));
  } else {
    d.train = std::make_shared<const Dataset>(std::move(train_full));
  }
  if (o.load_test) {
    load.limit = o.limit_test;
    d.test = std::make_shared<const Dataset>(load_dataset(name, o.data_dir, Split::Test, load));
  }

  DataLoaderOptions train_options = DataLoaderOptions::training(name, o.batch_size, o.seed);
  train_options.resolution = o.resolution;
  d.train_loader = std::make_unique<DataLoader>(d.train, train_options);
  NAS_CHECK(d.train_loader->num_batches() >= 1, "the training set (" << d.train->size()
                                                    << " images) is smaller than data.batch_size " << o.batch_size);
  DataLoaderOptions eval_options = DataLoaderOptions::evaluation(o.eval_batch_size);
  eval_options.resolution = o.resolution;
  eval_options.mean = d.train_loader->mean();
  eval_options.std = d.train_loader->std();
  if (d.val) d.val_loader = std::make_unique<DataLoader>(d.val, eval_options);
  if (d.test) d.test_loader = std::make_unique<DataLoader>(d.test, eval_options);
  return d;
}

json ExperimentData::to_json(const ExperimentDataOptions& o) const {
  json j = {{"dataset", info.name},
          {"limit_train", o.limit_train},
          {"limit_test", o.limit_test},
          {"val_size", val_size},
          {"resolution", train_loader->height()},
          {"batch_size", o.batch_size},
          {"train_images", train->size()},
          {"val_images", val ? val->size() : 0},
          {"test_images", test ? test->size() : 0},
          {"mean", train_loader->mean()},
          {"std", train_loader->std()}};
  if (o.split_seed >= 0) j["split_seed"] = o.split_seed;  // absent: the seed's split
  if (!info.class_names.empty()) j["class_names"] = info.class_names;
  return j;
}

}  // namespace nas::datasets
