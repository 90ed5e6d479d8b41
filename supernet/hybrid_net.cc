#include "supernet/hybrid_net.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/fnv1a.h"
#include "supernet/tiny_ops.h"

namespace nas {

json HybridNetOptions::to_json() const {
  return {{"aug", aug.to_json()},
          {"remap", remap_kind_name(remap)},
          {"shift_bits", shift_bits},
          {"eta", eta},
          {"remap_eta", effective_remap_eta()},
          {"bn_momentum", bn_momentum},
          {"bn_eps", bn_eps}};
}

HybridNetImpl::HybridNetImpl(const ArchConfig& arch, const HybridNetOptions& options)
    : arch_(arch), resolved_(resolve_arch(arch)), options_(options) {
  options_.aug.validate();
  max_widths_ = resolve_widths(resolved_, AugConfig::largest(arch_, options_.aug));
  const NetWidths& m = max_widths_;
  stem_ = make_conv("stem_conv", resolved_.in_channels, m.stem_a, resolved_.in_channels,
                    resolved_.stem_channels, arch_.stem.kernel,
                    arch_.stem.stride, false, arch_.stem.op);
  stem_bn_ = make_bn("stem_bn", m.stem_a);
  for (size_t i = 0; i < resolved_.blocks.size(); ++i) {
    const ResolvedBlock& rb = resolved_.blocks[i];
    const BlockWidths& bw = m.blocks[i];
    const std::string prefix = "stage" + std::to_string(rb.stage) + "_block" + std::to_string(rb.index);
    Block b;
    if (rb.has_expand_conv()) {
      b.expand = make_conv(prefix + "_expand", bw.in_a, bw.mid_a, rb.c_in, rb.c_mid, 1, 1, false, rb.op);
      b.expand_bn = make_bn(prefix + "_expand_bn", bw.mid_a);
    }
    b.dw = make_conv(prefix + "_dw", bw.mid_a, bw.mid_a, rb.c_mid, rb.c_mid, rb.kernel, rb.stride,
                     true, rb.op);
    b.dw_bn = make_bn(prefix + "_dw_bn", bw.mid_a);
    b.project = make_conv(prefix + "_project", bw.mid_a, bw.out_a, rb.c_mid, rb.c_out, 1, 1, false,
                          rb.op);
    b.project_bn = make_bn(prefix + "_project_bn", bw.out_a);
    blocks_.push_back(b);
  }
  if (resolved_.head_channels > 0) {
    head_ = make_conv("head_conv", m.blocks.empty() ? m.stem_a : m.blocks.back().out_a, m.head_a,
                      resolved_.head_in, resolved_.head_channels, 1, 1, false, arch_.head.op);
    head_bn_ = make_bn("head_bn", m.head_a);
  }
  classifier_ = make_conv("classifier", m.classifier_in_a, resolved_.num_classes,
                          resolved_.classifier_in, resolved_.num_classes, 1, 1, false,
                          arch_.head.classifier_op, /*classifier=*/true);
  if (arch_.head.classifier_op == OpKind::Add)
    classifier_bn_ = make_bn("classifier_bn", resolved_.num_classes);
  set_tiny();
}

HybridConv2d HybridNetImpl::make_conv(const std::string& name, int64_t max_in, int64_t max_out,
                                      int64_t tiny_in, int64_t tiny_out, int64_t kernel,
                                      int64_t stride, bool depthwise, OpKind op, bool classifier) {
  HybridConv2dOptions o;
  o.max_in = max_in;
  o.max_out = max_out;
  o.max_kernel = kernel;
  o.stride = stride;
  o.depthwise = depthwise;
  o.op = op;
  o.remap = options_.remap;
  o.shift_bits = options_.shift_bits;
  // An adder classifier is followed by BN (AdderNet), so it has no bias.
  o.bias = classifier && op != OpKind::Add;
  o.linear_init = classifier;
  o.tiny_in = tiny_in;
  o.tiny_out = tiny_out;
  // The augmented rest of each layer gets its own generator, seeded from the global seed (which
  // the draw does not advance) and the layer's name.
  o.aug_init_seed = at::detail::getDefaultCPUGenerator().current_seed() ^ fnv1a64(name);
  return register_module(name, HybridConv2d(o));
}

DynamicBatchNorm HybridNetImpl::make_bn(const std::string& name, int64_t channels) {
  DynamicBatchNorm bn =
      register_module(name, DynamicBatchNorm(channels, options_.bn_momentum, options_.bn_eps));
  all_bns_.push_back(bn);
  return bn;
}

void HybridNetImpl::set_tiny() {
  active_ = AugConfig::tiny(arch_);
  widths_ = resolve_widths(resolved_, active_);
  tiny_ = true;
}

void HybridNetImpl::set_active(const AugConfig& config) {
  NetWidths w = resolve_widths(resolved_, config);
  const NetWidths& m = max_widths_;
  bool fits = w.stem_a <= m.stem_a && w.head_a <= m.head_a && w.classifier_in_a <= m.classifier_in_a;
  for (size_t i = 0; i < w.blocks.size(); ++i)
    fits = fits && w.blocks[i].mid_a <= m.blocks[i].mid_a && w.blocks[i].out_a <= m.blocks[i].out_a;
  NAS_CHECK(fits, "augmented network " << config.str() << " is wider than the layers allow");
  active_ = config;
  widths_ = std::move(w);
  tiny_ = config.is_tiny();
}

AugConfig HybridNetImpl::sample_aug(Rng& rng) const {
  return AugConfig::sample(arch_, options_.aug, rng);
}

AugConfig HybridNetImpl::largest_aug() const { return AugConfig::largest(arch_, options_.aug); }

torch::Tensor HybridNetImpl::forward(const torch::Tensor& input) {
  const NetWidths& w = widths_;
  const bool tiny = tiny_, cross = options_.aug.cross_term;
  auto active = [&](int64_t in_t, int64_t out_t, int64_t in_a, int64_t out_a, int64_t kernel) {
    return ConvWidthsActive{in_t, out_t, in_a, out_a, kernel, tiny, cross};
  };
  const int64_t in = resolved_.in_channels;
  torch::Tensor x = relu6_act_(
      stem_bn_->forward(stem_->forward(input, active(in, w.stem_t, in, w.stem_a, arch_.stem.kernel))));
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const ResolvedBlock& rb = resolved_.blocks[i];
    const BlockWidths& bw = w.blocks[i];
    Block& b = blocks_[i];
    torch::Tensor h = x;
    if (rb.has_expand_conv())
      h = relu6_act_(b.expand_bn->forward(
          b.expand->forward(h, active(bw.in_t, bw.mid_t, bw.in_a, bw.mid_a, 1))));
    h = relu6_act_(b.dw_bn->forward(
        b.dw->forward(h, active(bw.mid_t, bw.mid_t, bw.mid_a, bw.mid_a, rb.kernel))));
    h = b.project_bn->forward(
        b.project->forward(h, active(bw.mid_t, bw.out_t, bw.mid_a, bw.out_a, 1)));
    x = rb.residual ? h + x : h;
  }
  if (head_) {
    const int64_t head_in_a = w.blocks.empty() ? w.stem_a : w.blocks.back().out_a;
    x = relu6_act_(head_bn_->forward(
        head_->forward(x, active(resolved_.head_in, w.head_t, head_in_a, w.head_a, 1))));
  }
  x = global_avg_pool(x);
  const int64_t classes = resolved_.num_classes;
  x = classifier_->forward(x, active(w.classifier_in_t, classes, w.classifier_in_a, classes, 1));
  if (classifier_bn_) x = classifier_bn_->forward(x);
  return x.flatten(1);
}

torch::Tensor HybridNetImpl::remap_kl() {
  torch::Tensor total = torch::zeros({}, stem_->weight.options());
  if (options_.remap != RemapKind::Piecewise) return total;
  for (LayerRef& l : tiny_layers())
    if (l.conv->remap) total = total + l.conv->remap_kl(l.in_t, l.out_t, l.kernel);
  return total;
}

std::vector<HybridNetImpl::LayerRef> HybridNetImpl::tiny_layers() const {
  std::vector<LayerRef> layers;
  const NetWidths t = resolve_widths(resolved_, AugConfig::tiny(arch_));
  auto add = [&](std::string name, const HybridConv2d& conv, const DynamicBatchNorm& bn,
                 int64_t in_t, int64_t out_t, int64_t kernel) {
    LayerRef r;
    r.name = std::move(name);
    r.conv = conv;
    r.bn = bn;
    r.op = conv->options().op;
    r.in_t = in_t;
    r.out_t = out_t;
    r.kernel = kernel;
    r.stride = conv->options().stride;
    r.depthwise = conv->options().depthwise;
    layers.push_back(std::move(r));
  };
  add("stem.conv", stem_, stem_bn_, resolved_.in_channels, t.stem_t, arch_.stem.kernel);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const ResolvedBlock& rb = resolved_.blocks[i];
    const Block& b = blocks_[i];
    if (rb.has_expand_conv()) add(rb.name + ".expand", b.expand, b.expand_bn, rb.c_in, rb.c_mid, 1);
    add(rb.name + ".dw", b.dw, b.dw_bn, rb.c_mid, rb.c_mid, rb.kernel);
    add(rb.name + ".project", b.project, b.project_bn, rb.c_mid, rb.c_out, 1);
  }
  if (head_) add("head.conv", head_, head_bn_, resolved_.head_in, t.head_t, 1);
  add("classifier", classifier_, classifier_bn_, t.classifier_in_t, resolved_.num_classes, 1);
  return layers;
}

void HybridNetImpl::begin_bn_reestimation() {
  for (DynamicBatchNorm& bn : all_bns_) bn->begin_reestimation();
}

void HybridNetImpl::end_bn_reestimation() {
  for (DynamicBatchNorm& bn : all_bns_) bn->end_reestimation();
}

namespace {

// g <- eta * sqrt(numel) * g / ||g||_2 in place (nothing when g is zero or undefined).
void scale_to_norm(torch::Tensor g, double eta) {
  if (!g.defined()) return;
  // The norm of a contiguous copy: a strided view would reduce in another order, and the scale of
  // a slice must not depend on the size of the tensor around it.
  const double norm = g.contiguous().norm().item<double>();
  if (norm > 0) g.mul_(eta * std::sqrt(static_cast<double>(g.numel())) / norm);
}

}  // namespace

void HybridNetImpl::scale_adder_gradients() {
  if (options_.eta <= 0) return;
  torch::NoGradGuard no_grad;
  const double remap_eta = options_.effective_remap_eta();
  for (const LayerRef& layer : tiny_layers()) {
    if (layer.op != OpKind::Add) continue;
    const torch::Tensor g = layer.conv->weight.mutable_grad();
    // The MF slice of the gradient (a view: scaled in place); the multiplicative rest of the
    // tensor keeps its plain gradient.
    if (g.defined())
      scale_to_norm(layer.conv->tiny_slice_of(g, layer.in_t, layer.out_t, layer.kernel), options_.eta);
    if (layer.conv->remap && remap_eta > 0)
      for (torch::Tensor& p : layer.conv->remap->parameters()) scale_to_norm(p.mutable_grad(), remap_eta);
  }
}

std::vector<torch::Tensor> HybridNetImpl::decay_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    const bool is_conv_weight = name.size() >= 7 && name.compare(name.size() - 7, 7, ".weight") == 0 &&
                                name.find("_bn.") == std::string::npos &&
                                name.find("remap.") == std::string::npos;
    if (is_conv_weight) out.push_back(item.value());
  }
  return out;
}

std::vector<torch::Tensor> HybridNetImpl::no_decay_parameters() const {
  std::vector<torch::Tensor> decay = decay_parameters(), out;
  for (const torch::Tensor& p : parameters(true)) {
    const bool in_decay = std::any_of(decay.begin(), decay.end(), [&](const torch::Tensor& d) {
      return d.unsafeGetTensorImpl() == p.unsafeGetTensorImpl();
    });
    if (!in_decay) out.push_back(p);
  }
  return out;
}

// ---- channel sorting ---------------------------------------------------------------------------

namespace {

struct ChannelSpace {
  int64_t tiny = 0, max = 0;
  std::vector<HybridConv2d> rows;   // producers (and depthwise layers): output rows
  std::vector<HybridConv2d> cols;   // consumers: input columns
  std::vector<DynamicBatchNorm> bns;
};

}  // namespace

HybridNetImpl::ChannelSortResult HybridNetImpl::sort_channels(ChannelSort mode) {
  torch::NoGradGuard no_grad;
  const NetWidths t = resolve_widths(resolved_, AugConfig::tiny(arch_));
  const NetWidths& m = max_widths_;
  std::vector<ChannelSpace> spaces;
  auto open = [&](int64_t tiny, int64_t max) {
    spaces.push_back(ChannelSpace{tiny, max, {}, {}, {}});
    return spaces.size() - 1;
  };
  size_t cur = open(t.stem_t, m.stem_a);
  spaces[cur].rows.push_back(stem_);
  spaces[cur].bns.push_back(stem_bn_);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const ResolvedBlock& rb = resolved_.blocks[i];
    Block& b = blocks_[i];
    size_t hidden = cur;
    if (rb.has_expand_conv()) {
      spaces[cur].cols.push_back(b.expand);
      hidden = open(t.blocks[i].mid_t, m.blocks[i].mid_a);
      spaces[hidden].rows.push_back(b.expand);
      spaces[hidden].bns.push_back(b.expand_bn);
    }
    spaces[hidden].rows.push_back(b.dw);
    spaces[hidden].bns.push_back(b.dw_bn);
    spaces[hidden].cols.push_back(b.project);
    const size_t out = rb.residual ? cur : open(t.blocks[i].out_t, m.blocks[i].out_a);
    spaces[out].rows.push_back(b.project);
    spaces[out].bns.push_back(b.project_bn);
    cur = out;
  }
  if (head_) {
    spaces[cur].cols.push_back(head_);
    cur = open(t.head_t, m.head_a);
    spaces[cur].rows.push_back(head_);
    spaces[cur].bns.push_back(head_bn_);
  }
  spaces[cur].cols.push_back(classifier_);

  ChannelSortResult result;
  auto permute = [&](torch::Tensor& p, int64_t dim, const torch::Tensor& perm) {
    p.copy_(p.index_select(dim, perm.to(p.device())));
    result.permutations.push_back(ParamPermutation{p, dim, perm});
  };
  const bool include_tiny = mode == ChannelSort::All;
  for (ChannelSpace& s : spaces) {
    if (s.max <= s.tiny) continue;
    // Importance: L1 of the consumers' input columns and of the depthwise rows.
    torch::Tensor importance = torch::zeros({s.max}, torch::kDouble);
    for (HybridConv2d& c : s.cols)
      importance += c->weight.narrow(1, 0, s.max).abs().sum(std::vector<int64_t>{0, 2, 3}).to(torch::kCPU, torch::kDouble);
    for (HybridConv2d& r : s.rows)
      if (r->options().depthwise)
        importance += r->weight.narrow(0, 0, s.max).abs().sum(std::vector<int64_t>{1, 2, 3}).to(torch::kCPU, torch::kDouble);
    const auto acc = importance.accessor<double, 1>();
    std::vector<int64_t> order(static_cast<size_t>(s.max));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin() + (include_tiny ? 0 : s.tiny), order.end(),
                     [&](int64_t a, int64_t b) { return acc[a] > acc[b]; });
    result.tiny_channels += s.tiny;
    for (int64_t i = 0; i < s.tiny; ++i) result.moved_into_tiny += order[static_cast<size_t>(i)] >= s.tiny;
    bool identity = true;
    for (int64_t i = 0; i < s.max; ++i) identity = identity && order[static_cast<size_t>(i)] == i;
    if (identity) continue;
    // Full-size index (channels beyond this space's max, if a layer is wider, stay in place).
    auto full_perm = [&](int64_t size) {
      std::vector<int64_t> p(static_cast<size_t>(size));
      std::iota(p.begin(), p.end(), 0);
      std::copy(order.begin(), order.end(), p.begin());
      return torch::tensor(p, torch::kLong);
    };
    for (HybridConv2d& r : s.rows) {
      const torch::Tensor perm = full_perm(r->weight.size(0));
      permute(r->weight, 0, perm);
      if (r->bias.defined()) permute(r->bias, 0, perm);
    }
    for (HybridConv2d& c : s.cols) permute(c->weight, 1, full_perm(c->weight.size(1)));
    for (DynamicBatchNorm& bn : s.bns) {
      const torch::Tensor perm = full_perm(bn->max_channels());
      permute(bn->weight, 0, perm);
      permute(bn->bias, 0, perm);
      permute(bn->running_mean, 0, perm);
      permute(bn->running_var, 0, perm);
    }
  }
  return result;
}

const char* channel_sort_name(ChannelSort mode) {
  return mode == ChannelSort::All ? "all" : "augmented";
}

ChannelSort parse_channel_sort(const std::string& name) {
  if (name == "all") return ChannelSort::All;
  if (name == "augmented") return ChannelSort::AugmentedOnly;
  NAS_THROW("unknown channel sort '" << name << "' (accepted: all, augmented)");
}

// ---- weight statistics (tearing) -----------------------------------------------------------------

namespace {

constexpr int64_t kHistogramBins = 41;

json distribution_json(const torch::Tensor& w) {
  const torch::Tensor flat = w.detach().reshape({-1}).to(torch::kCPU, torch::kDouble);
  const double mean = flat.mean().item<double>();
  const torch::Tensor c = flat - mean;
  const double var = c.pow(2).mean().item<double>();
  const double kurtosis = var > 0 ? c.pow(4).mean().item<double>() / (var * var) : 0.0;
  // Histogram over mean +- 4 std (the tails are counted in the end bins).
  const double sd = std::sqrt(var), lo = mean - 4 * sd, hi = mean + 4 * sd;
  std::vector<int64_t> counts(static_cast<size_t>(kHistogramBins), 0);
  if (sd > 0) {
    const auto a = flat.accessor<double, 1>();
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double t = (a[i] - lo) / (hi - lo) * static_cast<double>(kHistogramBins);
      const auto b = static_cast<int64_t>(std::clamp(std::floor(t), 0.0, static_cast<double>(kHistogramBins - 1)));
      ++counts[static_cast<size_t>(b)];
    }
  }
  return {{"mean", mean}, {"std", sd}, {"kurtosis", kurtosis},
          {"histogram", {{"lo", lo}, {"hi", hi}, {"counts", counts}}}};
}

}  // namespace

json HybridNetImpl::weight_statistics() {
  torch::NoGradGuard no_grad;
  json layers = json::array();
  for (LayerRef& l : tiny_layers()) {
    if (l.op == OpKind::Mult) continue;
    const torch::Tensor raw = l.conv->tiny_slice(l.in_t, l.out_t, l.kernel);
    const torch::Tensor remapped = l.conv->remap ? l.conv->remap->forward(raw) : raw;
    layers.push_back({{"layer", l.name},
                      {"op", op_kind_name(l.op)},
                      {"numel", raw.numel()},
                      {"raw", distribution_json(raw)},
                      {"remapped", distribution_json(remapped)}});
  }
  return layers;
}

}  // namespace nas
