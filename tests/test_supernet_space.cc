// Tests of the weight-sharing supernet: HybridNet over an ArchSpace (the plan of active layers,
// depth / kernel / width / op / resolution elasticity), subnet extraction, the sandwich trainer
// and its exact resume.
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/fnv1a.h"
#include "core/error.h"
#include "core/rng.h"
#include "datasets/data_loader.h"
#include "search_space/arch_space.h"
#include "supernet/hybrid_net.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/subnet_extraction.h"
#include "supernet/tiny_net.h"
#include "supernet/tiny_ops.h"
#include "supernet_fixtures.h"

using namespace nas;
using namespace nas::test;
using torch::Tensor;

namespace {

// A small space on 8x8 inputs: an expand-free first stage, a second stage with elastic depth
// (1, 2), kernel (3, 5) and expand (2, 3), elastic width and resolution, shift / add blocks and
// head conv.
ArchSpace small_space() {
  ArchSpace s;
  s.in_channels = 1;
  s.num_classes = 4;
  s.stem = StemConfig{OpKind::Mult, 16, 3, 1};
  StageSpace s0;
  s0.stride = 1;
  s0.out_channels = 16;
  s0.depths = {1};
  s0.kernels = {3};
  s0.expands = {1};
  StageSpace s1;
  s1.stride = 2;
  s1.out_channels = 24;
  s1.depths = {1, 2};
  s1.kernels = {3, 5};
  s1.expands = {2, 3};
  s.stages = {s0, s1};
  s.head_channels = 32;
  s.classifier_op = OpKind::Mult;
  s.resolutions = {6, 8};
  s.widths = {0.5, 1.0};
  s.ops = {OpKind::Shift, OpKind::Add};
  s.head_ops = {OpKind::Shift, OpKind::Add};
  s.validate();
  return s;
}

// Subnets that exercise every dimension: the extremes and random ones.
std::vector<ArchConfig> test_subnets(const ArchSpace& space, int random_count, uint64_t seed) {
  std::vector<ArchConfig> out = {space.largest(), space.smallest(), space.largest(OpKind::Add),
                                 space.smallest(OpKind::Add)};
  Rng rng(seed);
  for (int i = 0; i < random_count; ++i) out.push_back(space.sample(rng));
  return out;
}

// A fixed net of `arch` holding the supernet's inherited weights (its layers are the tiny size).
HybridNet standalone_copy(HybridNet& supernet, const ArchConfig& arch, HybridNetOptions options) {
  options.aug.expand_mults = options.aug.width_mults = {1.0};
  HybridNet alone(arch, options);
  const InheritReport report = inherit_subnet_weights(*alone, *supernet);
  CHECK(report.elements_copied == report.elements_total);  // the supernet holds all of it
  return alone;
}

}  // namespace

TEST_CASE("relu6_act_: in place, with hardtanh's gradient (zero at and beyond both ends)") {
  const torch::Tensor values = torch::tensor({-1.0f, 0.0f, 0.5f, 3.0f, 6.0f, 7.0f, 5.999f, 1e-7f});
  const torch::Tensor upstream = torch::tensor({1.0f, -2.0f, 3.0f, -4.0f, 5.0f, 6.0f, -7.0f, 8.0f});
  torch::Tensor leaf = values.clone().requires_grad_(true);
  torch::Tensor x = leaf * 1.0f;  // a non-leaf, as inside a network
  const void* storage = x.data_ptr();
  torch::Tensor y = nas::relu6_act_(x);
  CHECK(y.data_ptr() == storage);
  CHECK(torch::equal(y.detach(), torch::hardtanh(values, 0.0, 6.0)));
  y.backward(upstream);
  torch::Tensor reference_leaf = values.clone().requires_grad_(true);
  torch::hardtanh(reference_leaf, 0.0, 6.0).backward(upstream);
  CHECK(torch::equal(leaf.grad(), reference_leaf.grad()));
  CHECK(torch::equal(leaf.grad(), torch::tensor({0.0f, 0.0f, 3.0f, -4.0f, 0.0f, 0.0f, -7.0f, 8.0f})));
}

TEST_CASE("supernet plan: an active subnet's forward equals the architecture built alone with the inherited weights, bit for bit") {
  const ArchSpace space = small_space();
  for (const auto& [unit_rms, separate] : {std::pair{false, false}, std::pair{true, false}, std::pair{true, true}}) {
    CAPTURE(unit_rms);
    CAPTURE(separate);
    HybridNetOptions options;
    options.aug = small_aug();
    options.adder_unit_rms = unit_rms;
    options.separate_adder_weights = separate;
    torch::manual_seed(3);
    HybridNet net(space, options);
    randomise_bn(*net, 4);
    for (const ArchConfig& arch : test_subnets(space, 6, 11)) {
      CAPTURE(arch.key());
      net->set_subnet(arch);
      CHECK(net->arch() == arch);
      HybridNet alone = standalone_copy(net, arch, options);
      const Tensor x = torch::randn({3, 1, arch.resolution, arch.resolution});
      net->eval();
      alone->eval();
      CHECK(torch::equal(net->forward(x), alone->forward(x)));
      net->train();
      alone->train();
      // Train mode (batch statistics): the same as well; the running statistics move alike.
      CHECK(torch::equal(net->forward(x), alone->forward(x)));
    }
  }
}

TEST_CASE("inherit_subnet_weights: a fixed net with augmentation starts as the supernet's subnet, MF and augmented") {
  const ArchSpace space = small_space();
  HybridNetOptions options;
  options.aug = small_aug();
  for (bool separate : {true, false}) {
  CAPTURE(separate);
  options.separate_adder_weights = separate;
  torch::manual_seed(5);
  HybridNet net(space, options);
  randomise_bn(*net, 6);
  for (const ArchConfig& arch : test_subnets(space, 3, 12)) {
    CAPTURE(arch.key());
    torch::manual_seed(99);
    HybridNet fixed(arch, options);
    const InheritReport report = inherit_subnet_weights(*fixed, *net);
    CHECK(report.tensors > 0);
    CHECK(report.elements_copied == report.elements_total);
    const Tensor x = torch::randn({2, 1, arch.resolution, arch.resolution});
    net->eval();
    fixed->eval();
    net->set_subnet(arch);
    fixed->set_tiny();
    CHECK(torch::equal(net->forward(x), fixed->forward(x)));
    // The largest augmented network of the subnet runs the supernet's channels too.
    net->set_active(arch, net->largest_aug());
    fixed->set_active(fixed->largest_aug());
    CHECK(torch::equal(net->forward(x), fixed->forward(x)));
    net->train();
  }
  if (separate) continue;
  // Wider augmentation than the supernet holds: the overlap is inherited, the rest keeps its init.
  HybridNetOptions wider = options;
  wider.aug.width_mults = {1.0, 2.0, 3.0};
  HybridNet fixed(space.largest(), wider);
  const InheritReport report = inherit_subnet_weights(*fixed, *net);
  CHECK(report.elements_copied < report.elements_total);
  // Another remap kind has other parameters: refused by name.
  HybridNetOptions piecewise = options;
  piecewise.remap = RemapKind::Piecewise;
  HybridNet other(space.smallest(), piecewise);
  CHECK_THROWS_WITH_AS(inherit_subnet_weights(*other, *net), doctest::Contains("uses the piecewise remap"), nas::Error);
  // Another view of the adder weights: refused by name (the inherited adders would compute
  // something else than in the supernet).
  HybridNetOptions other_view = options;
  other_view.adder_unit_rms = !options.adder_unit_rms;
  HybridNet viewed(space.smallest(OpKind::Add), other_view);
  CHECK_THROWS_WITH_AS(inherit_subnet_weights(*viewed, *net), doctest::Contains("adder_unit_rms differs"), nas::Error);
  }
}

TEST_CASE("separate adder weights: the adder view of a shift/add block reads a tensor of its own") {
  const ArchSpace space = small_space();
  HybridNetOptions options;
  options.aug = small_aug();
  options.adder_unit_rms = true;
  torch::manual_seed(21);
  HybridNet shared(space, options);
  options.separate_adder_weights = true;
  torch::manual_seed(21);
  HybridNet net(space, options);
  // Everything but the adder tensors is drawn exactly as in the shared net (the adder tensors
  // come from generators of their own); only layers that run shift and add get one.
  auto shared_params = shared->named_parameters(true);
  int adder_tensors = 0;
  for (const auto& item : net->named_parameters(true)) {
    CAPTURE(item.key());
    if (item.key().find("adder_weight") != std::string::npos) {
      ++adder_tensors;
      CHECK(shared_params.find(item.key()) == nullptr);
      continue;
    }
    REQUIRE(shared_params.find(item.key()) != nullptr);
    CHECK(torch::equal(item.value(), shared_params[item.key()]));
  }
  CHECK(adder_tensors > 0);
  CHECK(net->named_parameters(true).size() == shared_params.size() + static_cast<size_t>(adder_tensors));

  // Train mode (batch statistics): with fresh running statistics the adder outputs (negative
  // distances) are all cut by the ReLU in eval mode.
  net->train();
  const ArchConfig add = space.largest(OpKind::Add), shift = space.largest(OpKind::Shift);
  const Tensor x = torch::randn({3, 1, 8, 8});
  net->set_subnet(add);
  const Tensor add_before = net->forward(x);
  net->set_subnet(shift);
  const Tensor shift_before = net->forward(x);
  // The tiny slice of every adder tensor starts as a fixed adder layer's (AdderNet's N(0, 1)).
  for (const auto& l : net->tiny_layers()) {
    if (!l.conv->adder_weight.defined() || l.conv->options().depthwise) continue;
    const Tensor a = l.conv->tiny_slice(l.in_t, l.out_t, l.kernel, OpKind::Add);
    if (a.numel() < 200) continue;
    CAPTURE(l.name);
    CHECK(a.std().item<double>() == doctest::Approx(1.0).epsilon(0.2));
    CHECK(l.conv->tiny_slice(l.in_t, l.out_t, l.kernel).std().item<double>() < 0.6);  // Kaiming
  }
  {
    // Perturbing the adder tensors changes the add subnet only; perturbing the shared tensors of
    // those layers changes the shift subnet only.
    torch::NoGradGuard no_grad;
    for (const auto& item : net->named_parameters(true))
      if (item.key().find("adder_weight") != std::string::npos) item.value().add_(0.5);
  }
  net->set_subnet(add);
  CHECK_FALSE(torch::equal(net->forward(x), add_before));
  net->set_subnet(shift);
  CHECK(torch::equal(net->forward(x), shift_before));

  // Gradient: an add subnet's step reaches the adder tensors, not the shared tensor's tiny slice;
  // the adaptive scaling acts on the adder tensor's slice.
  net->zero_grad();
  net->set_subnet(add);
  const Tensor y = torch::tensor({0, 1, 2}, torch::kLong);
  smoothed_cross_entropy(net->forward(x), y, 0.1).backward();
  net->scale_adder_gradients();
  int checked = 0;
  for (const auto& l : net->tiny_layers()) {
    if (l.op != OpKind::Add) continue;
    CAPTURE(l.name);
    REQUIRE(l.conv->adder_weight.defined());
    const Tensor ga = l.conv->tiny_slice_of(l.conv->adder_weight.grad(), l.in_t, l.out_t, l.kernel).contiguous();
    CHECK(ga.norm().item<double>() == doctest::Approx(options.eta * std::sqrt(static_cast<double>(ga.numel()))).epsilon(1e-5));
    const Tensor gw = l.conv->weight.grad();
    CHECK((!gw.defined() || gw.abs().max().item<double>() == 0.0));
    ++checked;
  }
  CHECK(checked > 0);

  // Channel sorting moves the adder tensors with the shared ones (one permutation per channel
  // space): make adder = 3 * weight + 1, sort, and the relation still holds element for element.
  {
    torch::NoGradGuard no_grad;
    for (const auto& l : net->tiny_layers())
      if (l.conv->adder_weight.defined()) l.conv->adder_weight.copy_(l.conv->weight * 3 + 1);
  }
  const auto sorted = net->sort_channels(ChannelSort::All);
  CHECK(!sorted.permutations.empty());
  for (const auto& l : net->tiny_layers())
    if (l.conv->adder_weight.defined()) CHECK(torch::equal(l.conv->adder_weight, l.conv->weight * 3 + 1));
}

TEST_CASE("supernet elasticity: depth runs the first blocks, kernel is the centre crop, op picks its own BN and remap") {
  const ArchSpace space = small_space();
  HybridNetOptions options;
  options.aug = small_aug();
  options.remap = RemapKind::Quantile;
  torch::manual_seed(5);
  HybridNet net(space, options);

  ArchConfig deep = space.largest();
  ArchConfig shallow = deep;
  shallow.stages[1].blocks.resize(1);
  auto names = [&](const ArchConfig& a) {
    net->set_subnet(a);
    std::set<std::string> out;
    for (const auto& l : net->tiny_layers()) out.insert(l.name);
    return out;
  };
  CHECK(names(deep).count("stage1.block1.dw") == 1);
  CHECK(names(shallow).count("stage1.block1.dw") == 0);
  CHECK(names(shallow).count("stage1.block0.dw") == 1);

  ArchConfig small_kernel = deep;
  small_kernel.stages[1].blocks[0].kernel = 3;
  net->set_subnet(small_kernel);
  for (const auto& l : net->tiny_layers()) {
    if (l.name != "stage1.block0.dw") continue;
    CHECK(l.kernel == 3);
    CHECK(l.conv->options().max_kernel == 5);
    const Tensor crop = l.conv->weight.narrow(0, 0, l.out_t).narrow(2, 1, 3).narrow(3, 1, 3);
    CHECK(torch::equal(l.conv->tiny_slice(l.in_t, l.out_t, 3), crop));
  }

  // The same layer with shift and with add: one weight tensor, two BNs, two remaps.
  ArchConfig with_add = deep, with_shift = deep;
  set_all_ops(with_add, OpKind::Add);
  set_all_ops(with_shift, OpKind::Shift);
  net->set_subnet(with_add);
  const auto add_layers = net->tiny_layers();
  net->set_subnet(with_shift);
  const auto shift_layers = net->tiny_layers();
  REQUIRE(add_layers.size() == shift_layers.size());
  for (size_t i = 0; i < add_layers.size(); ++i) {
    if (add_layers[i].op == OpKind::Mult) continue;
    CAPTURE(add_layers[i].name);
    CHECK(add_layers[i].conv.get() == shift_layers[i].conv.get());
    CHECK(add_layers[i].bn.get() != shift_layers[i].bn.get());
    CHECK(add_layers[i].conv->remap_for(OpKind::Add).get() != add_layers[i].conv->remap_for(OpKind::Shift).get());
  }
  // --shared-bn: one BN per layer whatever the op.
  options.bn_per_op = false;
  HybridNet shared(space, options);
  shared->set_subnet(with_add);
  const auto shared_add = shared->tiny_layers();
  shared->set_subnet(with_shift);
  const auto shared_shift = shared->tiny_layers();
  for (size_t i = 0; i < shared_add.size(); ++i)
    if (shared_add[i].bn) CHECK(shared_add[i].bn.get() == shared_shift[i].bn.get());
}

TEST_CASE("supernet: an architecture outside the space is a clear error naming the field") {
  const ArchSpace space = small_space();
  HybridNetOptions options;
  options.aug = small_aug();
  HybridNet net(space, options);
  ArchConfig bad = space.largest();
  bad.stages[1].blocks[0].kernel = 7;
  CHECK_THROWS_WITH_AS(net->set_subnet(bad, "subnet.json"),
                       doctest::Contains("subnet.json: architecture is not in the supernet's space: stages[1].blocks[0].kernel 7"),
                       nas::Error);
  ArchConfig too_deep = space.largest();
  too_deep.stages[1].blocks.push_back(too_deep.stages[1].blocks[0]);
  CHECK(!net->subnet_violation(too_deep).empty());
  // A fixed net runs only what fits its allocation.
  HybridNet fixed(small_arch(OpKind::Shift), options);
  ArchConfig other_op = small_arch(OpKind::Add);
  CHECK_THROWS_WITH_AS(fixed->set_subnet(other_op), doctest::Contains("is not an op of the net's"), nas::Error);
}

TEST_CASE("adaptive scaling in a supernet: the union of the adder slices a step used is scaled once") {
  const ArchSpace space = small_space();
  HybridNetOptions options;
  options.aug = small_aug();
  torch::manual_seed(8);
  HybridNet net(space, options);
  net->train();
  ArchConfig big = space.largest(OpKind::Add), small = space.smallest(OpKind::Add);
  const Tensor y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  for (const ArchConfig& a : {small, big}) {
    net->set_subnet(a);
    smoothed_cross_entropy(net->forward(torch::randn({4, 1, a.resolution, a.resolution})), y, 0.1).backward();
  }
  net->scale_adder_gradients();
  net->set_subnet(big);
  int checked = 0;
  for (const auto& l : net->tiny_layers()) {
    if (l.op != OpKind::Add) continue;
    CAPTURE(l.name);
    const Tensor g = l.conv->tiny_slice_of(l.conv->weight.grad(), l.in_t, l.out_t, l.kernel).contiguous();
    CHECK(g.norm().item<double>() == doctest::Approx(options.eta * std::sqrt(static_cast<double>(g.numel()))).epsilon(1e-5));
    ++checked;
  }
  CHECK(checked > 0);
  // Relative scaling: the scaled RMS is eta times the weights' RMS.
  options.relative_adder_scaling = true;
  HybridNet rel(space, options);
  rel->train();
  rel->set_subnet(big);
  smoothed_cross_entropy(rel->forward(torch::randn({4, 1, 8, 8})), y, 0.1).backward();
  rel->scale_adder_gradients();
  for (const auto& l : rel->tiny_layers()) {
    if (l.op != OpKind::Add) continue;
    const Tensor w = l.conv->tiny_slice(l.in_t, l.out_t, l.kernel).contiguous();
    const Tensor g = l.conv->tiny_slice_of(l.conv->weight.grad(), l.in_t, l.out_t, l.kernel).contiguous();
    const double w_rms = w.norm().item<double>() / std::sqrt(static_cast<double>(w.numel()));
    const double g_rms = g.norm().item<double>() / std::sqrt(static_cast<double>(g.numel()));
    CHECK(g_rms == doctest::Approx(options.eta * w_rms).epsilon(1e-5));
  }
}

TEST_CASE("subnet extraction: the exported network reproduces the supernet's subnet bit for bit, resizing its input") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 31));
  const datasets::DataLoader train(data, datasets::DataLoaderOptions::training("synthetic", 16, 2));
  const ArchSpace space = small_space();
  HybridNetOptions options;
  options.aug = small_aug();
  options.adder_unit_rms = true;
  options.remap = RemapKind::Quantile;
  torch::manual_seed(9);
  HybridNet net(space, options);
  const torch::Device cpu(torch::kCPU);
  for (const ArchConfig& arch : test_subnets(space, 3, 12)) {
    CAPTURE(arch.key());
    const TinyPreprocessing pre{"synthetic", 8, {0.5}, {0.25}};
    TinyNet tiny = extract_subnet(*net, arch, train, 2, pre, cpu);
    const Tensor x = torch::randn({5, 1, 8, 8});
    net->eval();
    const Tensor expected = net->forward(resize_input(x, arch.resolution));
    net->train();
    CHECK(torch::equal(tiny.forward(x), expected));
    const std::string path = temp_path("extract.nasm");
    tiny.save(path);
    CHECK(torch::equal(TinyNet::load(path).forward(x), expected));
    // The scores of a subnet do not depend on what was scored before (recalibration resets).
    const double first = score_subnet(*net, arch, train, train, 2, cpu).val_top1;
    score_subnet(*net, space.largest(), train, train, 2, cpu);
    CHECK(score_subnet(*net, arch, train, train, 2, cpu).val_top1 == first);
  }
}

TEST_CASE("supernet trainer: sandwich steps, a killed run resumed from its checkpoint ends with identical weights") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(96, 41));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 3));
  const ArchSpace space = small_space();
  HybridNetOptions net_options;
  net_options.aug = small_aug();
  net_options.adder_unit_rms = net_options.relative_adder_scaling = true;
  TrainerOptions options;
  options.epochs = 2;
  options.lr = 0.05;
  options.sandwich = 3;
  options.bn_batches = 2;
  options.seed = 4;
  options.progress = false;
  const json fingerprint = {{"test", "supernet resume"}};
  const ResumeCheck r = check_resume([&] { return HybridNet(space, net_options); }, options, loader,
                                     fingerprint, 4, 5, 50, "supernet");
  REQUIRE(r.straight.size() == 2);
  CHECK(r.straight[1].val_subnets.size() == 2);
  CHECK(r.resumed_at_step == 4);
  CHECK(r.weights_equal);
  CHECK(r.resumed[1].val_subnets == r.straight[1].val_subnets);
  {
    HybridNet probe(space, net_options);
    ShiftAddAugTrainer t(probe, options, loader, &loader);
    CHECK(t.eval_subnets().size() == 2);
  }

  // The weights load into a fresh supernet for extraction.
  HybridNet d(space, net_options);
  const json state = load_checkpoint_weights(*d, r.straight_checkpoint);
  CHECK(state.at("epoch").get<int64_t>() == 2);
  const auto sd = state_tensors(*d);
  bool loaded_equal = sd.size() == r.straight_state.size();
  for (size_t i = 0; loaded_equal && i < sd.size(); ++i) loaded_equal = torch::equal(r.straight_state[i], sd[i]);
  CHECK(loaded_equal);
  HybridNet other(small_arch(OpKind::Shift), net_options);
  CHECK_THROWS_AS(load_checkpoint_weights(*other, r.straight_checkpoint), nas::Error);

  // Sealed: one flipped byte, or a truncated file, is a one-line error before any parsing.
  std::string bytes;
  {
    std::ifstream in(r.straight_checkpoint, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string bad = temp_path("corrupt.ckpt");
  auto write = [&](const std::string& content) {
    std::ofstream out(bad, std::ios::binary | std::ios::trunc);
    out << content;
  };
  auto error_of = [&](const std::string& content) -> std::string {
    write(content);
    try {
      load_checkpoint_weights(*d, bad);
    } catch (const nas::Error& e) {
      CHECK(e.message().find('\n') == std::string::npos);
      return e.message();
    }
    return "no error";
  };
  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  CHECK(error_of(flipped).find("checksum mismatch: the file is corrupt or truncated") != std::string::npos);
  CHECK(error_of(bytes.substr(0, bytes.size() - 5)).find("checksum mismatch") != std::string::npos);
  // Behind a valid checksum, a tensor table that points outside the data is refused by name.
  const auto reseal = [](std::string b) {
    const uint64_t h = nas::fnv1a64(std::string_view(b).substr(0, b.size() - 8));
    for (int i = 0; i < 8; ++i) b[b.size() - 8 + i] = static_cast<char>((h >> (8 * i)) & 0xff);
    return b;
  };
  {
    uint64_t header_len = 0;
    for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    json header = json::parse(bytes.substr(16, header_len));
    header["tensors"][0]["offset"] = int64_t{1} << 40;
    const std::string text = header.dump();
    std::string edited = bytes.substr(0, 8);
    for (int i = 0; i < 8; ++i) edited += static_cast<char>((text.size() >> (8 * i)) & 0xff);
    edited += text + bytes.substr(16 + header_len);
    CHECK(error_of(reseal(edited)).find("lie outside the data section") != std::string::npos);
  }
  // A LibTorch-archive checkpoint of versions 3 / 4 (its trailer) is refused before anything reads it.
  CHECK(error_of(std::string(100, 'x') + "NASCKPT3" + std::string(8, '\0')).find("written by an earlier build") !=
        std::string::npos);
  CHECK(error_of(bytes) == "no error");
}

TEST_CASE("progressive op mixing: one op per subnet for single_op_fraction of the steps, then one per block") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 31));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 3));
  const ArchSpace space = small_space();
  HybridNetOptions net_options = HybridNetOptions::supernet_defaults();
  net_options.aug = small_aug();
  TrainerOptions options;
  options.epochs = 2;
  options.sandwich = 4;
  options.single_op_fraction = 0.5;
  options.bn_batches = 0;
  options.seed = 5;
  options.progress = false;
  auto ops_of = [](const ArchConfig& a) {
    std::set<OpKind> ops;
    for (const StageConfig& st : a.stages)
      for (const BlockConfig& b : st.blocks) ops.insert(b.op);
    if (a.head.channels > 0) ops.insert(a.head.op);
    return ops;
  };
  torch::manual_seed(1);
  ShiftAddAugTrainer early(HybridNet(space, net_options), options, loader, nullptr);
  REQUIRE(early.steps_per_epoch() == 4);
  std::set<OpKind> drawn;
  for (int i = 0; i < 20; ++i)
    for (const ArchConfig& a : early.step_subnets()) {
      CHECK(ops_of(a).size() == 1);
      drawn.insert(*ops_of(a).begin());
    }
  CHECK(drawn.size() == 2);  // both ops, by subnet
  // After half of the 8 steps: each block draws its own op again.
  options.stop_after_steps = 4;
  torch::manual_seed(1);
  ShiftAddAugTrainer late(HybridNet(space, net_options), options, loader, nullptr);
  CHECK_FALSE(late.train());
  CHECK(late.global_step() == 4);
  int mixed = 0;
  for (int i = 0; i < 20; ++i)
    for (const ArchConfig& a : late.step_subnets()) mixed += ops_of(a).size() > 1;
  CHECK(mixed > 20);
  options.single_op_fraction = 1.5;
  CHECK_THROWS_WITH_AS(options.validate(), doctest::Contains("trainer.single_op_fraction must be in [0, 1]"), nas::Error);
}

TEST_CASE("soft_cross_entropy: one-hot targets give the plain cross entropy, smoothed targets the smoothed one") {
  const Tensor logits = torch::randn({5, 4}, torch::requires_grad());
  const Tensor y = torch::tensor({0, 3, 1, 2, 3}, torch::kLong);
  const Tensor one_hot = torch::one_hot(y, 4).to(torch::kFloat);
  CHECK(soft_cross_entropy(logits, one_hot).item<double>() ==
        doctest::Approx(smoothed_cross_entropy(logits, y, 0.0).item<double>()).epsilon(1e-6));
  const Tensor smoothed = one_hot * 0.9 + 0.1 / 4;
  CHECK(soft_cross_entropy(logits, smoothed).item<double>() ==
        doctest::Approx(smoothed_cross_entropy(logits, y, 0.1).item<double>()).epsilon(1e-6));
  // No gradient reaches the targets.
  const Tensor targets = torch::softmax(torch::randn({5, 4}), 1).requires_grad_();
  soft_cross_entropy(logits, targets).backward();
  CHECK(logits.grad().defined());
  CHECK(!targets.grad().defined());
  CHECK_THROWS(soft_cross_entropy(logits, torch::zeros({5, 3})));
}

TEST_CASE("in-place distillation: the subnets after the largest learn from its predictions, the largest from the labels") {
  const auto data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 17));
  const datasets::DataLoader loader(data, datasets::DataLoaderOptions::training("synthetic", 16, 3));
  const ArchSpace space = small_space();
  HybridNetOptions net_options = HybridNetOptions::supernet_defaults();
  net_options.aug = small_aug();
  TrainerOptions options;
  options.epochs = 1;
  options.sandwich = 3;
  options.alpha = 0.0;  // the MF passes only: the step is teacher CE + students' soft CE
  options.bn_batches = 0;
  options.seed = 6;
  options.progress = false;
  options.stop_after_steps = 1;  // the step's gradients stay on the parameters
  CHECK(!options.to_json().contains("distill"));
  // On for supernets by default (nas_train_supernet), off for the plain options (fixed nets).
  CHECK(TrainerOptions::supernet_defaults().inplace_distillation);
  CHECK(TrainerOptions::supernet_defaults().to_json()["distill"] == "inplace");
  options.inplace_distillation = true;
  CHECK(options.to_json()["distill"] == "inplace");

  // The subnets the trainer draws at its first step: a twin trainer from the same seed.
  std::vector<ArchConfig> subnets;
  {
    ShiftAddAugTrainer twin(HybridNet(space, net_options), options, loader, nullptr);
    subnets = twin.step_subnets();
  }
  REQUIRE(subnets.size() == 3);
  CHECK(subnets[0].resolution == 8);  // the largest first (the teacher)
  CHECK(subnets[1].resolution == 6);
  // The step by hand: the largest on the labels, the others on its detached softmax.
  auto manual_grads = [&](bool distill) {
    torch::manual_seed(3);
    HybridNet net(space, net_options);
    net->train();
    const datasets::Batch batch = loader.batch(0, 0);
    Tensor teacher;
    for (size_t i = 0; i < subnets.size(); ++i) {
      net->set_subnet(subnets[i]);
      const Tensor logits = net->forward(resize_input(batch.images, subnets[i].resolution));
      const Tensor loss = distill && i > 0 ? soft_cross_entropy(logits, teacher)
                                           : smoothed_cross_entropy(logits, batch.labels, options.label_smoothing);
      if (i == 0) teacher = torch::softmax(logits.detach(), 1);
      loss.backward();
    }
    net->scale_adder_gradients();
    std::vector<Tensor> g;
    for (const Tensor& p : net->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : Tensor());
    return g;
  };
  auto trainer_grads = [&](bool distill) {
    TrainerOptions o = options;
    o.inplace_distillation = distill;
    torch::manual_seed(3);
    HybridNet net(space, net_options);
    ShiftAddAugTrainer trainer(net, o, loader, nullptr);
    CHECK_FALSE(trainer.train());
    std::vector<Tensor> g;
    for (const Tensor& p : net->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : Tensor());
    return g;
  };
  auto same = [](const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].defined() != b[i].defined()) return false;
      if (a[i].defined() && !torch::allclose(a[i], b[i], 1e-5, 1e-7)) return false;
    }
    return true;
  };
  const auto with_distill = trainer_grads(true), without = trainer_grads(false);
  CHECK(same(with_distill, manual_grads(true)));
  CHECK(same(without, manual_grads(false)));
  CHECK_FALSE(same(with_distill, without));
}
