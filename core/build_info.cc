#include "core/build_info.h"

#ifndef NAS_BUILD_TYPE
#define NAS_BUILD_TYPE "unknown"
#endif
#ifndef NAS_TORCH_VERSION
#define NAS_TORCH_VERSION "unknown"
#endif

namespace nas {
const char* build_type() { return NAS_BUILD_TYPE; }
const char* torch_version() { return NAS_TORCH_VERSION; }
const char* compiler_version() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}
}  // namespace nas
