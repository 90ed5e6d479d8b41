#pragma once
// The C export of an IntModel: one C99 source and one header, CMSIS-NN style.
//
//   int nas_model_infer(const uint8_t *image, int32_t *logits);   0 on success
//   image   raw pixels as the data set stores them, H x W (one channel) or H x W x C interleaved
//           (NAS_MODEL_IMAGE_*); a network at another resolution resizes them first (nas_resize:
//           int_model.h's integer bilinear rule, multiplicative, outside the MF markers, its
//           operations counted apart in nas_model_resize_ops) into a static buffer of
//           NAS_MODEL_INPUT_H x NAS_MODEL_INPUT_W x C bytes
//   logits  NAS_MODEL_NUM_CLASSES int32, logit = value * 2^-NAS_MODEL_LOGIT_FRAC_BITS
// Weights are const arrays (flash), activations live in one static arena of
// NAS_MODEL_ARENA_BYTES laid out at export (buffers reused, int_model.h's plan); no malloc, no
// floating point, no libm. Inside the arena the activations are planar (C x H x W, where the
// integer engine's are H x W x C: the same offsets and sizes), so that one weight applies to a run
// of contiguous pixels. Every step is one function with its sizes as constants: pointwise layers in
// blocks of pixels, the others a row at a time with each tap's valid columns fixed at export;
// every data loop has a constant trip count (multiples of 16, 8, 4 first), so that gcc -O2
// vectorises it; a shift weight's sign is tested once per weight and run of pixels, never per
// pixel. The requantization runs in int32 where the overflow bound allows it, after taking a
// power of two out of each channel's constants exactly (rebased_requant in the .cc), one loop
// per channel shape (term signs, rounding) known at export. Stack use: an accumulator row or
// block per step (at most a few hundred bytes).
// The MF steps (shift and adder layers, the residual adds, the pool, the shift-add
// requantization) sit between the markers "MF kernels begin" / "MF kernels end" and hold no
// multiplication (no '*' outside comments: array parameters, offsets kept by additions); the
// multiplicative stem / classifier and any BN-multiplier step sit outside.
// Every data operation goes through a macro (NAS_ADD, NAS_SUB, NAS_SHL32/64, NAS_SHR, NAS_ABS,
// NAS_LT, NAS_GT, NAS_MUL); built with -DNAS_COUNT_OPS they count themselves, per step
// (nas_model_step_ops), with int_engine.h's rules (padded shift / mult taps and zero shift
// weights skipped, padded adder taps read 0), so that the counts can be checked at run time.
#include <string>

#include "deploy/int_model.h"

namespace nas::deploy {

struct GeneratedC {
  std::string header;  // model.h
  std::string source;  // model.c (includes "model.h")
};

GeneratedC generate_c(const IntModel& model, const std::string& header_name = "model.h");

}  // namespace nas::deploy
