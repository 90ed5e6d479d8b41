// Tests of the supernet module: hybrid layers, remaps, HybridNet, channel sorting, BN
// re-estimation, tiny-network export, and checkpoint/resume of the ShiftAddAug trainer.
// <torch/...> must come before <doctest/doctest.h> (toolchain.md, gotcha 1).
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "datasets/data_loader.h"
#include "datasets/dataset.h"
#include "ops/adder_conv2d.h"
#include "ops/shift_conv2d.h"
#include "supernet/aug_config.h"
#include "supernet/dynamic_batch_norm.h"
#include "supernet/hybrid_conv2d.h"
#include "supernet/hybrid_net.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/tiny_net.h"
#include "supernet/weight_remap.h"
#include "tests/supernet_fixtures.h"

using namespace nas;
using torch::Tensor;

using namespace nas::test;

// ---- augmentation widths ------------------------------------------------------------------------

TEST_CASE("resolve_widths: the tiny config gives resolve_arch's widths, augmentation only widens") {
  const ArchConfig arch = small_arch(OpKind::Shift);
  const ResolvedArch r = resolve_arch(arch);
  const NetWidths t = resolve_widths(r, AugConfig::tiny(arch));
  CHECK(t.stem_t == r.stem_channels);
  CHECK(t.stem_a == t.stem_t);
  for (size_t i = 0; i < r.blocks.size(); ++i) {
    CHECK(t.blocks[i].in_t == r.blocks[i].c_in);
    CHECK(t.blocks[i].mid_t == r.blocks[i].c_mid);
    CHECK(t.blocks[i].out_t == r.blocks[i].c_out);
    CHECK(t.blocks[i].mid_a == t.blocks[i].mid_t);
  }
  const NetWidths big = resolve_widths(r, AugConfig::largest(arch, small_aug()));
  CHECK(big.stem_a == 16);
  CHECK(big.blocks[2].out_a == 32);
  CHECK(big.blocks[1].mid_a >= 2 * big.blocks[1].mid_t);
  Rng rng(3);
  for (int i = 0; i < 20; ++i) {
    const NetWidths w = resolve_widths(r, AugConfig::sample(arch, small_aug(), rng));
    for (size_t b = 0; b < w.blocks.size(); ++b) {
      CHECK(w.blocks[b].mid_a <= big.blocks[b].mid_a);
      CHECK(w.blocks[b].mid_a >= w.blocks[b].mid_t);
    }
  }
  CHECK_THROWS_WITH_AS(parse_multiplier_list("1,x", "--width-list"),
                       doctest::Contains("--width-list"), nas::Error);
  CHECK(parse_multiplier_list("1.8,2.6", "--width-list") == std::vector<double>{1.0, 1.8, 2.6});
}

// ---- one hybrid layer ----------------------------------------------------------------------------

TEST_CASE("HybridConv2d: augmented forward equals a hand-built reference (cross term on/off)") {
  torch::manual_seed(1);
  for (OpKind op : {OpKind::Shift, OpKind::Add, OpKind::Mult}) {
    for (RemapKind remap : {RemapKind::None, RemapKind::Quantile}) {
      for (bool cross : {true, false}) {
        CAPTURE(op_kind_name(op));
        CAPTURE(remap_kind_name(remap));
        CAPTURE(cross);
        HybridConv2dOptions o;
        o.max_in = 12;
        o.max_out = 10;
        o.max_kernel = 5;
        o.stride = 1;
        o.op = op;
        o.remap = remap;
        HybridConv2d conv(o);
        const int64_t it = 4, ia = 9, ot = 3, oa = 8, k = 3;
        const Tensor x = torch::randn({2, ia, 6, 6});
        const Tensor y = conv->forward(x, ConvWidthsActive{it, ot, ia, oa, k, false, cross});
        // Reference, from the definition.
        const Tensor W = conv->weight.narrow(2, 1, 3).narrow(3, 1, 3);
        Tensor r_tt = W.narrow(0, 0, ot).narrow(1, 0, it);
        if (op != OpKind::Mult && remap != RemapKind::None) r_tt = conv->remap->forward(r_tt);
        const Tensor xt = x.narrow(1, 0, it);
        Tensor yt = op == OpKind::Add ? ops::adder_conv2d(xt, r_tt.contiguous(), 1, 1, 1, 0.2)
                    : op == OpKind::Shift ? ops::shift_conv2d(xt, r_tt, 1, 1, 1)
                                          : torch::conv2d(xt, r_tt, {}, 1, 1);
        if (cross)
          yt = yt + torch::conv2d(x.narrow(1, it, ia - it), W.narrow(0, 0, ot).narrow(1, it, ia - it), {}, 1, 1);
        const Tensor ya = torch::conv2d(x, W.narrow(0, ot, oa - ot).narrow(1, 0, ia), {}, 1, 1);
        const Tensor ref = torch::cat({yt, ya}, 1);
        REQUIRE(y.sizes() == ref.sizes());
        const double tol = 1e-4 * (1.0 + ref.abs().max().item<double>());
        CHECK((y - ref).abs().max().item<double>() < tol);
        // Tiny-only forward: exactly the MF part.
        const Tensor y_tiny = conv->forward(xt, ConvWidthsActive{it, ot, it, ot, k, true, cross});
        const Tensor ref_tiny = op == OpKind::Add ? ops::adder_conv2d(xt, r_tt.contiguous(), 1, 1, 1, 0.2)
                                : op == OpKind::Shift ? ops::shift_conv2d(xt, r_tt, 1, 1, 1)
                                                      : torch::conv2d(xt, r_tt, {}, 1, 1);
        CHECK((y_tiny - ref_tiny).abs().max().item<double>() < tol);
      }
    }
  }
}

TEST_CASE("HybridConv2d: depthwise tiny channels use MF, augmented channels conv") {
  torch::manual_seed(2);
  for (OpKind op : {OpKind::Shift, OpKind::Add}) {
    HybridConv2dOptions o;
    o.max_in = o.max_out = 12;
    o.max_kernel = 3;
    o.stride = 2;
    o.depthwise = true;
    o.op = op;
    HybridConv2d conv(o);
    const Tensor x = torch::randn({2, 10, 7, 7});
    const Tensor y = conv->forward(x, ConvWidthsActive{4, 4, 10, 10, 3, false, true});
    const Tensor wt = conv->weight.narrow(0, 0, 4);
    const Tensor yt = op == OpKind::Add
                          ? ops::adder_conv2d(x.narrow(1, 0, 4), wt.contiguous(), 2, 1, 4, 0.2)
                          : ops::shift_conv2d(x.narrow(1, 0, 4), wt, 2, 1, 4);
    const Tensor ya = torch::conv2d(x.narrow(1, 4, 6), conv->weight.narrow(0, 4, 6), {}, 2, 1, 1, 6);
    const Tensor ref = torch::cat({yt, ya}, 1);
    CHECK((y - ref).abs().max().item<double>() < 1e-4 * (1.0 + ref.abs().max().item<double>()));
  }
}

TEST_CASE("HybridConv2d: elastic kernel is the centre crop") {
  torch::manual_seed(3);
  HybridConv2dOptions o;
  o.max_in = 4;
  o.max_out = 4;
  o.max_kernel = 5;
  HybridConv2d conv(o);
  const Tensor x = torch::randn({1, 4, 6, 6});
  const Tensor y = conv->forward(x, ConvWidthsActive{4, 4, 4, 4, 3, true, true});
  const Tensor ref = torch::conv2d(x, conv->weight.narrow(2, 1, 3).narrow(3, 1, 3), {}, 1, 1);
  CHECK(torch::allclose(y, ref, 1e-5, 1e-6));
}

// ---- remaps --------------------------------------------------------------------------------------

TEST_CASE("quantile remap maps a Gaussian sample to Laplacian moments") {
  torch::manual_seed(4);
  WeightRemap remap(RemapKind::Quantile, 64);
  const Tensor w = torch::randn({64, 32, 3, 3}) * 0.05 + 0.01;  // 18432 weights
  const Tensor r = remap->forward(w).detach();
  const double var_w = moment(w, 2), var_r = moment(r, 2);
  CHECK(std::abs(var_r / var_w - 1.0) < 0.05);
  CHECK(std::abs(r.mean().item<double>() - w.mean().item<double>()) < 0.002);
  const double excess_kurtosis = moment(r, 4) / (var_r * var_r) - 3.0;
  CHECK(excess_kurtosis > 2.5);
  CHECK(excess_kurtosis < 3.5);
  const double gaussian_kurtosis = moment(w, 4) / (var_w * var_w) - 3.0;
  CHECK(std::abs(gaussian_kurtosis) < 0.2);
  // Monotone: the order of the weights is kept.
  const Tensor order_w = std::get<1>(w.reshape({-1}).sort());
  const Tensor sorted_r = r.reshape({-1}).index_select(0, order_w);
  CHECK((sorted_r.narrow(0, 1, sorted_r.size(0) - 1) - sorted_r.narrow(0, 0, sorted_r.size(0) - 1))
            .min()
            .item<double>() >= 0.0);
  // Gradient reaches the weights and the affine parameters.
  const Tensor wg = w.clone().requires_grad_(true);
  remap->forward(wg).pow(2).sum().backward();
  CHECK(wg.grad().abs().sum().item<double>() > 0);
  CHECK(remap->scale.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("piecewise remap: identity at init, KL term decreases when fitting") {
  torch::manual_seed(5);
  WeightRemap remap(RemapKind::Piecewise, 16);
  const Tensor w = torch::randn({16, 16, 3, 3}) * 0.1;
  CHECK(torch::allclose(remap->forward(w), w, 1e-5, 1e-6));
  torch::optim::Adam adam(remap->parameters(), torch::optim::AdamOptions(0.05));
  const double kl0 = remap->kl_term(w).item<double>();
  double kl = kl0;
  for (int i = 0; i < 60; ++i) {
    adam.zero_grad();
    const Tensor loss = remap->kl_term(w);
    loss.backward();
    adam.step();
    kl = loss.item<double>();
  }
  CHECK(kl0 > 0.0);
  CHECK(kl < 0.5 * kl0);
  // Still monotone after fitting.
  const Tensor x = torch::linspace(w.min().item<double>(), w.max().item<double>(), 500);
  const Tensor wx = torch::cat({x, w.reshape({-1})});  // the bins come from the slice's range
  const Tensor rx = remap->forward(wx).narrow(0, 0, 500).detach();
  CHECK((rx.narrow(0, 1, 499) - rx.narrow(0, 0, 499)).min().item<double>() >= -1e-6);
  CHECK_THROWS_WITH_AS(parse_remap_kind("cubic"), doctest::Contains("accepted: none, quantile, piecewise"),
                       nas::Error);
}

// ---- dynamic BN ----------------------------------------------------------------------------------

TEST_CASE("DynamicBatchNorm: slices share buffers, re-estimation is a cumulative average") {
  torch::manual_seed(6);
  DynamicBatchNorm bn(8);
  bn->train();
  const Tensor x = torch::randn({16, 5, 3, 3}) + 2.0;
  bn->forward(x);
  // The prefix of the buffers moved, the rest did not.
  CHECK(bn->running_mean.narrow(0, 0, 5).abs().sum().item<double>() > 0.1);
  CHECK(bn->running_mean.narrow(0, 5, 3).abs().sum().item<double>() == 0.0);
  bn->begin_reestimation();
  std::vector<Tensor> means;
  for (int i = 0; i < 3; ++i) {
    const Tensor b = torch::randn({8, 5, 3, 3}) * (i + 1) + i;
    means.push_back(b.mean(std::vector<int64_t>{0, 2, 3}));
    bn->forward(b);
  }
  bn->end_reestimation();
  const Tensor expected = (means[0] + means[1] + means[2]) / 3.0;
  CHECK(torch::allclose(bn->running_mean.narrow(0, 0, 5), expected, 1e-4, 1e-5));
}

// ---- HybridNet + export --------------------------------------------------------------------------

TEST_CASE("tiny forward inside the hybrid net equals the exported network, bit for bit") {
  for (OpKind op : {OpKind::Shift, OpKind::Add, OpKind::Mult}) {
    for (RemapKind remap : {RemapKind::None, RemapKind::Quantile, RemapKind::Piecewise}) {
      if (op == OpKind::Mult && remap != RemapKind::None) continue;
      CAPTURE(op_kind_name(op));
      CAPTURE(remap_kind_name(remap));
      torch::manual_seed(7);
      ArchConfig arch = small_arch(op, 3, 5);
      if (op == OpKind::Add) arch.head.classifier_op = OpKind::Add;  // adder classifier + BN
      HybridNetOptions options;
      options.aug = small_aug();
      options.remap = remap;
      HybridNet net(arch, options);
      randomise_bn(*net, 8);
      net->eval();
      net->set_tiny();
      const Tensor x = torch::randn({6, 3, 8, 8});
      const Tensor expected = net->forward(x);
      TinyPreprocessing pre{"synthetic", 8, {0.5, 0.5, 0.5}, {0.25, 0.25, 0.25}};
      const TinyNet tiny = TinyNet::from_hybrid(*net, pre, {{"note", "test"}});
      CHECK(torch::equal(tiny.forward(x), expected));
      // Through the file.
      const std::string path = temp_path(std::string("tiny_") + op_kind_name(op) + ".model");
      tiny.save(path);
      const TinyNet loaded = TinyNet::load(path);
      CHECK(torch::equal(loaded.forward(x), expected));
      CHECK(loaded.arch() == arch);
      CHECK(loaded.preprocessing().mean == pre.mean);
      CHECK(loaded.meta().at("note").get<std::string>() == "test");
      // Only the tiny network is kept: shift layers as int8 codes, nothing augmented.
      if (op == OpKind::Shift) {
        CHECK(loaded.stored().count("stage1.block0.expand.shift") == 1);
        CHECK((loaded.stored().at("stage1.block0.expand.shift").scalar_type() == torch::kChar));
        CHECK(loaded.stored().count("stem.conv.weight") == 1);  // the stem stays mult
      }
      const ResolvedArch r = resolve_arch(arch);
      CHECK(loaded.stored().at("stage1.block1.project.bn.running_mean").size(0) == r.blocks[2].c_out);
    }
  }
}

TEST_CASE("gradient flow: the tiny slice gets gradient from both losses, augmented weights only from the augmented loss") {
  torch::manual_seed(9);
  HybridNetOptions options;
  options.aug = small_aug();
  const ArchConfig arch = small_arch(OpKind::Shift);
  HybridNet net(arch, options);
  net->train();
  const Tensor x = torch::randn({4, 1, 8, 8});
  const Tensor y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  const std::vector<HybridNetImpl::LayerRef> layers = net->tiny_layers();
  auto slice_grad = [&](const HybridNetImpl::LayerRef& l, bool tiny_part) {
    const Tensor g = l.conv->weight.grad();
    if (!g.defined()) return 0.0;
    Tensor t = torch::zeros_like(g);
    if (l.depthwise)
      t.narrow(0, 0, l.out_t).fill_(1.0);
    else
      t.narrow(0, 0, l.out_t).narrow(1, 0, l.in_t).fill_(1.0);
    return (tiny_part ? (g * t) : (g * (1 - t))).abs().sum().item<double>();
  };
  // Tiny loss alone.
  net->set_tiny();
  smoothed_cross_entropy(net->forward(x), y, 0.1).backward();
  for (const auto& l : layers) {
    CAPTURE(l.name);
    CHECK(slice_grad(l, true) > 0);
    CHECK(slice_grad(l, false) == 0.0);
  }
  std::vector<Tensor> tiny_grads;
  for (const auto& l : layers) tiny_grads.push_back(l.conv->weight.grad().clone());
  for (auto& p : net->parameters()) p.mutable_grad().reset();
  // Augmented loss alone (largest network).
  net->set_active(net->largest_aug());
  smoothed_cross_entropy(net->forward(x), y, 0.1).backward();
  for (const auto& l : layers) {
    CAPTURE(l.name);
    CHECK(slice_grad(l, true) > 0);
    if (l.name != "classifier") CHECK(slice_grad(l, false) > 0);
  }
}

TEST_CASE("channels-last training: the layers compute in NHWC, the step equals the NCHW one, evaluation stays NCHW") {
  // The layout of one mult / shift layer's output: channels-last in training, NCHW in evaluation,
  // NCHW (and untouched input) for a tiny-only adder forward.
  for (OpKind op : {OpKind::Mult, OpKind::Shift, OpKind::Add}) {
    CAPTURE(op_kind_name(op));
    HybridConv2dOptions o;
    o.max_in = 8;
    o.max_out = 6;
    o.max_kernel = 3;
    o.op = op;
    HybridConv2d conv(o);
    const Tensor x = torch::randn({2, 8, 5, 5});
    conv->train();
    const Tensor tiny = conv->forward(x.narrow(1, 0, 4).contiguous(), ConvWidthsActive{4, 3, 4, 3, 3, true, true});
    const Tensor augmented = conv->forward(x, ConvWidthsActive{4, 3, 8, 6, 3, false, true});
    CHECK(augmented.is_contiguous(at::MemoryFormat::ChannelsLast));
    CHECK_FALSE(augmented.is_contiguous());
    CHECK(tiny.is_contiguous(op == OpKind::Add ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast));
    conv->eval();
    CHECK(conv->forward(x, ConvWidthsActive{4, 3, 8, 6, 3, false, true}).is_contiguous());
    o.channels_last = false;
    HybridConv2d nchw(o);
    CHECK(nchw->forward(x, ConvWidthsActive{4, 3, 8, 6, 3, false, true}).is_contiguous());
  }
  // A whole training step, tiny and augmented, equals the NCHW one up to summation order.
  for (OpKind op : {OpKind::Shift, OpKind::Add, OpKind::Mult}) {
    CAPTURE(op_kind_name(op));
    const ArchConfig arch = small_arch(op);
    std::vector<HybridNet> nets;
    for (bool channels_last : {true, false}) {
      HybridNetOptions options;
      options.aug = small_aug();
      options.channels_last = channels_last;
      torch::manual_seed(21);
      nets.emplace_back(arch, options);
      nets.back()->train();
    }
    const Tensor x = torch::randn({6, 1, 8, 8});
    const Tensor y = torch::tensor({0, 1, 2, 3, 0, 1}, torch::kLong);
    // Evaluation (before any step moves the BN statistics): the same computation both ways, so
    // bit for bit, and so is the exported network's.
    std::vector<Tensor> evaluated;
    for (HybridNet& net : nets) {
      net->eval();
      net->set_tiny();
      evaluated.push_back(net->forward(x));
      net->train();
    }
    CHECK(torch::equal(evaluated[0], evaluated[1]));
    std::vector<double> losses;
    for (HybridNet& net : nets) {
      net->set_tiny();
      Tensor loss = smoothed_cross_entropy(net->forward(x), y, 0.1);
      net->set_active(net->largest_aug());
      loss = loss + smoothed_cross_entropy(net->forward(x), y, 0.1);
      loss.backward();
      losses.push_back(loss.item<double>());
    }
    CHECK(losses[0] == doctest::Approx(losses[1]).epsilon(1e-5));
    const auto a = nets[0]->named_parameters(), b = nets[1]->named_parameters();
    REQUIRE(a.size() == b.size());
    int compared = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].value().grad().defined()) continue;
      CAPTURE(a[i].key());
      const Tensor ga = a[i].value().grad(), gb = b[i].value().grad();
      CHECK((ga - gb).abs().max().item<double>() <= 1e-4 * (1.0 + gb.abs().max().item<double>()));
      ++compared;
    }
    CHECK(compared >= 10);
  }
  // The option is written only when off; a file without it reads as on.
  HybridNetOptions off;
  off.channels_last = false;
  CHECK(off.to_json().at("channels_last") == false);
  CHECK_FALSE(HybridNetOptions{}.to_json().contains("channels_last"));
  CHECK_FALSE(HybridNetOptions::from_json(off.to_json(), "net").channels_last);
  CHECK(HybridNetOptions::from_json(HybridNetOptions{}.to_json(), "net").channels_last);
}

TEST_CASE("remap parameters of adder layers get AdderNet's adaptive gradient scaling") {
  for (const double remap_eta : {-1.0, 0.1})
  for (RemapKind remap : {RemapKind::Quantile, RemapKind::Piecewise}) {
    CAPTURE(remap_eta);
    torch::manual_seed(11);
    HybridNetOptions options;
    options.aug = small_aug();
    options.remap = remap;
    options.remap_eta = remap_eta;
    HybridNet net(small_arch(OpKind::Add), options);
    net->train();
    net->set_active(net->largest_aug());
    smoothed_cross_entropy(net->forward(torch::randn({4, 1, 8, 8})),
                           torch::tensor({0, 1, 2, 3}, torch::kLong), 0.1)
        .backward();
    net->scale_adder_gradients();
    int scaled = 0;
    for (const auto& l : net->tiny_layers()) {
      if (l.op != OpKind::Add || !l.conv->remap) continue;
      for (const Tensor& p : l.conv->remap->parameters()) {
        if (!p.grad().defined() || p.grad().norm().item<double>() == 0) continue;
        CAPTURE(l.name);
        const double eta = remap_eta < 0 ? options.eta : remap_eta;
        const double expected = eta * std::sqrt(static_cast<double>(p.numel()));
        CHECK(p.grad().norm().item<double>() == doctest::Approx(expected).epsilon(1e-5));
        ++scaled;
      }
    }
    CHECK(scaled > 0);
  }
}

TEST_CASE("channel sorting of the augmented channels keeps the tiny network and permutes the augmented one") {
  torch::manual_seed(10);
  for (OpKind op : {OpKind::Shift, OpKind::Add}) {
    HybridNetOptions options;
    options.aug = small_aug();
    HybridNet net(small_arch(op), options);
    randomise_bn(*net, 11);
    // Make the importance order non-trivial.
    {
      torch::NoGradGuard no_grad;
      for (auto& p : net->parameters()) p.mul_(torch::rand_like(p) * 2);
    }
    net->eval();
    const Tensor x = torch::randn({3, 1, 8, 8});
    const auto [tiny_before, aug_before] = tiny_and_largest_outputs(net, x);
    const auto sorted = net->sort_channels(ChannelSort::AugmentedOnly);
    CHECK(!sorted.permutations.empty());
    CHECK(sorted.moved_into_tiny == 0);
    net->set_tiny();
    CHECK(torch::equal(net->forward(x), tiny_before));
    net->set_active(net->largest_aug());
    const Tensor aug_after = net->forward(x);
    CHECK(torch::allclose(aug_after, aug_before, 1e-4, 1e-4));
    // Sorted: a second sort changes nothing.
    CHECK(net->sort_channels(ChannelSort::AugmentedOnly).permutations.empty());
  }
}

TEST_CASE("set_active rejects networks wider than the layers") {
  HybridNetOptions options;
  options.aug.expand_mults = {1.0};
  options.aug.width_mults = {1.0};
  const ArchConfig arch = small_arch(OpKind::Add);
  HybridNet net(arch, options);
  AugConfig wide = AugConfig::tiny(arch);
  wide.stem_width = 2.0;
  CHECK_THROWS_WITH_AS(net->set_active(wide), doctest::Contains("wider than the layers allow"),
                       nas::Error);
}

// ---- model file errors ---------------------------------------------------------------------------

namespace {

// Replaces the header JSON of a model file and re-seals the checksum.
std::string reseal_with_header(const std::string& bytes, const std::function<void(json&)>& edit,
                               bool legacy_checksum = false) {
  uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  json header = json::parse(bytes.substr(16, len));
  edit(header);
  const std::string text = header.dump();
  std::string out = bytes.substr(0, 8);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((text.size() >> (8 * i)) & 0xff);
  out += text;
  out += bytes.substr(16 + len, bytes.size() - 8 - 16 - len);
  const uint64_t h = legacy_checksum ? fnv1a64_legacy(out) : fnv1a64(out);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((h >> (8 * i)) & 0xff);
  return out;
}

}  // namespace

TEST_CASE("loading a corrupt or mismatched model fails with a clear one-line error") {
  torch::manual_seed(12);
  HybridNetOptions options;
  HybridNet net(small_arch(OpKind::Shift), options);
  const TinyNet tiny = TinyNet::from_hybrid(*net, TinyPreprocessing{"synthetic", 8, {0.5}, {0.25}});
  const std::string good = tiny.serialize();
  const std::string path = temp_path("bad.model");
  auto load_error = [&](const std::string& bytes) -> std::string {
    write_file_atomic(path, bytes);
    try {
      TinyNet::load(path);
    } catch (const nas::Error& e) {
      CHECK(e.message().find('\n') == std::string::npos);
      return e.message();
    }
    return "no error";
  };
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;
  CHECK(load_error(flipped).find("checksum mismatch") != std::string::npos);
  CHECK(load_error(good.substr(0, good.size() - 100)).find("checksum mismatch") != std::string::npos);
  CHECK(load_error("hello world, this is not a model").find("bad magic") != std::string::npos);
  // A header whose architecture is wider than the stored tensors.
  const std::string wider = reseal_with_header(good, [](json& h) {
    h["arch"]["stages"][1]["out_channels"] = 24;
  });
  const std::string msg = load_error(wider);
  CHECK(msg.find("has shape") != std::string::npos);
  CHECK(msg.find("the architecture needs") != std::string::npos);
  // A different op: shift codes where the architecture says adder weights.
  const std::string other_op = reseal_with_header(good, [](json& h) {
    for (auto& s : h["arch"]["stages"])
      for (auto& b : s["blocks"]) b["op"] = "add";
  });
  CHECK(load_error(other_op).find("is missing") != std::string::npos);
  const std::string bad_version = reseal_with_header(good, [](json& h) { h["format_version"] = 99; });
  CHECK(load_error(bad_version).find("format version 99") != std::string::npos);
  // Intact file loads.
  CHECK(load_error(good) == "no error");
  // Format version 1 (sealed with the legacy FNV basis) is still read, and gives the same network;
  // a checksum that does not match the version's basis is corruption.
  const auto set_v1 = [](json& h) { h["format_version"] = 1; };
  CHECK(load_error(reseal_with_header(good, set_v1, /*legacy_checksum=*/true)) == "no error");
  write_file_atomic(path, reseal_with_header(good, set_v1, true));
  const torch::Tensor x = torch::randn({2, 1, 8, 8});
  CHECK(torch::equal(TinyNet::load(path).forward(x), tiny.forward(x)));
  CHECK(load_error(reseal_with_header(good, set_v1)).find("checksum mismatch") != std::string::npos);
  CHECK(load_error(reseal_with_header(good, [](json&) {}, true)).find("checksum mismatch") != std::string::npos);
  std::filesystem::remove(path);
}

// ---- trainer ------------------------------------------------------------------------------------

TEST_CASE("smoothed cross entropy matches the definition") {
  torch::manual_seed(13);
  const Tensor logits = torch::randn({5, 4});
  const Tensor labels = torch::tensor({0, 3, 1, 2, 2}, torch::kLong);
  const Tensor plain = torch::nll_loss(torch::log_softmax(logits, 1), labels);
  CHECK(smoothed_cross_entropy(logits, labels, 0.0).item<double>() == doctest::Approx(plain.item<double>()));
  const Tensor logp = torch::log_softmax(logits, 1);
  const double expected = 0.9 * plain.item<double>() - 0.1 * logp.mean(1).mean().item<double>();
  CHECK(smoothed_cross_entropy(logits, labels, 0.1).item<double>() == doctest::Approx(expected));
}

TEST_CASE("trainer: a killed run resumed from its checkpoint ends with identical weights") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(96, 14));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 5));
  for (RemapKind remap : {RemapKind::None, RemapKind::Piecewise}) {
    CAPTURE(remap_kind_name(remap));
    HybridNetOptions net_options;
    net_options.aug = small_aug();
    net_options.remap = remap;
    TrainerOptions options;
    options.epochs = 3;
    options.lr = 0.05;
    options.warmup_epochs = 1;
    options.stop_width_aug_fraction = options.stop_expand_aug_fraction = 0.66;  // the last epoch is tiny-only
    options.bn_batches = 2;
    options.seed = 21;
    options.progress = false;
    const ArchConfig arch = small_arch(OpKind::Add);
    const json fingerprint = {{"test", "resume"}};
    // Killed after step 8 (mid-epoch 2), its last checkpoint at step 7.
    const ResumeCheck r = check_resume([&] { return HybridNet(arch, net_options); }, options, loader,
                                       fingerprint, 7, 8, 100, "fixed");
    REQUIRE(r.straight.size() == 3);
    CHECK(r.straight[0].augmented);
    CHECK(!r.straight[2].augmented);
    CHECK(r.resumed_at_step == 7);
    CHECK(r.weights_equal);
    REQUIRE(r.resumed.size() == 3);
    CHECK(r.resumed[2].val_top1 == r.straight[2].val_top1);
    CHECK(r.resumed[1].train_loss == doctest::Approx(r.straight[1].train_loss).epsilon(1e-12));
    TrainerOptions ob = options;
    ob.checkpoint_path = temp_path("fixed_killed.ckpt");
    // A checkpoint of other settings is refused.
    HybridNet d(arch, net_options);
    ShiftAddAugTrainer td(d, ob, loader, &loader);
    CHECK_THROWS_WITH_AS(td.resume(json{{"test", "other"}}),
                         doctest::Contains("was made with different settings (settings.test differs)"),
                         nas::Error);
  }
}

TEST_CASE("trainer: ShiftAddAug learns the synthetic task, and the export reproduces its accuracy") {
  const auto train = std::make_shared<const datasets::Dataset>(synthetic_dataset(256, 15));
  const auto test = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 16));
  const datasets::DataLoader train_loader(train, datasets::DataLoaderOptions::training("synthetic", 32, 1));
  datasets::DataLoaderOptions eval_options = datasets::DataLoaderOptions::evaluation(32);
  eval_options.mean = train_loader.mean();
  eval_options.std = train_loader.std();
  const datasets::DataLoader test_loader(test, eval_options);
  torch::manual_seed(17);
  HybridNetOptions net_options;
  net_options.aug = small_aug();
  HybridNet net(small_arch(OpKind::Shift), net_options);
  TrainerOptions options;
  options.epochs = 4;
  options.lr = 0.1;
  options.bn_batches = 4;
  options.progress = false;
  ShiftAddAugTrainer trainer(net, options, train_loader, nullptr);
  CHECK(trainer.train());
  const double top1 = trainer.evaluate(test_loader, /*reestimate=*/false);
  CHECK(top1 > 60.0);
  const TinyNet tiny = TinyNet::from_hybrid(*net, TinyPreprocessing{"synthetic", 8, train_loader.mean(), train_loader.std()});
  int64_t correct = 0;
  for (datasets::Batch& b : test_loader.epoch(0))
    correct += tiny.forward(b.images).argmax(1).eq(b.labels).sum().item<int64_t>();
  CHECK(100.0 * static_cast<double>(correct) / 64.0 == top1);
}
