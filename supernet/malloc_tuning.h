#pragma once
// The allocator of the training programs. Training allocates and frees large activation buffers
// every step, of a different shape every step (one sampled augmented network per step).
// Measured on an AddAug step of mbv2-tiny at 32x32, batch 128, 2 threads (bench_train_step):
//   glibc defaults: blocks above the mmap threshold (at most 32 MiB) are mmapped afresh and
//     page-faulted in every step: the augmented pass of the largest network 24 s instead of 8 s;
//   glibc tuned (no mmap, no trim; tune_malloc_for_training): fast, but the heap fragments: peak
//     resident 9.5 GB after 14 sampled steps against a live peak of about 5 GB;
//   tcmalloc (linked into nas_retrain and bench_train_step when the build finds it): as fast as
//     the tuned glibc and a peak of 4.2 GB after the same 14 steps.
// So the programs link tcmalloc where available; tune_malloc_for_training() applies the glibc
// settings only when glibc's malloc is the one in use.
namespace nas {

// Call once at program start.
void tune_malloc_for_training();

// "tcmalloc", "glibc (tuned)" after tune_malloc_for_training(), else "glibc" / "other".
const char* malloc_implementation();

// Returns the heap's free memory to the system (glibc malloc_trim, tcmalloc's release); between
// benchmark configurations, so that each one's peak resident set is its own.
void release_free_heap_memory();

}  // namespace nas
