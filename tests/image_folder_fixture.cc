#include "tests/image_folder_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <jpeglib.h>
#include <png.h>

namespace nas::test {

namespace fs = std::filesystem;

std::vector<uint8_t> encode_png(int64_t width, int64_t height, int64_t channels, const std::vector<uint8_t>& pixels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(image, size, 0, pixels.data(), 0, nullptr))
    throw std::runtime_error(std::string("encode_png: ") + image.message);
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr))
    throw std::runtime_error(std::string("encode_png: ") + image.message);
  out.resize(size);
  return out;
}

std::vector<uint8_t> encode_jpeg(int64_t width, int64_t height, int64_t channels, const std::vector<uint8_t>& pixels,
                                 int quality) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);  // our own valid input: libjpeg's default handler (exit) suffices
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = static_cast<int>(channels);
  cinfo.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t row_bytes = static_cast<size_t>(width * channels);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) + cinfo.next_scanline * row_bytes;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return out;
}

std::vector<uint8_t> synthetic_image(int label, int index, int64_t width, int64_t height, int64_t channels) {
  std::vector<uint8_t> px(static_cast<size_t>(width * height * channels));
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int64_t c = 0; c < channels; ++c) {
        // Per class: a base level per channel and a gradient along x (even) or y (odd classes).
        const double t = label % 2 == 0 ? static_cast<double>(x) / width : static_cast<double>(y) / height;
        const double base = 30 + 50 * ((label + c) % 4) + 3 * (index % 5);
        px[static_cast<size_t>((y * width + x) * channels + c)] = static_cast<uint8_t>(base + 60 * t);
      }
  return px;
}

std::vector<std::string> fixture_class_names(int classes) {
  static const char* kNames[] = {"tulip", "Apple", "oak", "birch", "ivy", "maple", "elm", "fir", "yew", "ash"};
  std::vector<std::string> names;
  for (int k = 0; k < classes; ++k)
    names.push_back(k < 10 ? kNames[k] : "class" + std::to_string(k));
  return names;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) throw std::runtime_error("cannot write " + path);
}

void write_image_folder(const std::string& root, const ImageFolderSpec& spec) {
  const std::vector<std::string> names = fixture_class_names(spec.classes);
  for (const char* split : {"train", "test"}) {
    const int per_class = std::string(split) == "train" ? spec.train_per_class : spec.test_per_class;
    if (per_class == 0) continue;
    for (int k = 0; k < spec.classes; ++k) {
      const fs::path dir = fs::path(root) / split / names[static_cast<size_t>(k)];
      fs::create_directories(dir);
      for (int i = 0; i < per_class; ++i) {
        const int64_t w = 20 + (7 * i + 3 * k) % 28, h = 20 + (5 * i + 11 * k) % 28;
        const std::vector<uint8_t> px = synthetic_image(k, i, w, h, spec.channels);
        const bool png = (i + k) % 2 == 0;
        write_file((dir / ("img" + std::to_string(i) + (png ? ".png" : ".jpg"))).string(),
                   png ? encode_png(w, h, spec.channels, px) : encode_jpeg(w, h, spec.channels, px));
      }
    }
  }
}

}  // namespace nas::test
