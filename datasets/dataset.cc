#include "datasets/dataset.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "core/error.h"

namespace nas::datasets {

Dataset::Dataset(std::string name, int64_t channels, int64_t height, int64_t width,
                 int64_t num_classes, std::vector<uint8_t> pixels, std::vector<int64_t> labels)
    : name_(std::move(name)),
      channels_(channels),
      height_(height),
      width_(width),
      num_classes_(num_classes),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)) {
  NAS_CHECK(channels_ > 0 && height_ > 0 && width_ > 0,
            name_ << ": invalid image shape " << channels_ << "x" << height_ << "x" << width_);
  NAS_CHECK(num_classes_ > 0, name_ << ": number of classes must be positive, got " << num_classes_);
  const uint64_t expected = static_cast<uint64_t>(labels_.size()) * static_cast<uint64_t>(image_bytes());
  NAS_CHECK(pixels_.size() == expected,
            name_ << ": " << labels_.size() << " labels need " << expected << " pixel bytes of "
                  << channels_ << "x" << height_ << "x" << width_ << " images, got "
                  << pixels_.size());
  for (size_t i = 0; i < labels_.size(); ++i) {
    NAS_CHECK(labels_[i] >= 0 && labels_[i] < num_classes_,
              name_ << ": label " << labels_[i] << " of image " << i << " is out of range [0, "
                    << num_classes_ << ")");
  }
}

uint8_t Dataset::at(int64_t i, int64_t c, int64_t y, int64_t x) const {
  NAS_CHECK(i >= 0 && i < size() && c >= 0 && c < channels_ && y >= 0 && y < height_ && x >= 0 &&
                x < width_,
            name_ << ": pixel (" << i << ", " << c << ", " << y << ", " << x
                  << ") is outside " << size() << "x" << channels_ << "x" << height_ << "x"
                  << width_);
  return image(i)[(c * height_ + y) * width_ + x];
}

Dataset Dataset::subset(const std::vector<int64_t>& indices) const {
  const int64_t bytes = image_bytes();
  std::vector<uint8_t> pixels(indices.size() * static_cast<size_t>(bytes));
  std::vector<int64_t> labels(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    const int64_t i = indices[k];
    NAS_CHECK(i >= 0 && i < size(),
              name_ << ": subset index " << i << " is outside [0, " << size() << ")");
    std::copy(image(i), image(i) + bytes, pixels.begin() + static_cast<int64_t>(k) * bytes);
    labels[k] = label(i);
  }
  return Dataset(name_, channels_, height_, width_, num_classes_, std::move(pixels),
                 std::move(labels));
}

Dataset Dataset::first(int64_t n) const {
  NAS_CHECK(n >= 0, name_ << ": subset size must be >= 0, got " << n);
  const int64_t count = std::min(n, size());
  std::vector<uint8_t> pixels(pixels_.begin(), pixels_.begin() + count * image_bytes());
  std::vector<int64_t> labels(labels_.begin(), labels_.begin() + count);
  return Dataset(name_, channels_, height_, width_, num_classes_, std::move(pixels),
                 std::move(labels));
}

std::vector<int64_t> Dataset::class_counts() const {
  std::vector<int64_t> counts(static_cast<size_t>(num_classes_), 0);
  for (int64_t y : labels_) ++counts[static_cast<size_t>(y)];
  return counts;
}

std::string Dataset::describe() const {
  std::ostringstream out;
  out << name_ << ": " << size() << " x " << channels_ << "x" << height_ << "x" << width_ << ", "
      << num_classes_ << " classes";
  return out.str();
}

ChannelStats compute_channel_stats(const Dataset& data) {
  NAS_CHECK(!data.empty(), data.name() << ": cannot compute channel statistics of an empty set");
  const int64_t plane = data.height() * data.width();
  ChannelStats stats;
  for (int64_t c = 0; c < data.channels(); ++c) {
    // Exact integer sums: no rounding drift over tens of millions of pixels.
    uint64_t sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < data.size(); ++i) {
      const uint8_t* p = data.image(i) + c * plane;
      for (int64_t k = 0; k < plane; ++k) {
        sum += p[k];
        sum_sq += static_cast<uint64_t>(p[k]) * p[k];
      }
    }
    const double count = static_cast<double>(data.size()) * static_cast<double>(plane);
    const double mean = static_cast<double>(sum) / count;
    const double var = std::max(0.0, static_cast<double>(sum_sq) / count - mean * mean);
    stats.mean.push_back(mean / 255.0);
    stats.std.push_back(std::sqrt(var) / 255.0);
  }
  return stats;
}

}  // namespace nas::datasets
