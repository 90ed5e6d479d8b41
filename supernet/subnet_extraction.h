#pragma once
// Subnets of a trained supernet with their inherited weights (DESIGN.md §5 and §7): BN
// recalibration, validation accuracy, export to a standalone TinyNet. The accuracy-predictor
// data builder scores thousands of subnets through score_subnet(); nas_extract writes one.
//
// Thread safety: none. Every call sets the net's active subnet and rewrites the BN running
// statistics of that subnet's widths, so one HybridNet serves one thread; score subnets in
// parallel with one net (a copy of the weights) per thread.
//
// The test split is never touched here: recalibration uses training batches (the BN
// pseudo-epoch of the training loader, the same images every time), scoring the loader it is
// given (the validation split during search).
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "core/json_util.h"
#include "datasets/data_loader.h"
#include "search_space/arch_config.h"
#include "supernet/hybrid_net.h"
#include "supernet/tiny_net.h"

namespace nas {

// The pseudo-epoch of the training loader whose first batches re-estimate BN statistics (its
// order is fixed by the loader's seed, so recalibration is deterministic).
constexpr int64_t kBnRecalibrationEpoch = 1000000;

// Re-estimates the BN statistics of the net's active MF network on the first `batches` batches
// of the BN pseudo-epoch of `train` (resized to the active subnet's resolution). 0: nothing.
void recalibrate_bn(HybridNetImpl& net, const datasets::DataLoader& train, int64_t batches,
                    const torch::Device& device);

// Top-1 (%) of the net's active MF network on every image of `loader` (eval mode; the net is
// left in train mode).
double evaluate_active(HybridNetImpl& net, const datasets::DataLoader& loader,
                       const torch::Device& device);

struct SubnetScore {
  double val_top1 = 0;         // %
  double recalibrate_seconds = 0;
  double evaluate_seconds = 0;
};

// set_subnet(subnet) (a nas::Error naming the field when the net cannot run it), recalibrate_bn
// on `bn_batches` training batches, evaluate on `val`.
SubnetScore score_subnet(HybridNetImpl& net, const ArchConfig& subnet,
                         const datasets::DataLoader& train, const datasets::DataLoader& val,
                         int64_t bn_batches, const torch::Device& device);

// set_subnet + recalibrate_bn, then the subnet's MF network as a standalone TinyNet (inherited
// weights, recalibrated statistics). Its forward equals the net's eval-mode forward bit for bit.
TinyNet extract_subnet(HybridNetImpl& net, const ArchConfig& subnet, const datasets::DataLoader& train,
                       int64_t bn_batches, const TinyPreprocessing& preprocessing,
                       const torch::Device& device, const json& meta = json::object());

// Starts a fixed network from a supernet's inherited weights (nas_retrain --init supernet).
// `fixed` is a HybridNet of one architecture (built with the same remap kind as the supernet);
// `supernet.set_subnet(fixed.arch())` must accept it (a nas::Error naming the field otherwise).
// Every layer of the architecture takes, from the supernet's layer of the same name (the BN and
// remap of the layer's op), the leading output / input channels and the centre of the kernel, over
// the fixed net's whole allocation: the MF slice gets exactly the weights the subnet runs with in
// the supernet, and the augmented channels get the supernet's next channels as far as the
// supernet holds them (beyond that they keep their initialisation). So, in eval mode, the
// fixed net's MF network computes what the supernet's subnet computes, bit for bit.
struct InheritReport {
  int64_t tensors = 0;           // tensors written
  int64_t elements_copied = 0;   // of the fixed net's tensors of those layers
  int64_t elements_total = 0;
};
InheritReport inherit_subnet_weights(HybridNetImpl& fixed, HybridNetImpl& supernet);

}  // namespace nas
