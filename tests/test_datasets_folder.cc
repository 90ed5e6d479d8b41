// Unit tests of image-folder data sets: PNG / JPEG decoding (and its errors on untrusted bytes),
// area resizing, the folder scan (class order, channels, one error line per bad layout), loading
// at a resolution, and the experiment data of --dataset folder (class names recorded and checked).
// Folders are generated at test time (tests/image_folder_fixture.h).
// Torch headers come before doctest (toolchain.md #1).
#include <ATen/ATen.h>

#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/byte_reader.h"
#include "datasets/dataset_info.h"
#include "datasets/experiment_data.h"
#include "datasets/image_decoder.h"
#include "datasets/image_folder.h"
#include "datasets/image_resize.h"
#include "datasets/load_dataset.h"
#include "tests/datasets_test_util.h"
#include "tests/image_folder_fixture.h"

namespace fs = std::filesystem;
using namespace nas::datasets;
using nas::test::encode_jpeg;
using nas::test::encode_png;
using nas::test::check_error;
using nas::test::TempDir;

namespace {

std::vector<uint8_t> ramp(int64_t w, int64_t h, int64_t c) {
  std::vector<uint8_t> px(static_cast<size_t>(w * h * c));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  return px;
}

// A PNG whose IHDR claims width x height (CRC fixed up), the pixel data of a 2x2 image.
std::vector<uint8_t> png_claiming(uint32_t width, uint32_t height) {
  std::vector<uint8_t> png = encode_png(2, 2, 3, ramp(2, 2, 3));
  for (int k = 0; k < 4; ++k) {
    png[16 + k] = static_cast<uint8_t>(width >> (24 - 8 * k));
    png[20 + k] = static_cast<uint8_t>(height >> (24 - 8 * k));
  }
  const uLong crc = crc32(0L, png.data() + 12, 17);  // "IHDR" + 13 data bytes
  for (int k = 0; k < 4; ++k) png[29 + k] = static_cast<uint8_t>(crc >> (24 - 8 * k));
  return png;
}

}  // namespace

TEST_CASE("image decoder: PNG exact, JPEG close, channels from the file") {
  for (int64_t c : {1, 3}) {
    const std::vector<uint8_t> px = ramp(7, 5, c);
    const DecodedImage png = decode_image(encode_png(7, 5, c, px), "x.png");
    CHECK(png.width == 7);
    CHECK(png.height == 5);
    CHECK(png.channels == c);
    CHECK(png.pixels == px);
    const ImageHeader header = read_image_header(encode_png(7, 5, c, px), "x.png");
    CHECK(header.format == ImageFormat::Png);
    CHECK(header.channels == c);

    const std::vector<uint8_t> smooth = nas::test::synthetic_image(1, 0, 24, 16, c);
    const std::vector<uint8_t> jpeg_bytes = encode_jpeg(24, 16, c, smooth, 98);
    const DecodedImage jpeg = decode_image(jpeg_bytes, "x.jpg");
    CHECK(read_image_header(jpeg_bytes, "x.jpg").format == ImageFormat::Jpeg);
    REQUIRE(jpeg.pixels.size() == smooth.size());
    CHECK(jpeg.channels == c);
    double error = 0;
    for (size_t i = 0; i < smooth.size(); ++i) error += std::abs(int(jpeg.pixels[i]) - int(smooth[i]));
    CHECK(error / static_cast<double>(smooth.size()) < 3.0);
  }
}

TEST_CASE("image decoder: untrusted bytes give one error line") {
  check_error([] { decode_image({}, "empty.png"); }, {"empty.png", "not a PNG or JPEG", "empty file"});
  check_error([] { decode_image({'h', 'e', 'l', 'l', 'o'}, "a.png"); }, {"a.png", "not a PNG or JPEG"});
  std::vector<uint8_t> png = encode_png(16, 16, 3, ramp(16, 16, 3));
  png.resize(png.size() / 2);
  check_error([&] { decode_image(png, "half.png"); }, {"half.png", "PNG", "libpng"});
  // Cut inside the entropy-coded data (past the headers): libjpeg would fill the rest with grey.
  std::vector<uint8_t> jpeg = encode_jpeg(160, 160, 3, ramp(160, 160, 3));
  jpeg.resize(jpeg.size() * 3 / 4);
  check_error([&] { decode_image(jpeg, "half.jpg"); }, {"half.jpg", "truncated JPEG"});
  std::vector<uint8_t> garbage = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x13, 0x37};
  check_error([&] { decode_image(garbage, "bad.jpg"); }, {"bad.jpg", "JPEG", "libjpeg"});
  // Sizes are bounded on the header, before any pixel buffer.
  check_error([] { read_image_header(png_claiming(20000, 20000), "huge.png"); }, {"huge.png", "20000x20000", "limit"});
  check_error([] { decode_image(png_claiming(9000, 9000), "big.png"); }, {"big.png", "9000x9000", "Mpixel"});
}

TEST_CASE("area resize: exact copy, box means, enlarging, planar output") {
  DecodedImage img{4, 2, 1, {0, 10, 20, 30, 40, 50, 60, 70}};
  std::vector<uint8_t> out(2 * 4);
  resize_area_planar(img, 2, 4, out.data());
  CHECK(out == img.pixels);
  std::vector<uint8_t> half(2);
  resize_area_planar(img, 1, 2, half.data());
  CHECK(half == std::vector<uint8_t>{25, 45});  // means of {0,10,40,50} and {20,30,60,70}
  // 2 -> 3 wide: the middle output pixel covers half of each source pixel.
  DecodedImage row{2, 1, 1, {0, 90}};
  std::vector<uint8_t> wide(3);
  resize_area_planar(row, 1, 3, wide.data());
  CHECK(wide == std::vector<uint8_t>{0, 45, 90});
  // Interleaved RGB in, planes out.
  DecodedImage rgb{1, 1, 3, {1, 2, 3}};
  std::vector<uint8_t> planes(3 * 2 * 2);
  resize_area_planar(rgb, 2, 2, planes.data());
  CHECK(planes == std::vector<uint8_t>{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  // 3 -> 2 (non-integer ratio): weights 2/3 and 1/3.
  DecodedImage three{3, 1, 1, {0, 30, 90}};
  std::vector<uint8_t> two(2);
  resize_area_planar(three, 1, 2, two.data());
  CHECK(two == std::vector<uint8_t>{10, 70});  // (0*2+30)/3, (30+90*2)/3
}

TEST_CASE("image folder: sorted classes, labels, channels, loading at a resolution") {
  TempDir dir;
  nas::test::write_image_folder(dir.str(), {4, 5, 2, 3});
  const ImageFolder f = scan_image_folder(dir.str());
  CHECK(f.class_names == std::vector<std::string>{"Apple", "birch", "oak", "tulip"});  // byte order
  CHECK(f.channels == 3);
  CHECK(f.train.size() == 20);
  CHECK(f.test.size() == 8);
  CHECK(f.info.name == "folder");
  CHECK(f.info.num_classes == 4);
  CHECK(f.info.class_names == f.class_names);
  CHECK(fs::path(f.train[0].path).parent_path().filename() == "Apple");
  CHECK(f.train[0].label == 0);
  CHECK(f.train[19].label == 3);

  const Dataset train = read_image_folder(f, Split::Train, 16);
  CHECK(train.size() == 20);
  CHECK(train.channels() == 3);
  CHECK(train.height() == 16);
  CHECK(train.width() == 16);
  CHECK(train.num_classes() == 4);
  CHECK(train.name() == "folder");
  CHECK(train.class_counts() == std::vector<int64_t>{5, 5, 5, 5});
  // Every stored image is the area resize of its decoded file.
  for (int64_t i : {0, 7, 19}) {
    const std::string& path = f.train[static_cast<size_t>(i)].path;
    std::vector<uint8_t> expected(3 * 16 * 16);
    resize_area_planar(decode_image(read_file_bytes(path), path), 16, 16, expected.data());
    CHECK(std::vector<uint8_t>(train.image(i), train.image(i) + 3 * 16 * 16) == expected);
  }
  CHECK(read_image_folder(f, Split::Test, 0).height() == kImageFolderResolution);
  const Dataset limited = read_image_folder(f, Split::Train, 8, 6);
  CHECK(limited.class_counts() == std::vector<int64_t>{2, 2, 1, 1});

  TempDir grey;
  nas::test::write_image_folder(grey.str(), {2, 3, 0, 1});
  const ImageFolder g = scan_image_folder(grey.str());
  CHECK(g.channels == 1);
  CHECK_FALSE(g.has_test);
  check_error([&] { read_image_folder(g, Split::Test, 8); }, {"test", "no such folder"});
  // Hidden files and folders are skipped.
  nas::test::write_file((grey.path / "train" / "tulip" / ".DS_Store").string(), {1, 2, 3});
  fs::create_directories(grey.path / "train" / ".cache");
  CHECK(scan_image_folder(grey.str()).train.size() == 6);
}

TEST_CASE("image folder: one error line per bad layout") {
  const auto fresh = [](const TempDir& d, int channels = 3) { nas::test::write_image_folder(d.str(), {3, 2, 1, channels}); };
  {
    TempDir d;
    check_error([&] { scan_image_folder(d.str()); }, {d.str(), "no train/ folder"});
    check_error([&] { scan_image_folder((d.path / "nowhere").string()); }, {"nowhere", "not found"});
  }
  {
    TempDir d;
    fresh(d);
    fs::create_directories(d.path / "train" / "zebra");
    check_error([&] { scan_image_folder(d.str()); }, {"zebra", "empty class folder"});
  }
  {
    TempDir d;
    fresh(d);
    nas::test::write_file((d.path / "train" / "oak" / "notes.txt").string(), {'h', 'i'});
    check_error([&] { scan_image_folder(d.str()); }, {"notes.txt", "not an image file"});
  }
  {
    TempDir d;
    fresh(d);
    fs::create_directories(d.path / "test" / "pine");
    fs::copy_file(d.path / "test" / "oak" / "img0.png", d.path / "test" / "pine" / "img0.png");
    check_error([&] { scan_image_folder(d.str()); }, {"pine", "not a class of train/"});
  }
  {
    TempDir d;
    fresh(d, 1);
    nas::test::write_file((d.path / "train" / "oak" / "rgb.png").string(),
                          encode_png(4, 4, 3, nas::test::synthetic_image(2, 0, 4, 4, 3)));
    check_error([&] { scan_image_folder(d.str()); }, {"mixed greyscale and colour", "rgb.png"});
  }
  {
    TempDir d;
    fresh(d, 1);
    nas::test::write_file((d.path / "test" / "oak" / "rgb.jpg").string(),
                          encode_jpeg(8, 8, 3, nas::test::synthetic_image(2, 0, 8, 8, 3)));
    const ImageFolder f = scan_image_folder(d.str());  // the test split is checked when decoded
    check_error([&] { read_image_folder(f, Split::Test, 8); }, {"rgb.jpg", "is colour", "greyscale"});
  }
  {
    TempDir d;
    fresh(d);
    fs::create_directories(d.path / "train" / "oak" / "more");
    check_error([&] { scan_image_folder(d.str()); }, {"more", "a folder inside a class folder"});
  }
  {
    TempDir d;
    fresh(d);
    nas::test::write_file((d.path / "train" / "README").string(), {'x'});
    check_error([&] { scan_image_folder(d.str()); }, {"README", "not a class folder"});
  }
  {
    TempDir d;
    fresh(d);
    nas::test::write_file((d.path / "train" / "oak" / "broken.png").string(), {0x89, 'P', 'N', 'G', 1, 2});
    check_error([&] { scan_image_folder(d.str()); }, {"broken.png", "PNG"});
  }
  {
    TempDir d;
    fresh(d);
    fs::create_directories(d.path / "train" / "bad\x01name");
    check_error([&] { scan_image_folder(d.str()); }, {"not printable UTF-8"});
  }
}

TEST_CASE("--dataset folder: experiment data, recorded class names, dataset_info") {
  TempDir dir;
  nas::test::write_image_folder(dir.str(), {3, 12, 3, 3});
  ExperimentDataOptions o;
  o.dataset = "folder";
  o.data_dir = dir.str();
  o.val_size = 6;
  o.batch_size = 10;
  o.resolution = 20;
  o.validate();
  CHECK(dataset_info("folder").class_names == std::vector<std::string>{"Apple", "oak", "tulip"});
  CHECK(o.info().channels == 3);
  const ExperimentData data = load_experiment_data(o);
  CHECK(data.info.height == 20);
  CHECK(data.train->size() == 30);
  CHECK(data.val->size() == 6);
  CHECK(data.test->size() == 9);
  CHECK(data.train_loader->height() == 20);
  CHECK(data.train_loader->mean().size() == 3);  // measured on the training split
  CHECK_FALSE(DataLoaderOptions::training("folder", 10, 1).augment.horizontal_flip);
  const nas::json recorded = data.to_json(o);
  CHECK(recorded.at("class_names") == nas::json({"Apple", "oak", "tulip"}));
  CHECK(recorded.at("dataset") == "folder");

  // The options record the classes; read back, a folder with other classes is refused.
  const nas::json options = o.to_json();
  CHECK(options.at("class_names") == nas::json({"Apple", "oak", "tulip"}));
  ExperimentDataOptions back = ExperimentDataOptions::from_json(options, "supernet.json: data_options");
  CHECK(back.class_names == std::vector<std::string>{"Apple", "oak", "tulip"});
  TempDir other;
  nas::test::write_image_folder(other.str(), {4, 2, 1, 3});
  back.data_dir = other.str();
  check_error([&] { back.validate(); }, {other.str(), "not the recorded ones", "3 recorded, 4 found"});
  // An exported model's classes, checked when its test split is loaded.
  LoadOptions load;
  load.class_names = {"Apple", "oak", "tulip"};
  load.resolution = 12;
  CHECK(load_dataset("folder", dir.str(), Split::Test, load).height() == 12);
  check_error([&] { load_dataset("folder", other.str(), Split::Test, load); }, {"not the recorded ones"});
  load.class_names = {"x"};
  check_error([&] { load_dataset("mnist", dir.str(), Split::Test, load); }, {"another data set"});

  ExperimentDataOptions missing;
  missing.dataset = "folder";
  check_error([&] { missing.validate(); }, {"data.data_dir", "train/<class>"});
  check_error([&] { load_dataset("folder", "", Split::Train); }, {"folder", "data_dir"});
}
