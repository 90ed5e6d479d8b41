#!/usr/bin/env bash
# Issue 35's accuracy table: mbv2-micro Shift and Add trained directly with the committed tables'
# recipe (results/shiftaddaug/{fashion-mnist,cifar10}.md: full split, validation-chosen lr,
# Fashion-MNIST 15 epochs, CIFAR-10 30 epochs), seeds 1 and 2, then nas_deploy of every finished
# network at 8 and 16 bits on the whole test split (calibration: 1,024 training images).
# Start it once per core (nice -n 19); rerun the same command to resume: finished runs and
# deployments are skipped, an interrupted run resumes from its checkpoint, instances share the
# queue (each run and each deployment is taken under a lock).
#   nice -n 19 experiments/deploy/queue_deploy_nets.sh BIN_DIR CIFAR10_DIR RUN_ROOT [EXTRA_MODEL ...]
# BIN_DIR: a copy of build/apps (nas_retrain, nas_deploy) that no rebuild touches meanwhile.
# EXTRA_MODEL: NAME=DATASET=PATH/tiny_model.nasm of networks trained elsewhere (e.g. the committed
# 100-epoch CIFAR-10 Shift runs), deployed the same way.
set -euo pipefail
echo 19 > /proc/self/autogroup 2>/dev/null || true  # yield to builds of other sessions (see queue_c10_100ep.sh)
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: queue_deploy_nets.sh BIN_DIR CIFAR10_DIR RUN_ROOT [NAME=DATASET=MODEL ...]}
c10=${2:?usage: queue_deploy_nets.sh BIN_DIR CIFAR10_DIR RUN_ROOT [NAME=DATASET=MODEL ...]}
root=${3:?usage: queue_deploy_nets.sh BIN_DIR CIFAR10_DIR RUN_ROOT [NAME=DATASET=MODEL ...]}
shift 3
table=$here/../shiftaddaug/run_shiftaddaug_table.sh
status=0
SEEDS="1 2" COLUMNS="Shift-lr0.2 Add-lr0.05" ABLATION_REMAPS="" BIN=$bin \
  bash "$table" fashion-mnist "$root/fmnist" --arch mbv2-micro --epochs 15 --threads 1 || status=1
SEEDS="1 2" COLUMNS="Add-lr0.1 Shift-lr0.2" ABLATION_REMAPS="" BIN=$bin \
  bash "$table" cifar10 "$root/c10" --arch mbv2-micro --epochs 30 --data-dir "$c10" --threads 1 || status=1

deploy_one() {  # name dataset model bits
  local name=$1 dataset=$2 model=$3 bits=$4 out="$root/deploy/$1-int$4" flags=()
  [[ -f $out/deploy.json ]] && return 0
  [[ $dataset == cifar10 ]] && flags=(--data-dir "$c10")
  mkdir -p "$root/deploy"
  # The lock is beside the output, not in it: a half-written output of a stopped run is removed
  # (nas_deploy refuses an existing output folder) only by the instance holding the lock.
  flock -n -E 75 "$out.lock" sh -c 'out=$1; shift; [ -f "$out/deploy.json" ] && exit 0
    rm -rf "$out"; echo "deploy $out"; exec "$@" --out "$out" >"$out.log" 2>&1' sh "$out" \
    nice -n 19 "$bin/nas_deploy" --model "$model" --dataset "$dataset" "${flags[@]}" --bits "$bits" \
    --calib-images 1024 || { rc=$?; ((rc == 75)) || { echo "FAIL $out: $(tail -1 "$out.log")"; status=1; }; }
}
models=()
for d in "$root"/fmnist/*-s? "$root"/c10/*-s?; do
  [[ -f $d/result.json && -f $d/tiny_model.nasm ]] || continue
  ds=fashion-mnist; [[ $d == "$root"/c10/* ]] && ds=cifar10
  models+=("$([[ $ds == cifar10 ]] && echo c10 || echo fm)-$(basename "$d")=$ds=$d/tiny_model.nasm")
done
for m in "${models[@]}" "$@"; do
  IFS== read -r name dataset model <<<"$m"
  for bits in 8 16; do deploy_one "$name" "$dataset" "$model" "$bits"; done
done
exit $status
