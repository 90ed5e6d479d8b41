// Unit tests of datasets/: readers (IDX raw/gzip, CIFAR-10/100), validation errors, subsets and
// splits, and the DataLoader (normalisation, augmentation, shuffling, resume, shapes).
// Torch headers come before doctest (toolchain.md #1).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/byte_reader.h"
#include "datasets/cifar_reader.h"
#include "datasets/data_loader.h"
#include "datasets/dataset.h"
#include "datasets/dataset_info.h"
#include "datasets/experiment_data.h"
#include "datasets/dataset_split.h"
#include "datasets/idx_reader.h"
#include "datasets/load_dataset.h"
#include "tests/datasets_test_util.h"

namespace fs = std::filesystem;
using namespace nas::datasets;

namespace {

using nas::test::check_error;
using nas::test::TempDir;

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                               uint8_t type = 0x08) {
  std::vector<uint8_t> out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// n images of h x w with pixel (i, y, x) = (i * 31 + y * w + x) % 256, labels i % classes.
struct SyntheticIdx {
  std::vector<uint8_t> images, labels;
};
SyntheticIdx synthetic_idx(int n, int h, int w, int classes = 10) {
  SyntheticIdx s;
  std::vector<uint8_t> pixels, labels;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < h * w; ++k) pixels.push_back(static_cast<uint8_t>((i * 31 + k) % 256));
    labels.push_back(static_cast<uint8_t>(i % classes));
  }
  s.images = idx_bytes({uint32_t(n), uint32_t(h), uint32_t(w)}, pixels);
  s.labels = idx_bytes({uint32_t(n)}, labels);
  return s;
}

// Writes an MNIST-style directory (train + t10k) with the published file names.
void write_idx_dir(const TempDir& dir, int n_train, int n_test, bool gzip, int h = 28, int w = 28) {
  auto put = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    if (gzip) {
      write_gzip(dir / (name + ".gz"), bytes);
    } else {
      write_bytes(dir / name, bytes);
    }
  };
  const SyntheticIdx train = synthetic_idx(n_train, h, w), test = synthetic_idx(n_test, h, w);
  put("train-images-idx3-ubyte", train.images);
  put("train-labels-idx1-ubyte", train.labels);
  put("t10k-images-idx3-ubyte", test.images);
  put("t10k-labels-idx1-ubyte", test.labels);
}

// CIFAR records: labels given, pixel (c, k) = (i * 7 + c * 50 + k) % 256 with i the global index.
std::vector<uint8_t> cifar_bytes(const std::vector<std::vector<uint8_t>>& labels, int first = 0) {
  std::vector<uint8_t> out;
  for (size_t r = 0; r < labels.size(); ++r) {
    out.insert(out.end(), labels[r].begin(), labels[r].end());
    const int i = first + static_cast<int>(r);
    for (int c = 0; c < 3; ++c) {
      for (int k = 0; k < 1024; ++k) out.push_back(static_cast<uint8_t>((i * 7 + c * 50 + k) % 256));
    }
  }
  return out;
}

// A tiny data set with known pixels: n images, c x h x w, pixel = (i + 3c + 5y + 7x) % 256.
Dataset tiny_dataset(int n, int c, int h, int w, int classes, const std::string& name = "tiny") {
  std::vector<uint8_t> px;
  std::vector<int64_t> labels;
  for (int i = 0; i < n; ++i) {
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) px.push_back(static_cast<uint8_t>((i + 3 * ch + 5 * y + 7 * x) % 256));
    labels.push_back(i % classes);
  }
  return Dataset(name, c, h, w, classes, std::move(px), std::move(labels));
}

void check_shape(const Dataset& d, const std::string& name, int64_t n, int64_t c, int64_t h,
                 int64_t w, int64_t classes) {
  CHECK(d.name() == name);
  CHECK(d.size() == n);
  CHECK(d.channels() == c);
  CHECK(d.height() == h);
  CHECK(d.width() == w);
  CHECK(d.num_classes() == classes);
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.indices == b.indices && at::equal(a.images, b.images) && at::equal(a.labels, b.labels);
}

}  // namespace

// ---- IDX -----------------------------------------------------------------------------------

TEST_CASE("IDX: raw and gzip files parse to the same data set") {
  TempDir raw, gz;
  write_idx_dir(raw, 30, 12, false, 5, 4);
  write_idx_dir(gz, 30, 12, true, 5, 4);
  const Dataset a = read_idx_dataset(raw / "train-images-idx3-ubyte", raw / "train-labels-idx1-ubyte", "mnist");
  const Dataset b = read_idx_dataset(gz / "train-images-idx3-ubyte.gz", gz / "train-labels-idx1-ubyte.gz", "mnist");
  check_shape(a, "mnist", 30, 1, 5, 4, 10);
  CHECK(a.pixels() == b.pixels());
  CHECK(a.labels() == b.labels());
  CHECK(a.label(13) == 3);
  CHECK(a.at(2, 0, 1, 3) == (2 * 31 + 1 * 4 + 3) % 256);
  CHECK(a.class_counts() == std::vector<int64_t>{3, 3, 3, 3, 3, 3, 3, 3, 3, 3});
  // The content decides, not the name: gzip data under a plain name still reads.
  fs::rename(gz / "t10k-images-idx3-ubyte.gz", gz / "t10k-images-idx3-ubyte");
  const IdxArray arr = read_idx(gz / "t10k-images-idx3-ubyte", 3);
  CHECK(arr.dims == std::vector<int64_t>{12, 5, 4});
  CHECK(arr.data.size() == 12 * 5 * 4);
}

TEST_CASE("IDX: every malformed file is a one-line error naming the file") {
  TempDir dir;
  const SyntheticIdx good = synthetic_idx(6, 3, 3);
  const std::string images = dir / "images", labels = dir / "labels";
  write_bytes(labels, good.labels);

  SUBCASE("wrong magic") {
    std::vector<uint8_t> bad = good.images;
    bad[0] = 0x12;
    write_bytes(images, bad);
    check_error([&] { read_idx_dataset(images, labels, "x"); }, {images, "wrong magic", "12 00 08 03"});
  }
  SUBCASE("unsupported element type") {
    write_bytes(images, idx_bytes({1, 1, 1}, {0, 0, 0, 0}, 0x0D));
    check_error([&] { read_idx(images); }, {images, "element type", "float"});
  }
  SUBCASE("labels file where images are expected") {
    write_bytes(images, good.labels);
    check_error([&] { read_idx_dataset(images, labels, "x"); }, {images, "1 dimensions, expected 3"});
  }
  SUBCASE("truncated header") {
    write_bytes(images, {0, 0, 8, 3, 0, 0});
    check_error([&] { read_idx(images); }, {images, "truncated", "header"});
  }
  SUBCASE("tiny file") {
    write_bytes(images, {0, 0});
    check_error([&] { read_idx(images); }, {images, "truncated"});
  }
  SUBCASE("truncated data (raw and gzip)") {
    std::vector<uint8_t> bad = good.images;
    bad.resize(bad.size() - 5);
    write_bytes(images, bad);
    check_error([&] { read_idx_dataset(images, labels, "x"); }, {images, "truncated", "6 x 3 x 3 = 54", "only 49"});
    write_gzip(images, bad);
    check_error([&] { read_idx_dataset(images, labels, "x"); }, {images, "truncated", "only 49"});
  }
  SUBCASE("trailing bytes") {
    std::vector<uint8_t> bad = good.images;
    bad.push_back(1);
    write_bytes(images, bad);
    check_error([&] { read_idx(images, 3); }, {images, "size mismatch", "1 extra bytes"});
  }
  SUBCASE("image and label counts differ") {
    write_bytes(images, good.images);
    write_bytes(labels, synthetic_idx(5, 3, 3).labels);
    check_error([&] { read_idx_dataset(images, labels, "x"); }, {labels, "5 labels for 6 images", images});
  }
  SUBCASE("label out of range") {
    write_bytes(images, good.images);
    write_bytes(labels, idx_bytes({6}, {0, 1, 2, 10, 4, 5}));
    check_error([&] { read_idx_dataset(images, labels, "x"); }, {labels, "label 10 at index 3", "[0, 10)"});
    // Fewer classes declared: 5 is out of range too.
    write_bytes(labels, idx_bytes({6}, {0, 1, 2, 3, 4, 5}));
    check_error([&] { read_idx_dataset(images, labels, "x", 5); }, {labels, "label 5 at index 5"});
  }
  SUBCASE("no images") {
    write_bytes(images, idx_bytes({0, 3, 3}, {}));
    write_bytes(labels, idx_bytes({0}, {}));
    check_error([&] { read_idx_dataset(images, labels, "x"); }, {images, "no images"});
  }
  SUBCASE("missing file") {
    check_error([&] { read_idx_dataset(dir / "nope", labels, "x"); }, {dir / "nope", "not found"});
    check_error([&] { read_idx(dir.path.string()); }, {"is a directory"});
  }
  SUBCASE("corrupt gzip") {
    write_gzip(images, good.images);
    std::vector<uint8_t> gz = read_file_bytes(images);
    // Damage the stored CRC-32 (8 bytes from the end): the data inflates but fails the check.
    gz[gz.size() - 8] ^= 0xFF;
    write_bytes(images, gz);
    check_error([&] { read_idx(images); }, {images, "corrupt gzip"});
    // Damage the deflate stream itself.
    gz = read_file_bytes(dir / "labels");
    std::vector<uint8_t> bad = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    write_bytes(images, bad);
    check_error([&] { read_idx(images); }, {images, "gzip"});
    // Gzip cut off in the middle.
    write_gzip(images, good.images);
    gz = read_file_bytes(images);
    gz.resize(gz.size() / 2);
    write_bytes(images, gz);
    check_error([&] { read_idx(images); }, {images, "truncated gzip"});
    // Junk after the gzip member.
    write_gzip(images, good.images);
    gz = read_file_bytes(images);
    gz.push_back(0x42);
    gz.push_back(0x43);
    write_bytes(images, gz);
    check_error([&] { read_idx(images); }, {images, "junk"});
  }
}

TEST_CASE("gzip: concatenated members read as one stream") {
  TempDir dir;
  std::vector<uint8_t> part1 = {1, 2, 3}, part2 = {4, 5};
  write_gzip(dir / "a", part1);
  write_gzip(dir / "b", part2);
  std::vector<uint8_t> both = read_file_bytes(dir / "a");
  const std::vector<uint8_t> b = read_file_bytes(dir / "b");
  both.insert(both.end(), b.begin(), b.end());
  write_bytes(dir / "c", both);
  CHECK(read_maybe_gzip(dir / "c") == std::vector<uint8_t>{1, 2, 3, 4, 5});
  CHECK(read_maybe_gzip(dir / "a") == part1);
  write_bytes(dir / "d", part1);
  CHECK(read_maybe_gzip(dir / "d") == part1);  // not gzip: as stored
}

// ---- CIFAR ---------------------------------------------------------------------------------

TEST_CASE("CIFAR-10: files concatenate in order, planar RGB layout") {
  TempDir dir;
  int first = 0;
  for (int b = 1; b <= 5; ++b) {
    std::vector<std::vector<uint8_t>> labels;
    for (int r = 0; r < 3; ++r) labels.push_back({static_cast<uint8_t>((first + r) % 10)});
    write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_bytes(labels, first));
    first += 3;
  }
  write_bytes(dir / "test_batch.bin", cifar_bytes({{9}, {8}}, 100));
  const Dataset train = read_cifar10(dir.path.string(), Split::Train);
  check_shape(train, "cifar10", 15, 3, 32, 32, 10);
  for (int i = 0; i < 15; ++i) CHECK(train.label(i) == i % 10);
  // Record 7 (file 3, record 1): channel G, row 2, column 5 -> k = 2 * 32 + 5.
  CHECK(train.at(7, 1, 2, 5) == (7 * 7 + 50 + 69) % 256);
  CHECK(train.at(14, 2, 31, 31) == (14 * 7 + 100 + 1023) % 256);
  const Dataset test = read_cifar10(dir.path.string(), Split::Test);
  CHECK(test.size() == 2);
  CHECK(test.labels() == std::vector<int64_t>{9, 8});
  CHECK(test.at(1, 0, 0, 0) == (101 * 7) % 256);

  // The parent of the official archive's folder works too.
  TempDir parent;
  fs::create_directories(parent.path / "cifar-10-batches-bin");
  fs::copy_file(dir / "test_batch.bin", parent.path / "cifar-10-batches-bin" / "test_batch.bin");
  CHECK(read_cifar10(parent.path.string(), Split::Test).size() == 2);
}

TEST_CASE("CIFAR-100: fine labels are the class, both labels validated") {
  TempDir dir;
  write_bytes(dir / "train.bin", cifar_bytes({{19, 99}, {0, 42}, {5, 0}}));
  write_bytes(dir / "test.bin", cifar_bytes({{3, 7}}));
  const Dataset train = read_cifar100(dir.path.string(), Split::Train);
  CHECK(train.size() == 3);
  CHECK(train.num_classes() == 100);
  CHECK(train.labels() == std::vector<int64_t>{99, 42, 0});
  CHECK(train.at(2, 0, 0, 1) == (2 * 7 + 1) % 256);
  CHECK(read_cifar100(dir.path.string(), Split::Test).labels() == std::vector<int64_t>{7});

  write_bytes(dir / "train.bin", cifar_bytes({{1, 2}, {20, 3}}));
  check_error([&] { read_cifar100(dir.path.string(), Split::Train); },
              {dir / "train.bin", "record 1", "label 20", "[0, 20)", "coarse"});
  write_bytes(dir / "train.bin", cifar_bytes({{1, 100}}));
  check_error([&] { read_cifar100(dir.path.string(), Split::Train); }, {"label 100", "fine"});
}

TEST_CASE("CIFAR: malformed and missing files") {
  TempDir dir;
  const std::string test = dir / "test_batch.bin";
  SUBCASE("size not a multiple of the record") {
    std::vector<uint8_t> bytes = cifar_bytes({{1}, {2}});
    bytes.resize(bytes.size() - 100);
    write_bytes(test, bytes);
    check_error([&] { read_cifar10(dir.path.string(), Split::Test); },
                {test, "not a multiple", "3073"});
    // A CIFAR-100 file read as CIFAR-10 (3074-byte records) is caught the same way.
    write_bytes(test, cifar_bytes({{1, 2}, {3, 4}}));
    check_error([&] { read_cifar10(dir.path.string(), Split::Test); }, {test, "not a multiple"});
  }
  SUBCASE("label out of range") {
    write_bytes(test, cifar_bytes({{1}, {10}}));
    check_error([&] { read_cifar10(dir.path.string(), Split::Test); }, {test, "record 1", "label 10"});
  }
  SUBCASE("empty file") {
    write_bytes(test, {});
    check_error([&] { read_cifar10(dir.path.string(), Split::Test); }, {test, "empty"});
  }
  SUBCASE("missing files name the expected path") {
    check_error([&] { read_cifar10(dir.path.string(), Split::Test); }, {test, "not found"});
    write_bytes(dir / "data_batch_1.bin", cifar_bytes({{1}}));
    check_error([&] { read_cifar10(dir.path.string(), Split::Train); }, {dir / "data_batch_2.bin", "not found"});
    check_error([&] { read_cifar100(dir.path.string(), Split::Train); }, {dir / "train.bin", "not found"});
  }
}

// ---- load_dataset, names, subsets, splits ---------------------------------------------------

TEST_CASE("load_dataset: names, directories, limits") {
  TempDir dir;
  write_idx_dir(dir, 40, 20, true);
  const Dataset train = load_dataset("fashion-mnist", dir.path.string(), Split::Train);
  CHECK(train.size() == 40);
  CHECK(train.name() == "fashion-mnist");
  CHECK(load_dataset("Fashion_MNIST", dir.path.string(), Split::Test).size() == 20);
  CHECK(load_dataset("mnist", dir.path.string(), Split::Test).name() == "mnist");

  const Dataset first = load_dataset("fashion-mnist", dir.path.string(), Split::Train, 7, SubsetMode::First);
  CHECK(first.labels() == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});
  // Labels of the synthetic files are i % 10: 25 balanced = 3 of classes 0-4, 2 of 5-9... earliest first.
  const Dataset bal = load_dataset("fashion-mnist", dir.path.string(), Split::Train, 25);
  CHECK(bal.size() == 25);
  CHECK(bal.class_counts() == std::vector<int64_t>{3, 3, 3, 3, 3, 2, 2, 2, 2, 2});
  CHECK(bal.pixels() == train.subset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                                      18, 19, 20, 21, 22, 23, 24}).pixels());
  CHECK(load_dataset("fashion-mnist", dir.path.string(), Split::Train, 1000).size() == 40);

  check_error([&] { load_dataset("imagenet", dir.path.string(), Split::Train); },
              {"unknown data set 'imagenet'", "fashion-mnist, mnist, cifar10, cifar100"});
  check_error([&] { load_dataset("cifar10", "", Split::Train); }, {"cifar10", "data_dir"});
  check_error([&] { load_dataset("mnist", dir / "missing", Split::Train); }, {dir / "missing", "not found"});
  if (!fs::exists(dataset_info("mnist").default_dir)) {
    check_error([&] { load_dataset("mnist", "", Split::Train); },
                {dataset_info("mnist").default_dir, "data_dir"});
  }
  check_error([&] { parse_split("val"); }, {"'val'", "train, test"});
  CHECK(parse_split("test") == Split::Test);
  CHECK(parse_subset_mode("first") == SubsetMode::First);

  // A wrong image size for the named data set.
  TempDir small;
  write_idx_dir(small, 4, 4, false, 8, 8);
  check_error([&] { load_dataset("mnist", small.path.string(), Split::Train); }, {"8x8", "28x28"});
  // Missing file: the published .gz name is suggested.
  fs::remove(small / "t10k-labels-idx1-ubyte");
  check_error([&] { load_dataset("mnist", small.path.string(), Split::Test); },
              {small / "t10k-labels-idx1-ubyte.gz", "not found"});
}

TEST_CASE("dataset info") {
  CHECK(dataset_info("fmnist").mean == std::vector<double>{0.2860});
  CHECK(dataset_info("fashion-mnist").std == std::vector<double>{0.3530});
  CHECK(dataset_info("CIFAR-10").channels == 3);
  CHECK(dataset_info("cifar10").augment_by_default);
  CHECK_FALSE(dataset_info("mnist").augment_by_default);
  CHECK(dataset_info("cifar100").num_classes == 100);
  CHECK(dataset_names() == std::vector<std::string>{"fashion-mnist", "mnist", "cifar10", "cifar100", "folder"});
  CHECK(canonical_dataset_name("Image_Folder") == "folder");
  CHECK(builtin_dataset_info("folder") == nullptr);
  CHECK(builtin_dataset_info("cifar-100")->num_classes == 100);
  CHECK_FALSE(is_known_dataset("svhn"));
}

TEST_CASE("Dataset value: validation, subset, stats") {
  check_error([] { Dataset("d", 1, 2, 2, 3, std::vector<uint8_t>(7), {0, 1}); }, {"d:", "8", "got 7"});
  check_error([] { Dataset("d", 1, 1, 1, 3, std::vector<uint8_t>(2), {0, 3}); }, {"label 3", "image 1"});
  check_error([] { Dataset("d", 0, 1, 1, 3, {}, {}); }, {"invalid image shape"});
  const Dataset d = tiny_dataset(10, 2, 3, 4, 4);
  const Dataset s = d.subset({9, 0, 9});
  CHECK(s.size() == 3);
  CHECK(s.labels() == std::vector<int64_t>{1, 0, 1});
  CHECK(s.at(0, 1, 2, 3) == d.at(9, 1, 2, 3));
  CHECK(s.at(2, 0, 1, 1) == d.at(9, 0, 1, 1));
  check_error([&] { d.subset({10}); }, {"index 10"});
  check_error([&] { d.at(0, 2, 0, 0); }, {"outside"});
  CHECK(d.first(3).size() == 3);
  CHECK(d.first(99).size() == 10);
  CHECK(d.describe() == "tiny: 10 x 2x3x4, 4 classes");

  // Two images: all 0 and all 255 -> mean 0.5, std 0.5.
  std::vector<uint8_t> px(2 * 4, 0);
  std::fill(px.begin() + 4, px.end(), 255);
  const ChannelStats st = compute_channel_stats(Dataset("s", 1, 2, 2, 2, px, {0, 1}));
  CHECK(st.mean[0] == doctest::Approx(0.5));
  CHECK(st.std[0] == doctest::Approx(0.5));
}

TEST_CASE("balanced subsets and quotas") {
  CHECK(balanced_quotas({10, 10, 10}, 7) == std::vector<int64_t>{3, 2, 2});
  CHECK(balanced_quotas({1, 10, 10}, 9) == std::vector<int64_t>{1, 4, 4});
  CHECK(balanced_quotas({1, 2, 10}, 9) == std::vector<int64_t>{1, 2, 6});
  CHECK(balanced_quotas({3, 3}, 100) == std::vector<int64_t>{3, 3});
  CHECK(balanced_quotas({3, 0, 3}, 3) == std::vector<int64_t>{2, 0, 1});
  const std::vector<int64_t> labels = {2, 2, 2, 0, 0, 1, 2, 0};
  CHECK(balanced_indices(labels, 3, 3) == std::vector<int64_t>{0, 3, 5});
  CHECK(balanced_indices(labels, 3, 3, {7, 6, 5, 4, 3, 2, 1, 0}) == std::vector<int64_t>{5, 6, 7});
  check_error([&] { balanced_indices(labels, 3, 3, {0, 0, 1, 2, 3, 4, 5, 6}); }, {"not a permutation"});
}

TEST_CASE("split_train_val: disjoint, complete, balanced, seeded") {
  const Dataset d = tiny_dataset(100, 1, 2, 2, 5);
  const TrainValSplit s = split_train_val(d, 20, 7);
  CHECK(s.train.size() == 80);
  CHECK(s.val.size() == 20);
  CHECK(s.val.class_counts() == std::vector<int64_t>{4, 4, 4, 4, 4});
  CHECK(s.val.name() == d.name());
  // Pixel value (i + 5y + 7x) % 256 at (0, 0) identifies image i.
  std::set<int> seen;
  for (int64_t k = 0; k < s.train.size(); ++k) seen.insert(s.train.at(k, 0, 0, 0));
  for (int64_t k = 0; k < s.val.size(); ++k) seen.insert(s.val.at(k, 0, 0, 0));
  CHECK(seen.size() == 100);
  const TrainValSplit again = split_train_val(d, 20, 7);
  CHECK(again.val.pixels() == s.val.pixels());
  CHECK(again.train.pixels() == s.train.pixels());
  CHECK(split_train_val(d, 20, 8).val.pixels() != s.val.pixels());
  check_error([&] { split_train_val(d, 100, 0); }, {"validation size 100", "[1, 99]"});
  check_error([&] { split_train_val(d, 0, 0); }, {"validation size 0"});
}

// ---- DataLoader ----------------------------------------------------------------------------

TEST_CASE("DataLoader: normalisation values") {
  // Pixels 0, 51, 255 in a 1x1x3 image of a "fashion-mnist" set: default mean/std apply.
  Dataset d("fashion-mnist", 1, 1, 3, 10, {0, 51, 255}, {4});
  DataLoader loader(d, DataLoaderOptions::evaluation(1));
  const Batch b = loader.batch(0, 0);
  auto v = b.images.contiguous().data_ptr<float>();
  CHECK(v[0] == doctest::Approx((0.0 - 0.2860) / 0.3530).epsilon(1e-6));
  CHECK(v[1] == doctest::Approx((0.2 - 0.2860) / 0.3530).epsilon(1e-6));
  CHECK(v[2] == doctest::Approx((1.0 - 0.2860) / 0.3530).epsilon(1e-6));
  CHECK(b.labels.item<int64_t>() == 4);

  // Explicit per-channel constants; a single value broadcasts.
  Dataset rgb("other", 3, 1, 1, 2, {255, 0, 51}, {1});
  DataLoaderOptions o = DataLoaderOptions::evaluation(1);
  o.mean = {0.5, 0.25, 0.0};
  o.std = {0.5, 0.25, 2.0};
  const Batch c = DataLoader(rgb, o).batch(0, 0);
  const at::Tensor expect = at::tensor({1.0f, -1.0f, 0.1f}).view({1, 3, 1, 1});
  CHECK(at::allclose(c.images, expect, 1e-6, 1e-6));
  o.mean = {0.0};
  o.std = {1.0};
  CHECK(at::allclose(DataLoader(rgb, o).batch(0, 0).images,
                     at::tensor({1.0f, 0.0f, 0.2f}).view({1, 3, 1, 1}), 1e-6, 1e-6));
  o.mean = {0.0, 0.0};
  check_error([&] { DataLoader(rgb, o); }, {"mean has 2 values for 3 channels"});
  o.mean = {0.0};
  o.std = {0.0};
  check_error([&] { DataLoader(rgb, o); }, {"std of channel 0 must be positive"});
  // An unknown data set without constants is normalised by its own statistics.
  const Dataset t = tiny_dataset(50, 2, 4, 4, 3);
  DataLoader own(t, DataLoaderOptions::evaluation(50));
  const at::Tensor all = own.batch(0, 0).images;
  for (int c = 0; c < 2; ++c) {
    const at::Tensor ch = all.select(1, c);
    CHECK(ch.mean().item<double>() == doctest::Approx(0.0).epsilon(1e-5).scale(1.0));
    const double pop_std = (ch - ch.mean()).pow(2).mean().sqrt().item<double>();
    CHECK(pop_std == doctest::Approx(1.0).epsilon(1e-4));
  }
}

TEST_CASE("DataLoader: batch shapes, counts, partial batches, every image once") {
  const Dataset d = tiny_dataset(50, 3, 6, 5, 4);
  DataLoaderOptions o;
  o.batch_size = 16;
  o.seed = 3;
  SUBCASE("keep the last partial batch") {
    DataLoader loader(d, o);
    CHECK(loader.num_batches() == 4);
    CHECK(loader.images_per_epoch() == 50);
    std::vector<int64_t> sizes, all;
    for (Batch& b : loader.epoch(2)) {
      CHECK(b.images.sizes() == at::IntArrayRef({b.size(), 3, 6, 5}));
      CHECK((b.images.scalar_type() == at::kFloat));
      CHECK((b.labels.scalar_type() == at::kLong));
      CHECK(b.labels.size(0) == b.size());
      CHECK(b.epoch == 2);
      for (int64_t k = 0; k < b.size(); ++k) CHECK(b.labels[k].item<int64_t>() == d.label(b.indices[k]));
      sizes.push_back(b.size());
      all.insert(all.end(), b.indices.begin(), b.indices.end());
    }
    CHECK(sizes == std::vector<int64_t>{16, 16, 16, 2});
    std::sort(all.begin(), all.end());
    for (int64_t i = 0; i < 50; ++i) CHECK(all[static_cast<size_t>(i)] == i);
  }
  SUBCASE("drop the last partial batch") {
    o.drop_last = true;
    DataLoader loader(d, o);
    CHECK(loader.num_batches() == 3);
    CHECK(loader.images_per_epoch() == 48);
    int count = 0;
    for (Batch& b : loader.epoch(0)) {
      CHECK(b.size() == 16);
      ++count;
    }
    CHECK(count == 3);
    o.batch_size = 64;
    check_error([&] { DataLoader(d, o); }, {"50 images make no full batch of 64"});
  }
  SUBCASE("evaluation: file order, no augmentation") {
    DataLoader loader(d, DataLoaderOptions::evaluation(20));
    CHECK(loader.num_batches() == 3);
    const Batch b = loader.batch(5, 1);
    for (int64_t k = 0; k < 20; ++k) CHECK(b.indices[static_cast<size_t>(k)] == 20 + k);
    CHECK(same_batch(b, loader.batch(0, 1)));
  }
  CHECK_THROWS_AS(DataLoader(d, o).batch(0, 99), nas::Error);
  CHECK_THROWS_AS(DataLoader(d, o).epoch(-1), nas::Error);
}

TEST_CASE("DataLoader: shuffling is seeded, epochs are independent, resume is exact") {
  const Dataset d = tiny_dataset(200, 3, 8, 8, 10, "cifar10");
  DataLoaderOptions o = DataLoaderOptions::training("cifar10", 32, 11);
  CHECK(o.augment.random_crop);
  CHECK(o.augment.horizontal_flip);
  CHECK(o.drop_last);
  DataLoader a(d, o), b(d, o);
  CHECK(a.epoch_order(0) == b.epoch_order(0));
  CHECK(a.epoch_order(0) != a.epoch_order(1));
  DataLoaderOptions other = o;
  other.seed = 12;
  CHECK(DataLoader(d, other).epoch_order(0) != a.epoch_order(0));
  auto order = a.epoch_order(4);
  std::sort(order.begin(), order.end());
  for (int64_t i = 0; i < 200; ++i) CHECK(order[static_cast<size_t>(i)] == i);

  // Run epochs 0..2 on `a`, then epoch 3; `b` jumps straight to epoch 3, batch 2 (resume).
  std::vector<Batch> kept;
  for (int e = 0; e < 3; ++e) {
    for (Batch& batch : a.epoch(e)) (void)batch.images.sum();
  }
  for (Batch& batch : a.epoch(3)) kept.push_back(batch);
  REQUIRE(kept.size() == 6);
  auto resumed = b.epoch(3, 2);
  int64_t bi = 2;
  for (Batch& batch : resumed) {
    CHECK(batch.index == bi);
    CHECK(same_batch(batch, kept[static_cast<size_t>(bi)]));
    ++bi;
  }
  CHECK(bi == 6);
  CHECK(same_batch(b.batch(3, 0), kept[0]));
  // Kept batches were not overwritten by later ones (buffers are reused only when released).
  CHECK_FALSE(at::equal(kept[0].images, kept[1].images));
  CHECK(same_batch(kept[5], a.batch(3, 5)));
  // Thread count does not change the result.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const Batch single = a.batch(3, 1);
  at::set_num_threads(std::max(2, threads));
  CHECK(same_batch(single, a.batch(3, 1)));
  at::set_num_threads(threads);
  // Different epochs augment differently.
  int differ = 0;
  for (int64_t i = 0; i < 20; ++i) {
    const SampleTransform t0 = a.sample_transform(0, i), t1 = a.sample_transform(1, i);
    differ += t0.offset_y != t1.offset_y || t0.offset_x != t1.offset_x || t0.flip != t1.flip;
    const SampleTransform again = b.sample_transform(0, i);
    CHECK(again.offset_y == t0.offset_y);
    CHECK(again.offset_x == t0.offset_x);
    CHECK(again.flip == t0.flip);
  }
  CHECK(differ >= 15);
}

TEST_CASE("DataLoader: crop and flip are correct on a known image") {
  // Raw pixel (c, y, x) = 10 * y + x + 1 + 100 * c (never 0), identity normalisation.
  const int H = 5, W = 6;
  std::vector<uint8_t> px;
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) px.push_back(static_cast<uint8_t>(10 * y + x + 1 + 100 * c));
  std::vector<uint8_t> many;
  for (int i = 0; i < 64; ++i) many.insert(many.end(), px.begin(), px.end());
  const Dataset d("known", 2, H, W, 1, many, std::vector<int64_t>(64, 0));
  DataLoaderOptions o;
  o.batch_size = 64;
  o.shuffle = false;
  o.mean = {0.0};
  o.std = {1.0 / 255.0};  // output = raw pixel value
  o.augment.random_crop = true;
  o.augment.crop_padding = 2;
  o.augment.horizontal_flip = true;
  for (bool channels_last : {false, true}) {
    o.channels_last = channels_last;
    DataLoader loader(d, o);
    const Batch b = loader.batch(1, 0);
    CHECK(b.images.is_contiguous(channels_last ? at::MemoryFormat::ChannelsLast
                                               : at::MemoryFormat::Contiguous));
    std::set<int64_t> offsets_y, offsets_x;
    int flips = 0;
    for (int i = 0; i < 64; ++i) {
      const SampleTransform t = loader.sample_transform(1, i);
      CHECK(t.offset_y >= -2);
      CHECK(t.offset_y <= 2);
      offsets_y.insert(t.offset_y);
      offsets_x.insert(t.offset_x);
      flips += t.flip;
      for (int c = 0; c < 2; ++c)
        for (int y = 0; y < H; ++y)
          for (int x = 0; x < W; ++x) {
            const int sy = y + static_cast<int>(t.offset_y);
            const int sx = (t.flip ? W - 1 - x : x) + static_cast<int>(t.offset_x);
            const float expect = (sy >= 0 && sy < H && sx >= 0 && sx < W) ? 10 * sy + sx + 1 + 100 * c : 0;
            REQUIRE(b.images[i][c][y][x].item<float>() == doctest::Approx(expect));
          }
    }
    CHECK(offsets_y.size() == 5);
    CHECK(offsets_x.size() == 5);
    CHECK(flips > 16);
    CHECK(flips < 48);
  }
  // A hand-checked case: flip only, the first row reads backwards.
  o.augment.random_crop = false;
  o.channels_last = false;
  DataLoader flip_only(d, o);
  for (int i = 0; i < 64; ++i) {
    const Batch one = flip_only.load({i}, 0);
    const bool flipped = flip_only.sample_transform(0, i).flip;
    CHECK(one.images[0][0][0][0].item<float>() == (flipped ? 6.0f : 1.0f));
    CHECK(one.images[0][1][4][5].item<float>() == (flipped ? 141.0f : 146.0f));
  }
  // Augmentation off: the image as stored.
  o.augment = AugmentOptions{};
  const Batch plain = DataLoader(d, o).batch(0, 0);
  CHECK(plain.images[3][1][2][4].item<float>() == 125.0f);
}

TEST_CASE("DataLoader: resolution pads or crops around the centre") {
  std::vector<uint8_t> px(28 * 28, 200);
  const Dataset d("fashion-mnist", 1, 28, 28, 10, px, {1});
  DataLoaderOptions o = DataLoaderOptions::evaluation(1);
  o.mean = {0.0};
  o.std = {1.0};
  o.resolution = 32;
  DataLoader pad(d, o);
  CHECK(pad.height() == 32);
  const at::Tensor img = pad.batch(0, 0).images[0][0];
  CHECK(img.sizes() == at::IntArrayRef({32, 32}));
  CHECK(img.sum().item<float>() == doctest::Approx(28 * 28 * 200 / 255.0).epsilon(1e-5));
  CHECK(img[1][1].item<float>() == 0.0f);
  CHECK(img[2][2].item<float>() == doctest::Approx(200 / 255.0));
  CHECK(img[29][29].item<float>() == doctest::Approx(200 / 255.0));
  CHECK(img[30][30].item<float>() == 0.0f);
  o.resolution = 24;
  const at::Tensor crop = DataLoader(d, o).batch(0, 0).images[0][0];
  CHECK(crop.sizes() == at::IntArrayRef({24, 24}));
  CHECK(crop.min().item<float>() == doctest::Approx(200 / 255.0));
  // Cropping with padding at a larger resolution stays within the padded canvas.
  o.resolution = 32;
  o.augment.random_crop = true;
  o.augment.crop_padding = 4;
  o.shuffle = true;
  DataLoader aug(d, o);
  for (int e = 0; e < 20; ++e) {
    const at::Tensor x = aug.batch(e, 0).images;
    const double expect_max = 28 * 28 * 200 / 255.0;
    CHECK(x.sum().item<double>() <= expect_max + 1e-3);
  }
}

TEST_CASE("DataLoader: a kept batch is never overwritten") {
  const Dataset d = tiny_dataset(64, 1, 4, 4, 2);
  DataLoaderOptions o;
  o.batch_size = 8;
  DataLoader loader(d, o);
  auto epoch = loader.epoch(0);
  const Batch first = epoch.batch(0);
  const at::Tensor copy = first.images.clone();
  const at::Tensor view = epoch.batch(1).images.narrow(0, 0, 2);  // keeps a view only
  const Batch third = epoch.batch(2);
  CHECK(at::equal(first.images, copy));
  CHECK(at::equal(view, loader.batch(0, 1).images.narrow(0, 0, 2)));
  CHECK(same_batch(third, loader.batch(0, 2)));
}

// ---- real data (skipped when absent) ---------------------------------------------------------

// The published splits of a known data set: sizes, shape, balanced classes, the normalisation
// constants match the training data (within `stats_tolerance`), default training loader.
void check_real_dataset(const std::string& name, const std::string& dir, double stats_tolerance) {
  const DatasetInfo& info = dataset_info(name);
  const Dataset train = load_dataset(name, dir, Split::Train);
  const Dataset test = load_dataset(name, dir, Split::Test);
  check_shape(train, info.name, info.train_size, info.channels, info.height, info.width, info.num_classes);
  check_shape(test, info.name, info.test_size, info.channels, info.height, info.width, info.num_classes);
  CHECK(train.class_counts() == std::vector<int64_t>(10, info.train_size / 10));
  CHECK(test.class_counts() == std::vector<int64_t>(10, info.test_size / 10));
  const ChannelStats st = compute_channel_stats(train);
  for (int64_t c = 0; c < info.channels; ++c) {
    CHECK(st.mean[c] == doctest::Approx(info.mean[c]).epsilon(stats_tolerance));
    CHECK(st.std[c] == doctest::Approx(info.std[c]).epsilon(stats_tolerance));
  }
  const Dataset small = load_dataset(name, dir, Split::Train, 1000);
  CHECK(small.class_counts() == std::vector<int64_t>(10, 100));
  DataLoader loader(train, DataLoaderOptions::training(name, 256, 1));
  CHECK(loader.options().augment.enabled() == info.augment_by_default);
  const Batch b = loader.batch(0, 0);
  CHECK(b.images.sizes() == at::IntArrayRef({256, info.channels, info.height, info.width}));
  // Without augmentation (whose zero padding shifts the mean) the normalised data is ~N(0, 1).
  const at::Tensor x = DataLoader(small, DataLoaderOptions::evaluation(1000)).batch(0, 0).images;
  CHECK(x.mean().item<double>() == doctest::Approx(0.0).scale(1.0).epsilon(0.1));
  CHECK(x.std().item<double>() == doctest::Approx(1.0).epsilon(0.1));
}

TEST_CASE("real Fashion-MNIST (skipped when not installed)") {
  const std::string dir = dataset_info("fashion-mnist").default_dir;
  if (!fs::exists(fs::path(dir) / "train-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: Fashion-MNIST not found in " << dir);
    return;
  }
  check_real_dataset("fashion-mnist", "", 1e-3);
}

TEST_CASE("real CIFAR-10 at $NAS_CIFAR10_DIR (skipped when unset)") {
  const char* env = std::getenv("NAS_CIFAR10_DIR");
  if (env == nullptr || *env == 0) {
    MESSAGE("skipped: NAS_CIFAR10_DIR is not set");
    return;
  }
  // The JPEG copy's std is about 0.7 % below the official one (its README).
  check_real_dataset("cifar10", env, 1e-2);
}

TEST_CASE("experiment data options: the JSON a run records reads back to the same options") {
  nas::datasets::ExperimentDataOptions o;
  o.dataset = "cifar10";
  o.data_dir = "/data/c10";
  o.limit_train = 1000;
  o.limit_test = 200;
  o.val_size = 100;
  o.seed = 7;
  o.batch_size = 64;
  o.eval_batch_size = 32;
  o.resolution = 24;
  o.load_test = false;
  o.split_seed = 3;
  const nas::datasets::ExperimentDataOptions r =
      nas::datasets::ExperimentDataOptions::from_json(o.to_json(), "supernet.json: data_options");
  CHECK(r.to_json() == o.to_json());
  CHECK(r.split_seed == 3);
  nas::json old = o.to_json();
  old.erase("split_seed");  // a file written before the field existed
  CHECK(nas::datasets::ExperimentDataOptions::from_json(old, "x").split_seed == -1);
  nas::json bad = o.to_json();
  bad["seed"] = "7";
  CHECK_THROWS_WITH_AS(nas::datasets::ExperimentDataOptions::from_json(bad, "supernet.json: data_options"),
                       doctest::Contains("supernet.json: data_options: field 'seed'"), nas::Error);
}

TEST_CASE("experiment data: split_seed fixes the validation images whatever the seed") {
  TempDir dir;
  write_idx_dir(dir, 40, 20, true);
  auto load = [&](uint64_t seed, int64_t split_seed) {
    ExperimentDataOptions o;
    o.data_dir = dir.path.string();
    o.val_size = 10;
    o.batch_size = 8;
    o.seed = seed;
    o.split_seed = split_seed;
    return load_experiment_data(o);
  };
  const ExperimentData base = load(1, -1);
  CHECK(base.val->pixels() == load(1, 1).val->pixels());  // -1 is the seed's split
  CHECK(base.val->pixels() != load(2, -1).val->pixels());
  const ExperimentData a = load(1, 5), b = load(2, 5);
  CHECK(a.val->pixels() == b.val->pixels());
  CHECK(a.train->pixels() == b.train->pixels());
  CHECK(a.val->pixels() != base.val->pixels());
  // ... while the training order still follows the seed.
  CHECK(a.train_loader->batch(0, 0).indices != b.train_loader->batch(0, 0).indices);
  // Recorded only when set, so runs made before the field existed compare equal.
  ExperimentDataOptions o;
  CHECK_FALSE(o.to_json().contains("split_seed"));
  CHECK_FALSE(base.to_json(o).contains("split_seed"));
  o.split_seed = 5;
  CHECK(o.to_json()["split_seed"] == 5);
  CHECK(a.to_json(o)["split_seed"] == 5);
  o.split_seed = -2;
  check_error([&] { o.validate(); }, {"data.split_seed must be >= -1, got -2"});
}

TEST_CASE("count_top1 counts the argmax hits over every image of the loader") {
  std::vector<uint8_t> pixels(6 * 2 * 2, 0);
  std::vector<int64_t> labels = {0, 1, 2, 0, 1, 2};
  const nas::datasets::DataLoader loader(
      nas::datasets::Dataset("tiny", 1, 2, 2, 3, std::move(pixels), std::move(labels)),
      nas::datasets::DataLoaderOptions::evaluation(4));
  // Always predicts class 1: right for two of the six images.
  const nas::datasets::Top1Count c = nas::datasets::count_top1(loader, at::kCPU, [](const at::Tensor& x) {
    return at::tensor({0.0f, 1.0f, 0.0f}).repeat({x.size(0), 1});
  });
  CHECK(c.correct == 2);
  CHECK(c.total == 6);
  CHECK(c.percent() == doctest::Approx(100.0 / 3));
}

