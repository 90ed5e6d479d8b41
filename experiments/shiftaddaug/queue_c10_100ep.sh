#!/usr/bin/env bash
# Issue 33's queue: CIFAR-10 (JPEG copy), mbv2-micro, full split (45,000 + 5,000), 100 epochs,
# the 30-epoch table's validation-chosen learning rates; the cheaper pair (Shift / ShiftAug) first.
# Start it once per core (nice -n 19); rerun the same command to resume (finished runs are
# skipped, interrupted ones resume from their checkpoint; instances share the queue).
#   nice -n 19 experiments/shiftaddaug/queue_c10_100ep.sh BIN_DIR DATA_DIR RUN_ROOT
# BIN_DIR: a copy of build/apps (nas_retrain) that no rebuild touches while the queue runs.
set -euo pipefail
# nice alone does not yield to a build started from another session: with the kernel's
# autogroup scheduling each session gets a fair share (measured: two nice-19 runs took 65 % and
# 51 % of the cores beside a make -j2). Lower the whole group too.
echo 19 > /proc/self/autogroup 2>/dev/null || true
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: queue_c10_100ep.sh BIN_DIR DATA_DIR RUN_ROOT}
data=${2:?usage: queue_c10_100ep.sh BIN_DIR DATA_DIR RUN_ROOT}
root=${3:?usage: queue_c10_100ep.sh BIN_DIR DATA_DIR RUN_ROOT}
common=(--arch mbv2-micro --epochs 100 --data-dir "$data" --threads 1)
SEEDS="1 2" COLUMNS="Shift-lr0.2-ep100 ShiftAug-lr0.2-ep100" ABLATION_REMAPS="" BIN=$bin \
  bash "$here/run_shiftaddaug_table.sh" cifar10 "$root" "${common[@]}"
SEEDS="1 2" COLUMNS="Add-lr0.1-ep100 AddAug-lr0.025-ep100" ABLATION_REMAPS="" BIN=$bin \
  bash "$here/run_shiftaddaug_table.sh" cifar10 "$root" "${common[@]}"
