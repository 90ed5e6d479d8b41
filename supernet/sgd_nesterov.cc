#include "supernet/sgd_nesterov.h"

#include "core/error.h"

namespace nas {

SgdNesterov::SgdNesterov(std::vector<SgdParamGroup> groups, double momentum, bool nesterov)
    : momentum_(momentum), nesterov_(nesterov) {
  NAS_CHECK(momentum >= 0.0 && momentum < 1.0, "SGD: momentum must be in [0, 1), got " << momentum);
  for (SgdParamGroup& g : groups) {
    NAS_CHECK(g.weight_decay >= 0.0, "SGD: weight decay must be >= 0, got " << g.weight_decay);
    for (torch::Tensor& p : g.params) {
      const void* key = p.unsafeGetTensorImpl();
      NAS_CHECK(!index_.count(key), "SGD: a parameter appears in two groups");
      index_[key] = params_.size();
      params_.push_back(p);
      weight_decay_.push_back(g.weight_decay);
      buffers_.push_back(torch::zeros_like(p).detach());
    }
  }
}

void SgdNesterov::zero_grad() {
  for (torch::Tensor& p : params_)
    if (p.grad().defined()) p.mutable_grad().reset();
}

void SgdNesterov::step(double lr) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    torch::Tensor d = weight_decay_[i] != 0.0 ? g.add(p, weight_decay_[i]) : g;
    torch::Tensor& buf = buffers_[i];
    buf.mul_(momentum_).add_(d);
    if (nesterov_)
      d = d.add(buf, momentum_);
    else
      d = buf;
    p.add_(d, -lr);
  }
}

void SgdNesterov::permute(const torch::Tensor& param, int64_t dim, const torch::Tensor& perm) {
  const auto it = index_.find(param.unsafeGetTensorImpl());
  if (it == index_.end()) return;
  torch::NoGradGuard no_grad;
  torch::Tensor& buf = buffers_[it->second];
  buf.copy_(buf.index_select(dim, perm.to(buf.device())));
}

torch::Tensor leading_block(const torch::Tensor& t, const std::vector<int64_t>& block) {
  NAS_CHECK(static_cast<int64_t>(block.size()) <= t.dim(), "leading_block: " << block.size()
                                                                           << " extents for a tensor of "
                                                                           << t.dim() << " dimensions");
  torch::Tensor v = t;
  for (size_t d = 0; d < block.size(); ++d) {
    const int64_t dim = static_cast<int64_t>(d);
    NAS_CHECK(block[d] >= 0 && block[d] <= t.size(dim),
              "leading_block: extent " << block[d] << " of dimension " << d << " (size " << t.size(dim) << ")");
    v = v.narrow(dim, 0, block[d]);
  }
  return v;
}

void SgdNesterov::divide_leading_block(const torch::Tensor& param, const std::vector<int64_t>& block,
                                       double divisor) {
  const auto it = index_.find(param.unsafeGetTensorImpl());
  if (it == index_.end()) return;
  torch::NoGradGuard no_grad;
  leading_block(buffers_[it->second], block).div_(divisor);
}

void SgdNesterov::set_momentum_buffers(const std::vector<torch::Tensor>& buffers, const std::string& where) {
  NAS_CHECK(buffers.size() == buffers_.size(), where << ": the optimizer holds " << buffers.size()
                                                     << " momentum buffers, the model has " << buffers_.size()
                                                     << " parameters");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < buffers_.size(); ++i) {
    NAS_CHECK(buffers[i].sizes() == buffers_[i].sizes() && buffers[i].scalar_type() == buffers_[i].scalar_type(),
              where << ": optimizer momentum buffer " << i << " has the wrong shape or type");
    buffers_[i].copy_(buffers[i]);
  }
}

}  // namespace nas
