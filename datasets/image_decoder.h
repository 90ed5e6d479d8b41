#pragma once
// PNG and JPEG decoding of untrusted image files (libpng's simplified API, libjpeg-turbo), for
// image-folder data sets. The content decides the decoder (PNG signature 89 50 4E 47 0D 0A 1A 0A,
// JPEG SOI FF D8 FF), not the file name.
//
// Channels follow the file: 1 for a greyscale file (PNG grey or grey + alpha, one-component JPEG),
// 3 otherwise (RGB, palette, CMYK JPEGs are converted to RGB by the library). Alpha is composited
// onto black; 16-bit PNG samples become 8-bit sRGB. Pixels are interleaved, row-major: H x W x C.
//
// Bounds (untrusted files): each side <= kMaxImageSide and width * height <= kMaxImagePixels,
// checked on the header before any pixel buffer is allocated. Every failure (unknown format,
// truncated or corrupt data, a size over the bounds) is one nas::Error line naming `where`.
#include <cstdint>
#include <string>
#include <vector>

namespace nas::datasets {

constexpr int64_t kMaxImageSide = 16384;
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;  // 64 Mpixel: 192 MiB as RGB

enum class ImageFormat { Png, Jpeg };

struct ImageHeader {
  ImageFormat format = ImageFormat::Png;
  int64_t width = 0, height = 0;
  int64_t channels = 0;  // 1 (grey) or 3 (colour), as decode_image returns them
};

struct DecodedImage {
  int64_t width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels bytes, interleaved
};

// "png" | "jpeg"
const char* image_format_name(ImageFormat format);

// The size and channel count of an encoded image, from its header alone.
ImageHeader read_image_header(const std::vector<uint8_t>& bytes, const std::string& where);

// The whole image, decoded.
DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& where);

}  // namespace nas::datasets
