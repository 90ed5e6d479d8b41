#pragma once
// IDX files (the MNIST / Fashion-MNIST format): a big-endian header 00 00 <type> <ndims>, ndims
// 32-bit big-endian sizes, then the elements in row-major order. Plain or gzip-compressed
// (detected by the magic bytes, not by the file name). Only unsigned-byte elements (type 0x08),
// which is what every MNIST-family file uses.
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace nas::datasets {

constexpr int kMaxIdxDims = 8;

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes
};

// Parses an in-memory IDX image; `path` only names the source in errors. When
// `expected_ndims` > 0 the array must have that many dimensions. The data must be exactly as
// long as the header says (truncated files and trailing bytes are both errors).
IdxArray parse_idx(std::vector<uint8_t> bytes, const std::string& path,
                   int64_t expected_ndims = 0);

// Reads (and, when compressed, decompresses) an IDX file.
IdxArray read_idx(const std::string& path, int64_t expected_ndims = 0);

// Images (N x H x W, idx3) and labels (N, idx1) into a 1-channel Dataset; checks that the
// counts agree and that every label is below num_classes.
Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         const std::string& name, int64_t num_classes = 10);

}  // namespace nas::datasets
