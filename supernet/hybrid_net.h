#pragma once
// HybridNet: a MobileNetV2-style network (stem, inverted residual blocks, head conv, global pool,
// classifier) built from an ArchConfig through resolve_arch(), with every layer a HybridConv2d /
// DynamicBatchNorm held at the largest augmented width. The tiny network (the ArchConfig as
// written, its blocks running their MF op) is the first channels of every layer; set_active()
// picks one augmented (hybrid) network that contains it, set_tiny() runs the tiny one alone.
//
// The same class is meant to become the weight-sharing supernet (elastic kernel by centre crop,
// elastic widths by slicing): the space is then the ArchSpace, here it is one architecture plus
// the augmentation lists.
//
// Channel sorting (sort_channels): every channel space of the network (the stem output, each
// block's hidden channels, each stage's output shared by its residual blocks, the head output)
// is reordered by L1 importance (the L1 norm of the consumers' weights for that channel and of the
// depthwise rows, OFA's and NetAug's criterion), most important first. ChannelSort::All ranks
// every channel, tiny ones included (NetAug): a multiplicatively trained channel that became
// more important than a tiny one moves into the MF slice, which is the "weight tearing" that the
// remap exists for. ChannelSort::AugmentedOnly keeps the tiny channels in place (the tiny network
// is unchanged) and sorts only [tiny:max]. Producers' output rows, their BN parameters and
// statistics and consumers' input columns get the same permutation.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "core/json_util.h"
#include "core/rng.h"
#include "ops/adder_conv2d.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "supernet/aug_config.h"
#include "supernet/dynamic_batch_norm.h"
#include "supernet/hybrid_conv2d.h"
#include "supernet/weight_remap.h"

namespace nas {

enum class ChannelSort { All, AugmentedOnly };
const char* channel_sort_name(ChannelSort mode);   // "all" | "augmented"
ChannelSort parse_channel_sort(const std::string& name);  // errors list the accepted names

struct HybridNetOptions {
  // The augmentation lists; the layers are allocated for the largest network they allow. Lists
  // holding only 1.0 give a plain tiny network (the --aug none baseline).
  AugOptions aug;
  RemapKind remap = RemapKind::None;
  int64_t shift_bits = 5;
  double eta = ops::kAdderDefaultEta;  // AdderNet adaptive gradient scaling (<= 0: off)
  // eta of the remap parameters of adder layers (scale_adder_gradients); < 0: eta. One remap
  // parameter moves many weights at once (a channel's affine, a bin's slope), so it may want a
  // smaller step than the weights themselves.
  double remap_eta = -1.0;
  double effective_remap_eta() const { return remap_eta < 0 ? eta : remap_eta; }
  double bn_momentum = 0.1;
  double bn_eps = 1e-5;

  json to_json() const;
};

class HybridNetImpl : public torch::nn::Module {
 public:
  HybridNetImpl(const ArchConfig& arch, const HybridNetOptions& options);

  const ArchConfig& arch() const { return arch_; }
  const ResolvedArch& resolved() const { return resolved_; }
  const HybridNetOptions& options() const { return options_; }
  const NetWidths& max_widths() const { return max_widths_; }

  void set_tiny();
  void set_active(const AugConfig& config);
  bool tiny_active() const { return tiny_; }
  const AugConfig& active() const { return active_; }
  AugConfig sample_aug(Rng& rng) const;
  AugConfig largest_aug() const;

  // x [N, in_channels, resolution, resolution] -> logits [N, num_classes].
  torch::Tensor forward(const torch::Tensor& x);

  // Sum of the piecewise remap KL terms over the MF layers (a zero scalar for other remaps).
  torch::Tensor remap_kl();

  struct ParamPermutation {
    torch::Tensor param;  // a parameter or buffer of this net, permuted in place
    int64_t dim;
    torch::Tensor perm;   // int64 index along dim
  };
  struct ChannelSortResult {
    // Every permutation applied to a parameter, so that optimizer state (momentum) can follow.
    std::vector<ParamPermutation> permutations;
    int64_t tiny_channels = 0;    // tiny channels over all channel spaces
    int64_t moved_into_tiny = 0;  // of them, channels that were augmented before the sort
  };
  // Sorts channels by importance (see the top of the file).
  ChannelSortResult sort_channels(ChannelSort mode = ChannelSort::All);

  // Per MF layer of the tiny network: the distribution of its MF slice before and after the
  // weight remap (mean, std, kurtosis: 3 for a Gaussian, 6 for a Laplacian; a histogram over
  // mean +- 4 std). The measurement of weight tearing.
  json weight_statistics();

  // BN re-estimation: between these calls, forwards in train mode re-estimate the running
  // statistics of the widths they run (cumulative average).
  void begin_bn_reestimation();
  void end_bn_reestimation();

  // The tiny network's layers in forward order (for export).
  struct LayerRef {
    std::string name;  // LayerSpec names: stem.conv, stage0.block1.dw, head.conv, classifier
    HybridConv2d conv{nullptr};
    DynamicBatchNorm bn{nullptr};  // null for the classifier unless it is an adder
    OpKind op = OpKind::Mult;
    int64_t in_t = 0, out_t = 0, kernel = 1, stride = 1;
    bool depthwise = false;
  };
  std::vector<LayerRef> tiny_layers() const;

  // AdderNet's adaptive gradient scaling, once per optimiser step (call after every backward of
  // the step, before the optimiser): the gradient of each adder layer's MF slice, accumulated
  // over all forwards of the step (tiny + alpha * augmented), becomes eta * sqrt(numel) * g /
  // ||g||_2; each remap parameter tensor of an adder layer likewise with remap_eta (one remap
  // parameter moves many weights, so it may want a smaller step). The multiplicative rest of the
  // shared tensors keeps its plain gradient. Nothing when eta <= 0.
  void scale_adder_gradients();

  // Parameters with and without weight decay (BN, biases and remap parameters have none).
  std::vector<torch::Tensor> decay_parameters() const;
  std::vector<torch::Tensor> no_decay_parameters() const;

 private:
  struct Block {
    HybridConv2d expand{nullptr}, dw{nullptr}, project{nullptr};
    DynamicBatchNorm expand_bn{nullptr}, dw_bn{nullptr}, project_bn{nullptr};
  };

  // tiny_in / tiny_out: the MF slice (initialised the AdderNet way for adder layers).
  HybridConv2d make_conv(const std::string& name, int64_t max_in, int64_t max_out, int64_t tiny_in,
                         int64_t tiny_out, int64_t kernel, int64_t stride, bool depthwise, OpKind op,
                         bool classifier = false);
  DynamicBatchNorm make_bn(const std::string& name, int64_t channels);

  ArchConfig arch_;
  ResolvedArch resolved_;
  HybridNetOptions options_;
  NetWidths max_widths_;
  NetWidths widths_;  // of the active network
  AugConfig active_;
  bool tiny_ = true;

  HybridConv2d stem_{nullptr}, head_{nullptr}, classifier_{nullptr};
  DynamicBatchNorm stem_bn_{nullptr}, head_bn_{nullptr}, classifier_bn_{nullptr};
  std::vector<Block> blocks_;
  std::vector<DynamicBatchNorm> all_bns_;
};
TORCH_MODULE(HybridNet);

}  // namespace nas
