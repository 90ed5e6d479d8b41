#!/usr/bin/env bash
# Builds (running setup when needed) and runs the whole test suite; fails if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
scripts/setup.sh
cd "$build_dir"
ctest --output-on-failure -j"$(nproc)" --timeout 900
