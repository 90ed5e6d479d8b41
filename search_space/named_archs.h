#pragma once
// Built-in architectures (`--arch NAME`) and the `--arch NAME|FILE.json` resolver.
//
// mbv2-tiny: MobileNetV2-Tiny as defined by NetAug (Cai et al. 2021, "Network Augmentation for
//   Tiny Deep Learning"; class TinyMobileNetV2 of its code): MobileNetV2 with width multiplier
//   0.35 (channels make_divisible(c * 0.35, 8)), kernel 3 everywhere, and a small head: the last
//   block maps to 320 * 0.35 = 112 channels and the final 1x1 conv to 1280 * 0.35 = 448 (plain
//   MobileNetV2 keeps 1280 there). Stages (expand t, base channels c, depth n, stride s):
//       stem conv 3x3, 32 (-> 16), stride 2
//       t=1 c=16 n=1 s=1 | t=6 c=24 n=2 s=2 | t=6 c=32 n=3 s=2 | t=6 c=64 n=4 s=2
//       t=6 c=96 n=3 s=1 | t=6 c=160 n=3 s=2 | t=6 c=320 n=1 s=1
//       head 1x1 conv 1280 (-> 448), global average pool, FC
//   NetAug rounds the hidden width as make_divisible(round(t * c_in), 8), as here.
//   Small inputs (resolution < 96, e.g. 28x28 Fashion-MNIST and 32x32 CIFAR): like the CIFAR
//   variants of MobileNetV2, the stem stride and the stride of the first stride-2 stage (c=24)
//   become 1, so the total stride is 8 instead of 32 and the last feature map is 4x4 (not 1x1).
//   Figures (weights only): 11.3 MMAC / 293k at 28x28x1 (10 classes), 14.1 MMAC at 32x32x3;
//   at NetAug's ImageNet setting (144x144x3, 1000 classes) 23.5 MMAC / 0.74 M, as NetAug reports.
//
// mbv2-micro: a quick-CPU-run network in the same family: width 0.25, fewer blocks, expand 4
//   (t=1 c=16 n=1 s=1 | t=4 c=24 n=1 s=2 | t=4 c=32 n=2 s=2 | t=4 c=64 n=2 s=2 | t=4 c=96 n=1 s=1
//    | t=4 c=160 n=1 s=2), stem 32 (-> 8), head conv 640 base (-> 160). Small inputs: stem stride 1
//   and the last stage stride 1, so the c=24, 32, 64 stages downsample to a 4x4 map at 28x28 and
//   32x32: 0.92 MMAC / 24k weights at 28x28x1, 1.25 MMAC at 32x32x3.
//
// Every block (and the head conv) is `mult` in the built-ins; `set_all_ops(arch, OpKind::Shift)`
// gives the multiplication-free version. Stem and classifier stay `mult`.
#include <string>
#include <vector>

#include "search_space/arch_config.h"

namespace nas {

// Resolutions below this use the small-input strides described above.
inline constexpr int kSmallInputResolution = 96;

// Names accepted by named_arch(), in a stable order.
std::vector<std::string> named_arch_names();

// The named architecture for an input of resolution x resolution x in_channels and num_classes
// outputs. Unknown names throw an error that lists the known ones.
ArchConfig named_arch(const std::string& name, int resolution, int in_channels, int num_classes);

// `--arch NAME|FILE`: a file when the argument ends in ".json" or names an existing file, else a
// named architecture built for the given input. A file must match in_channels and num_classes
// (else a clear error); its resolution is kept as written (the trainer resizes inputs to it).
ArchConfig resolve_arch(const std::string& name_or_file, int resolution, int in_channels,
                        int num_classes);

}  // namespace nas
