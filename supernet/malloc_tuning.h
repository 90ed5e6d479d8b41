#pragma once
// Training allocates and frees the same large activation buffers every step. glibc serves blocks
// above its mmap threshold (at most 32 MiB) with fresh mmap/munmap calls, so every step page-faults
// them in again; measured on mbv2-micro with augmentation that was half of the step time. Keeping
// every block on the heap and never trimming it makes the reuse free. Call once at program start
// (no-op without glibc).
namespace nas {

void tune_malloc_for_training();

// Returns the heap's free memory to the system (glibc malloc_trim); between benchmark
// configurations, so that each one's peak resident set is its own.
void release_free_heap_memory();

}  // namespace nas
