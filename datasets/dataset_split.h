#pragma once
// Deterministic subsets and the train/validation split. Hyper-parameters are chosen on a
// validation set carved out of the training split, never on the test split.
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace nas::datasets {

enum class SubsetMode {
  First,     // the first N images in file order
  Balanced,  // N images spread as evenly as possible over the classes (see balanced_indices)
};

// "first" | "balanced"
SubsetMode parse_subset_mode(const std::string& text);

// Per-class quotas summing to min(n, labels.size()): as equal as the class sizes allow (a class
// with too few images gives its share to the others; remainders go to the lowest class ids).
std::vector<int64_t> balanced_quotas(const std::vector<int64_t>& class_counts, int64_t n);

// Indices (ascending) of a class-balanced selection of n images: each class contributes its
// quota, taking its images in the order they appear in `order` (a permutation of
// 0..labels.size()-1; empty means file order).
std::vector<int64_t> balanced_indices(const std::vector<int64_t>& labels, int64_t num_classes,
                                      int64_t n, const std::vector<int64_t>& order = {});

// The data set reduced to `limit` images (limit <= 0 or >= size: unchanged). Balanced takes the
// earliest images of each class in file order, so it is deterministic without a seed.
Dataset limit_dataset(const Dataset& data, int64_t limit, SubsetMode mode = SubsetMode::Balanced);

struct TrainValSplit {
  Dataset train;  // the remaining images, in file order
  Dataset val;    // val_size images, class-balanced, in file order
};

// Carves a class-balanced validation set of val_size images out of `data`, chosen by a seeded
// permutation (same seed, same split on every platform). Train and val are disjoint and
// together hold every image once. val_size must be in [1, size - 1].
TrainValSplit split_train_val(const Dataset& data, int64_t val_size, uint64_t seed);

}  // namespace nas::datasets
