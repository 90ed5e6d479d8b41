#include "supernet/malloc_tuning.h"

#include <climits>
#include <cstdlib>  // defines __GLIBC__ (via <features.h>)

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nas {

void tune_malloc_for_training() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);                // no mmap-backed blocks: large buffers are reused
  mallopt(M_TRIM_THRESHOLD, INT_MAX);    // keep freed memory instead of returning it
#endif
}

void release_free_heap_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace nas
