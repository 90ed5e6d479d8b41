#include "supernet/hybrid_net.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include <algorithm>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "core/fnv1a.h"
#include "ops/adder_gradient_scaling.h"
#include "supernet/sgd_nesterov.h"
#include "supernet/tiny_ops.h"

namespace nas {

json HybridNetOptions::to_json() const {
  json j = {{"aug", aug.to_json()},
          {"remap", remap_kind_name(remap)},
          {"shift_bits", shift_bits},
          {"eta", eta},
          {"remap_eta", effective_remap_eta()},
          {"bn_momentum", bn_momentum},
          {"bn_eps", bn_eps},
          {"bn_per_op", bn_per_op},
          {"relative_adder_scaling", relative_adder_scaling},
          {"adder_unit_rms", adder_unit_rms}};
  // Written only when set: the configurations (and resume fingerprints) of every net built
  // before the options existed stay as they were.
  if (separate_adder_weights) j["separate_adder_weights"] = true;
  if (adder_weight_renorm) j["adder_weight_renorm"] = true;
  // Written only when off: a layout of the computation, not of the network; a run of a binary
  // before the option (NCHW) resumes under it (continuing in channels-last).
  if (!channels_last) j["channels_last"] = false;
  return j;
}

namespace {

// Module-name prefix of a block's layers (also what seeds their augmented channels).
std::string block_prefix(int stage, int index) {
  return "stage" + std::to_string(stage) + "_block" + std::to_string(index);
}

}  // namespace

HybridNetOptions HybridNetOptions::from_json(const json& j, const std::string& where) {
  NAS_CHECK(j.is_object(), where << " must be an object");
  HybridNetOptions o;
  NAS_CHECK(j.contains("aug"), where << ".aug is missing");
  o.aug = AugOptions::from_json(j["aug"], where + ".aug");
  o.remap = parse_remap_kind(json_string(j, "remap", where));
  o.shift_bits = json_int(j, "shift_bits", where);
  NAS_CHECK(o.shift_bits >= 2 && o.shift_bits <= 8, where << ".shift_bits must be in [2, 8]");
  o.eta = json_number(j, "eta", where);
  o.remap_eta = json_number(j, "remap_eta", where);
  o.bn_momentum = json_number(j, "bn_momentum", where);
  o.bn_eps = json_number(j, "bn_eps", where);
  NAS_CHECK(o.bn_eps > 0 && o.bn_momentum >= 0 && o.bn_momentum <= 1,
            where << ".bn_eps must be > 0 and bn_momentum in [0, 1]");
  if (j.contains("bn_per_op")) {
    NAS_CHECK(j["bn_per_op"].is_boolean(), where << ".bn_per_op must be true or false");
    o.bn_per_op = j["bn_per_op"].get<bool>();
  }
  if (j.contains("adder_unit_rms")) {
    NAS_CHECK(j["adder_unit_rms"].is_boolean(), where << ".adder_unit_rms must be true or false");
    o.adder_unit_rms = j["adder_unit_rms"].get<bool>();
  }
  if (j.contains("separate_adder_weights")) {
    NAS_CHECK(j["separate_adder_weights"].is_boolean(), where << ".separate_adder_weights must be true or false");
    o.separate_adder_weights = j["separate_adder_weights"].get<bool>();
  }
  if (j.contains("channels_last")) {
    NAS_CHECK(j["channels_last"].is_boolean(), where << ".channels_last must be true or false");
    o.channels_last = j["channels_last"].get<bool>();
  }
  if (j.contains("relative_adder_scaling")) {
    NAS_CHECK(j["relative_adder_scaling"].is_boolean(), where << ".relative_adder_scaling must be true or false");
    o.relative_adder_scaling = j["relative_adder_scaling"].get<bool>();
  }
  if (j.contains("adder_weight_renorm")) {
    NAS_CHECK(j["adder_weight_renorm"].is_boolean(), where << ".adder_weight_renorm must be true or false");
    o.adder_weight_renorm = j["adder_weight_renorm"].get<bool>();
  }
  o.validate(where);
  return o;
}

const char* memory_format_name(bool channels_last) { return channels_last ? "channels-last" : "nchw"; }

bool parse_memory_format(const std::string& name) {
  if (name == "channels-last") return true;
  if (name == "nchw") return false;
  NAS_THROW("unknown --memory-format '" << name << "' (accepted: channels-last, nchw)");
}

HybridNetOptions HybridNetOptions::supernet_defaults() {
  HybridNetOptions o;
  o.adder_unit_rms = true;
  o.relative_adder_scaling = true;
  o.separate_adder_weights = true;
  o.adder_weight_renorm = true;
  return o;
}

void HybridNetOptions::validate(const std::string& where) const {
  NAS_CHECK(!adder_weight_renorm || (adder_unit_rms && relative_adder_scaling),
            where << ".adder_weight_renorm needs adder_unit_rms and relative_adder_scaling (it keeps the RMS of "
                     "weights whose scale only those make irrelevant)");
}

HybridNetImpl::HybridNetImpl(const ArchConfig& arch, const HybridNetOptions& options)
    : largest_(arch) {
  largest_.validate();
  build(options);
}

HybridNetImpl::HybridNetImpl(const ArchSpace& space, const HybridNetOptions& options)
    : space_(space) {
  space.validate();
  for (size_t s = 0; s < space.stages.size(); ++s) {
    const std::vector<int>& e = space.stages[s].expands;
    const bool any_one = std::find(e.begin(), e.end(), 1) != e.end();
    // A block with expand 1 has no expand conv: its depthwise layer works on the stage input's
    // channels, one with expand > 1 on its hidden channels; one weight cannot serve both.
    NAS_CHECK(!any_one || e.size() == 1,
              "space: stages[" << s << "].expands mixes 1 with larger ratios; a supernet stage has "
                               << "either no expand conv (1) or always one");
  }
  largest_ = space.largest();
  block_ops_ = space.ops;
  head_ops_ = space.head_ops;
  build(options);
}

void HybridNetImpl::build(const HybridNetOptions& options) {
  options_ = options;
  options_.aug.validate();
  options_.validate("net options");
  largest_resolved_ = resolve_arch(largest_);
  max_widths_ = resolve_widths(largest_resolved_, AugConfig::largest(largest_, options_.aug));
  const NetWidths& m = max_widths_;
  const ResolvedArch& r = largest_resolved_;
  // Ops of a layer: the space's list, or (fixed net) the architecture's own op.
  auto ops_or = [](const std::vector<OpKind>& list, OpKind op) {
    return list.empty() ? std::vector<OpKind>{op} : list;
  };
  stem_ = make_slot("stem_conv", "stem_bn", r.in_channels, m.stem_a, r.in_channels, r.stem_channels,
                    largest_.stem.kernel, largest_.stem.stride, false, largest_.stem.op,
                    {largest_.stem.op}, false, true);
  stages_.assign(largest_.stages.size(), {});
  stage_first_block_.assign(largest_.stages.size(), 0);
  for (size_t st = 1; st < largest_.stages.size(); ++st)
    stage_first_block_[st] = stage_first_block_[st - 1] + static_cast<size_t>(largest_.stages[st - 1].depth());
  for (size_t i = 0; i < r.blocks.size(); ++i) {
    const ResolvedBlock& rb = r.blocks[i];
    const BlockWidths& bw = m.blocks[i];
    const std::string prefix = block_prefix(rb.stage, rb.index);
    const std::vector<OpKind> ops = ops_or(block_ops_, rb.op);
    SlotBlock b;
    if (rb.has_expand_conv())
      b.expand = make_slot(prefix + "_expand", prefix + "_expand_bn", bw.in_a, bw.mid_a, rb.c_in,
                           rb.c_mid, 1, 1, false, rb.op, ops, false, true);
    b.dw = make_slot(prefix + "_dw", prefix + "_dw_bn", bw.mid_a, bw.mid_a, rb.c_mid, rb.c_mid,
                     rb.kernel, rb.stride, true, rb.op, ops, false, true);
    b.project = make_slot(prefix + "_project", prefix + "_project_bn", bw.mid_a, bw.out_a, rb.c_mid,
                          rb.c_out, 1, 1, false, rb.op, ops, false, true);
    stages_[static_cast<size_t>(rb.stage)].push_back(std::move(b));
  }
  if (r.head_channels > 0)
    head_ = make_slot("head_conv", "head_bn", m.blocks.empty() ? m.stem_a : m.blocks.back().out_a,
                      m.head_a, r.head_in, r.head_channels, 1, 1, false, largest_.head.op,
                      ops_or(head_ops_, largest_.head.op), false, true);
  const OpKind cls = largest_.head.classifier_op;
  classifier_ = make_slot("classifier", "classifier_bn", m.classifier_in_a, r.num_classes,
                          r.classifier_in, r.num_classes, 1, 1, false, cls, {cls}, true,
                          cls == OpKind::Add);
  set_subnet(largest_);
}

HybridNetImpl::Slot HybridNetImpl::make_slot(const std::string& conv_name,
                                             const std::string& bn_name, int64_t max_in,
                                             int64_t max_out, int64_t tiny_in, int64_t tiny_out,
                                             int64_t kernel, int64_t stride, bool depthwise,
                                             OpKind op, const std::vector<OpKind>& ops,
                                             bool classifier, bool with_bn) {
  HybridConv2dOptions o;
  o.max_in = max_in;
  o.max_out = max_out;
  o.max_kernel = kernel;
  o.stride = stride;
  o.depthwise = depthwise;
  o.op = op;
  o.ops = ops;
  o.remap = options_.remap;
  o.adder_unit_rms = options_.adder_unit_rms;
  o.separate_adder_weights = options_.separate_adder_weights;
  o.shift_bits = options_.shift_bits;
  o.channels_last = options_.channels_last;
  // An adder classifier is followed by BN (AdderNet), so it has no bias.
  o.bias = classifier && op != OpKind::Add;
  o.linear_init = classifier;
  o.tiny_in = tiny_in;
  o.tiny_out = tiny_out;
  // The augmented rest of each layer gets its own generator, seeded from the global seed (which
  // the draw does not advance) and the layer's name (the legacy FNV basis: the seeds, and so every
  // committed training result, stay as they were).
  o.aug_init_seed = at::detail::getDefaultCPUGenerator().current_seed() ^ fnv1a64_legacy(conv_name);
  Slot slot;
  slot.conv = register_module(conv_name, HybridConv2d(o));
  all_convs_.push_back(slot.conv);
  if (!with_bn) return slot;
  auto make_bn = [&](const std::string& name) {
    DynamicBatchNorm bn =
        register_module(name, DynamicBatchNorm(max_out, options_.bn_momentum, options_.bn_eps));
    all_bns_.push_back(bn);
    slot.bns.push_back(bn);
  };
  if (options_.bn_per_op && ops.size() > 1) {
    for (OpKind each : ops) {
      slot.bn_ops.push_back(each);
      make_bn(bn_name + "_" + op_kind_name(each));
    }
  } else {
    make_bn(bn_name);
  }
  return slot;
}

DynamicBatchNorm HybridNetImpl::Slot::bn_for(OpKind op) const {
  if (bns.empty()) return DynamicBatchNorm{nullptr};
  for (size_t i = 0; i < bn_ops.size(); ++i)
    if (bn_ops[i] == op) return bns[i];
  return bns.front();
}

const HybridNetImpl::SlotBlock& HybridNetImpl::slot_block(int stage, int index) const {
  return stages_.at(static_cast<size_t>(stage)).at(static_cast<size_t>(index));
}

std::string HybridNetImpl::subnet_violation(const ArchConfig& subnet) const {
  try {
    subnet.validate("");
  } catch (const Error& e) {
    return e.what();
  }
  if (space_) {
    std::string why = space_->violation(subnet);
    if (!why.empty()) return why;
  }
  const ArchConfig& a = largest_;
  std::ostringstream why;
  auto differs = [&](const char* field, auto got, auto want) {
    if (!why.str().empty() || got == want) return;
    why << field << " " << got << " differs from the net's " << want;
  };
  differs("in_channels", subnet.in_channels, a.in_channels);
  differs("num_classes", subnet.num_classes, a.num_classes);
  differs("stages (count)", subnet.stages.size(), a.stages.size());
  if (!why.str().empty()) return why.str();
  if (subnet.stem != a.stem) return "stem differs from the net's";
  if (subnet.width_mult > a.width_mult)
    return "width_mult " + std::to_string(subnet.width_mult) + " exceeds the net's " + std::to_string(a.width_mult);
  if ((subnet.head.channels > 0) != (a.head.channels > 0) || subnet.head.channels > a.head.channels)
    return "head.channels " + std::to_string(subnet.head.channels) + " does not fit the net's " +
           std::to_string(a.head.channels);
  if (subnet.head.classifier_op != a.head.classifier_op) return "head.classifier_op differs from the net's";
  if (head_.conv && !head_.conv->supports(subnet.head.op))
    return std::string("head.op ") + op_kind_name(subnet.head.op) + " is not an op of the net's head";
  for (size_t s = 0; s < a.stages.size(); ++s) {
    const StageConfig& st = subnet.stages[s];
    const StageConfig& at = a.stages[s];
    const std::string path = "stages[" + std::to_string(s) + "]";
    if (st.stride != at.stride || st.out_channels != at.out_channels)
      return path + " stride/out_channels differ from the net's";
    if (st.depth() > at.depth())
      return path + ".depth " + std::to_string(st.depth()) + " exceeds the net's " + std::to_string(at.depth());
    for (size_t b = 0; b < st.blocks.size(); ++b) {
      const BlockConfig& bc = st.blocks[b];
      const BlockConfig& ac = at.blocks[b];
      const std::string bp = path + ".blocks[" + std::to_string(b) + "]";
      if (bc.kernel > ac.kernel)
        return bp + ".kernel " + std::to_string(bc.kernel) + " exceeds the net's " + std::to_string(ac.kernel);
      if ((bc.expand == 1) != (ac.expand == 1) || bc.expand > ac.expand)
        return bp + ".expand " + std::to_string(bc.expand) + " does not fit the net's " + std::to_string(ac.expand);
      const SlotBlock& slot = slot_block(static_cast<int>(s), static_cast<int>(b));
      if (!slot.dw.conv->supports(bc.op))
        return bp + ".op " + op_kind_name(bc.op) + " is not an op of the net's block";
    }
  }
  // Widths: every channel count of the subnet (tiny and augmented) within the allocation.
  const ResolvedArch rs = resolve_arch(subnet);
  const NetWidths w = resolve_widths(rs, AugConfig::largest(subnet, options_.aug));
  const NetWidths& m = max_widths_;
  bool fits = w.stem_a <= m.stem_a && w.head_a <= m.head_a && w.classifier_in_a <= m.classifier_in_a;
  for (size_t i = 0; i < rs.blocks.size() && fits; ++i) {
    const ResolvedBlock& rb = rs.blocks[i];
    // The allocation's block at (stage, index) in its flat block list.
    const BlockWidths& max = m.blocks[stage_first_block_[static_cast<size_t>(rb.stage)] + static_cast<size_t>(rb.index)];
    fits = w.blocks[i].in_a <= max.in_a && w.blocks[i].mid_a <= max.mid_a && w.blocks[i].out_a <= max.out_a;
  }
  if (!fits) return "its channel counts exceed the net's allocation";
  return {};
}

void HybridNetImpl::set_subnet(const ArchConfig& subnet, const std::string& where) {
  set_active(subnet, AugConfig::tiny(subnet), where);
}

void HybridNetImpl::set_active(const ArchConfig& subnet, const AugConfig& aug,
                               const std::string& where) {
  // The same subnet again (every training step) skips the checks.
  if (!(subnet == subnet_) || plan_.layers.empty()) {
    const std::string why = subnet_violation(subnet);
    NAS_CHECK(why.empty(), where << ": architecture is not in the " << (space_ ? "supernet's space" : "network")
                                 << ": " << why);
    subnet_ = subnet;
    resolved_ = resolve_arch(subnet_);
  }
  NetWidths w = resolve_widths(resolved_, aug);
  NetWidths biggest = resolve_widths(resolved_, AugConfig::largest(subnet_, options_.aug));
  bool fits = w.stem_a <= biggest.stem_a && w.head_a <= biggest.head_a &&
              w.classifier_in_a <= biggest.classifier_in_a;
  for (size_t i = 0; i < w.blocks.size(); ++i)
    fits = fits && w.blocks[i].mid_a <= biggest.blocks[i].mid_a && w.blocks[i].out_a <= biggest.blocks[i].out_a;
  NAS_CHECK(fits, "augmented network " << aug.str() << " is wider than the layers allow");
  active_ = aug;
  tiny_ = aug.is_tiny();
  plan_ = make_plan(resolved_, w, tiny_);
}

void HybridNetImpl::set_tiny() { set_active(subnet_, AugConfig::tiny(subnet_)); }

void HybridNetImpl::set_active(const AugConfig& config) { set_active(subnet_, config); }

AugConfig HybridNetImpl::sample_aug(Rng& rng) const {
  return AugConfig::sample(subnet_, options_.aug, rng);
}

AugConfig HybridNetImpl::largest_aug() const { return AugConfig::largest(subnet_, options_.aug); }

HybridNetImpl::Plan HybridNetImpl::make_plan(const ResolvedArch& r, const NetWidths& w,
                                             bool tiny) const {
  const bool cross = options_.aug.cross_term;
  Plan plan;
  auto add = [&](std::string name, const Slot& slot, OpKind op, int64_t in_t, int64_t out_t,
                 int64_t in_a, int64_t out_a, int64_t kernel) {
    PlanLayer l;
    l.name = std::move(name);
    l.conv = slot.conv;
    l.bn = slot.bn_for(op);
    l.op = op;
    l.widths = ConvWidthsActive{in_t, out_t, in_a, out_a, kernel, tiny, cross, op};
    plan.layers.push_back(std::move(l));
    return static_cast<int>(plan.layers.size()) - 1;
  };
  const int64_t in = r.in_channels;
  plan.stem = add("stem.conv", stem_, subnet_.stem.op, in, w.stem_t, in, w.stem_a, subnet_.stem.kernel);
  for (size_t i = 0; i < r.blocks.size(); ++i) {
    const ResolvedBlock& rb = r.blocks[i];
    const BlockWidths& bw = w.blocks[i];
    const SlotBlock& sb = slot_block(rb.stage, rb.index);
    PlanBlock pb;
    if (rb.has_expand_conv())
      pb.expand = add(rb.name + ".expand", *sb.expand, rb.op, bw.in_t, bw.mid_t, bw.in_a, bw.mid_a, 1);
    pb.dw = add(rb.name + ".dw", sb.dw, rb.op, bw.mid_t, bw.mid_t, bw.mid_a, bw.mid_a, rb.kernel);
    pb.project = add(rb.name + ".project", sb.project, rb.op, bw.mid_t, bw.out_t, bw.mid_a, bw.out_a, 1);
    pb.residual = rb.residual;
    plan.blocks.push_back(pb);
  }
  if (r.head_channels > 0) {
    const int64_t head_in_a = w.blocks.empty() ? w.stem_a : w.blocks.back().out_a;
    plan.head = add("head.conv", head_, subnet_.head.op, r.head_in, w.head_t, head_in_a, w.head_a, 1);
  }
  plan.classifier = add("classifier", classifier_, subnet_.head.classifier_op, w.classifier_in_t,
                        r.num_classes, w.classifier_in_a, r.num_classes, 1);
  return plan;
}

torch::Tensor HybridNetImpl::forward(const torch::Tensor& input) {
  // conv -> BN (-> ReLU6, fused into the BN where there is one).
  auto run = [&](int index, const torch::Tensor& x, bool relu6) {
    PlanLayer& l = plan_.layers[static_cast<size_t>(index)];
    torch::Tensor y = l.conv->forward(x, l.widths);
    if (l.bn) return l.bn->forward(y, relu6);
    return relu6 ? relu6_act_(y) : y;
  };
  torch::Tensor x = run(plan_.stem, input, true);
  for (const PlanBlock& b : plan_.blocks) {
    torch::Tensor h = x;
    if (b.expand >= 0) h = run(b.expand, h, true);
    h = run(b.dw, h, true);
    h = run(b.project, h, false);
    x = b.residual ? h + x : h;
  }
  if (plan_.head >= 0) x = run(plan_.head, x, true);
  x = global_avg_pool(x);
  return run(plan_.classifier, x, false).flatten(1);
}

torch::Tensor HybridNetImpl::remap_kl() {
  torch::Tensor total = torch::zeros({}, stem_.conv->weight.options());
  if (options_.remap != RemapKind::Piecewise) return total;
  for (LayerRef& l : tiny_layers())
    if (l.conv->remap_for(l.op)) total = total + l.conv->remap_kl(l.in_t, l.out_t, l.kernel, l.op);
  return total;
}

std::vector<HybridNetImpl::LayerRef> HybridNetImpl::tiny_layers() const {
  const Plan tiny = make_plan(resolved_, resolve_widths(resolved_, AugConfig::tiny(subnet_)), true);
  std::vector<LayerRef> layers;
  for (const PlanLayer& p : tiny.layers) {
    LayerRef r;
    r.name = p.name;
    r.conv = p.conv;
    r.bn = p.bn;
    r.op = p.op;
    r.in_t = p.widths.in_t;
    r.out_t = p.widths.out_t;
    r.kernel = p.widths.kernel;
    r.stride = p.conv->options().stride;
    r.depthwise = p.conv->options().depthwise;
    layers.push_back(std::move(r));
  }
  return layers;
}

void HybridNetImpl::begin_bn_reestimation() {
  for (DynamicBatchNorm& bn : all_bns_) bn->begin_reestimation();
}

void HybridNetImpl::end_bn_reestimation() {
  for (DynamicBatchNorm& bn : all_bns_) bn->end_reestimation();
}

void HybridNetImpl::scale_adder_gradients() {
  torch::NoGradGuard no_grad;
  const double remap_eta = options_.effective_remap_eta();
  for (HybridConv2d& conv : all_convs_) {
    const SliceExtent used = conv->take_adder_slice();
    if (used.empty() || options_.eta <= 0) continue;
    const torch::Tensor g = conv->weight_for(OpKind::Add).mutable_grad();
    // The adder slice of the gradient (a view: scaled in place); the multiplicative rest of the
    // tensor keeps its plain gradient.
    if (g.defined()) {
      double eta = options_.eta;
      if (options_.relative_adder_scaling) {
        const double rms =
            slice_rms(conv->tiny_slice(used.in_t, used.out_t, used.kernel, OpKind::Add)).item<double>();
        if (rms > 0) eta *= rms;
      }
      ops::scale_gradient_to_norm(conv->tiny_slice_of(g, used.in_t, used.out_t, used.kernel), eta);
    }
    if (WeightRemap r = conv->remap_for(OpKind::Add); r && remap_eta > 0)
      for (torch::Tensor& p : r->parameters()) ops::scale_gradient_to_norm(p.mutable_grad(), remap_eta);
  }
}

std::vector<HybridNetImpl::ParamBlockDivision> HybridNetImpl::renormalize_adder_weights() {
  std::vector<ParamBlockDivision> divisions;
  if (!options_.adder_weight_renorm) return divisions;
  torch::NoGradGuard no_grad;
  for (HybridConv2d& conv : all_convs_) {
    std::vector<int64_t> block = conv->adder_view_block();
    if (block.empty()) continue;
    const torch::Tensor& param = conv->weight_for(OpKind::Add);
    torch::Tensor view = leading_block(param, block);
    const double rms = slice_rms(view).item<double>();
    if (!(rms > 0) || !std::isfinite(rms)) continue;
    view.div_(rms);
    divisions.push_back({param, std::move(block), rms});
  }
  return divisions;
}

std::vector<torch::Tensor> HybridNetImpl::decay_parameters() const {
  // The conv weights, in registration order (BN, biases and remap parameters have no decay).
  std::vector<torch::Tensor> out;
  for (const HybridConv2d& conv : all_convs_)
    for (const torch::Tensor& w : conv->weights()) out.push_back(w);
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
  // "Tiny" for the sort: the largest subnet's channels (a fixed net: its tiny network).
  const NetWidths t = resolve_widths(largest_resolved_, AugConfig::tiny(largest_));
  const NetWidths& m = max_widths_;
  std::vector<ChannelSpace> spaces;
  auto open = [&](int64_t tiny, int64_t max) {
    spaces.push_back(ChannelSpace{tiny, max, {}, {}, {}});
    return spaces.size() - 1;
  };
  auto add_bns = [](ChannelSpace& s, const Slot& slot) {
    s.bns.insert(s.bns.end(), slot.bns.begin(), slot.bns.end());
  };
  size_t cur = open(t.stem_t, m.stem_a);
  spaces[cur].rows.push_back(stem_.conv);
  add_bns(spaces[cur], stem_);
  for (size_t i = 0; i < largest_resolved_.blocks.size(); ++i) {
    const ResolvedBlock& rb = largest_resolved_.blocks[i];
    const SlotBlock& b = slot_block(rb.stage, rb.index);
    size_t hidden = cur;
    if (b.expand) {
      spaces[cur].cols.push_back(b.expand->conv);
      hidden = open(t.blocks[i].mid_t, m.blocks[i].mid_a);
      spaces[hidden].rows.push_back(b.expand->conv);
      add_bns(spaces[hidden], *b.expand);
    }
    spaces[hidden].rows.push_back(b.dw.conv);
    add_bns(spaces[hidden], b.dw);
    spaces[hidden].cols.push_back(b.project.conv);
    const size_t out = rb.residual ? cur : open(t.blocks[i].out_t, m.blocks[i].out_a);
    spaces[out].rows.push_back(b.project.conv);
    add_bns(spaces[out], b.project);
    cur = out;
  }
  if (head_.conv) {
    spaces[cur].cols.push_back(head_.conv);
    cur = open(t.head_t, m.head_a);
    spaces[cur].rows.push_back(head_.conv);
    add_bns(spaces[cur], head_);
  }
  spaces[cur].cols.push_back(classifier_.conv);

  ChannelSortResult result;
  auto permute = [&](torch::Tensor& p, int64_t dim, const torch::Tensor& perm) {
    p.copy_(p.index_select(dim, perm.to(p.device())));
    result.permutations.push_back(ParamPermutation{p, dim, perm});
  };
  const bool include_tiny = mode == ChannelSort::All;
  for (ChannelSpace& s : spaces) {
    if (s.max <= s.tiny) continue;
    // Importance: L1 of the consumers' input columns and of the depthwise rows. A layer with a
    // separate adder tensor adds each tensor's L1 over its mean (adder weights live on the scale
    // of the activations, shift / mult weights on Kaiming's: raw sums would rank by the adder).
    torch::Tensor importance = torch::zeros({s.max}, torch::kDouble);
    auto add_importance = [&](const HybridConv2d& layer, int64_t dim) {
      const std::vector<int64_t> reduce = dim == 1 ? std::vector<int64_t>{0, 2, 3} : std::vector<int64_t>{1, 2, 3};
      const std::vector<torch::Tensor> ws = layer->weights();
      for (const torch::Tensor& w : ws) {
        torch::Tensor l1 = w.narrow(dim, 0, s.max).abs().sum(reduce).to(torch::kCPU, torch::kDouble);
        if (ws.size() > 1) l1 = l1 / l1.mean().clamp_min(1e-30);
        importance += l1;
      }
    };
    for (HybridConv2d& c : s.cols) add_importance(c, 1);
    for (HybridConv2d& r : s.rows)
      if (r->options().depthwise) add_importance(r, 0);
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
      for (torch::Tensor w : r->weights()) permute(w, 0, perm);
      if (r->bias.defined()) permute(r->bias, 0, perm);
    }
    for (HybridConv2d& c : s.cols) {
      const torch::Tensor perm = full_perm(c->weight.size(1));
      for (torch::Tensor w : c->weights()) permute(w, 1, perm);
    }
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
    const torch::Tensor raw = l.conv->tiny_slice(l.in_t, l.out_t, l.kernel, l.op);
    WeightRemap remap = l.conv->remap_for(l.op);
    const torch::Tensor remapped = remap ? remap->forward(raw) : raw;
    layers.push_back({{"layer", l.name},
                      {"op", op_kind_name(l.op)},
                      {"numel", raw.numel()},
                      {"raw", distribution_json(raw)},
                      {"remapped", distribution_json(remapped)}});
  }
  return layers;
}

}  // namespace nas
