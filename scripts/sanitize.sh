#!/usr/bin/env bash
# Builds the project with AddressSanitizer + UndefinedBehaviorSanitizer into its own build
# directory (build-sanitize/) and runs the whole test suite there; fails on any test failure or
# sanitizer report (UBSan findings are fatal: -fno-sanitize-recover). Needs the packages of
# scripts/setup.sh. Takes ~25 min on 2 cores the first time (measured 24 min; ccache makes reruns quick).
#   scripts/sanitize.sh                 build + every test
#   scripts/sanitize.sh -L fuzz         extra arguments go to ctest (here: only the fuzz targets)
#   BUILD_DIR=dir scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build-sanitize}
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" \
  -DCMAKE_SHARED_LINKER_FLAGS="$sanitize" -DNAS_USE_TCMALLOC=OFF -DNAS_TEST_TIMEOUT_SCALE=4 >/dev/null
cmake --build "$build_dir" -j"$(nproc)"

# LibTorch itself is not instrumented; its process-lifetime singletons (operator registries,
# thread pools) are allocated once and never freed, which LeakSanitizer would report at exit:
# scripts/lsan.supp names exactly those libraries. Our own leaks are still reported.
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build_dir"
# Sanitized programs run 2-5x slower: a longer per-test limit than scripts/test.sh (the tests'
# own TIMEOUTs x4 by NAS_TEST_TIMEOUT_SCALE above; --timeout for those without one).
ctest --output-on-failure -j"$(nproc)" --timeout 2400 "$@"
echo "sanitize: every test passed under AddressSanitizer + UndefinedBehaviorSanitizer ($build_dir)"
