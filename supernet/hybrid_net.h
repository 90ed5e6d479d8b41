#pragma once
// HybridNet: a MobileNetV2-style network (stem, inverted residual blocks, head conv, global pool,
// classifier) whose layers are HybridConv2d / DynamicBatchNorm held at the largest width the net
// can run. It is both
//   - the weight-sharing supernet over an ArchSpace: allocated at space.largest() widened by the
//     augmentation lists (every stage at its maximum depth, every depthwise kernel at the largest
//     size, every block able to run each op of space.ops, the head each op of space.head_ops);
//   - a fixed architecture trained with ShiftAddAug: the one-point space (allocated at the
//     architecture itself widened by the augmentation lists).
// OFA's three levels: dynamic ops (HybridConv2d: channel slicing, kernel centre crop, op choice;
// DynamicBatchNorm: sliced statistics) -> dynamic blocks (Slot / PlanBlock below) -> this network.
//
// The active network is one *plan*: set_active(subnet, aug) resolves a subnet (an ArchConfig the
// net holds) and an augmentation of it (AugConfig; all 1 = the subnet's MF network alone) into a
// list of active layers (slot, op, widths, kernel, BN) and blocks (residual or not). forward(),
// export (tiny_layers), remap_kl(), weight_statistics() and the adder gradient scaling all
// consume that one plan; sort_channels() works on the allocation.
//   elastic depth   a stage runs its first d blocks
//   elastic kernel  centre crop of the stored kernel (OFA's kernel transformation matrices are
//                   not used: see DESIGN.md / the supernet README for the measurement)
//   elastic width   the first channels (width multiplier, expand ratio), kept meaningful by
//                   channel sorting
//   elastic op      the block's layers run the chosen MF op on their tiny slice, through that
//                   op's remap, with that op's BN when bn_per_op (adder outputs are negative
//                   distances, on a different scale from shift outputs), on the one shared
//                   weight tensor or, with separate_adder_weights, the adder on a tensor of its own
//   resolution      not the net's business: the caller resizes the input (resize_input() in
//                   tiny_ops.h, which the exported TinyNet applies too).
//
// Channel sorting (sort_channels): every channel space of the network (the stem output, each
// block's hidden channels, each stage's output shared by its residual blocks, the head output)
// is reordered by L1 importance (the L1 norm of the consumers' weights for that channel and of the
// depthwise rows, OFA's and NetAug's criterion), most important first. ChannelSort::All ranks
// every channel, tiny ones included (NetAug): a multiplicatively trained channel that became
// more important than a tiny one moves into the MF slice, which is the "weight tearing" that the
// remap exists for. ChannelSort::AugmentedOnly keeps the channels of the largest subnet in place
// (for a fixed net: the tiny network is unchanged) and sorts only the augmentation's channels.
// Producers' output rows, their BN parameters and statistics (every op's BN) and consumers'
// input columns get the same permutation.
#include <cstdint>
#include <optional>
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
#include "search_space/arch_space.h"
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
  // Relative adder scaling: the scaled gradient's RMS is eta * RMS(weights of the slice) instead
  // of eta. AdderNet's absolute rule assumes N(0, 1) adder weights (its initialisation, which a
  // fixed adder net and the adder slice of AddAug have), so each step moves every weight by about
  // lr * eta. In a supernet the adder shares its weights with shift layers, initialised and
  // trained on the multiplicative (Kaiming) scale, 10-30x smaller: the absolute rule then moves
  // them by several times their own size per step and training diverges (measured: loss ~10
  // after 7 steps on Fashion-MNIST). The relative rule is the absolute one for unit-RMS weights.
  bool relative_adder_scaling = false;
  // The adder op sees its weight slice scaled to unit RMS (detached): the shared weights stay on
  // the multiplicative scale, the adder works on AdderNet's. Together with the relative scaling
  // an adder step is AdderNet's step in the adder's own units. (Supernet default; a fixed adder
  // net and AddAug initialise their adder slice at N(0, 1) and need neither.)
  bool adder_unit_rms = false;
  // Keeps the weights that the adder sees at unit RMS at RMS 1 (renormalize_adder_weights(), after
  // every optimiser step). The unit-RMS view makes the adder's forward invariant to its weights'
  // scale, so nothing in the loss holds their norm, and relative steps (accumulated by momentum)
  // let it drift geometrically: a 20-epoch supernet reached RMS ~3e17 and overflowed float in
  // the adder scaling (results/supernet/README.md). Dividing the weights and their momentum
  // by the RMS is an exact reparameterisation of a fixed net's adder layers (every term of a
  // step scales with the weights), so it changes nothing but the numbers' range; in a supernet
  // the augmented passes of smaller subnets also read part of that block multiplicatively, and
  // there it keeps them at their initial scale. Needs adder_unit_rms and relative_adder_scaling.
  bool adder_weight_renorm = false;
  // The adder op of a layer that also runs shift / mult gets a weight tensor of its own
  // (HybridConv2dOptions::separate_adder_weights): shift and add share everything else (BN per op
  // aside) but not the conv weights. nas_train_supernet's --op-weights.
  bool separate_adder_weights = false;
  double bn_momentum = 0.1;
  double bn_eps = 1e-5;
  // Layers that can run more than one op get one BN per op (else one shared BN).
  bool bn_per_op = true;
  // CPU training-mode convolutions on channels-last activations (HybridConv2dOptions::
  // channels_last): ~1.5x faster steps here, the same network; last-bit different sums, so off
  // reproduces the runs of binaries before the option existed. Evaluation is NCHW either way.
  bool channels_last = true;

  json to_json() const;
  // The inverse of to_json (strict; errors name `where` and the field). Fields a file lacks keep
  // the defaults above (how the nets of older files were built).
  static HybridNetOptions from_json(const json& j, const std::string& where);
  // The defaults of a supernet (nas_train_supernet, bench_train_step --supernet): unit-RMS adder
  // weights with relative scaling, and a separate adder tensor (results/supernet/README.md).
  static HybridNetOptions supernet_defaults();
  // Combinations that do not make sense (errors name `where` and the field).
  void validate(const std::string& where) const;
};

// The --memory-format words of HybridNetOptions::channels_last: "channels-last" | "nchw".
const char* memory_format_name(bool channels_last);
// The inverse; anything else throws, naming the accepted words.
bool parse_memory_format(const std::string& name);



class HybridNetImpl : public torch::nn::Module {
 public:
  // A fixed architecture (the one-point space); its MF network is active.
  HybridNetImpl(const ArchConfig& arch, const HybridNetOptions& options);
  // The supernet over `space` (validated); space.largest()'s MF network is active.
  HybridNetImpl(const ArchSpace& space, const HybridNetOptions& options);

  // The space (null for a fixed architecture).
  const ArchSpace* space() const { return space_ ? &*space_ : nullptr; }
  bool is_supernet() const { return space_.has_value(); }
  // The architecture the layers are allocated for (a fixed net: its architecture).
  const ArchConfig& largest_arch() const { return largest_; }
  // The active subnet and its resolved layers.
  const ArchConfig& arch() const { return subnet_; }
  const ResolvedArch& resolved() const { return resolved_; }
  const HybridNetOptions& options() const { return options_; }
  const NetWidths& max_widths() const { return max_widths_; }

  // Empty when the net can run `subnet`, else why not, naming the field ("stages[2].depth 5 is
  // not one of 2, 3, 4"); for a supernet, the space's verdict.
  std::string subnet_violation(const ArchConfig& subnet) const;
  // The subnet's MF network becomes active; a nas::Error "<where>: ..." if the net cannot run it.
  void set_subnet(const ArchConfig& subnet, const std::string& where = "arch");
  // The active subnet with an augmentation of it (AugConfig::tiny: its MF network alone).
  void set_active(const ArchConfig& subnet, const AugConfig& aug, const std::string& where = "arch");
  // The active subnet's MF network.
  void set_tiny();
  // An augmented version of the active subnet.
  void set_active(const AugConfig& config);
  bool tiny_active() const { return tiny_; }
  const AugConfig& active() const { return active_; }
  AugConfig sample_aug(Rng& rng) const;  // for the active subnet
  AugConfig largest_aug() const;         // for the active subnet

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

  // The active subnet's MF network's layers in forward order (for export).
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
  // the step, before the optimiser): for each layer that ran the adder op in a forward of the
  // step, the gradient of the union of the adder slices used (tiny + alpha * augmented, and every
  // sandwich subnet) becomes eta * sqrt(numel) * g / ||g||_2 (relative_adder_scaling: times the
  // RMS of the slice's weights); each parameter tensor of the adder
  // remap likewise with remap_eta (one remap parameter moves many weights, so it may want a
  // smaller step). The multiplicative rest of the shared tensors keeps its plain gradient.
  // Nothing when eta <= 0 (the record of used slices is cleared either way).
  void scale_adder_gradients();

  // adder_weight_renorm (else nothing): after an optimiser step, divides the block of each adder
  // tensor that the adder's unit-RMS view covers (HybridConv2dImpl::adder_view_block) by its
  // RMS. Returns each division, for the optimiser's momentum to follow (SgdNesterov::
  // divide_leading_block). A block whose RMS is 0 or not finite is left alone.
  struct ParamBlockDivision {
    torch::Tensor param;          // a parameter of this net, its leading block divided in place
    std::vector<int64_t> block;   // extents of the leading dimensions
    double divisor = 1.0;
  };
  std::vector<ParamBlockDivision> renormalize_adder_weights();

  // Parameters with and without weight decay (BN, biases and remap parameters have none).
  std::vector<torch::Tensor> decay_parameters() const;
  std::vector<torch::Tensor> no_decay_parameters() const;

 private:
  // One allocated layer: the conv and its BN (one per op when bn_per_op and the layer has several).
  struct Slot {
    HybridConv2d conv{nullptr};
    std::vector<OpKind> bn_ops;  // empty: one BN for every op
    std::vector<DynamicBatchNorm> bns;
    DynamicBatchNorm bn_for(OpKind op) const;
  };
  struct SlotBlock {
    std::optional<Slot> expand;  // allocated when the stage's expand ratios are > 1
    Slot dw, project;
  };
  // The active network (see the top of the file).
  struct PlanLayer {
    std::string name;      // LayerSpec name
    HybridConv2d conv{nullptr};
    DynamicBatchNorm bn{nullptr};  // the op's BN (null: none)
    OpKind op = OpKind::Mult;
    ConvWidthsActive widths;
  };
  struct PlanBlock {
    int expand = -1, dw = -1, project = -1;  // indices into layers
    bool residual = false;
  };
  struct Plan {
    std::vector<PlanLayer> layers;
    std::vector<PlanBlock> blocks;
    int stem = -1, head = -1, classifier = -1;
  };

  void build(const HybridNetOptions& options);
  Slot make_slot(const std::string& conv_name, const std::string& bn_name, int64_t max_in,
                 int64_t max_out, int64_t tiny_in, int64_t tiny_out, int64_t kernel, int64_t stride,
                 bool depthwise, OpKind op, const std::vector<OpKind>& ops, bool classifier,
                 bool with_bn);
  Plan make_plan(const ResolvedArch& subnet, const NetWidths& widths, bool tiny) const;
  const SlotBlock& slot_block(int stage, int index) const;

  std::optional<ArchSpace> space_;
  ArchConfig largest_;
  ResolvedArch largest_resolved_;
  std::vector<OpKind> block_ops_, head_ops_;  // ops every block / the head conv may run
  HybridNetOptions options_;
  NetWidths max_widths_;

  ArchConfig subnet_;
  ResolvedArch resolved_;
  AugConfig active_;
  bool tiny_ = true;
  Plan plan_;

  Slot stem_, head_, classifier_;
  std::vector<std::vector<SlotBlock>> stages_;  // [stage][block]
  std::vector<size_t> stage_first_block_;       // flat index (max_widths_.blocks) of each stage's block 0
  std::vector<DynamicBatchNorm> all_bns_;
  std::vector<HybridConv2d> all_convs_;
};
TORCH_MODULE(HybridNet);

}  // namespace nas
