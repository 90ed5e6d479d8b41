#!/usr/bin/env bash
# Runs the ShiftAddAug results table of issue 3 for one data set: columns Mult / Shift / ShiftAug /
# Add / AddAug (same recipe and epochs for every column) over several seeds, plus the weight-remap
# ablation (none / quantile / piecewise) for one MF operator. Each run is an ordinary nas_retrain
# run in RUN_ROOT/<column>-s<seed>: finished runs are skipped, interrupted ones resume from their
# checkpoint, so the table can be filled across sessions.
#
#   experiments/shiftaddaug/run_shiftaddaug_table.sh DATASET RUN_ROOT [nas_retrain flags ...]
# Environment: SEEDS ("1 2"), COLUMNS ("Mult Shift ShiftAug Add AddAug"; also e.g.
#   AddAug-quantile-remap_eta0.1, AddAug-fc, ShiftAug-sortaug, Shift-piecewise: a direct net with a
#   remap), ABLATION_OP (add), ABLATION_REMAPS
#   ("quantile piecewise"), PARALLEL (1: runs at a time), BIN (build/apps), DEVICE (cpu).
# Several instances of the same command may run at once (one per core): each run is trained under
#   flock(1) on its DIR/.queue.lock (below), so an instance skips the runs another one is training.
# Column suffixes, in this order, each optional: -lrX (learning rate X, e.g. Shift-lr0.1) and
#   -epN (N epochs instead of the --epochs given, e.g. Shift-lr0.1-ep40 for an equal-wall-time
#   baseline).
# Example (2-core CPU): experiments/shiftaddaug/run_shiftaddaug_table.sh fashion-mnist runs/fmnist --epochs 3
set -euo pipefail
dataset=${1:?usage: run_shiftaddaug_table.sh DATASET RUN_ROOT [nas_retrain flags]}
root=${2:?usage: run_shiftaddaug_table.sh DATASET RUN_ROOT [nas_retrain flags]}
shift 2
bin=${BIN:-build/apps}
seeds=${SEEDS:-"1 2"}
columns=${COLUMNS-"Mult Shift ShiftAug Add AddAug"}
ablation_op=${ABLATION_OP:-add}
ablation_remaps=${ABLATION_REMAPS-"quantile piecewise"}
parallel=${PARALLEL:-1}
mkdir -p "$root"

column_flags() {  # column -> nas_retrain flags (suffixes: see the top)
  local col=$1 extra=""
  if [[ $col =~ ^(.*)-ep([0-9]+)$ ]]; then col=${BASH_REMATCH[1]}; extra+=" --epochs ${BASH_REMATCH[2]}"; fi
  if [[ $col =~ ^(.*)-lr([0-9.e-]+)$ ]]; then col=${BASH_REMATCH[1]}; extra+=" --lr ${BASH_REMATCH[2]}"; fi
  echo "$(base_column_flags "$col")$extra"
}

base_column_flags() {  # column without suffixes -> nas_retrain flags
  case $1 in
    Mult) echo "--op mult --aug none" ;;
    Shift) echo "--op shift --aug none" ;;
    ShiftAug) echo "--op shift --aug shiftaddaug" ;;
    Add) echo "--op add --aug none" ;;
    AddAug) echo "--op add --aug shiftaddaug" ;;
    *Aug-*-remap_eta*)  # e.g. AddAug-quantile-remap_eta0.1: a remap with its own eta
      local rest=${1#*Aug-} op=add
      [[ $1 == ShiftAug-* ]] && op=shift
      echo "--op $op --aug shiftaddaug --remap ${rest%%-*} --remap-eta ${rest##*-remap_eta}" ;;
    ShiftAug-sortaug) echo "--op shift --aug shiftaddaug --sort-channels augmented" ;;
    AddAug-sortaug) echo "--op add --aug shiftaddaug --sort-channels augmented" ;;
    ShiftAug-*) echo "--op shift --aug shiftaddaug --remap ${1#ShiftAug-}" ;;
    AddAug-*) echo "--op add --aug shiftaddaug --remap ${1#AddAug-}" ;;
    Shift-*) echo "--op shift --aug none --remap ${1#Shift-}" ;;  # the remap without augmentation (a control)
    Add-*) echo "--op add --aug none --remap ${1#Add-}" ;;
    *) echo "run_shiftaddaug_table: unknown column $1" >&2; return 1 ;;
  esac
}

run_one() {  # column seed [nas_retrain flags]
  local column=$1 seed=$2 dir="$root/$1-s$2" common=()
  shift 2
  # A column with its own epochs (-epN) drops the common --epochs.
  while (($#)); do
    if [[ $column =~ -ep[0-9]+$ && $1 == --epochs ]]; then shift 2; continue; fi
    common+=("$1"); shift
  done
  set -- "${common[@]}"
  if [[ -f $dir/result.json ]]; then echo "skip $dir (done)"; return 0; fi
  mkdir -p "$dir" 2>/dev/null || { echo "FAIL $dir: cannot claim the run directory"; return 1; }
  local rc=0
  # The instances share the queue through DIR/.queue.lock, held by flock(1) while the command runs
  # (the kernel drops it however that ends). Not DIR/.run.lock: nas_retrain claims that one itself
  # (core/run_lock.h), so a second program on the directory is still refused. Under the queue lock
  # (and only there, not to touch the files of a run another instance is training): skip a run
  # finished meanwhile (76), resume one left unfinished, write the logs.
  flock -n -E 75 "$dir/.queue.lock" sh -c 'd=$1; shift; [ -f "$d/result.json" ] && exit 76
    [ -f "$d/checkpoint.pt" ] && set -- "$@" --resume
    echo "run  $d"; exec "$@" >"$d/stdout.txt" 2>"$d/stderr.txt"' sh "$dir" \
    "$bin/nas_retrain" --dataset "$dataset" $(column_flags "$column") --seed "$seed" --out "$dir" \
    --device "${DEVICE:-cpu}" "$@" || rc=$?
  if ((rc == 75)); then echo "skip $dir (another instance is training it)"; return 0; fi
  if ((rc == 76)); then echo "skip $dir (done)"; return 0; fi
  if ((rc != 0)); then echo "FAIL $dir: $(tail -1 "$dir/stderr.txt" 2>/dev/null)"; return 1; fi
  tail -1 "$dir/stdout.txt"
}

ablation_label=$([[ $ablation_op == add ]] && echo AddAug || echo ShiftAug)
jobs_list=()
for seed in $seeds; do
  for column in $columns; do jobs_list+=("$column $seed"); done
  for remap in $ablation_remaps; do jobs_list+=("$ablation_label-$remap $seed"); done
done
status=0
for job in "${jobs_list[@]}"; do
  # shellcheck disable=SC2086
  run_one $job "$@" &
  while (( $(jobs -rp | wc -l) >= parallel )); do wait -n || status=1; done
done
while (( $(jobs -rp | wc -l) > 0 )); do wait -n || status=1; done
exit $status
