#pragma once
// CIFAR-10 and CIFAR-100 in their published binary formats:
//   CIFAR-10  data_batch_1.bin .. data_batch_5.bin, test_batch.bin;
//             records of <label byte> + 3072 pixel bytes (1024 R, 1024 G, 1024 B, rows of 32).
//   CIFAR-100 train.bin, test.bin; records of <coarse label> <fine label> + 3072 pixel bytes;
//             the fine label (100 classes) is the class.
// The directory may be the one holding the files or its parent holding the folder of the
// official archive (cifar-10-batches-bin/, cifar-100-binary/).
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/dataset_info.h"

namespace nas::datasets {

struct CifarFormat {
  std::string name;                    // data set name given to the result
  std::vector<int64_t> label_classes;  // classes of each leading label byte: {10} or {20, 100}
  int64_t class_label = 0;             // which label byte is the class
  int64_t record_bytes() const { return static_cast<int64_t>(label_classes.size()) + 3072; }
};

CifarFormat cifar10_format();
CifarFormat cifar100_format();

// Reads and concatenates the given files (in order). Errors name the file: missing, empty, size
// not a multiple of the record size, a label byte out of range.
Dataset read_cifar_files(const std::vector<std::string>& paths, const CifarFormat& format);

// The file paths of a split, resolved against `dir` as described above.
std::vector<std::string> cifar10_files(const std::string& dir, Split split);
std::vector<std::string> cifar100_files(const std::string& dir, Split split);

Dataset read_cifar10(const std::string& dir, Split split);
Dataset read_cifar100(const std::string& dir, Split split);

}  // namespace nas::datasets
