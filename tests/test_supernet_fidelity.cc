// Tests of ShiftAddAug training as the paper means it: one adaptive-scaling step per optimiser
// step, the same start for augmented and direct training, NetAug's schedule, channel sorting over
// all channels (weight tearing) and its measurement, the FC remap.
// <torch/...> must come before <doctest/doctest.h> (toolchain.md, gotcha 1).
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/error.h"
#include "datasets/data_loader.h"
#include "supernet/hybrid_conv2d.h"
#include "supernet/hybrid_net.h"
#include "supernet/sgd_nesterov.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/weight_remap.h"
#include "tests/supernet_fixtures.h"

using namespace nas;
using namespace nas::test;
using torch::Tensor;

namespace {

HybridNetOptions no_aug() {
  HybridNetOptions o;
  o.aug.expand_mults = {1.0};
  o.aug.width_mults = {1.0};
  return o;
}

HybridNetOptions with_aug() {
  HybridNetOptions o;
  o.aug = small_aug();
  return o;
}

// The MF slice of a layer's gradient (as scale_adder_gradients sees it).
Tensor slice_of(const Tensor& t, const HybridNetImpl::LayerRef& l) {
  Tensor s = t.narrow(0, 0, l.out_t);
  return l.depthwise ? s : s.narrow(1, 0, l.in_t);
}

std::vector<Tensor> tiny_slices(HybridNet& net) {
  std::vector<Tensor> out;
  for (const auto& l : net->tiny_layers())
    out.push_back(l.conv->tiny_slice(l.in_t, l.out_t, l.kernel).detach().clone());
  return out;
}

// A short quiet run on the synthetic task.
TrainerOptions quick_options(int64_t epochs, int64_t bn_batches) {
  TrainerOptions o;
  o.epochs = epochs;
  o.lr = 0.05;
  o.bn_batches = bn_batches;
  o.progress = false;
  return o;
}

SgdNesterov make_sgd(HybridNet& net) {
  std::vector<SgdParamGroup> groups(1);
  groups[0].params = net->parameters();
  return SgdNesterov(groups, 0.9);
}

}  // namespace

TEST_CASE("same start: the tiny weights of an augmented net equal those of the direct net, for every op") {
  for (OpKind op : {OpKind::Mult, OpKind::Shift, OpKind::Add}) {
    CAPTURE(op_kind_name(op));
    const ArchConfig arch = small_arch(op);
    torch::manual_seed(42);
    HybridNet direct(arch, no_aug());
    const Tensor after_direct = torch::rand({4});
    torch::manual_seed(42);
    HybridNet augmented(arch, with_aug());
    const Tensor after_augmented = torch::rand({4});
    // The global generator advanced identically: the augmented rest has a stream of its own.
    CHECK(torch::equal(after_direct, after_augmented));
    const auto a = tiny_slices(direct), b = tiny_slices(augmented);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CAPTURE(direct->tiny_layers()[i].name);
      CHECK(torch::equal(a[i], b[i]));
    }
    // The augmented rest is drawn (not zero) on the tiny slice's multiplicative scale.
    for (const auto& l : augmented->tiny_layers()) {
      if (l.name == "classifier") continue;
      const Tensor w = l.conv->weight.detach();
      const Tensor rows = w.narrow(0, l.out_t, w.size(0) - l.out_t);
      if (rows.numel() == 0) continue;
      CAPTURE(l.name);
      const double expected_std = std::sqrt(2.0 / static_cast<double>(l.out_t * l.kernel * l.kernel));
      CHECK(rows.std().item<double>() == doctest::Approx(expected_std).epsilon(0.35));
    }
    // The direct tiny forward and the augmented net's tiny forward agree bit for bit.
    direct->eval();
    augmented->eval();
    const Tensor x = torch::randn({2, 1, 8, 8});
    CHECK(torch::equal(direct->forward(x), augmented->forward(x)));
  }
}

TEST_CASE("adaptive scaling once per step: alpha 0 moves adder weights like a direct Add step, alpha 1 gives norm eta*sqrt(k)") {
  const ArchConfig arch = small_arch(OpKind::Add);
  const Tensor x = torch::randn({4, 1, 8, 8});
  const Tensor y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  for (const double alpha : {0.0, 1.0}) {
    CAPTURE(alpha);
    torch::manual_seed(7);
    HybridNet direct(arch, no_aug());
    torch::manual_seed(7);
    HybridNet augmented(arch, with_aug());
    direct->train();
    augmented->train();
    SgdNesterov sgd_direct = make_sgd(direct), sgd_aug = make_sgd(augmented);
    // Direct Add step.
    sgd_direct.zero_grad();
    smoothed_cross_entropy(direct->forward(x), y, 0.1).backward();
    direct->scale_adder_gradients();
    // AddAug step: tiny + alpha * augmented, one scaling.
    sgd_aug.zero_grad();
    augmented->set_tiny();
    smoothed_cross_entropy(augmented->forward(x), y, 0.1).backward();
    std::vector<Tensor> tiny_only;
    for (const auto& l : augmented->tiny_layers()) tiny_only.push_back(slice_of(l.conv->weight.grad(), l).clone());
    augmented->set_active(augmented->largest_aug());
    (alpha * smoothed_cross_entropy(augmented->forward(x), y, 0.1)).backward();
    augmented->set_tiny();
    std::vector<Tensor> before_scaling;
    for (const auto& l : augmented->tiny_layers()) before_scaling.push_back(l.conv->weight.grad().clone());
    augmented->scale_adder_gradients();

    const auto dl = direct->tiny_layers(), al = augmented->tiny_layers();
    int adder_layers = 0;
    for (size_t i = 0; i < al.size(); ++i) {
      CAPTURE(al[i].name);
      if (al[i].op != OpKind::Add) continue;
      ++adder_layers;
      const Tensor g = slice_of(al[i].conv->weight.grad(), al[i]);
      const double expected = direct->options().eta * std::sqrt(static_cast<double>(g.numel()));
      CHECK(g.norm().item<double>() == doctest::Approx(expected).epsilon(1e-5));
      // The multiplicative rest of the shared tensor keeps its plain gradient.
      Tensor mask = torch::ones_like(before_scaling[i]);
      slice_of(mask, al[i]).zero_();
      CHECK(torch::equal(al[i].conv->weight.grad() * mask, before_scaling[i] * mask));
      if (alpha == 0.0) {
        CHECK(torch::equal(g, slice_of(dl[i].conv->weight.grad(), dl[i])));
      } else {
        // The op no longer scales per backward: the accumulated raw gradient differs from the
        // tiny one, and the scaled direction is that of the sum.
        const Tensor raw = slice_of(before_scaling[i], al[i]);
        CHECK(!torch::allclose(raw, tiny_only[i]));
        CHECK(torch::allclose(g, raw * (expected / raw.norm().item<double>()), 1e-5, 1e-6));
      }
    }
    CHECK(adder_layers > 0);
    sgd_direct.step(0.05);
    sgd_aug.step(0.05);
    if (alpha == 0.0) {
      const auto a = tiny_slices(direct), b = tiny_slices(augmented);
      for (size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
    }
  }
}

TEST_CASE("trainer: AddAug with alpha 0 and no sorting trains exactly like direct Add") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 3));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 2));
  TrainerOptions options = quick_options(2, 2);
  options.sort_channels = false;
  options.alpha = 0.0;
  const ArchConfig arch = small_arch(OpKind::Add);
  torch::manual_seed(5);
  HybridNet direct(arch, no_aug());
  TrainerOptions od = options;
  od.augment = false;
  ShiftAddAugTrainer td(direct, od, loader, nullptr);
  td.train();
  torch::manual_seed(5);
  HybridNet augmented(arch, with_aug());
  ShiftAddAugTrainer ta(augmented, options, loader, nullptr);
  ta.train();
  const auto a = tiny_slices(direct), b = tiny_slices(augmented);
  for (size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
}

TEST_CASE("NetAug schedule: width augmentation stops at its fraction, expand augmentation runs on") {
  TrainerOptions o;
  o.epochs = 4;
  CHECK(o.stop_width_aug_fraction == 0.5);
  CHECK(o.stop_expand_aug_fraction == 1.0);
  CHECK(o.width_aug_stop_step(40) == 20);
  CHECK(o.expand_aug_stop_step(40) == 40);
  o.augment = false;
  CHECK(o.width_aug_stop_step(40) == 0);
  CHECK(o.expand_aug_stop_step(40) == 0);
  o.stop_width_aug_fraction = 1.5;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("trainer.stop_width_aug_fraction"), nas::Error);

  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 4));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 3));
  TrainerOptions options = quick_options(4, 1);
  torch::manual_seed(6);
  HybridNet net(small_arch(OpKind::Shift), with_aug());
  ShiftAddAugTrainer trainer(net, options, loader, nullptr);
  trainer.train();
  const auto& h = trainer.history();
  REQUIRE(h.size() == 4);
  CHECK(h[0].width_augmented);
  CHECK(h[1].width_augmented);
  CHECK(!h[2].width_augmented);
  CHECK(!h[3].width_augmented);
  for (const EpochRecord& r : h) {
    CHECK(r.augmented);  // expand augmentation to the end
    CHECK(r.train_aug_loss > 0);
  }
  // Sorting runs while width augmentation does (not before the first epoch), over all channels
  // (tiny ones included).
  CHECK(h[0].sorted_tiny_channels == 0);
  CHECK(h[1].sorted_tiny_channels > 0);
  CHECK(h[2].sorted_tiny_channels == 0);
  const json j = options.to_json();
  CHECK(j.at("stop_width_aug_fraction") == 0.5);
  CHECK(j.at("stop_expand_aug_fraction") == 1.0);
  CHECK(j.at("sort_mode") == "all");
}

TEST_CASE("channel sorting over all channels: important augmented channels move into the MF slice") {
  for (OpKind op : {OpKind::Mult, OpKind::Shift}) {
    CAPTURE(op_kind_name(op));
    torch::manual_seed(12);
    HybridNet net(small_arch(op), with_aug());
    randomise_bn(*net, 13);
    {
      // Make the augmented channels the important ones.
      torch::NoGradGuard no_grad;
      for (const auto& l : net->tiny_layers()) {
        Tensor w = l.conv->weight;
        if (w.size(1) > l.in_t && !l.depthwise) w.narrow(1, l.in_t, w.size(1) - l.in_t).mul_(5.0);
        if (l.depthwise && w.size(0) > l.out_t) w.narrow(0, l.out_t, w.size(0) - l.out_t).mul_(5.0);
      }
    }
    net->eval();
    const Tensor x = torch::randn({3, 1, 8, 8});
    const auto [tiny_before, aug_before] = tiny_and_largest_outputs(net, x);
    const auto sorted = net->sort_channels(ChannelSort::All);
    CHECK(sorted.tiny_channels > 0);
    CHECK(sorted.moved_into_tiny > 0);
    net->set_tiny();
    // Channels moved into the tiny network: it is a different network now.
    CHECK(!torch::allclose(net->forward(x), tiny_before, 1e-3, 1e-3));
    net->set_active(net->largest_aug());
    if (op == OpKind::Mult)  // a pure permutation of a multiplicative network keeps its function
      CHECK(torch::allclose(net->forward(x), aug_before, 1e-4, 1e-4));
    CHECK(net->sort_channels(ChannelSort::All).permutations.empty());
  }
  CHECK(parse_channel_sort("all") == ChannelSort::All);
  CHECK(parse_channel_sort("augmented") == ChannelSort::AugmentedOnly);
  CHECK_THROWS_WITH_AS(parse_channel_sort("tiny"), doctest::Contains("accepted: all, augmented"), nas::Error);
}

TEST_CASE("weight statistics: kurtosis of the MF slices before and after the remap") {
  torch::manual_seed(14);
  HybridNetOptions o = with_aug();
  o.remap = RemapKind::Quantile;
  HybridNet net(small_arch(OpKind::Add), o);
  const json stats = net->weight_statistics();
  REQUIRE(stats.is_array());
  int big = 0;
  for (const json& layer : stats) {
    CHECK(layer.at("op") == "add");
    const int64_t numel = layer.at("numel").get<int64_t>();
    const auto& counts = layer.at("raw").at("histogram").at("counts");
    int64_t total = 0;
    for (const json& c : counts) total += c.get<int64_t>();
    CHECK(total == numel);
    if (numel < 300) continue;
    ++big;
    CAPTURE(layer.at("layer").get<std::string>());
    // N(0, 1) adder weights: Gaussian kurtosis 3; the quantile remap makes them Laplacian (6).
    CHECK(layer.at("raw").at("kurtosis").get<double>() == doctest::Approx(3.0).epsilon(0.25));
    CHECK(layer.at("remapped").at("kurtosis").get<double>() > 4.5);
  }
  CHECK(big > 0);
}

TEST_CASE("fc remap: identity at init, learns a heavier-tailed distribution") {
  torch::manual_seed(15);
  WeightRemap remap(RemapKind::Fc, 8);
  const Tensor w = torch::randn({8, 16, 3, 3}) * 0.1;
  CHECK(torch::allclose(remap->forward(w), w, 0, 1e-7));
  CHECK(parse_remap_kind("fc") == RemapKind::Fc);
  // Fit the sorted remapped weights to Laplacian quantiles of the same variance.
  const int64_t n = w.numel();
  const Tensor p = (torch::arange(n, torch::kDouble) + 0.5) / static_cast<double>(n);
  const double b = w.std().item<double>() / std::sqrt(2.0);
  const Tensor target =
      (-b * torch::sign(p - 0.5) * torch::log(1 - 2 * (p - 0.5).abs())).to(torch::kFloat);
  torch::optim::Adam adam(remap->parameters(), torch::optim::AdamOptions(0.02));
  for (int step = 0; step < 300; ++step) {
    adam.zero_grad();
    const Tensor sorted = std::get<0>(remap->forward(w).reshape({-1}).sort());
    (sorted - target).pow(2).mean().backward();
    adam.step();
  }
  const Tensor r = remap->forward(w).detach();
  CHECK(moment(w, 4) / std::pow(moment(w, 2), 2) == doctest::Approx(3.0).epsilon(0.2));
  CHECK(moment(r, 4) / std::pow(moment(r, 2), 2) > 4.5);
}

TEST_CASE("augmented_backward: row slices give the whole batch's loss and gradients (BN frozen), one slice is the plain backward") {
  const ArchConfig arch = small_arch(OpKind::Add);
  const Tensor x = torch::randn({7, 1, 8, 8});
  const Tensor y = torch::tensor({0, 1, 2, 3, 0, 1, 2}, torch::kLong);
  auto grads_of = [](HybridNet& net) {
    std::vector<Tensor> g;
    for (const Tensor& p : net->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    return g;
  };
  torch::manual_seed(11);
  HybridNet net(arch, with_aug());
  const AugConfig largest = net->largest_aug();

  // One slice: exactly scale * CE.backward().
  net->train();
  net->set_active(largest);
  for (Tensor& p : net->parameters()) p.mutable_grad() = Tensor();
  const double plain_loss = smoothed_cross_entropy(net->forward(x), y, 0.1).item<double>();
  (0.5 * smoothed_cross_entropy(net->forward(x), y, 0.1)).backward();
  const std::vector<Tensor> plain = grads_of(net);
  for (Tensor& p : net->parameters()) p.mutable_grad() = Tensor();
  const double one_loss = augmented_backward(net, x, y, 0.5, 1, 0.1);
  CHECK(one_loss == plain_loss);
  const std::vector<Tensor> one = grads_of(net);
  for (size_t i = 0; i < one.size(); ++i) CHECK(torch::equal(one[i], plain[i]));

  // With BN on its running statistics every row is independent: 3 uneven slices (2, 2, 3 rows)
  // and more slices than rows give the whole batch's loss and gradients.
  net->eval();
  for (Tensor& p : net->parameters()) p.mutable_grad() = Tensor();
  const double whole_loss = augmented_backward(net, x, y, 0.5, 1, 0.1);
  const std::vector<Tensor> whole = grads_of(net);
  for (const int64_t pieces : {3, 100}) {
    CAPTURE(pieces);
    for (Tensor& p : net->parameters()) p.mutable_grad() = Tensor();
    const double sliced_loss = augmented_backward(net, x, y, 0.5, pieces, 0.1);
    CHECK(sliced_loss == doctest::Approx(whole_loss).epsilon(1e-6));
    const std::vector<Tensor> sliced = grads_of(net);
    for (size_t i = 0; i < sliced.size(); ++i) CHECK(torch::allclose(sliced[i], whole[i], 1e-4, 1e-6));
  }
  CHECK_THROWS_AS(augmented_backward(net, x, y, 1.0, 0, 0.1), Error);
}

TEST_CASE("trainer: aug_micro_batches slices the augmented pass only, is validated and recorded when set") {
  TrainerOptions o;
  CHECK(o.aug_micro_batches == 1);
  CHECK(!o.to_json().contains("aug_micro_batches"));
  o.aug_micro_batches = 0;
  CHECK_THROWS_AS(o.validate(), Error);
  o.aug_micro_batches = 4;
  CHECK(o.to_json()["aug_micro_batches"] == 4);

  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 3));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 2));
  TrainerOptions options = quick_options(1, 2);
  options.sort_channels = false;
  std::vector<std::vector<Tensor>> results;
  std::vector<double> aug_losses;
  for (const int64_t pieces : {1, 4}) {
    options.aug_micro_batches = pieces;
    torch::manual_seed(5);
    HybridNet net(small_arch(OpKind::Add), with_aug());
    ShiftAddAugTrainer trainer(net, options, loader, nullptr);
    trainer.train();
    results.push_back(tiny_slices(net));
    aug_losses.push_back(trainer.history().back().train_aug_loss);
  }
  // The augmented gradients differ (BN statistics per slice of 4 rows), the run stays sane.
  CHECK(std::isfinite(aug_losses[1]));
  CHECK(aug_losses[1] > 0);
  bool any_differs = false;
  for (size_t i = 0; i < results[0].size(); ++i) any_differs |= !torch::equal(results[0][i], results[1][i]);
  CHECK(any_differs);
}

TEST_CASE("trainer: a non-finite loss stops training before the optimiser step, with a one-line error") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 3));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 2));
  torch::manual_seed(5);
  HybridNet net(small_arch(OpKind::Shift), with_aug());
  std::vector<Tensor> before;
  for (const Tensor& p : net->parameters()) before.push_back(p.detach().clone());
  {
    torch::NoGradGuard no_grad;
    net->parameters().front().view(-1)[0] = std::numeric_limits<float>::quiet_NaN();  // the stem
  }
  ShiftAddAugTrainer trainer(net, quick_options(2, 0), loader, nullptr);
  try {
    trainer.train();
    FAIL("a NaN loss trained on");
  } catch (const Error& e) {
    CHECK(e.message().find("training diverged: the loss of step 1 (epoch 1, lr") != std::string::npos);
    CHECK(e.message().find('\n') == std::string::npos);
  }
  CHECK(trainer.global_step() == 0);
  const std::vector<Tensor> after = net->parameters();
  for (size_t i = 1; i < after.size(); ++i) CHECK(torch::equal(after[i].detach(), before[i]));
}

namespace {

// The adder blocks that renormalize_adder_weights keeps at RMS 1, seen as the adder sees them
// (divided by their RMS), and every other parameter as it is.
std::vector<Tensor> adder_views_and_rest(HybridNet& net) {
  std::vector<Tensor> out;
  for (const auto& item : net->named_parameters()) {
    const Tensor p = item.value().detach();
    bool adder = false;
    for (const auto& l : net->tiny_layers()) {
      if (l.op != OpKind::Add || !l.conv->weight_for(OpKind::Add).is_same(item.value())) continue;
      const Tensor block = leading_block(p, l.conv->adder_view_block()).contiguous();
      out.push_back(block / slice_rms(block));
      adder = true;
    }
    if (!adder) out.push_back(p.clone());
  }
  return out;
}

double adder_block_rms_max(HybridNet& net) {
  double m = 0;
  for (const auto& l : net->tiny_layers())
    if (l.op == OpKind::Add)
      m = std::max(m, slice_rms(leading_block(l.conv->weight_for(OpKind::Add), l.conv->adder_view_block())).item<double>());
  return m;
}

}  // namespace

TEST_CASE("adder weight renorm: an exact reparameterisation of a fixed net's adder layers, without which the weights grow geometrically") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 3));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 2));  // 4 steps
  const ArchConfig arch = small_arch(OpKind::Add);
  for (const bool augment : {false, true}) {
    CAPTURE(augment);
    HybridNetOptions net_options = augment ? with_aug() : no_aug();
    net_options.adder_unit_rms = net_options.relative_adder_scaling = true;
    TrainerOptions options = quick_options(1, 0);
    options.augment = augment;
    options.sort_channels = false;  // a sort compares rows of the two scales: not scale-free
    options.lr = 0.2;
    // init_scale multiplies the adder blocks before training.
    auto run = [&](bool renorm, int64_t epochs, double init_scale, const datasets::DataLoader* train) {
      HybridNetOptions o = net_options;
      o.adder_weight_renorm = renorm;
      torch::manual_seed(11);
      HybridNet net(arch, o);
      if (init_scale != 1.0) {
        torch::NoGradGuard no_grad;
        for (const auto& l : net->tiny_layers())
          if (l.op == OpKind::Add) leading_block(l.conv->weight_for(OpKind::Add), l.conv->adder_view_block()).mul_(init_scale);
      }
      TrainerOptions t = options;
      t.epochs = epochs;
      ShiftAddAugTrainer trainer(net, t, train ? *train : loader, nullptr);
      trainer.train();
      return std::make_pair(net, trainer.history().back().train_loss);
    };
    auto max_relative_difference = [](HybridNet& x, HybridNet& y) {
      const auto a = adder_views_and_rest(x), b = adder_views_and_rest(y);
      REQUIRE(a.size() == b.size());
      double worst = 0;
      for (size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, ((a[i] - b[i]).abs().max() / a[i].abs().max().clamp_min(1e-12)).item<double>());
      return worst;
    };
    // The premise: training is equivariant to the blocks' scale. A power of two scales every
    // term of a step without rounding, so 5 epochs from 4x larger adder weights are the same
    // training bit for bit, their weights staying exactly 4x larger.
    {
      auto [plain, plain_loss] = run(false, 5, 1.0, nullptr);
      auto [scaled, scaled_loss] = run(false, 5, 4.0, nullptr);
      CHECK(max_relative_difference(plain, scaled) == 0.0);
      CHECK(scaled_loss == plain_loss);
      CHECK(adder_block_rms_max(scaled) == doctest::Approx(4.0 * adder_block_rms_max(plain)).epsilon(1e-6));
    }
    // Dividing by the RMS rounds, and this small net's training is chaotic (a rounding-level
    // difference is ~1e-5 after 3 steps, up to 0.1 after 4): compare 3 one-batch epochs.
    {
      const datasets::DataLoader one_batch(std::make_shared<const datasets::Dataset>(synthetic_dataset(16, 3)),
                                           datasets::DataLoaderOptions::training("synthetic", 16, 2));
      auto [plain, plain_loss] = run(false, 3, 1.0, &one_batch);
      auto [renormed, renormed_loss] = run(true, 3, 1.0, &one_batch);
      const double worst = max_relative_difference(plain, renormed);
      MESSAGE("renormalised vs plain after 3 steps: max relative difference " << worst);
      CHECK(worst < 1e-3);
      CHECK(renormed_loss == doctest::Approx(plain_loss).epsilon(1e-4));
      CHECK(adder_block_rms_max(renormed) == doctest::Approx(1.0).epsilon(1e-5));
    }
    // Without: 200 steps grow the blocks' RMS (~1 at the start) by orders of magnitude; with:
    // they stay at 1 and training converges as far.
    auto [plain, plain_loss] = run(false, 50, 1.0, nullptr);
    auto [renormed, renormed_loss] = run(true, 50, 1.0, nullptr);
    const double grown = adder_block_rms_max(plain);
    MESSAGE("after 200 steps: unrenormalised adder RMS " << grown << ", loss " << plain_loss << " vs renormalised "
                                                         << renormed_loss);
    CHECK(grown > 1e4);
    CHECK(adder_block_rms_max(renormed) == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(std::isfinite(renormed_loss));
    CHECK(renormed_loss < 0.6);
  }
}

TEST_CASE("adder weight renorm: options, validation and the optimiser's momentum") {
  HybridNetOptions o;
  CHECK(!o.to_json().contains("adder_weight_renorm"));  // older configurations stay as they were
  CHECK(!HybridNetOptions::from_json(o.to_json(), "net").adder_weight_renorm);
  const HybridNetOptions s = HybridNetOptions::supernet_defaults();
  CHECK(s.adder_weight_renorm);
  CHECK(s.to_json()["adder_weight_renorm"] == true);
  CHECK(HybridNetOptions::from_json(s.to_json(), "net").adder_weight_renorm);
  json bad = s.to_json();
  bad["relative_adder_scaling"] = false;
  CHECK_THROWS_WITH_AS(HybridNetOptions::from_json(bad, "net"),
                       doctest::Contains("net.adder_weight_renorm needs adder_unit_rms and relative_adder_scaling"), Error);
  o.adder_weight_renorm = true;
  CHECK_THROWS_AS(HybridNet(small_arch(OpKind::Add), o), Error);
  // Off: nothing is divided; a layer sharing its tensor with shift has no adder block.
  HybridNetOptions on = no_aug();
  on.adder_unit_rms = on.relative_adder_scaling = true;
  HybridNet off_net(small_arch(OpKind::Add), on);
  CHECK(off_net->renormalize_adder_weights().empty());
  on.adder_weight_renorm = true;
  HybridNet net(small_arch(OpKind::Add), on);
  int blocks = 0;
  for (const auto& l : net->tiny_layers()) blocks += l.op == OpKind::Add;
  std::vector<double> rms_before;
  {
    torch::NoGradGuard no_grad;
    for (const auto& l : net->tiny_layers())
      if (l.op == OpKind::Add) {
        l.conv->weight.mul_(8.0);
        rms_before.push_back(slice_rms(leading_block(l.conv->weight, l.conv->adder_view_block())).item<double>());
      }
  }
  const auto divisions = net->renormalize_adder_weights();
  REQUIRE(static_cast<int>(divisions.size()) == blocks);
  for (size_t i = 0; i < divisions.size(); ++i) {
    CHECK(divisions[i].divisor == doctest::Approx(rms_before[i]));
    CHECK(divisions[i].divisor > 4.0);  // ~8 x the initial ~1
  }
  CHECK(adder_block_rms_max(net) == doctest::Approx(1.0).epsilon(1e-5));
  // The momentum buffer's block follows the division, the rest of it does not.
  const Tensor p = torch::ones({4, 3, 3, 3}, torch::requires_grad());
  SgdNesterov sgd({SgdParamGroup{{p}, 0.0}}, 0.9);
  p.mutable_grad() = torch::full({4, 3, 3, 3}, 2.0);
  sgd.step(0.1);
  sgd.divide_leading_block(p, {2, 1}, 4.0);
  const Tensor buf = sgd.momentum_buffers()[0];
  CHECK(torch::allclose(leading_block(buf, {2, 1}), torch::full({2, 1, 3, 3}, 0.5)));
  CHECK(buf.sum().item<double>() == doctest::Approx(2.0 * (108 - 18) + 0.5 * 18));
  CHECK_THROWS_AS(leading_block(buf, {5}), Error);
  CHECK_THROWS_AS(leading_block(buf, {1, 1, 1, 1, 1}), Error);
}
