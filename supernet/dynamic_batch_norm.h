#pragma once
// DynamicBatchNorm: BatchNorm over the first C channels of buffers held at the largest width
// (OFA / NetAug). The parameters and running statistics of a narrower input are prefixes of the
// full tensors, so the running statistics of every width live in the same buffers (training
// updates the prefix in place).
//
// BN re-estimation: between begin_reestimation() and end_reestimation(), the first forward in
// train mode resets the running statistics of the width it sees, and every forward then uses
// momentum 1 / (n + 1) (a cumulative average over the batches, PyTorch's momentum = None).
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace nas {

class DynamicBatchNormImpl : public torch::nn::Module {
 public:
  explicit DynamicBatchNormImpl(int64_t max_channels, double momentum = 0.1, double eps = 1e-5);

  // x [N, C, ...] with C <= max_channels; with relu6 the result is clamped to [0, 6] (in training
  // mode by the fused kernel of ops/batch_norm.h, one pass fewer each way).
  torch::Tensor forward(const torch::Tensor& x, bool relu6 = false);

  void begin_reestimation();
  void end_reestimation();

  int64_t max_channels() const { return max_channels_; }
  double eps() const { return eps_; }

  torch::Tensor weight, bias, running_mean, running_var;

 private:
  int64_t max_channels_;
  double momentum_, eps_;
  bool reestimating_ = false;
  int64_t reestimate_count_ = 0;
};
TORCH_MODULE(DynamicBatchNorm);

}  // namespace nas
