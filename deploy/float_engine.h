#pragma once
// The float reference engine: the FloatModel run in plain C++ (double accumulation, float
// tensors, H x W x C), step by step in the same graph the integer model has, so that the
// quantizer can read every intermediate tensor (calibration). Equal to TinyNet::forward up to
// float rounding (test_deploy_torch checks it).
#include <cstdint>
#include <vector>

#include "deploy/float_model.h"
#include "deploy/int_model.h"

namespace nas::deploy {

// One step of the network graph. Tensor 0 is the image, tensor k + 1 the output of node k; the
// last node writes the logits.
struct GraphNode {
  StepKind kind = StepKind::Conv;
  std::string name;
  int layer = -1;  // index into FloatModel::layers (Conv)
  int input = -1, input2 = -1;
  bool relu6 = false;
};

std::vector<GraphNode> build_graph(const FloatModel& model);

// Per-tensor and per-layer statistics over the images run so far.
struct FloatStats {
  std::vector<double> max_abs;                   // per tensor
  std::vector<std::vector<double>> pre_bn_sum;   // per node, per channel: sum of the conv output before BN
  std::vector<int64_t> pre_bn_count;             // per node: positions summed per channel
};

class FloatEngine {
 public:
  explicit FloatEngine(const FloatModel& model);
  // image: H x W x C uint8 (interleaved). Returns the logits; adds to stats when given.
  std::vector<float> run(const uint8_t* image, FloatStats* stats = nullptr);
  const std::vector<GraphNode>& graph() const { return graph_; }
  FloatStats empty_stats() const;

 private:
  const FloatModel& model_;
  std::vector<GraphNode> graph_;
  std::vector<std::vector<float>> tensors_;
};

}  // namespace nas::deploy
