#include "datasets/image_resize.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace nas::datasets {

namespace {

struct Tap {
  int64_t source;
  float weight;
};

// For each of `out` output positions, the source positions its interval [o*in/out, (o+1)*in/out)
// covers, with the covered fraction of each as weight (weights sum to 1). Exact in integer units:
// the interval is [o*in, (o+1)*in) measured in 1/out of a source pixel.
std::vector<std::vector<Tap>> area_taps(int64_t in, int64_t out) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const int64_t lo = o * in, hi = (o + 1) * in;
    for (int64_t s = lo / out; s * out < hi; ++s) {
      const int64_t covered = std::min(hi, (s + 1) * out) - std::max(lo, s * out);
      if (covered > 0) taps[static_cast<size_t>(o)].push_back({s, static_cast<float>(covered) / static_cast<float>(in)});
    }
  }
  return taps;
}

}  // namespace

void resize_area_planar(const DecodedImage& image, int64_t out_height, int64_t out_width, uint8_t* planar_out) {
  NAS_CHECK(out_height >= 1 && out_width >= 1 && out_height <= kMaxImageSide && out_width <= kMaxImageSide,
            "resize: output size " << out_height << "x" << out_width << " out of [1, " << kMaxImageSide << "]");
  const int64_t c = image.channels, h = image.height, w = image.width;
  NAS_CHECK(static_cast<int64_t>(image.pixels.size()) == h * w * c, "resize: pixel buffer does not match the image size");
  const int64_t plane = out_height * out_width;
  if (h == out_height && w == out_width) {
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < c; ++ch) planar_out[ch * plane + y * w + x] = image.pixels[static_cast<size_t>((y * w + x) * c + ch)];
    return;
  }
  const auto x_taps = area_taps(w, out_width);
  const auto y_taps = area_taps(h, out_height);
  // Rows first (H x out_width x C, float), then columns.
  std::vector<float> rows(static_cast<size_t>(h * out_width * c), 0.0f);
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* src = image.pixels.data() + y * w * c;
    float* dst = rows.data() + y * out_width * c;
    for (int64_t x = 0; x < out_width; ++x)
      for (const Tap& t : x_taps[static_cast<size_t>(x)])
        for (int64_t ch = 0; ch < c; ++ch) dst[x * c + ch] += t.weight * static_cast<float>(src[t.source * c + ch]);
  }
  std::vector<float> acc(static_cast<size_t>(out_width * c));
  for (int64_t y = 0; y < out_height; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (const Tap& t : y_taps[static_cast<size_t>(y)]) {
      const float* src = rows.data() + t.source * out_width * c;
      for (int64_t i = 0; i < out_width * c; ++i) acc[static_cast<size_t>(i)] += t.weight * src[i];
    }
    for (int64_t x = 0; x < out_width; ++x)
      for (int64_t ch = 0; ch < c; ++ch) {
        const float v = std::lround(std::clamp(acc[static_cast<size_t>(x * c + ch)], 0.0f, 255.0f));
        planar_out[ch * plane + y * out_width + x] = static_cast<uint8_t>(v);
      }
  }
}

}  // namespace nas::datasets
