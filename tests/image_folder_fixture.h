#pragma once
// Test fixtures for image-folder data sets: PNG / JPEG encoders (libpng's simplified writer,
// libjpeg-turbo) and a generator of small folders in the ImageFolder layout, written at test time
// (no image data is committed). Used by test_datasets_folder.cc and the nas_make_image_folder
// helper of the CLI tests.
#include <cstdint>
#include <string>
#include <vector>

namespace nas::test {

// An 8-bit image of `channels` (1 or 3) interleaved samples as PNG / JPEG bytes.
std::vector<uint8_t> encode_png(int64_t width, int64_t height, int64_t channels, const std::vector<uint8_t>& pixels);
std::vector<uint8_t> encode_jpeg(int64_t width, int64_t height, int64_t channels, const std::vector<uint8_t>& pixels,
                                 int quality = 95);

// Image `index` of class `label`: smooth, class-dependent (a per-class colour and gradient
// direction), so that it survives JPEG and resizing and a network can tell the classes apart.
std::vector<uint8_t> synthetic_image(int label, int index, int64_t width, int64_t height, int64_t channels);

struct ImageFolderSpec {
  int classes = 3;          // named from a fixed list whose sorted order differs from creation order
  int train_per_class = 4;
  int test_per_class = 2;   // 0: no test/ folder
  int channels = 3;
};

// The class names write_image_folder uses for `classes` classes, in creation order.
std::vector<std::string> fixture_class_names(int classes);

// Writes ROOT/train/<class>/img<i>.png|.jpg and ROOT/test/... (PNG and JPEG alternate; sizes vary
// between 20 and 47 pixels a side, not square).
void write_image_folder(const std::string& root, const ImageFolderSpec& spec);

void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace nas::test
