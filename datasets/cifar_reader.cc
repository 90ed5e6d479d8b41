#include "datasets/cifar_reader.h"

#include <filesystem>
#include <utility>

#include "core/error.h"
#include "datasets/byte_reader.h"

namespace nas::datasets {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kCifarPixels = 3 * 32 * 32;

// `dir` itself when it holds `probe`, else `dir/archive_folder` when that does; otherwise `dir`
// (so that the missing-file error names the path the user pointed at).
fs::path resolve_dir(const std::string& dir, const char* probe, const char* archive_folder) {
  NAS_CHECK(!dir.empty(), "CIFAR data directory is empty; pass the folder that holds " << probe);
  const fs::path base(dir);
  std::error_code ec;
  if (fs::exists(base / probe, ec)) return base;
  if (fs::exists(base / archive_folder / probe, ec)) return base / archive_folder;
  return base;
}

}  // namespace

CifarFormat cifar10_format() { return {"cifar10", {10}, 0}; }
CifarFormat cifar100_format() { return {"cifar100", {20, 100}, 1}; }

Dataset read_cifar_files(const std::vector<std::string>& paths, const CifarFormat& format) {
  NAS_CHECK(!paths.empty(), format.name << ": no files to read");
  NAS_CHECK(format.class_label >= 0 &&
                format.class_label < static_cast<int64_t>(format.label_classes.size()),
            format.name << ": class label index " << format.class_label << " out of range");
  // Name every missing file up front rather than failing after reading the others.
  for (const std::string& path : paths) {
    std::error_code ec;
    NAS_CHECK(fs::exists(path, ec), format.name << ": file not found: " << path);
  }
  const int64_t record = format.record_bytes();
  const int64_t label_bytes = static_cast<int64_t>(format.label_classes.size());
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const std::string& path : paths) {
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    const int64_t size = static_cast<int64_t>(bytes.size());
    NAS_CHECK(size > 0, path << ": empty file, expected records of " << record << " bytes");
    NAS_CHECK(size % record == 0,
              path << ": size " << size << " is not a multiple of the " << format.name
                   << " record size " << record << " (" << label_bytes << " label byte"
                   << (label_bytes > 1 ? "s" : "") << " + 3072 pixel bytes): truncated or not a "
                   << format.name << " binary file");
    const int64_t n = size / record;
    pixels.reserve(pixels.size() + static_cast<size_t>(n * kCifarPixels));
    labels.reserve(labels.size() + static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t* rec = bytes.data() + r * record;
      for (int64_t b = 0; b < label_bytes; ++b) {
        NAS_CHECK(rec[b] < format.label_classes[static_cast<size_t>(b)],
                  path << ": record " << r << ": label " << int(rec[b]) << " is out of range [0, "
                       << format.label_classes[static_cast<size_t>(b)] << ")"
                       << (label_bytes > 1 ? (b == 0 ? " (coarse label)" : " (fine label)") : ""));
      }
      labels.push_back(rec[format.class_label]);
      pixels.insert(pixels.end(), rec + label_bytes, rec + record);
    }
  }
  const int64_t classes = format.label_classes[static_cast<size_t>(format.class_label)];
  return Dataset(format.name, 3, 32, 32, classes, std::move(pixels), std::move(labels));
}

std::vector<std::string> cifar10_files(const std::string& dir, Split split) {
  const fs::path base = resolve_dir(dir, split == Split::Train ? "data_batch_1.bin" : "test_batch.bin",
                                    "cifar-10-batches-bin");
  std::vector<std::string> files;
  if (split == Split::Train) {
    for (int i = 1; i <= 5; ++i) files.push_back((base / ("data_batch_" + std::to_string(i) + ".bin")).string());
  } else {
    files.push_back((base / "test_batch.bin").string());
  }
  return files;
}

std::vector<std::string> cifar100_files(const std::string& dir, Split split) {
  const char* file = split == Split::Train ? "train.bin" : "test.bin";
  return {(resolve_dir(dir, file, "cifar-100-binary") / file).string()};
}

Dataset read_cifar10(const std::string& dir, Split split) {
  return read_cifar_files(cifar10_files(dir, split), cifar10_format());
}

Dataset read_cifar100(const std::string& dir, Split split) {
  return read_cifar_files(cifar100_files(dir, split), cifar100_format());
}

}  // namespace nas::datasets
