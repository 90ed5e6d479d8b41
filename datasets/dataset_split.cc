#include "datasets/dataset_split.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"

namespace nas::datasets {

SubsetMode parse_subset_mode(const std::string& text) {
  if (text == "first") return SubsetMode::First;
  if (text == "balanced") return SubsetMode::Balanced;
  NAS_THROW("unknown subset mode '" << text << "'; accepted: first, balanced");
}

std::vector<int64_t> balanced_quotas(const std::vector<int64_t>& class_counts, int64_t n) {
  std::vector<int64_t> quota(class_counts.size(), 0);
  int64_t total = 0;
  for (int64_t c : class_counts) total += c;
  int64_t remaining = std::clamp<int64_t>(n, 0, total);
  // Water-filling: hand out equal shares to the classes that still have images.
  while (remaining > 0) {
    std::vector<size_t> open;
    for (size_t c = 0; c < quota.size(); ++c) {
      if (quota[c] < class_counts[c]) open.push_back(c);
    }
    const int64_t share = remaining / static_cast<int64_t>(open.size());
    if (share == 0) {
      for (size_t k = 0; k < open.size() && remaining > 0; ++k, --remaining) ++quota[open[k]];
      break;
    }
    for (size_t c : open) {
      const int64_t add = std::min(share, class_counts[c] - quota[c]);
      quota[c] += add;
      remaining -= add;
    }
  }
  return quota;
}

std::vector<int64_t> balanced_indices(const std::vector<int64_t>& labels, int64_t num_classes,
                                      int64_t n, const std::vector<int64_t>& order) {
  const int64_t size = static_cast<int64_t>(labels.size());
  NAS_CHECK(order.empty() || static_cast<int64_t>(order.size()) == size,
            "balanced_indices: order has " << order.size() << " entries for " << size << " labels");
  std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
  for (int64_t y : labels) {
    NAS_CHECK(y >= 0 && y < num_classes,
              "balanced_indices: label " << y << " out of range [0, " << num_classes << ")");
    ++counts[static_cast<size_t>(y)];
  }
  if (!order.empty()) {
    std::vector<bool> seen(static_cast<size_t>(size), false);
    for (int64_t i : order) {
      NAS_CHECK(i >= 0 && i < size && !seen[static_cast<size_t>(i)],
                "balanced_indices: order is not a permutation of 0.." << size - 1 << " (entry " << i
                                                                     << ")");
      seen[static_cast<size_t>(i)] = true;
    }
  }
  std::vector<int64_t> quota = balanced_quotas(counts, n);
  std::vector<int64_t> picked;
  picked.reserve(static_cast<size_t>(std::min(n, size)));
  for (int64_t k = 0; k < size; ++k) {
    const int64_t i = order.empty() ? k : order[static_cast<size_t>(k)];
    int64_t& q = quota[static_cast<size_t>(labels[static_cast<size_t>(i)])];
    if (q > 0) {
      --q;
      picked.push_back(i);
    }
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

Dataset limit_dataset(const Dataset& data, int64_t limit, SubsetMode mode) {
  if (limit <= 0 || limit >= data.size()) return data;
  if (mode == SubsetMode::First) return data.first(limit);
  return data.subset(balanced_indices(data.labels(), data.num_classes(), limit));
}

TrainValSplit split_train_val(const Dataset& data, int64_t val_size, uint64_t seed) {
  NAS_CHECK(val_size >= 1 && val_size < data.size(),
            data.name() << ": validation size " << val_size << " must be in [1, " << data.size() - 1
                        << "] for a training set of " << data.size() << " images");
  const std::vector<int64_t> order = seeded_permutation(data.size(), seed);
  const std::vector<int64_t> val = balanced_indices(data.labels(), data.num_classes(), val_size, order);
  std::vector<int64_t> train;
  train.reserve(static_cast<size_t>(data.size() - val_size));
  size_t v = 0;
  for (int64_t i = 0; i < data.size(); ++i) {
    if (v < val.size() && val[v] == i) {
      ++v;
    } else {
      train.push_back(i);
    }
  }
  return {data.subset(train), data.subset(val)};
}

}  // namespace nas::datasets
