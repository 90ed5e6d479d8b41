#include "deploy/torch_bridge.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/error.h"
#include "datasets/data_loader.h"
#include "supernet/tiny_net.h"

namespace nas::deploy {
namespace {

datasets::DataLoaderOptions loader_options(const TinyNet& model, int64_t batch) {
  datasets::DataLoaderOptions o = datasets::DataLoaderOptions::evaluation(batch);
  o.resolution = model.preprocessing().resolution;
  o.mean = model.preprocessing().mean;
  o.std = model.preprocessing().std;
  return o;
}

}  // namespace

std::vector<int64_t> libtorch_predictions(const std::string& nasm_path, const datasets::Dataset& data, int64_t batch_size) {
  const TinyNet model = TinyNet::load(nasm_path);
  const datasets::DataLoader loader(std::make_shared<const datasets::Dataset>(data), loader_options(model, batch_size));
  std::vector<int64_t> out(static_cast<size_t>(data.size()), -1);
  torch::NoGradGuard no_grad;
  for (datasets::Batch& b : loader.epoch(0)) {
    const torch::Tensor pred = model.forward(b.images).argmax(1).contiguous();
    for (int64_t i = 0; i < b.size(); ++i) out[static_cast<size_t>(b.indices[static_cast<size_t>(i)])] = pred[i].item<int64_t>();
  }
  return out;
}

double libtorch_seconds_per_image(const std::string& nasm_path, const datasets::Dataset& data, int64_t batch,
                                  int64_t images, int repeats) {
  const TinyNet model = TinyNet::load(nasm_path);
  const datasets::DataLoader loader(std::make_shared<const datasets::Dataset>(data.first(std::max(images, batch))),
                                    loader_options(model, batch));
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> batches;
  for (datasets::Batch& b : loader.epoch(0)) batches.push_back(b.images.clone());
  NAS_CHECK(!batches.empty(), "libtorch timing: no images");
  std::vector<double> per_image;
  for (int r = 0; r < repeats + 1; ++r) {  // the first pass warms up
    int64_t n = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const torch::Tensor& x : batches) {
      model.forward(x);
      n += x.size(0);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r > 0) per_image.push_back(s / static_cast<double>(n));
  }
  std::sort(per_image.begin(), per_image.end());
  return per_image[per_image.size() / 2];
}

}  // namespace nas::deploy
