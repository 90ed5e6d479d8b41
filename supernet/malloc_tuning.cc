#include "supernet/malloc_tuning.h"

#include <dlfcn.h>

#include <climits>
#include <cstdlib>  // defines __GLIBC__ (via <features.h>)

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nas {

namespace {

bool glibc_tuned = false;

// tcmalloc exports its own entry points beside malloc; their presence means it replaced malloc.
bool tcmalloc_active() { return dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr; }

}  // namespace

void tune_malloc_for_training() {
#if defined(__GLIBC__)
  if (tcmalloc_active()) return;
  mallopt(M_MMAP_MAX, 0);                // no mmap-backed blocks: large buffers are reused
  mallopt(M_TRIM_THRESHOLD, INT_MAX);    // keep freed memory instead of returning it
  glibc_tuned = true;
#endif
}

const char* malloc_implementation() {
  if (tcmalloc_active()) return "tcmalloc";
#if defined(__GLIBC__)
  return glibc_tuned ? "glibc (tuned)" : "glibc";
#else
  return "other";
#endif
}

void release_free_heap_memory() {
  if (tcmalloc_active()) {
    using Release = void (*)();
    if (auto release = reinterpret_cast<Release>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory")))
      release();
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace nas
