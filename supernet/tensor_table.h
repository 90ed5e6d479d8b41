#pragma once
// The tensors of our sealed files (core/sealed_file.h): tiny_model.nasm and trainer checkpoints.
// The header holds a table [{"name", "dtype", "shape", "offset", "nbytes"}] and the data section
// the raw little-endian bytes, so that reading a file never runs a general-purpose deserializer
// (LibTorch's archive reader crashes on crafted input: issue 13's fuzzer found a SIGSEGV in its
// TorchScript type parser behind a valid checksum).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <torch/types.h>

#include "core/json_util.h"

namespace nas {

// Bounds on a table read from a file: dims per tensor, elements per tensor, tensors per file.
constexpr int64_t kMaxTensorDims = 8;
constexpr int64_t kMaxTensorElements = int64_t{1} << 31;
constexpr size_t kMaxTableTensors = 100000;

// Appends `tensor` (copied to the CPU, contiguous) to `data` and its entry to `table`.
// dtypes: float32, float64, int64, int8, uint8.
void append_tensor(json& table, std::string& data, const std::string& name, const torch::Tensor& tensor);

// Reads every entry of `table` (a JSON array) from `data`, checking types, shapes (overflow-
// checked), bounds and unique names; one-line errors name `where` and the tensor.
std::map<std::string, torch::Tensor> read_tensor_table(const json& table, std::string_view data,
                                                       const std::string& where);

}  // namespace nas
