#pragma once
// Dataset: an in-memory labelled image set, stored as uint8 pixels N x C x H x W (planar,
// row-major, exactly as IDX and CIFAR files hold them) and int64 class labels. A plain value
// type without LibTorch; the DataLoader turns it into normalised float batches.
#include <cstdint>
#include <string>
#include <vector>

namespace nas::datasets {

class Dataset {
 public:
  Dataset() = default;
  // Validates the shape (positive C, H, W), pixels.size() == N*C*H*W, labels in
  // [0, num_classes); throws nas::Error naming `name` otherwise.
  Dataset(std::string name, int64_t channels, int64_t height, int64_t width, int64_t num_classes,
          std::vector<uint8_t> pixels, std::vector<int64_t> labels);

  // Base name of the data set ("fashion-mnist", "cifar10", ...); kept by subsets and splits so
  // that per-data-set defaults (normalisation, augmentation) still apply.
  const std::string& name() const { return name_; }
  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  bool empty() const { return labels_.empty(); }
  int64_t channels() const { return channels_; }
  int64_t height() const { return height_; }
  int64_t width() const { return width_; }
  int64_t num_classes() const { return num_classes_; }
  int64_t image_bytes() const { return channels_ * height_ * width_; }

  // Pixels of image i: C planes of H x W bytes. No bounds check in release hot paths; use at().
  const uint8_t* image(int64_t i) const { return pixels_.data() + i * image_bytes(); }
  int64_t label(int64_t i) const { return labels_[static_cast<size_t>(i)]; }
  // Bounds-checked pixel access (for tests and tools).
  uint8_t at(int64_t i, int64_t c, int64_t y, int64_t x) const;

  const std::vector<uint8_t>& pixels() const { return pixels_; }
  const std::vector<int64_t>& labels() const { return labels_; }

  // The images at `indices` (in that order; repeats allowed), same name and shape.
  Dataset subset(const std::vector<int64_t>& indices) const;
  // The first min(n, size()) images.
  Dataset first(int64_t n) const;
  // Images per class, size num_classes().
  std::vector<int64_t> class_counts() const;

  // "fashion-mnist: 60000 x 1x28x28, 10 classes"
  std::string describe() const;

 private:
  std::string name_;
  int64_t channels_ = 0;
  int64_t height_ = 0;
  int64_t width_ = 0;
  int64_t num_classes_ = 0;
  std::vector<uint8_t> pixels_;
  std::vector<int64_t> labels_;
};

// Per-channel mean and standard deviation of the pixels scaled to [0, 1] (population std over
// all images and positions), e.g. to derive normalisation constants for a new data set.
struct ChannelStats {
  std::vector<double> mean;
  std::vector<double> std;
};
ChannelStats compute_channel_stats(const Dataset& data);

}  // namespace nas::datasets
