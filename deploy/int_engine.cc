#include "deploy/int_engine.h"

#include "core/error.h"

namespace nas::deploy {
namespace {

void count_requant(const IntStep& s, int64_t c, OpCounts& n) {
  if (s.multiplier_mode) {
    n.mul += 1;
    n.add += 1;
  } else {
    for (int t = 0; t < s.terms; ++t)
      if (s.term_code[static_cast<size_t>(c * s.terms + t)] != 0) {
        n.shift += 1;
        n.add += 1;
      }
  }
  if (s.rshift[static_cast<size_t>(c)] > 0) {
    n.add += 1;
    n.shift += 1;
  }
  n.cmp += 2;
}

// in: tensor values (the image's pixels for the stem, then p - zero point is taken per tap).
void run_conv(const IntModel& m, const IntStep& s, const int32_t* in, const uint8_t* image, std::vector<int32_t>& out,
              OpCounts& n) {
  const IntTensor& ti = m.tensors[static_cast<size_t>(s.input)];
  const IntTensor& to = m.tensors[static_cast<size_t>(s.output)];
  const int64_t K = s.kernel, I = s.depthwise ? 1 : s.c_in;
  out.assign(static_cast<size_t>(to.elements()), 0);
  for (int64_t oy = 0; oy < to.h; ++oy)
    for (int64_t ox = 0; ox < to.w; ++ox)
      for (int64_t o = 0; o < s.c_out; ++o) {
        int64_t acc = 0;
        const int32_t* w = s.weight.data() + o * K * K * I;
        for (int64_t ky = 0; ky < K; ++ky)
          for (int64_t kx = 0; kx < K; ++kx, w += I) {
            const int64_t iy = oy * s.stride - s.padding + ky, ix = ox * s.stride - s.padding + kx;
            const bool inside = iy >= 0 && iy < ti.h && ix >= 0 && ix < ti.w;
            if (!inside && s.op != OpKind::Add) continue;
            const int64_t base = (iy * ti.w + ix) * ti.c + (s.depthwise ? o : 0);
            for (int64_t i = 0; i < I; ++i) {
              int64_t x = 0;
              if (inside && image) {
                x = static_cast<int64_t>(image[base + i]) - m.input_zero_point[static_cast<size_t>(base + i) % static_cast<size_t>(ti.c)];
                n.add += 1;
              } else if (inside) {
                x = in[base + i];
              }
              if (s.op == OpKind::Mult) {
                acc += x * w[i];
                n.mul += 1;
                n.add += 1;
              } else if (s.op == OpKind::Shift) {
                if (w[i] > 0) acc += shift_left(x, w[i] - 1);
                if (w[i] < 0) acc -= shift_left(x, -w[i] - 1);
                if (w[i] != 0) {
                  n.shift += 1;
                  n.add += 1;
                }
              } else {
                const int64_t d = x - w[i];
                acc -= d < 0 ? -d : d;
                n.add += 2;
                n.cmp += 1;
              }
            }
          }
        out[static_cast<size_t>((oy * to.w + ox) * to.c + o)] = static_cast<int32_t>(requantize(s, o, acc));
        count_requant(s, o, n);
      }
}

int64_t rescale(int64_t v, int shift, OpCounts& n) {
  if (shift > 0) {
    n.add += 1;
    n.shift += 1;
    return round_shift(v, shift);
  }
  if (shift < 0) {
    n.shift += 1;
    return shift_left(v, -shift);
  }
  return v;
}

}  // namespace

IntEngine::IntEngine(const IntModel& model) : model_(model), tensors_(model.tensors.size()) {}

std::vector<int32_t> IntEngine::run(const uint8_t* image, std::vector<OpCounts>* step_counts, OpCounts* resize_counts) {
  if (step_counts) step_counts->assign(model_.steps.size(), OpCounts{});
  if (resize_counts) *resize_counts = OpCounts{};
  if (model_.resizes()) {
    const OpCounts n = resize_image(model_, image, resized_);
    if (resize_counts) *resize_counts = n;
    image = resized_.data();
  }
  for (size_t k = 0; k < model_.steps.size(); ++k) {
    const IntStep& s = model_.steps[k];
    OpCounts n;
    std::vector<int32_t>& out = tensors_[static_cast<size_t>(s.output)];
    const std::vector<int32_t>& in = tensors_[static_cast<size_t>(s.input)];
    if (s.kind == StepKind::Conv) {
      run_conv(model_, s, in.data(), s.input == 0 ? image : nullptr, out, n);
    } else if (s.kind == StepKind::Residual) {
      const std::vector<int32_t>& in2 = tensors_[static_cast<size_t>(s.input2)];
      out.resize(in.size());
      for (size_t i = 0; i < in.size(); ++i) {
        const int64_t v = rescale(in[i], s.shift_a, n) + rescale(in2[i], s.shift_b, n);
        n.add += 1;
        n.cmp += 2;
        out[i] = static_cast<int32_t>(v < s.clamp_lo ? s.clamp_lo : v > s.clamp_hi ? s.clamp_hi : v);
      }
    } else {
      const size_t C = static_cast<size_t>(s.c_out);
      out.assign(C, 0);
      for (size_t c = 0; c < C; ++c) {
        int64_t acc = 0;
        for (size_t p = c; p < in.size(); p += C) acc += in[p];
        n.add += static_cast<int64_t>(in.size() / C);
        out[c] = static_cast<int32_t>(requantize(s, static_cast<int64_t>(c), acc));
        count_requant(s, static_cast<int64_t>(c), n);
      }
    }
    if (step_counts) (*step_counts)[k] = n;
  }
  return tensors_.back();
}

int64_t argmax(const std::vector<int32_t>& logits) {
  int64_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<int64_t>(i);
  return best;
}

int64_t argmax(const std::vector<float>& logits) {
  int64_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<int64_t>(i);
  return best;
}

std::vector<uint8_t> interleave_planar(const uint8_t* planar, int64_t c, int64_t h, int64_t w) {
  std::vector<uint8_t> out(static_cast<size_t>(c * h * w));
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t p = 0; p < h * w; ++p) out[static_cast<size_t>(p * c + ch)] = planar[ch * h * w + p];
  return out;
}

}  // namespace nas::deploy
