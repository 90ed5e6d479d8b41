#pragma once
// nas_deploy's work: a tiny_model.nasm -> DIR/model.nasq, model.c, model.h, deploy.json.
// Calibration reads the training split only; the float (LibTorch TinyNet) and integer top-1 are
// measured on the test split. DIR is claimed (core/run_lock.h) and every file is written
// atomically after everything has been computed, so a refused input leaves nothing behind.
#include <cstdint>
#include <string>

#include "core/json_util.h"
#include "datasets/dataset.h"
#include "deploy/int_model.h"
#include "deploy/quantizer.h"

namespace nas::deploy {

struct DeployOptions {
  std::string model_path;
  std::string dataset;   // empty: the model's
  std::string data_dir;
  int64_t calib_images = 1024;
  int64_t limit_test = 0;  // 0: the whole test split
  QuantizerOptions quantizer;
  std::string out_dir;

  void validate() const;  // "deploy.calib_images must be >= 1, got 0"
};

struct DeployResult {
  json report;  // deploy.json without the context block
  std::string summary;  // one line: flash, RAM, multiplies, int top-1
};

DeployResult run_deploy(const DeployOptions& options, const json& context);

// Per-step operation counts of a model (one image; counts do not depend on the pixels), and those
// of its input resize in resize_counts when given.
std::vector<OpCounts> count_ops(const IntModel& model, OpCounts* resize_counts = nullptr);

// Test images of a data set as H x W x C interleaved byte images, with labels; refuses a data set
// whose image shape is not the model's.
struct InterleavedImages {
  std::vector<std::vector<uint8_t>> images;
  std::vector<int64_t> labels;
};
InterleavedImages interleaved_images(const datasets::Dataset& data, int64_t h, int64_t w, int64_t c, const std::string& what);

// Integer top-1 (percent) and the predictions.
double int_top1(const IntModel& model, const InterleavedImages& data, std::vector<int64_t>* predictions = nullptr);

}  // namespace nas::deploy

namespace nas::deploy {

// nas_eval --engine int: the integer model on a data set's test split.
struct IntEvalOptions {
  std::string model_path;   // .nasq
  std::string dataset;      // empty: the model's
  std::string data_dir;
  int64_t limit_test = 0;   // 0: all
  std::string float_model;  // .nasm for the agreement; empty: the one recorded in the .nasq (relative to its folder), if it exists
  std::string logits_path;  // when set: one line of int32 logits per image
  bool first_images = false;  // limit_test takes the first images in file order (else balanced)
};
struct IntEvalResult {
  std::string dataset;
  int64_t correct = 0, total = 0;
  double top1 = 0, seconds = 0;
  bool has_float = false;
  double float_top1 = 0, agreement = 0;
  json model_source;
};
IntEvalResult run_int_eval(const IntEvalOptions& options);

}  // namespace nas::deploy
