#include "deploy/float_engine.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace nas::deploy {
namespace {

// conv (Mult / Shift: multiply-accumulate; Add: -sum |x - w| with padded x = 0) of x [H][W][C_in]
// into y [Ho][Wo][C_out], before BN.
void conv_float(const FloatLayer& l, const std::vector<float>& x, std::vector<float>& y) {
  const int64_t K = l.kernel, P = l.padding(), I = l.depthwise ? 1 : l.c_in;
  y.assign(static_cast<size_t>(l.h_out * l.w_out * l.c_out), 0.0f);
  for (int64_t oy = 0; oy < l.h_out; ++oy)
    for (int64_t ox = 0; ox < l.w_out; ++ox)
      for (int64_t o = 0; o < l.c_out; ++o) {
        double acc = 0;
        for (int64_t ky = 0; ky < K; ++ky)
          for (int64_t kx = 0; kx < K; ++kx) {
            const int64_t iy = oy * l.stride - P + ky, ix = ox * l.stride - P + kx;
            const bool inside = iy >= 0 && iy < l.h_in && ix >= 0 && ix < l.w_in;
            if (!inside && l.op != OpKind::Add) continue;
            for (int64_t i = 0; i < I; ++i) {
              const int64_t ci = l.depthwise ? o : i;
              const double xv = inside ? x[static_cast<size_t>((iy * l.w_in + ix) * l.c_in + ci)] : 0.0;
              const double wv = l.weight[static_cast<size_t>(((o * I + i) * K + ky) * K + kx)];
              acc += l.op == OpKind::Add ? -std::fabs(xv - wv) : xv * wv;
            }
          }
        y[static_cast<size_t>((oy * l.w_out + ox) * l.c_out + o)] = static_cast<float>(acc);
      }
}

}  // namespace

std::vector<GraphNode> build_graph(const FloatModel& m) {
  std::vector<GraphNode> g;
  int layer = 0;
  auto conv = [&](int input, bool relu6) {
    GraphNode n;
    n.kind = StepKind::Conv;
    n.layer = layer;
    n.name = m.layers[static_cast<size_t>(layer++)].name;
    n.input = input;
    n.relu6 = relu6;
    g.push_back(n);
    return static_cast<int>(g.size());
  };
  int x = conv(0, true);
  for (const ResolvedBlock& b : m.resolved.blocks) {
    int h = x;
    if (b.has_expand_conv()) h = conv(h, true);
    h = conv(h, true);
    h = conv(h, false);
    if (b.residual) {
      GraphNode n;
      n.kind = StepKind::Residual;
      n.name = b.name + ".add";
      n.input = h;
      n.input2 = x;
      g.push_back(n);
      h = static_cast<int>(g.size());
    }
    x = h;
  }
  if (m.resolved.head_channels > 0) x = conv(x, true);
  GraphNode pool;
  pool.kind = StepKind::Pool;
  pool.name = "head.pool";
  pool.input = x;
  g.push_back(pool);
  conv(static_cast<int>(g.size()), false);
  NAS_CHECK(layer == static_cast<int>(m.layers.size()), "float model: the graph does not use every layer");
  return g;
}

FloatEngine::FloatEngine(const FloatModel& model) : model_(model), graph_(build_graph(model)) {
  tensors_.resize(graph_.size() + 1);
}

FloatStats FloatEngine::empty_stats() const {
  FloatStats s;
  s.max_abs.assign(graph_.size() + 1, 0.0);
  s.pre_bn_sum.resize(graph_.size());
  s.pre_bn_count.assign(graph_.size(), 0);
  for (size_t k = 0; k < graph_.size(); ++k)
    if (graph_[k].kind == StepKind::Conv)
      s.pre_bn_sum[k].assign(static_cast<size_t>(model_.layers[static_cast<size_t>(graph_[k].layer)].c_out), 0.0);
  return s;
}

std::vector<float> FloatEngine::run(const uint8_t* image, FloatStats* stats) {
  const int64_t C = model_.resolved.in_channels, HW = model_.resolution * model_.resolution;
  std::vector<float>& in = tensors_[0];
  in.resize(static_cast<size_t>(HW * C));
  for (int64_t p = 0; p < HW; ++p)
    for (int64_t c = 0; c < C; ++c)
      in[static_cast<size_t>(p * C + c)] = static_cast<float>(
          (image[p * C + c] / 255.0 - model_.mean[static_cast<size_t>(c)]) / model_.std[static_cast<size_t>(c)]);
  for (size_t k = 0; k < graph_.size(); ++k) {
    const GraphNode& n = graph_[k];
    std::vector<float>& y = tensors_[k + 1];
    const std::vector<float>& x = tensors_[static_cast<size_t>(n.input)];
    if (n.kind == StepKind::Conv) {
      const FloatLayer& l = model_.layers[static_cast<size_t>(n.layer)];
      conv_float(l, x, y);
      const size_t C_out = static_cast<size_t>(l.c_out);
      if (stats) {
        for (size_t i = 0; i < y.size(); ++i) stats->pre_bn_sum[k][i % C_out] += y[i];
        stats->pre_bn_count[k] += static_cast<int64_t>(y.size() / C_out);
      }
      for (size_t i = 0; i < y.size(); ++i) {
        const size_t c = i % C_out;
        double v = y[i];
        if (l.has_bias) v += l.bias[c];
        if (l.has_bn)
          v = (v - l.bn_mean[c]) / std::sqrt(static_cast<double>(l.bn_var[c]) + model_.bn_eps) * l.bn_weight[c] + l.bn_bias[c];
        if (n.relu6) v = std::min(std::max(v, 0.0), 6.0);
        y[i] = static_cast<float>(v);
      }
    } else if (n.kind == StepKind::Residual) {
      const std::vector<float>& x2 = tensors_[static_cast<size_t>(n.input2)];
      y.resize(x.size());
      for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] + x2[i];
    } else {
      const size_t C_in = static_cast<size_t>(model_.resolved.classifier_in);
      y.assign(C_in, 0.0f);
      std::vector<double> sum(C_in, 0.0);
      for (size_t i = 0; i < x.size(); ++i) sum[i % C_in] += x[i];
      const double positions = static_cast<double>(x.size() / C_in);
      for (size_t c = 0; c < C_in; ++c) y[c] = static_cast<float>(sum[c] / positions);
    }
    if (stats)
      for (float v : y) stats->max_abs[k + 1] = std::max(stats->max_abs[k + 1], static_cast<double>(std::fabs(v)));
  }
  return tensors_.back();
}

}  // namespace nas::deploy
