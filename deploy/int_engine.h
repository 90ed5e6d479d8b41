#pragma once
// The integer reference engine: runs an IntModel (int_model.h) in C++ with the exact arithmetic
// the generated C uses (int_model.h's requantization rule, 64-bit accumulation whose range the
// export proved), each tensor in its own buffer (so a wrong arena plan in the C shows up as a
// difference), and counts every arithmetic operation per step (OpCounts' rules).
#include <cstdint>
#include <vector>

#include "deploy/int_model.h"

namespace nas::deploy {

class IntEngine {
 public:
  explicit IntEngine(const IntModel& model);
  // image: the raw source_h x source_w x C uint8 image, interleaved (resized inside where the model
  // says so); returns num_classes int32 logits. step_counts, when given, receives the operations of
  // each step for this image, resize_counts those of the input resize (zero without one).
  std::vector<int32_t> run(const uint8_t* image, std::vector<OpCounts>* step_counts = nullptr,
                           OpCounts* resize_counts = nullptr);

 private:
  const IntModel& model_;
  std::vector<std::vector<int32_t>> tensors_;
  std::vector<uint8_t> resized_;
};

// Index of the largest logit (the first on ties), as the C harness and top-1 use it.
int64_t argmax(const std::vector<int32_t>& logits);
int64_t argmax(const std::vector<float>& logits);

// H x W x C interleaved bytes of a planar C x H x W image (how Dataset stores images).
std::vector<uint8_t> interleave_planar(const uint8_t* planar, int64_t c, int64_t h, int64_t w);

}  // namespace nas::deploy
