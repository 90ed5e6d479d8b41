#pragma once
// Shared fixtures of the supernet tests (test_supernet*.cc): a small architecture with every
// kind of block, small augmentation lists, a learnable synthetic data set, temp paths.
// Include after <torch/torch.h> and before <doctest/doctest.h> (toolchain.md, gotcha 1).
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "search_space/arch_config.h"
#include "supernet/aug_config.h"
#include "supernet/hybrid_net.h"
#include "supernet/shiftaddaug_trainer.h"

namespace nas::test {

// A small network of the space: 8x8 inputs, every kind of block (no expand, expand, residual,
// stride 2), a head conv.
inline ArchConfig small_arch(OpKind op, int in_channels = 1, int classes = 4, bool head = true) {
  ArchConfig a;
  a.resolution = 8;
  a.in_channels = in_channels;
  a.num_classes = classes;
  a.width_mult = 1.0;
  a.stem = StemConfig{OpKind::Mult, 8, 3, 1};
  StageConfig s0;
  s0.stride = 1;
  s0.out_channels = 8;
  s0.blocks = {BlockConfig{OpKind::Mult, 3, 1}};
  StageConfig s1;
  s1.stride = 2;
  s1.out_channels = 16;
  s1.blocks = {BlockConfig{OpKind::Mult, 3, 2}, BlockConfig{OpKind::Mult, 5, 2}};
  a.stages = {s0, s1};
  a.head = HeadConfig{OpKind::Mult, head ? 24 : 0, OpKind::Mult};
  set_all_ops(a, op);
  a.validate();
  return a;
}

inline AugOptions small_aug() {
  AugOptions o;
  o.expand_mults = {1.0, 2.0};
  o.width_mults = {1.0, 2.0};
  return o;
}

// Random BN parameters and statistics, so that eval-mode BN is not the identity.
inline void randomise_bn(torch::nn::Module& net, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& item : net.named_buffers()) {
    if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0, 0.2);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 2.0);
  }
  for (auto& item : net.named_parameters()) {
    if (item.key().find("_bn.weight") != std::string::npos) item.value().uniform_(0.5, 1.5);
    if (item.key().find("_bn.bias") != std::string::npos) item.value().normal_(0, 0.1);
  }
}

inline double moment(const torch::Tensor& x, int k) {
  const torch::Tensor c = x.to(torch::kDouble) - x.to(torch::kDouble).mean();
  return c.pow(k).mean().item<double>();
}

inline std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "nas_test_supernet";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// A learnable synthetic data set: the class is the quadrant holding the bright blob.
inline datasets::Dataset synthetic_dataset(int64_t n, uint64_t seed) {
  Rng rng(seed);
  const int64_t H = 8, W = 8;
  std::vector<uint8_t> pixels(static_cast<size_t>(n * H * W));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 4;
    labels[static_cast<size_t>(i)] = label;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const bool inside = (y < 4) == (label < 2) && (x < 4) == (label % 2 == 0);
        const double v = (inside ? 180.0 : 40.0) + rng.normal(0, 30);
        pixels[static_cast<size_t>((i * H + y) * W + x)] =
            static_cast<uint8_t>(std::min(255.0, std::max(0.0, v)));
      }
  }
  return datasets::Dataset("synthetic", 1, H, W, 4, std::move(pixels), std::move(labels));
}

inline std::vector<torch::Tensor> state_tensors(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.named_parameters()) out.push_back(p.value().detach().clone());
  for (auto& b : m.named_buffers()) out.push_back(b.value().detach().clone());
  return out;
}


// The net's outputs for x as the tiny network and as the largest augmented one (in that order).
inline std::pair<torch::Tensor, torch::Tensor> tiny_and_largest_outputs(HybridNet& net,
                                                                        const torch::Tensor& x) {
  net->set_tiny();
  const torch::Tensor tiny = net->forward(x);
  net->set_active(net->largest_aug());
  return {tiny, net->forward(x)};
}

// Exact resume: the same training run straight through, and killed after `kill_after` steps
// (checkpoints every `every` steps) then resumed by a fresh process (a differently initialised
// net). The net comes from make_net() under torch::manual_seed(init_seed).
struct ResumeCheck {
  std::vector<EpochRecord> straight, resumed;
  int64_t resumed_at_step = -1;
  bool weights_equal = false;
  std::vector<torch::Tensor> straight_state;
  std::string straight_checkpoint;
};

inline ResumeCheck check_resume(const std::function<HybridNet()>& make_net, const TrainerOptions& options,
                                const datasets::DataLoader& loader, const json& fingerprint,
                                int64_t every, int64_t kill_after, uint64_t init_seed,
                                const std::string& tag) {
  static_cast<void>(fingerprint);  // only read inside CHECKs (compiled out where doctest is disabled)
  ResumeCheck r;
  torch::manual_seed(init_seed);
  HybridNet a = make_net();
  TrainerOptions oa = options;
  oa.checkpoint_path = temp_path(tag + "_straight.ckpt");
  std::filesystem::remove(oa.checkpoint_path);
  ShiftAddAugTrainer ta(a, oa, loader, &loader);
  CHECK(!ta.resume(fingerprint));
  CHECK(ta.train());
  r.straight = ta.history();
  r.straight_checkpoint = oa.checkpoint_path;

  torch::manual_seed(init_seed);
  HybridNet b = make_net();
  TrainerOptions ob = options;
  ob.checkpoint_path = temp_path(tag + "_killed.ckpt");
  std::filesystem::remove(ob.checkpoint_path);
  ob.checkpoint_every_steps = every;
  ob.stop_after_steps = kill_after;
  {
    ShiftAddAugTrainer tb(b, ob, loader, &loader);
    CHECK(!tb.resume(fingerprint));
    CHECK(!tb.train());
  }
  // A new process: a freshly (differently) initialised net resumes from the checkpoint.
  torch::manual_seed(init_seed + 999);
  HybridNet c = make_net();
  ob.stop_after_steps = 0;
  ShiftAddAugTrainer tc(c, ob, loader, &loader);
  CHECK(tc.resume(fingerprint));
  r.resumed_at_step = tc.global_step();
  CHECK(tc.train());
  r.resumed = tc.history();
  r.straight_state = state_tensors(*a);
  const auto sc = state_tensors(*c);
  r.weights_equal = r.straight_state.size() == sc.size();
  for (size_t i = 0; r.weights_equal && i < sc.size(); ++i)
    r.weights_equal = torch::equal(r.straight_state[i], sc[i]);
  return r;
}

}  // namespace nas::test
