#pragma once
// IntModel: a tiny MF network in integers only, as the integer engine (int_engine.h) and the
// generated C (c_codegen.h) run it, and its sealed file (.nasq).
//
// Data layout: every activation tensor is H x W x C (channels fastest), int8 (bits = 8) or int16
// (bits = 16), symmetric (no zero point), value = q * 2^-frac_bits (one power-of-two scale per
// tensor). The input is the raw uint8 image (H x W x C interleaved); the stem reads p - zero_point[c].
// Conv weights are [O][KH][KW][I] (I = 1 for depthwise):
//   Mult   int8 w; acc += x * w
//   Shift  code = sign * (e + 1), e in [0, 30] (0: a zero weight, skipped); acc += +-(x << e)
//   Add    w on the input's scale; acc -= |x - w| (padded taps count as x = 0, as in AdderNet)
// The accumulator is int32, or int64 where the worst-case bound (acc_bound) does not fit int32.
//
// Input resize: where the data set's images (source_h x source_w) are not the network's resolution
// (image_h x image_w), the raw image is first resized to it, bilinear with align_corners = false
// semantics (PyTorch's upsample_bilinear2d, as training resizes), in integers: per output row and
// column the two source indices and their weights w0 + w1 = 2^q (q = resize_frac_bits), fixed at
// export (resize_axis()), and per output pixel and channel
//   top = wx0 p00 + wx1 p01,  bottom = wx0 p10 + wx1 p11
//   out = (wy0 top + wy1 bottom + 2^(2q - 1)) >> 2q            (uint8, no clamp needed)
// 6 multiplies, 4 adds and 1 shift per output byte, counted as preprocessing (resize_image()).
//
// Requantization (one rule, every step; requantize() below is its definition):
//   v   = bias[c] + sum_t s_t * (acc << d_t)     (shift-add mode: term codes s_t * (d_t + 1))
//       = bias[c] + acc * multiplier[c]          (multiplier mode: BN as a per-channel multiply)
//   y   = (v + 2^(R_c - 1)) >> R_c  for R_c > 0 (round half up, arithmetic shift), else v
//   out = min(max(y, clamp_lo), clamp_hi)        (ReLU6 is this clamp at 6 * 2^frac_bits)
// in 64 bits (v's bound is checked at export against 2^62).
// Residual adds rescale each operand by a rounding right shift (or a left shift) to the output's
// scale, add and saturate. The pool sums H x W positions and requantizes by an approximation of
// 2^(f_out - f_in) / (H W) in shift-add terms.
#include <cstdint>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/op_kind.h"

namespace nas::deploy {

enum class StepKind { Conv, Residual, Pool };
const char* step_kind_name(StepKind kind);

// One activation tensor. Tensor 0 is the input image (uint8, not in the arena); the logits
// (int32) are written to the caller's array, not to the arena either.
struct IntTensor {
  int64_t h = 0, w = 0, c = 0;
  int frac_bits = 0;
  int64_t arena_offset = -1;  // bytes into the static arena; -1: image or logits
  int64_t elements() const { return h * w * c; }
};

struct IntStep {
  StepKind kind = StepKind::Conv;
  std::string name;  // the float layer's name ("stage1.block0.dw"), "<block>.add", "head.pool"
  int input = -1, input2 = -1, output = -1;
  // Conv
  OpKind op = OpKind::Mult;
  int64_t c_in = 0, c_out = 0, kernel = 1, stride = 1, padding = 0;
  bool depthwise = false;
  std::vector<int32_t> weight;  // [O][KH][KW][I], see the header comment
  // Requantization (Conv and Pool), per output channel
  bool multiplier_mode = false;
  int terms = 0;                      // shift-add terms per channel
  std::vector<int8_t> term_code;      // [c_out][terms], s * (d + 1), 0 = unused
  std::vector<int32_t> multiplier;    // [c_out] (multiplier mode)
  std::vector<int64_t> bias;          // [c_out], on v's scale
  std::vector<int8_t> rshift;         // [c_out], R_c in [0, 62]
  int64_t clamp_lo = 0, clamp_hi = 0;
  // Residual: operand k is rescaled by shift_k (> 0: rounding right shift, < 0: left shift)
  int shift_a = 0, shift_b = 0;
  // Overflow proof: the worst-case |acc| of this step, and the accumulator width it needs
  int64_t acc_bound = 0;
  int acc_bits = 32;
  int64_t requant_bound = 0;  // worst-case |v|

  bool is_mf() const;  // a step of a Shift or Add layer (or a residual add / the pool)
};

// Arithmetic operations per image (data operations only: index and loop arithmetic is not
// counted). A rounding shift is one add and one shift; |d| is one comparison; a clamp two.
struct OpCounts {
  int64_t mul = 0, shift = 0, add = 0, cmp = 0;
  OpCounts& operator+=(const OpCounts& o);
  json to_json() const;  // {"multiplies", "shifts", "adds", "comparisons"}
};

struct IntModel {
  int bits = 8;
  int64_t image_h = 0, image_w = 0, image_c = 0;  // the network's input (tensor 0)
  int64_t source_h = 0, source_w = 0;             // the data set's images (what the caller passes); == image: no resize
  int resize_frac_bits = 8;                       // q of the input resize, in [1, 11] (int32 in the C)
  std::vector<int32_t> input_zero_point;  // per channel, round(255 * mean)
  int64_t num_classes = 0;
  int logit_frac_bits = 0;  // logit = value * 2^-logit_frac_bits
  std::vector<IntTensor> tensors;
  std::vector<IntStep> steps;
  int64_t arena_bytes = 0;
  json source = json::object();  // arch, dataset, preprocessing, quantizer options, float model file (relative to the .nasq's folder)

  bool resizes() const { return source_h != image_h || source_w != image_w; }
  int64_t source_bytes() const { return source_h * source_w * image_c; }  // of one raw image
  // The generated C's input resize: its static buffer (RAM, the resized image) and its tables
  // (flash: 4 int32 per output row and per output column); 0 without a resize.
  int64_t resize_buffer_bytes() const { return resizes() ? image_h * image_w * image_c : 0; }
  int64_t resize_table_bytes() const { return resizes() ? 16 * (image_h + image_w) : 0; }
  int64_t act_bytes() const { return bits == 8 ? 1 : 2; }
  int64_t qmax() const { return bits == 8 ? 127 : 32767; }
  int64_t qmin() const { return -qmax() - 1; }
  // Weight bytes as the generated C stores them (flash), per step and in total.
  int64_t weight_bytes(const IntStep& step) const;
  int64_t weight_bytes() const;
};

// Bytes per weight of a step in the generated C (1, 2 or 4: the smallest that holds them).
int weight_element_bytes(const IntStep& step);

// One axis of the input resize: for each output index the two source indices and their weights
// (w0 + w1 = 2^frac_bits), align_corners = false: src = (d + 1/2) in / out - 1/2, at least 0,
// rounded to 2^-frac_bits; i1 = i0 + 1 but at most in - 1.
struct ResizeAxis {
  std::vector<int32_t> i0, i1, w0, w1;
};
ResizeAxis resize_axis(int64_t in, int64_t out, int frac_bits);
// Resizes a raw source_h x source_w x C image to image_h x image_w x C (the header comment's rule)
// into `out`; returns its operations.
OpCounts resize_image(const IntModel& model, const uint8_t* source, std::vector<uint8_t>& out);

// 2^(k-1) rounding then arithmetic right shift; v for k == 0.
inline int64_t round_shift(int64_t v, int k) {
  return k > 0 ? (v + (int64_t{1} << (k - 1))) >> k : v;
}
// v << k without the undefined behaviour of shifting a negative value.
inline int64_t shift_left(int64_t v, int k) {
  return static_cast<int64_t>(static_cast<uint64_t>(v) << k);
}
// The requantization rule of the header comment for output channel c.
int64_t requantize(const IntStep& step, int64_t c, int64_t acc);

// Checks the model's structure (indices, sizes, ranges) so that running it cannot read or write
// out of bounds; one-line errors naming `where` and the step.
void validate_int_model(const IntModel& model, const std::string& where);

// .nasq: core/sealed_file.h container, magic "NASQINT1", header JSON (model scalars and per-step
// parameters) and the arrays as little-endian data. Atomic write.
std::string serialize_int_model(const IntModel& model);
IntModel parse_int_model(const std::string& bytes, const std::string& where);
void save_int_model(const IntModel& model, const std::string& path);
IntModel load_int_model(const std::string& path);

}  // namespace nas::deploy
