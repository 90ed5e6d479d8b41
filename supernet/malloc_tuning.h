#pragma once
// Training allocates and frees the same large activation buffers every step. glibc serves blocks
// above its mmap threshold (at most 32 MiB) with fresh mmap/munmap calls, so every step page-faults
// them in again; measured on mbv2-micro with augmentation that was half of the step time. Keeping
// every block on the heap and never trimming it makes the reuse free. Call once at program start
// (no-op without glibc).
namespace nas {

void tune_malloc_for_training();

}  // namespace nas
