#include "supernet/subnet_extraction.h"

#include <torch/types.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
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

namespace {

// Copies the overlap of `from` into `to`: leading indices along every dimension except the
// kernel dimensions (2 and 3 of a 4-D conv weight), which take the centre of `from`.
int64_t copy_overlap(torch::Tensor& to, const torch::Tensor& from, const std::string& name) {
  NAS_CHECK(to.dim() == from.dim(), "inherit: '" << name << "' has " << to.dim() << " dimensions here and "
                                                 << from.dim() << " in the supernet");
  torch::Tensor src = from, dst = to;
  for (int64_t d = 0; d < to.dim(); ++d) {
    const bool kernel_dim = to.dim() == 4 && d >= 2;
    if (kernel_dim) {
      NAS_CHECK(to.size(d) <= from.size(d) && (from.size(d) - to.size(d)) % 2 == 0,
                "inherit: '" << name << "' has a " << to.size(d) << "-wide kernel, the supernet's is "
                             << from.size(d));
      src = src.narrow(d, (from.size(d) - to.size(d)) / 2, to.size(d));
    } else {
      const int64_t n = std::min(to.size(d), from.size(d));
      src = src.narrow(d, 0, n);
      dst = dst.narrow(d, 0, n);
    }
  }
  dst.copy_(src);
  return src.numel();
}

// `weight_source`, when given, is what the target's "weight" comes from (the tensor of the
// layer's op in a supernet with separate adder weights).
void inherit_module(torch::nn::Module& to, const torch::nn::Module& from, const std::string& layer,
                    InheritReport& report, const torch::Tensor* weight_source = nullptr) {
  auto from_tensors = from.named_parameters(true);
  auto from_buffers = from.named_buffers(true);
  auto find = [&](const std::string& key) -> const torch::Tensor* {
    if (weight_source && key == "weight") return weight_source;
    if (const torch::Tensor* t = from_tensors.find(key)) return t;
    return from_buffers.find(key);
  };
  auto copy_all = [&](torch::OrderedDict<std::string, torch::Tensor> tensors) {
    for (auto& item : tensors) {
      const std::string name = layer + "." + item.key();
      const torch::Tensor* source = find(item.key());
      NAS_CHECK(source, "inherit: the supernet's layer '" << layer << "' has no '" << item.key()
                                                           << "' (built with another remap or bias setting?)");
      torch::Tensor target = item.value();
      report.elements_copied += copy_overlap(target, *source, name);
      report.elements_total += target.numel();
      ++report.tensors;
    }
  };
  copy_all(to.named_parameters(true));
  copy_all(to.named_buffers(true));
}

}  // namespace

InheritReport inherit_subnet_weights(HybridNetImpl& fixed, HybridNetImpl& supernet) {
  NAS_CHECK(!fixed.is_supernet(), "inherit: the target must be a network of one architecture");
  NAS_CHECK(fixed.options().remap == supernet.options().remap,
            "inherit: the network uses the " << remap_kind_name(fixed.options().remap) << " remap, the supernet the "
                                             << remap_kind_name(supernet.options().remap)
                                             << " one (their remap parameters differ)");
  // What an adder layer computes from its weights (raw, or scaled to unit RMS) must match, or the
  // inherited adder layers compute something else than they did in the supernet.
  NAS_CHECK(fixed.options().adder_unit_rms == supernet.options().adder_unit_rms,
            "inherit: the network's adder layers see their weights " << (fixed.options().adder_unit_rms ? "at unit RMS" : "raw")
                                                                     << ", the supernet's "
                                                                     << (supernet.options().adder_unit_rms ? "at unit RMS" : "raw")
                                                                     << " (adder_unit_rms differs)");
  supernet.set_subnet(fixed.arch());
  fixed.set_tiny();
  const std::vector<HybridNetImpl::LayerRef> from = supernet.tiny_layers();
  std::vector<HybridNetImpl::LayerRef> to = fixed.tiny_layers();
  NAS_CHECK(from.size() == to.size(), "inherit: the supernet's subnet has " << from.size() << " layers, the network "
                                                                           << to.size());
  torch::NoGradGuard no_grad;
  InheritReport report;
  for (size_t i = 0; i < to.size(); ++i) {
    NAS_CHECK(from[i].name == to[i].name && from[i].op == to[i].op,
              "inherit: layer " << i << " is '" << to[i].name << "' here and '" << from[i].name << "' in the supernet");
    NAS_CHECK(!to[i].conv->adder_weight.defined(), "inherit: the target layer '" << to[i].name << "' runs several ops");
    inherit_module(*to[i].conv, *from[i].conv, to[i].name, report, &from[i].conv->weight_for(from[i].op));
    NAS_CHECK(!to[i].bn == !from[i].bn, "inherit: layer '" << to[i].name << "' has a BN in one network only");
    if (to[i].bn) inherit_module(*to[i].bn, *from[i].bn, to[i].name + ".bn", report);
  }
  return report;
}

}  // namespace nas
