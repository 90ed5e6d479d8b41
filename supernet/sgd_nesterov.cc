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

void SgdNesterov::save(torch::serialize::OutputArchive& archive) const {
  archive.write("sgd_num_params", torch::tensor(static_cast<int64_t>(params_.size())), true);
  for (size_t i = 0; i < buffers_.size(); ++i)
    archive.write("sgd_buf_" + std::to_string(i), buffers_[i], /*is_buffer=*/true);
}

void SgdNesterov::load(torch::serialize::InputArchive& archive) {
  torch::Tensor count;
  archive.read("sgd_num_params", count, true);
  NAS_CHECK(count.item<int64_t>() == static_cast<int64_t>(params_.size()),
            "checkpoint optimizer holds " << count.item<int64_t>() << " parameters, the model has "
                                          << params_.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < buffers_.size(); ++i) {
    torch::Tensor t;
    archive.read("sgd_buf_" + std::to_string(i), t, true);
    NAS_CHECK(t.sizes() == buffers_[i].sizes(),
              "checkpoint optimizer buffer " << i << " has the wrong shape");
    buffers_[i].copy_(t);
  }
}

}  // namespace nas
