#!/usr/bin/env bash
# Installs every Debian package the project needs (idempotent: apt runs only when something is
# missing), then configures and builds into build/. Run as root on a fresh Debian 12 machine.
#   scripts/setup.sh            install + configure + build (Release)
#   BUILD_DIR=dir BUILD_TYPE=RelWithDebInfo scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake g++ git ccache pkg-config
  libtorch-dev libopenblas0-pthread            # LibTorch 1.13 (CPU) + a fast BLAS for it
  libboost-program-options-dev nlohmann-json3-dev libtbb-dev doctest-dev zlib1g-dev
  libpng-dev libjpeg62-turbo-dev               # PNG / JPEG decoding of image-folder data sets
  libgoogle-perftools-dev                      # tcmalloc for the training programs
  libgloo-dev                                  # Gloo, for data-parallel training over c10d
  dataset-fashion-mnist                        # the default data set
  python3 python3-matplotlib                   # plots of results
  gcc-multilib                                 # -m32 builds of the generated C (deploy_cli.m32_bit_exact)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: error: packages missing and not root; run: sudo $0" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build_dir=${BUILD_DIR:-build}
build_type=${BUILD_TYPE:-Release}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
echo "setup: built $build_dir ($build_type)"
