#pragma once
// Area resampling of a decoded image to a fixed size (image-folder data sets are stored at one
// resolution). Method: separable box filter ("area", as OpenCV's INTER_AREA when shrinking):
// output pixel (y, x) is the mean of the source rectangle [y*H/h, (y+1)*H/h) x [x*W/w, (x+1)*W/w),
// source pixels weighted by the fraction of them the rectangle covers. Enlarging uses the same
// rule (each output pixel blends the at most two source pixels under it). The aspect ratio is not
// kept: the whole image is mapped onto out_height x out_width. Same size: an exact copy.
#include <cstdint>
#include "datasets/image_decoder.h"

namespace nas::datasets {

// `image` (H x W x C interleaved) resized and written to `planar_out` as C planes of
// out_height x out_width bytes (C * out_height * out_width bytes; values rounded to nearest).
// out_height, out_width in [1, kMaxImageSide].
void resize_area_planar(const DecodedImage& image, int64_t out_height, int64_t out_width, uint8_t* planar_out);

}  // namespace nas::datasets
