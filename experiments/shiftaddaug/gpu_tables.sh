#!/usr/bin/env bash
# Fills the ShiftAddAug tables (issue 3) on a GPU machine inside a fixed time budget. Run there
# from the repository root after `GPU_STEPS=build,test scripts/gpu_check.sh` (build-cuda/).
# Data travel in .gpu/: Fashion-MNIST's gzip IDX files in .gpu/fmnist, and the CIFAR-10 JPEG
# copy (cifar10-jpg.tar.xz + convert.py + SHA256SUMS from shared/data/cifar10-jpeg) in .gpu/cifar.
#
# Every column of a table must use the same recipe, so the epoch count is fixed up front from a
# calibration: all runs of a table train one short epoch side by side, and the slowest run's
# images/s sets the largest epoch count that fits TRAIN_S seconds per table.
#   TRAIN_S=180 SEEDS="1 2" experiments/shiftaddaug/gpu_tables.sh OUT_DIR
set -uo pipefail
out=${1:?usage: gpu_tables.sh OUT_DIR}
train_s=${TRAIN_S:-180}
export SEEDS=${SEEDS:-"1 2"}
export BIN=build-cuda/apps DEVICE=cuda PARALLEL=${PARALLEL:-14}
mkdir -p "$out" /tmp/runs
log() { echo "[$(date +%T)] $*"; }

# CIFAR-10 binaries from the JPEG copy (what shared/data/cifar10-jpeg/make_bin.sh does).
prepare_cifar() {
  local src=/tmp/cifar_src dst=/tmp/cifar10
  mkdir -p $src $dst && tar xJf .gpu/cifar/cifar10-jpg.tar.xz -C $src &&
    python3 .gpu/cifar/convert.py $src $dst >/dev/null && (cd $dst && sha256sum --quiet -c "$OLDPWD/.gpu/cifar/SHA256SUMS")
}
prepare_cifar > "$out/cifar_prepare.log" 2>&1 &
cifar_pid=$!

# table DATASET DATA_DIR NAME: calibrate, then run every column with the chosen epochs.
table() {
  local dataset=$1 dir=$2 name=$3 cal=/tmp/runs/$3-cal
  log "$name: calibration (1 epoch, 4096 images, all runs side by side)"
  experiments/shiftaddaug/run_shiftaddaug_table.sh "$dataset" "$cal" --data-dir "$dir" --epochs 1 \
    --limit-train 4096 --limit-test 500 --val-size 0 --threads 1 >"$out/$name-cal.log" 2>&1
  local epochs
  epochs=$(python3 - "$cal" "$train_s" <<'PY'
import glob, json, sys
rates = [json.load(open(p))["images_per_s"] for p in glob.glob(sys.argv[1] + "/*/result.json")]
if not rates:
    print(0); sys.exit()
slowest = min(rates)
train_images = 55000 if "fmnist" in sys.argv[1] else 45000   # after the 5000-image val split
print(max(1, min(30, int(float(sys.argv[2]) * slowest / train_images))))
PY
)
  log "$name: slowest calibration run -> $epochs epochs"
  [[ $epochs -gt 0 ]] || { log "$name: calibration failed"; tail -5 "$out/$name-cal.log"; return 1; }
  experiments/shiftaddaug/run_shiftaddaug_table.sh "$dataset" "/tmp/runs/$name" --data-dir "$dir" \
    --epochs "$epochs" --threads 1 >"$out/$name-runs.log" 2>&1
  tail -3 "$out/$name-runs.log"
}

table fashion-mnist .gpu/fmnist fmnist
wait $cifar_pid && table cifar10 /tmp/cifar10 cifar10 || { log "cifar10 skipped"; tail -3 "$out/cifar_prepare.log"; }

# Bring back what the tables need (no checkpoints or models: too large); the tables themselves
# are made from these with experiments/shiftaddaug/shiftaddaug_table.py.
(cd /tmp/runs && find . -name result.json -o -name log.txt -o -name config.json -o -name stderr.txt \
   -o -name stdout.txt | tar czf "$out/runs.tar.gz" -T -)
log "done"
