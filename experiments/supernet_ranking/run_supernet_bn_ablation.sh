#!/bin/bash
# Per-op BN or one shared BN in the shift/add supernet? Trains the same supernet twice (default:
# one BN per op; --shared-bn), then extracts the same subnets from each (mbv2-micro with shift and
# with add, the space's largest and smallest with each op) and tabulates their inherited
# validation top-1. Resumable: finished supernets and extractions are skipped.
#
#   experiments/supernet_ranking/run_supernet_bn_ablation.sh OUT_ROOT [extra nas_train_supernet flags...]
# Environment: BIN (build/apps), SPACE (results/supernet/space-fmnist-micro.json), EPOCHS (3),
#   LIMIT_TRAIN (11000), VAL_SIZE (1100), SANDWICH (2), THREADS (2), SEED (1).
set -euo pipefail
root=${1:?usage: run_supernet_bn_ablation.sh OUT_ROOT [flags...]}
shift
bin=${BIN:-build/apps}
space=${SPACE:-results/supernet/space-fmnist-micro.json}
common=(--space "$space" --dataset fashion-mnist --epochs "${EPOCHS:-3}" --limit-train "${LIMIT_TRAIN:-11000}"
        --val-size "${VAL_SIZE:-1100}" --sandwich "${SANDWICH:-2}" --threads "${THREADS:-2}" --seed "${SEED:-1}")
mkdir -p "$root"
python3 - "$space" "$root" <<'PY'
import json, sys
space = json.load(open(sys.argv[1]))
def extreme(pick, op):
    stages = []
    for st in space["stages"]:
        d = pick(st["depths"])
        stages.append({"depth": d, "stride": st["stride"], "out_channels": st["out_channels"],
                       "blocks": [{"op": op, "kernel": pick(st["kernels"]), "expand": pick(st["expands"])}] * d})
    return {"resolution": pick(space["resolutions"]), "in_channels": space["in_channels"],
            "num_classes": space["num_classes"], "width_mult": pick(space["widths"]),
            "stem": space["stem"], "stages": stages,
            "head": {"op": op, "channels": space["head_channels"], "classifier_op": space["classifier_op"]}}
for name, pick in (("largest", max), ("smallest", min)):
    for op in space["ops"]:
        json.dump(extreme(pick, op), open(f"{sys.argv[2]}/{name}-{op}.json", "w"), indent=1)
PY
for mode in per-op shared; do
  dir="$root/supernet-$mode"
  flags=("${common[@]}" "$@")
  [[ $mode == shared ]] && flags+=(--shared-bn)
  if [[ ! -f $dir/result.json ]]; then
    resume=()
    [[ -f $dir/supernet.ckpt ]] && resume=(--resume)
    echo "train $dir"
    "$bin/nas_train_supernet" "${flags[@]}" --out "$dir" "${resume[@]}" > "$dir.stdout" 2> "$dir.stderr" || {
      echo "FAIL $dir: $(tail -n 1 "$dir.stderr")"; exit 1; }
  fi
  for target in mbv2-micro:shift mbv2-micro:add largest-shift largest-add smallest-shift smallest-add; do
    out="$dir/extract-${target/:/-}"
    [[ -f $out/result.json ]] && continue
    if [[ $target == *:* ]]; then
      arch=(--arch "${target%%:*}" --op "${target##*:}")
    else
      arch=(--arch "$root/$target.json")
    fi
    "$bin/nas_extract" --supernet "$dir" "${arch[@]}" --threads "${THREADS:-2}" --out "$out" > /dev/null
  done
done
python3 - "$root" <<'PY'
import json, glob, os, sys
root = sys.argv[1]
rows = {}
for p in sorted(glob.glob(f"{root}/supernet-*/extract-*/result.json")):
    mode = p.split("/")[-3].replace("supernet-", "")
    target = p.split("/")[-2].replace("extract-", "")
    rows.setdefault(target, {})[mode] = json.load(open(p))["inherited_val_top1"]
lines = ["| subnet | per-op BN val top-1 (%) | shared BN val top-1 (%) |", "|---|---|---|"]
for target, v in rows.items():
    lines.append(f"| {target} | {v.get('per-op', float('nan')):.2f} | {v.get('shared', float('nan')):.2f} |")
open(f"{root}/bn-ablation.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
