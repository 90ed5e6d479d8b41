#!/usr/bin/env bash
# Device-machine check (run there through the device tool, from the repository root):
# builds the same sources against the LibTorch inside the machine's Python torch (CUDA), runs the
# test suite and the operator benchmark on the GPU and on 2 CPU threads. Debian's other
# libraries travel as .deb files in .gpu/ (see toolchain.md); results go to $OUT.
#   scripts/gpu_check.sh [extra command run after the checks]
# GPU_STEPS (default "build,test,bench") picks the steps.
set -uo pipefail
steps=${GPU_STEPS:-build,test,bench}
# The copy on the GPU machine has no .git: name the commit (write it here first with
# `git rev-parse HEAD > .gpu/COMMIT`) so the context blocks of the outputs carry it.
export NAS_GIT_COMMIT=${NAS_GIT_COMMIT:-$(cat .gpu/COMMIT 2>/dev/null || true)}
out=${OUT:-/tmp/gpu_out}
mkdir -p "$out"
prefix=/tmp/nas_prefix
mkdir -p "$prefix"
for f in .gpu/*.deb; do
  # Use the machine's own zlib when it has one: a second (static) copy beside the one its other
  # libraries load is asking for trouble.
  [[ $f == *zlib1g-dev* && -f /usr/include/zlib.h ]] && continue
  dpkg -x "$f" "$prefix"
done
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/device.txt"
lib="$prefix/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
start=$(date +%s)
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr;$lib/cmake" >"$out/configure.log" 2>&1 \
  || { tail -40 "$out/configure.log"; exit 1; }
grep -E "ShiftAddAug NAS|CUDA" "$out/configure.log" | head -5
cmake --build build-cuda -j"$(nproc)" >"$out/build.log" 2>&1 || { grep -E "error" -A5 "$out/build.log" | head -60; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
rc=0
if [[ $steps == *test* ]]; then
  (cd build-cuda && ctest -j8 --timeout 300 --output-on-failure >"$out/ctest.log" 2>&1); rc=$?
  tail -15 "$out/ctest.log"
  ./build-cuda/tests/test_ops -tc='CUDA*' -s 2>&1 | tail -4
fi
[[ $steps == *bench* ]] || { if [[ $# -gt 0 ]]; then "$@"; fi; exit $rc; }
./build-cuda/bench/bench_ops --device cuda --repeats 7 --json "$out/bench_ops_cuda.json" 2>"$out/bench_cuda.err" >/dev/null \
  || tail -5 "$out/bench_cuda.err"
./build-cuda/bench/bench_ops --threads 2 --repeats 7 --json "$out/bench_ops_cpu2.json" 2>"$out/bench_cpu.err" >/dev/null \
  || tail -5 "$out/bench_cpu.err"
python3 - "$out" <<'PY'
import json, sys
for name in ("bench_ops_cuda", "bench_ops_cpu2"):
    try:
        d = json.load(open(f"{sys.argv[1]}/{name}.json"))
    except Exception as e:
        print(name, "missing", e); continue
    print(name, d["context"]["device"], d["context"].get("adder_kernel_isa"))
    for r in d["results"]:
        print(f'  {r["shape"]:4s} {r["op"]:15s} fwd {r["fwd_ms"]:9.3f} bwd {r["bwd_ms"]:9.3f} '
              f'ratio {r["ratio_to_conv2d"]:7.2f} mem {r["peak_extra_mib"]}')
PY
if [[ $# -gt 0 ]]; then "$@"; fi
exit $rc
