#pragma once
// The C export of an IntModel: one C99 source and one header, CMSIS-NN style.
//
//   int nas_model_infer(const uint8_t *image, int32_t *logits);   0 on success
//   image   raw pixels as the data set stores them, H x W (one channel) or H x W x C interleaved
//   logits  NAS_MODEL_NUM_CLASSES int32, logit = value * 2^-NAS_MODEL_LOGIT_FRAC_BITS
// Weights are const arrays (flash), activations live in one static arena of
// NAS_MODEL_ARENA_BYTES laid out at export (buffers reused, int_model.h's plan); no malloc, no
// floating point, no libm. The shift and adder kernels, the residual add, the pool and the
// shift-add requantization sit between the markers "MF kernels begin" / "MF kernels end" and hold
// no multiplication (no '*' outside comments: array parameters, offsets kept by additions); the
// multiplicative stem / classifier kernels and the BN-multiplier requantization sit outside.
// Every data operation goes through a macro (NAS_ADD, NAS_SUB, NAS_SHL32/64, NAS_SHR, NAS_ABS,
// NAS_LT, NAS_GT, NAS_MUL); built with -DNAS_COUNT_OPS they count themselves, per step
// (nas_model_step_ops), with int_engine.h's rules, so that the counts can be checked at run time.
#include <string>

#include "deploy/int_model.h"

namespace nas::deploy {

struct GeneratedC {
  std::string header;  // model.h
  std::string source;  // model.c (includes "model.h")
};

GeneratedC generate_c(const IntModel& model, const std::string& header_name = "model.h");

}  // namespace nas::deploy
