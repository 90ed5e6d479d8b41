#!/bin/bash
# Is the supernet any good? (issue 9, item 5.) Trains the supernet once, then for >= 10
# architectures spanning the space (the smallest and the largest with each op, a named
# architecture with each op, RANDOM_COUNT random ones) measures the inherited validation top-1
# (nas_extract) and the top-1 of the same architecture trained alone at the same recipe
# (nas_retrain --op keep), and tabulates the rank agreement (supernet_ranking.py beside this script).
# Every step is resumable: finished runs are skipped, interrupted ones resume.
#
#   experiments/supernet_ranking/run_supernet_ranking.sh DATASET OUT_ROOT
# Environment: BIN (build/apps), SPACE (default | file), NAMED (mbv2-tiny; mbv2-micro for the
#   micro space), EPOCHS (5), LR (0.1), SANDWICH (4), LIMIT_TRAIN (0), VAL_SIZE (-1), RANDOM_COUNT (6),
#   THREADS (2), SEED (1), DATA_DIR, AUG (shiftaddaug), OUT_BASE (results/supernet/DATASET),
#   SUPERNET_FLAGS (more nas_train_supernet flags, e.g. "--op-weights shared"),
#   STANDALONE_SEEDS (SEED; more seeds train every architecture again under ROOT/standalone-seedS
#   with --seed S --split-seed SEED: the same training and validation images, another
#   initialisation and order; the table then ranks by the mean and reports the seed-to-seed tau).
#   Two instances with different STANDALONE_SEEDS may run at once (one per core): the shared
#   stages (supernet, extractions) run first, under a lock; each instance then trains only its seeds.
#   Instances with the same or overlapping seeds may also run at once: each standalone run is
#   trained under flock(1) on its DIR/.queue.lock (nas_retrain claims DIR/.run.lock itself), an instance skips
#   the runs another one is training and waits for them before it writes the table.
set -euo pipefail
dataset=${1:?usage: run_supernet_ranking.sh DATASET OUT_ROOT}
root=${2:?usage: run_supernet_ranking.sh DATASET OUT_ROOT}
bin=${BIN:-build/apps}
seed=${SEED:-1}
data=(--dataset "$dataset" --limit-train "${LIMIT_TRAIN:-0}" --val-size "${VAL_SIZE:--1}" --threads "${THREADS:-2}")
[[ -n ${DATA_DIR:-} ]] && data+=(--data-dir "$DATA_DIR")
recipe=(--epochs "${EPOCHS:-5}" --lr "${LR:-0.1}" --aug "${AUG:-shiftaddaug}")
mkdir -p "$root/archs"
# The shared stages (supernet, architecture files, extractions) run under a lock: two instances of
# this script with different STANDALONE_SEEDS (one per core) can run side by side; the second
# waits for them, then each trains only its own seeds.
exec 9> "$root/.shared-stages.lock"
flock 9

sn="$root/supernet"
if [[ ! -f $sn/result.json ]]; then
  resume=()
  [[ -f $sn/supernet.ckpt ]] && resume=(--resume)
  mkdir -p "$sn"
  echo "train $sn"
  # shellcheck disable=SC2086  # SUPERNET_FLAGS is a list of words
  "$bin/nas_train_supernet" --space "${SPACE:-default}" "${data[@]}" --seed "$seed" "${recipe[@]}" --sandwich "${SANDWICH:-4}" ${SUPERNET_FLAGS:-} \
    --out "$sn" "${resume[@]}" > "$sn/stdout.txt" 2> "$sn/stderr.txt"
fi

# The architectures: written once (the random ones from the seed), as ArchConfig files.
python3 - "$sn/space.json" "$root/archs" "${RANDOM_COUNT:-6}" "$seed" <<'PY'
import json, os, random, sys
space, out, count, seed = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def arch(pick, op_of, rng=None):
    stages = []
    for st in space["stages"]:
        d = pick(st["depths"])
        stages.append({"depth": d, "stride": st["stride"], "out_channels": st["out_channels"],
                       "blocks": [{"op": op_of(), "kernel": pick(st["kernels"]), "expand": pick(st["expands"])}
                                  for _ in range(d)]})
    return {"resolution": pick(space["resolutions"]), "in_channels": space["in_channels"],
            "num_classes": space["num_classes"], "width_mult": pick(space["widths"]), "stem": space["stem"],
            "stages": stages, "head": {"op": op_of() if space["head_channels"] else space["ops"][0],
                                       "channels": space["head_channels"], "classifier_op": space["classifier_op"]}}
for name, pick in (("largest", max), ("smallest", min)):
    for op in space["ops"]:
        path = f"{out}/{name}-{op}.json"
        if not os.path.exists(path):
            json.dump(arch(pick, lambda: op), open(path, "w"), indent=1)
rng = random.Random(seed)
for i in range(count):
    path = f"{out}/random{i}.json"
    a = arch(lambda xs: rng.choice(xs), lambda: rng.choice(space["ops"]))
    if not os.path.exists(path):
        json.dump(a, open(path, "w"), indent=1)
PY

targets=()
for f in "$root"/archs/*.json; do targets+=("file:$f"); done
# The named architecture with each MF op of the space.
for op in $(python3 -c 'import json, sys; print(" ".join(o for o in json.load(open(sys.argv[1]))["ops"] if o != "mult"))' "$sn/space.json"); do
  targets+=("name:${NAMED:-mbv2-tiny}:$op")
done
# key and nas_extract / nas_retrain architecture flags of target $1 (sets key, arch, retrain_arch).
describe_target() {
  local t=$1
  if [[ $t == file:* ]]; then
    local f=${t#file:}
    key=$(basename "$f" .json); arch=(--arch "$f"); retrain_arch=(--arch "$f" --op keep)
  else
    local rest=${t#name:} name op
    name=${rest%%:*}; op=${rest##*:}; key="$name-$op"; arch=(--arch "$name" --op "$op")
    retrain_arch=(--arch "$name" --op "$op")
  fi
}

# Every inherited subnet first (seconds each), still under the lock.
for t in "${targets[@]}"; do
  describe_target "$t"
  ex="$root/inherited/$key"
  if [[ ! -f $ex/result.json ]]; then
    echo "extract $key"
    "$bin/nas_extract" --supernet "$sn" "${arch[@]}" --threads "${THREADS:-2}" --out "$ex" > /dev/null
  fi
done
flock -u 9

held=()
for t in "${targets[@]}"; do
  describe_target "$t"
  for s in ${STANDALONE_SEEDS:-$seed}; do
    if [[ $s == "$seed" ]]; then
      st="$root/standalone/$key"; seeds=(--seed "$seed")
    else
      st="$root/standalone-seed$s/$key"; seeds=(--seed "$s" --split-seed "$seed")
    fi
    [[ -f $st/result.json ]] && continue
    mkdir -p "$st" 2>/dev/null || { echo "FAIL $st: cannot claim the run directory"; exit 1; }
    # DIR/.queue.lock, held by flock(1) while the command runs, shares the queue between instances
    # (not DIR/.run.lock: nas_retrain claims that itself, core/run_lock.h); under it: skip a run
    # finished meanwhile (76), resume one left unfinished, write the logs. 75: another holds it.
    rc=0
    # shellcheck disable=SC2016
    flock -n -E 75 "$st/.queue.lock" sh -c 'd=$1; shift; [ -f "$d/result.json" ] && exit 76
      [ -f "$d/checkpoint.pt" ] && set -- "$@" --resume
      exec "$@" >"$d/stdout.txt" 2>"$d/stderr.txt"' sh "$st" \
      "$bin/nas_retrain" "${retrain_arch[@]}" "${data[@]}" "${seeds[@]}" "${recipe[@]}" --out "$st" || rc=$?
    if ((rc == 75)); then echo "skip $key (seed $s): another instance is training it"; held+=("$st"); continue; fi
    if ((rc != 0 && rc != 76)); then echo "FAIL $st: $(tail -n 1 "$st/stderr.txt" 2>/dev/null)"; exit 1; fi
    ((rc == 76)) || echo "retrained $key (seed $s)"
  done
done
# The runs another instance was training: the table needs them.
for st in "${held[@]}"; do
  flock "$st/.queue.lock" true || { echo "FAIL $st: cannot wait for its run lock"; exit 1; }
  [[ -f $st/result.json ]] || { echo "FAIL $st: the instance that trained it stopped without a result (rerun this script)"; exit 1; }
done
"$([[ -x /usr/bin/python3 ]] && echo /usr/bin/python3 || echo python3)" "$(dirname "$0")/supernet_ranking.py" "$root" --dataset "$dataset" ${OUT_BASE:+--out-base "$OUT_BASE"}
