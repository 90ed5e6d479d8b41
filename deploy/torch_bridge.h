#pragma once
// The LibTorch side of deployment: the float network itself (supernet/tiny_net.h's TinyNet) on
// a data set, for the float top-1 that the integer model is compared against, and its inference
// timings. The rest of deploy/ stays torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace nas::deploy {

// TinyNet's predicted class of every image of `data` (nas_eval's preprocessing), CPU.
std::vector<int64_t> libtorch_predictions(const std::string& nasm_path, const datasets::Dataset& data,
                                          int64_t batch_size = 256);

// Median seconds per image of TinyNet's forward at `batch` (repeats runs over `images` images).
double libtorch_seconds_per_image(const std::string& nasm_path, const datasets::Dataset& data, int64_t batch,
                                  int64_t images, int repeats);

}  // namespace nas::deploy
