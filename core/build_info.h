#pragma once
// Facts about this build, for the context block of every JSON output.
namespace nas {
const char* git_commit();       // generated at build time (cmake/WriteGitInfo.cmake)
const char* build_type();       // CMAKE_BUILD_TYPE
const char* torch_version();    // LibTorch version found by CMake
const char* compiler_version();
}  // namespace nas
