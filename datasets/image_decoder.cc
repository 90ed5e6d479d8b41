#include "datasets/image_decoder.h"

// <cstdio> before <jpeglib.h>: the header uses FILE and size_t without including them.
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>  // JWRN_JPEG_EOF
#include <png.h>

#include "core/error.h"

namespace nas::datasets {

namespace {

bool is_png(const std::vector<uint8_t>& b) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  return b.size() >= 8 && std::memcmp(b.data(), kSignature, 8) == 0;
}

bool is_jpeg(const std::vector<uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

void check_bounds(int64_t width, int64_t height, const std::string& where) {
  NAS_CHECK(width >= 1 && height >= 1, where << ": image of size " << width << "x" << height);
  NAS_CHECK(width <= kMaxImageSide && height <= kMaxImageSide && width * height <= kMaxImagePixels,
            where << ": image of " << width << "x" << height << " pixels is over the limit (sides <= "
                  << kMaxImageSide << ", " << (kMaxImagePixels >> 20) << " Mpixel)");
}

ImageFormat detect_format(const std::vector<uint8_t>& bytes, const std::string& where) {
  if (is_png(bytes)) return ImageFormat::Png;
  if (is_jpeg(bytes)) return ImageFormat::Jpeg;
  NAS_THROW(where << ": not a PNG or JPEG image (" << (bytes.empty() ? "empty file" : "unknown signature") << ")");
}

// ---- PNG (libpng's simplified API: it reports errors in image.message, no setjmp here) ----------

ImageHeader png_begin(png_image& image, const std::vector<uint8_t>& bytes, const std::string& where) {
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  NAS_CHECK(png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) != 0,
            where << ": corrupt PNG (libpng: " << first_line_excerpt(image.message) << ")");
  ImageHeader h;
  h.format = ImageFormat::Png;
  h.width = image.width;
  h.height = image.height;
  h.channels = (image.format & PNG_FORMAT_FLAG_COLOR) != 0 ? 3 : 1;
  try {
    check_bounds(h.width, h.height, where);
  } catch (...) {
    png_image_free(&image);
    throw;
  }
  return h;
}

DecodedImage decode_png(const std::vector<uint8_t>& bytes, const std::string& where) {
  png_image image;
  const ImageHeader h = png_begin(image, bytes, where);
  image.format = h.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  DecodedImage out{h.width, h.height, h.channels, {}};
  try {
    // Zeroed: with no background given, libpng composites alpha onto the buffer, i.e. onto black.
    out.pixels.assign(PNG_IMAGE_SIZE(image), 0);
  } catch (...) {
    png_image_free(&image);
    throw;
  }
  NAS_CHECK(png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr) != 0,
            where << ": corrupt or truncated PNG (libpng: " << first_line_excerpt(image.message) << ")");
  return out;
}

// ---- JPEG (libjpeg reports errors through error_exit, which must not return: longjmp) ------------

struct JpegErrors {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings are tolerated (as other decoders do) except the end of data before the image's end,
// which libjpeg fills with grey: a truncated file.
void jpeg_note(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) reinterpret_cast<JpegErrors*>(cinfo->err)->truncated = true;
}

// Owns the decompressor, so that an exception (bounds, allocation) releases it.
struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  bool created = false;
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

// The libjpeg calls, in a frame without C++ objects (longjmp skips no destructor). `pixels` is
// null for the header alone. Returns false with decoder.errors.message set on a libjpeg error.
bool run_jpeg(JpegDecoder& d, const std::vector<uint8_t>& bytes, ImageHeader* header, std::vector<uint8_t>* pixels,
              const std::string* where) {
  d.cinfo.err = jpeg_std_error(&d.errors.base);
  d.errors.base.error_exit = jpeg_fail;
  d.errors.base.emit_message = jpeg_note;
  d.errors.truncated = false;
  d.errors.message[0] = '\0';
  if (setjmp(d.errors.jump) != 0) return false;
  jpeg_create_decompress(&d.cinfo);
  d.created = true;
  jpeg_mem_src(&d.cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&d.cinfo, TRUE);
  header->format = ImageFormat::Jpeg;
  header->width = d.cinfo.image_width;
  header->height = d.cinfo.image_height;
  header->channels = d.cinfo.num_components == 1 ? 1 : 3;
  check_bounds(header->width, header->height, *where);  // throws before any pixel buffer
  if (pixels == nullptr) return true;
  d.cinfo.out_color_space = header->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&d.cinfo);
  const size_t row_bytes = static_cast<size_t>(header->width * header->channels);
  pixels->assign(row_bytes * static_cast<size_t>(header->height), 0);
  while (d.cinfo.output_scanline < d.cinfo.output_height) {
    JSAMPROW row = pixels->data() + static_cast<size_t>(d.cinfo.output_scanline) * row_bytes;
    jpeg_read_scanlines(&d.cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d.cinfo);
  return true;
}

ImageHeader jpeg_image(const std::vector<uint8_t>& bytes, const std::string& where, std::vector<uint8_t>* pixels) {
  JpegDecoder d;
  ImageHeader h;
  NAS_CHECK(run_jpeg(d, bytes, &h, pixels, &where),
            where << ": corrupt JPEG (libjpeg: " << first_line_excerpt(d.errors.message) << ")");
  NAS_CHECK(!d.errors.truncated, where << ": truncated JPEG (the data end before the image does)");
  return h;
}

}  // namespace

const char* image_format_name(ImageFormat format) { return format == ImageFormat::Png ? "png" : "jpeg"; }

ImageHeader read_image_header(const std::vector<uint8_t>& bytes, const std::string& where) {
  if (detect_format(bytes, where) == ImageFormat::Jpeg) return jpeg_image(bytes, where, nullptr);
  png_image image;
  const ImageHeader h = png_begin(image, bytes, where);
  png_image_free(&image);
  return h;
}

DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& where) {
  if (detect_format(bytes, where) == ImageFormat::Png) return decode_png(bytes, where);
  DecodedImage out;
  const ImageHeader h = jpeg_image(bytes, where, &out.pixels);
  out.width = h.width;
  out.height = h.height;
  out.channels = h.channels;
  return out;
}

}  // namespace nas::datasets
