#pragma once
// SGD with (Nesterov) momentum and per-group weight decay, with PyTorch's update rule
// (dampening 0; the first step's buffer is the gradient itself):
//   d = g + wd * p;  buf = momentum * buf + d;  d = d + momentum * buf (nesterov) or buf;
//   p -= lr * d.
// Our own small optimizer (rather than torch::optim::SGD) so that its state can follow channel
// permutations (permute()) and be saved and restored by name, identically in LibTorch 1.13 and
// 2.x. Parameters without a gradient in a step are left untouched (as in PyTorch).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/types.h>

namespace nas {

struct SgdParamGroup {
  std::vector<torch::Tensor> params;
  double weight_decay = 0.0;
};

// The view t[:block[0], :block[1], ...] (dimensions past block.size() whole).
torch::Tensor leading_block(const torch::Tensor& t, const std::vector<int64_t>& block);

class SgdNesterov {
 public:
  SgdNesterov(std::vector<SgdParamGroup> groups, double momentum, bool nesterov = true);

  void zero_grad();
  void step(double lr);

  // Applies p.index_select(dim, perm) to the momentum buffer of `param` (no-op for unknown ones).
  void permute(const torch::Tensor& param, int64_t dim, const torch::Tensor& perm);

  // Divides the leading block (leading_block()) of the momentum buffer of `param` by `divisor`
  // (no-op for unknown ones): the state of a parameter whose block was divided likewise
  // (HybridNetImpl::renormalize_adder_weights).
  void divide_leading_block(const torch::Tensor& param, const std::vector<int64_t>& block, double divisor);

  // The momentum buffers, one per parameter in the groups' order (for checkpoints), and their
  // restoration (the same count and shapes; errors name `where` and the index).
  const std::vector<torch::Tensor>& momentum_buffers() const { return buffers_; }
  void set_momentum_buffers(const std::vector<torch::Tensor>& buffers, const std::string& where);

  int64_t num_params() const { return static_cast<int64_t>(params_.size()); }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<double> weight_decay_;
  std::vector<torch::Tensor> buffers_;
  std::unordered_map<const void*, size_t> index_;
  double momentum_;
  bool nesterov_;
};

}  // namespace nas
