#pragma once
// The data of one experiment: a data set's training split carved into train + validation
// (seeded, class-balanced; the validation images are never trained on), its test split, and the
// loaders over them. One definition for every command that trains, extracts or evaluates
// (nas_retrain, nas_train_supernet, nas_extract), so that the same flags give the same split:
// a supernet's subnets are recalibrated on exactly the images it was trained on and scored on
// exactly its held-out validation images. The test split is loaded only when asked for (search
// never needs it).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "datasets/data_loader.h"
#include "datasets/dataset.h"
#include "datasets/dataset_info.h"

namespace nas::datasets {

struct ExperimentDataOptions {
  std::string dataset = "fashion-mnist";  // any name dataset_info() knows (aliases accepted)
  std::string data_dir;                   // "" = the data set's system location; "folder": its root
  int64_t limit_train = 0;   // class-balanced subset of the training split (0: all)
  int64_t limit_test = 0;    // likewise of the test split
  int64_t val_size = -1;     // validation images carved from the training split; -1: 10 % up to 5000
  uint64_t seed = 0;         // of the training order (and of the split unless split_seed is set)
  // Of the train / validation carve alone (-1: seed). Runs that differ only in seed but share a
  // split_seed are scored on the same validation images (seed-to-seed noise of a ranking).
  int64_t split_seed = -1;
  int64_t batch_size = 128;
  int64_t eval_batch_size = 256;
  int64_t resolution = 0;    // loader output size (0: native; larger pads, smaller crops). An image
                             // folder is decoded at this size (0: kImageFolderResolution)
  bool load_test = true;
  // "folder": the classes a run recorded (to_json writes the folder's); non-empty, the folder
  // must have exactly these, so that a later stage reads the labels the run was trained on.
  std::vector<std::string> class_names;

  uint64_t effective_split_seed() const { return split_seed >= 0 ? static_cast<uint64_t>(split_seed) : seed; }
  // The validation images carved from a training split of `train_images` (after limit_train).
  int64_t effective_val_size(int64_t train_images) const {
    return val_size >= 0 ? val_size : std::min<int64_t>(5000, train_images / 10);
  }

  // Errors name the field ("data.batch_size must be >= 1, got 0"). "folder": opens the image
  // folder (open_image_folder), so that dataset_info("folder") describes it from here on.
  void validate() const;
  // The data set's info: dataset_info(dataset, data_dir).
  const DatasetInfo& info() const;
  // Every field (a run records what rebuilds its split; nas_extract reads it back). split_seed is
  // recorded only when set, and read as -1 when absent (files written before it existed).
  json to_json() const;
  static ExperimentDataOptions from_json(const json& j, const std::string& where);
};

struct ExperimentData {
  DatasetInfo info;
  int64_t val_size = 0;
  std::shared_ptr<const Dataset> train, val, test;  // val / test null when absent
  std::unique_ptr<DataLoader> train_loader;  // shuffled, drop_last, the data set's augmentation
  std::unique_ptr<DataLoader> val_loader, test_loader;  // file order, the training normalisation

  // {"dataset", "limit_train", "limit_test", "val_size", "resolution", "batch_size",
  //  "train_images", "val_images", "test_images", "mean", "std"} (+ "class_names" when named)
  json to_json(const ExperimentDataOptions& options) const;
};

ExperimentData load_experiment_data(const ExperimentDataOptions& options);

}  // namespace nas::datasets
