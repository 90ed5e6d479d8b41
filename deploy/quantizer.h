#pragma once
// Quantizer: FloatModel + calibration images (training images only) -> IntModel.
//
//   activations  per-tensor power-of-two scales 2^-f, f = floor(log2(qmax / max |x|)) over the
//                calibration images, so every requantization is a rounding shift
//   stem         BN and the input normalisation folded into int8 weights with a per-channel
//                power-of-two scale: int8 x (p - zero point) into int32, requantized exactly
//   shift        sign + exponent: code = sign * (shift + S + 1), S = the layer's largest right
//                shift, so acc = sum +-(x << e) on the scale 2^-(f_in + S)
//   adder        weights rounded on the input's scale: acc = -sum |x - w| on 2^-f_in
//   BN (MF)      folded into the requantization: the per-channel factor gamma / sigma as a sum of
//                bn_terms signed powers of two (1: a power-of-two scale), the bias an integer,
//                corrected by the calibration mean of the accumulator for what the rounding of
//                the factor shifts; or (BnFold::Multiplier) a per-channel integer multiplier,
//                counted as multiplies
//   classifier   int8 weights with one power-of-two scale, int32 logits
//   overflow     each step's worst-case |acc| (int_bounds.h) decides int32 or int64, or the
//                export is refused when max_accumulator_bits is 32 and int32 does not hold it
// Layers the integer model lacks (a stem or a classifier that is not multiplicative) are refused.
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/float_model.h"
#include "deploy/int_model.h"

namespace nas::deploy {

enum class BnFold { ShiftAdd, Multiplier };
const char* bn_fold_name(BnFold fold);
BnFold parse_bn_fold(const std::string& name);  // "shift-add" | "multiplier"

struct QuantizerOptions {
  int bits = 8;                  // activations: 8 | 16
  BnFold bn_fold = BnFold::ShiftAdd;
  int bn_terms = 2;              // powers of two per BN factor (shift-add), 1..4
  int pool_terms = 4;            // powers of two for the pool's 1 / (H W), 1..6
  int max_accumulator_bits = 64; // 32: refuse where int32 could overflow; 64: widen there

  void validate() const;  // errors name the field ("quantizer.bits must be 8 or 16, got 4")
  json to_json() const;
};

// calibration: images of S x S x C uint8 (interleaved), S = the data set's resolution
// (model.source_resolution); where it is not the network's, the IntModel resizes its input.
IntModel quantize(const FloatModel& model, const std::vector<std::vector<uint8_t>>& calibration,
                  const QuantizerOptions& options);

// Lays the arena tensors out (first fit, 4-byte aligned, an output never on a live input) and
// sets arena_offset and arena_bytes.
void plan_memory(IntModel& model);

}  // namespace nas::deploy
