#include "supernet/subnet_extraction.h"

#include <torch/types.h>

#include <algorithm>
#include <chrono>

#include "core/progress.h"
#include "supernet/tiny_ops.h"

namespace nas {

void recalibrate_bn(HybridNetImpl& net, const datasets::DataLoader& train, int64_t batches,
                    const torch::Device& device) {
  if (batches <= 0) return;
  torch::NoGradGuard no_grad;
  net.set_tiny();
  net.train();
  net.begin_bn_reestimation();
  datasets::DataLoader::Epoch epoch = train.epoch(kBnRecalibrationEpoch);
  const int64_t n = std::min(batches, epoch.num_batches());
  for (int64_t b = 0; b < n; ++b) {
    const datasets::Batch batch = epoch.batch(b);
    net.forward(resize_input(batch.images.to(device), net.arch().resolution));
  }
  net.end_bn_reestimation();
}

double evaluate_active(HybridNetImpl& net, const datasets::DataLoader& loader,
                       const torch::Device& device) {
  torch::NoGradGuard no_grad;
  net.set_tiny();
  net.eval();
  const int64_t resolution = net.arch().resolution;
  const datasets::Top1Count count = datasets::count_top1(
      loader, device, [&](const torch::Tensor& x) { return net.forward(resize_input(x, resolution)); });
  net.train();
  return count.percent();
}

SubnetScore score_subnet(HybridNetImpl& net, const ArchConfig& subnet,
                         const datasets::DataLoader& train, const datasets::DataLoader& val,
                         int64_t bn_batches, const torch::Device& device) {
  SubnetScore score;
  net.set_subnet(subnet);
  auto t0 = std::chrono::steady_clock::now();
  recalibrate_bn(net, train, bn_batches, device);
  score.recalibrate_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  score.val_top1 = evaluate_active(net, val, device);
  score.evaluate_seconds = seconds_since(t0);
  return score;
}

TinyNet extract_subnet(HybridNetImpl& net, const ArchConfig& subnet, const datasets::DataLoader& train,
                       int64_t bn_batches, const TinyPreprocessing& preprocessing,
                       const torch::Device& device, const json& meta) {
  net.set_subnet(subnet);
  recalibrate_bn(net, train, bn_batches, device);
  net.eval();
  TinyNet tiny = TinyNet::from_hybrid(net, preprocessing, meta);
  net.train();
  return tiny;
}

}  // namespace nas
