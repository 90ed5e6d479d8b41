#!/usr/bin/env bash
# The whole job in one command (issue 11): supernet training -> accuracy data set -> predictor ->
# search under a budget -> retraining of the top points -> the random and scaled baseline arms,
# retrained the same way (issue 34) -> Pareto report.
#
#   scripts/pipeline.sh --preset quick|full|smoke --budget 35uJ|--budget-from-baseline NAME[:OP] --out DIR
#                       [--dataset fashion-mnist|mnist|cifar10|cifar100|folder] [--data-dir D]
#                       (folder: a user's images, D/train/<class>/*.png|jpg and D/test/...)
#                       [--threads N] [--bin build/apps]
#                       [--init scratch|supernet]   (retraining: from scratch, or from the
#                                                    supernet's inherited weights)
#                       [--aug auto|shiftaddaug|none] (retraining recipe; auto: the rule of
#                                                    docs/DESIGN.md, from the committed evidence)
#                       [--seeds 1,2]               (retrain every point once per seed: the report
#                                                    gives mean +- std over them)
#                       [--retrain-jobs N]          (retrain N points at once, one process each;
#                                                    e.g. 2 on a 2-core machine with --threads 1;
#                                                    quick: 2 by default where there are 2 cores)
#                       [--budget-from-baseline NAME[:OP]] (instead of --budget: the budget is that
#                                                    hand-made network's exact energy, e.g.
#                                                    mbv2-micro:shift; nas_search --help)
#                       [--scaled-baseline NAME[:OP]] (the hand-made network of the scaled arm;
#                                                    default mbv2-micro with the space's op; a
#                                                    space of several ops needs NAME:OP)
#                       [--no-arms]                 (skip the random and scaled arms)
#                       [--dry-run]                 (print every stage's command, run nothing)
#
# Layout of DIR: supernet/ (with predictor.pt), acc.jsonl, search/pareto.json, retrain/ (the
# searched points, retrain_summary.json), arms/random/pareto.json + arms/random/retrain/ (K
# architectures drawn from the space within the budget, K = the number of retrained searched
# points, seed 1), arms/scaled/pareto.json + arms/scaled/retrain/ (the hand-made network scaled
# to the budget: workflow/baseline_arms.h), report.{json,md,svg,png}, pipeline.log. The arms are
# retrained with exactly the searched points' flags (recipe, --init, --aug, --seeds); an arm
# that cannot be built (e.g. no scaled member within the budget) is a note, not a failure.
#
# Every stage is resumable: rerunning the same command continues where it stopped (finished
# stages are skipped, an interrupted one resumes from its own checkpoint or file).
# Presets (2-core CPU figures; the supernet stage dominates):
#   quick   <= 30 min on Fashion-MNIST: supernet 6 epochs on 11,000 images (sandwich 3), 300
#           subnets for the predictor, search 100 x 200, retrain 2 points spread over the front,
#           2 random architectures and the scaled mbv2-micro for 10 epochs on the whole split
#           (lr 0.2, 2 processes where there are 2 cores). Every number in the report is real.
#   full    hours (Fashion-MNIST: 1 h 47 min on 2 cores, results/nas/fashion-mnist/): the
#           supernet with the recipe whose ranking issue 9 measured (20 epochs on 10,000
#           training + 5,000 validation images, sandwich 4, lr 0.05, in-place distillation:
#           results/supernet/fashion-mnist.md), 1,000 subnets, search 100 x 500,
#           retrain 5 points spread over the front on the whole split with the recipe of the
#           hand-made baselines (Fashion-MNIST 15 epochs at lr 0.1, CIFAR-10 30 epochs at lr 0.2),
#           which the report compares against (results/shiftaddaug/DATASET.json unless
#           --baselines is given). Use --retrain-jobs 2 on a 2-core machine.
#   smoke   a few steps per stage (the CLI smoke test; numbers meaningless).
# The space (--space FILE to use another): quick and smoke search the shift-only micro space
# (results/supernet/space-<dataset>-micro-shift.json: a mixed supernet needs more steps than the
# quick budget; MNIST uses Fashion-MNIST's, CIFAR-100 and an image folder CIFAR-10's adapted to
# their channels and classes by nas_dataset_info, written to DIR/space.json; an image folder is
# decoded at the space's largest resolution, 32). full searches shift or add per block on
# Fashion-MNIST (space-fmnist-micro.json,
# the space of issue 9's ranking measurement) and the shift-only space on CIFAR-10, where the two
# ops' learning rates chosen on the validation split are 8x apart (AddAug 0.025, ShiftAug 0.2) and
# one retraining recipe cannot serve both.
set -euo pipefail

preset=quick dataset=fashion-mnist data_dir="" budget="" budget_baseline="" scaled_baseline="" arms=1 out="" threads=0 bin=build/apps space="" baselines="" init=scratch aug=auto seeds="" retrain_jobs="" dry_run=0
root=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --preset) preset=$2; shift 2 ;;
    --dataset) dataset=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --budget-from-baseline) budget_baseline=$2; shift 2 ;;
    --scaled-baseline) scaled_baseline=$2; shift 2 ;;
    --no-arms) arms=0; shift ;;
    --out) out=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --space) space=$2; shift 2 ;;
    --baselines) baselines=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --retrain-jobs) retrain_jobs=$2; shift 2 ;;
    --aug) aug=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "pipeline.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n $out ]] || { echo "pipeline.sh: error: --out DIR is required" >&2; exit 2; }
# quick: the retraining is most of its time; one process per core unless told otherwise.
if [[ -z $retrain_jobs ]]; then
  retrain_jobs=1
  if [[ $preset == quick ]] && (( $(nproc) >= 2 )); then retrain_jobs=2; fi
fi
[[ $retrain_jobs =~ ^[1-9][0-9]?$ ]] || { echo "pipeline.sh: error: --retrain-jobs must be 1..99, got '$retrain_jobs'" >&2; exit 2; }
[[ $aug == auto || $aug == shiftaddaug || $aug == none ]] || { echo "pipeline.sh: error: --aug must be auto, shiftaddaug or none, got '$aug'" >&2; exit 2; }
[[ -n $budget || -n $budget_baseline ]] || { echo "pipeline.sh: error: --budget (e.g. 35uJ) or --budget-from-baseline NAME[:OP] is required" >&2; exit 2; }
[[ -z $budget || -z $budget_baseline ]] || { echo "pipeline.sh: error: give at most one of --budget and --budget-from-baseline" >&2; exit 2; }
if [[ -n $budget ]]; then budget_flags=(--budget "$budget") budget_text=$budget
else budget_flags=(--budget-from-baseline "$budget_baseline") budget_text="the energy of $budget_baseline"; fi
# Every data set the programs read. space_name: the committed space file it searches
# (results/supernet/space-NAME-micro-shift.json), or the one adapted to it (adapt=1).
adapt=0
case $dataset in
  fashion-mnist|mnist) space_name=fmnist ;;
  cifar10) space_name=cifar10 ;;
  cifar100|folder) space_name=cifar10 adapt=1 ;;
  *) echo "pipeline.sh: error: unknown --dataset '$dataset' (accepted: fashion-mnist, mnist, cifar10, cifar100, folder)" >&2; exit 2 ;;
esac
case $dataset in
  cifar10|cifar100) [[ -n $data_dir ]] || { echo "pipeline.sh: error: --dataset $dataset needs --data-dir (the folder of its binary files)" >&2; exit 2; } ;;
  folder) [[ -n $data_dir ]] || { echo "pipeline.sh: error: --dataset folder needs --data-dir ROOT (ROOT/train/<class>/*.png|jpg and ROOT/test/...)" >&2; exit 2; } ;;
esac
case $preset in
  quick) sn_flags=(--epochs 6 --limit-train 12100 --val-size 1100 --sandwich 3 --bn-batches 4)
         samples=300 acc_bn=4 search_flags=(--population 100 --generations 200) top=2
         # The retraining is the product's answer, so it gets the whole split (55,000 + 5,000
         # validation) and the direct Shift recipe's validation-chosen lr (results/shiftaddaug/
         # fashion-mnist.md: 0.2), for 10 epochs instead of the tables' 15 to stay in the time.
         rt_flags=(--epochs 10 --lr 0.2) pred_epochs=200 ;;
  full)  # The supernet recipe of issue 9's ranking measurement (lr 0.05: at 0.1 a 20-epoch run
         # diverged). The retraining recipe is that of the hand-made baselines of
         # results/shiftaddaug/DATASET.json (15 / 30 epochs on the whole split, ShiftAug's learning
         # rate chosen on the validation split), which the report then compares against.
         sn_flags=(--epochs 20 --limit-train 15000 --val-size 5000 --sandwich 4 --bn-batches 8 --lr 0.05)
         [[ $dataset == fashion-mnist ]] && space=${space:-$root/results/supernet/space-fmnist-micro.json}
         samples=1000 acc_bn=8 search_flags=(--population 100 --generations 500) top=5
         # CIFAR-10's recipe for CIFAR-100; Fashion-MNIST's for MNIST and an image folder (none tuned).
         if [[ $dataset == cifar10 || $dataset == cifar100 ]]; then rt_epochs=30 rt_lr=0.2; else rt_epochs=15 rt_lr=0.1; fi
         rt_flags=(--epochs "$rt_epochs" --lr "$rt_lr")
         pred_epochs=200
         # The hand-made baselines, when results/shiftaddaug/DATASET.json was trained for as many
         # epochs as the retraining (else the comparison would not be at the same recipe).
         if [[ -z $baselines ]]; then
           table=$root/results/shiftaddaug/$dataset.json
           table_epochs=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("epochs", ""))' "$table" 2>/dev/null || true)
           if [[ $table_epochs == "$rt_epochs" ]]; then baselines=$table
           else echo "pipeline.sh: note: $table is not at the retraining recipe (${table_epochs:-?} epochs, not $rt_epochs): no baselines unless --baselines is given" >&2; fi
         fi ;;
  smoke) sn_flags=(--epochs 1 --limit-train 448 --val-size 64 --sandwich 2 --bn-batches 1 --batch-size 64)
         samples=12 acc_bn=1 search_flags=(--population 8 --generations 3) top=1
         rt_flags=(--epochs 1 --limit-train 320 --val-size 64 --limit-test 128) pred_epochs=10 ;;
  *) echo "pipeline.sh: error: unknown --preset '$preset' (accepted: quick, full, smoke)" >&2; exit 2 ;;
esac
data_flags=(--dataset "$dataset")
[[ -n $data_dir ]] && data_flags+=(--data-dir "$data_dir")
((dry_run)) || mkdir -p "$out"
adapt_space=()
if [[ -z $space ]]; then
  space=$root/results/supernet/space-$space_name-micro-shift.json
  if ((adapt)); then
    adapt_space=("$bin/nas_dataset_info" "${data_flags[@]}" --space-template "$space" --space-out "$out/space.json")
    space=$out/space.json
  fi
fi
log=$out/pipeline.log
start=$(date +%s)
stage() {  # N NAME: a progress line per stage (stderr and the log)
  local line
  line="[$(date -u +%FT%TZ)] stage $1/8 $2 (elapsed $(( $(date +%s) - start )) s)"
  if ((dry_run)); then echo "$line" >&2; else echo "$line" | tee -a "$log" >&2; fi
}
run() {
  if ((dry_run)); then echo "+ $*"; return 0; fi
  echo "+ $*" >> "$log"; "$@"
}

# 1. supernet
stage 1 "supernet ($preset, $dataset)"
# The adapted space (CIFAR-100, an image folder): written once, so that a rerun resumes on it.
if ((${#adapt_space[@]})) && [[ ! -f $space ]]; then run "${adapt_space[@]}"; fi
if [[ ! -f $out/supernet/result.json ]]; then
  resume=(); [[ -f $out/supernet/supernet.ckpt ]] && resume=(--resume)
  run "$bin/nas_train_supernet" "${data_flags[@]}" --space "$space" "${sn_flags[@]}" --threads "$threads" \
    --seed 1 --out "$out/supernet" "${resume[@]}"
fi
# 2. accuracy data set (resumes line by line)
stage 2 "accuracy data set ($samples subnets)"
run "$bin/nas_build_acc_dataset" --supernet "$out/supernet" --samples "$samples" --bn-batches "$acc_bn" \
  --seed 1 --threads "$threads" --out "$out/acc.jsonl" --resume
# 3. predictor
stage 3 "accuracy predictor"
if [[ ! -f $out/supernet/predictor.pt ]]; then
  run "$bin/nas_train_predictor" --data "$out/acc.jsonl" --epochs "$pred_epochs" --seed 1 --threads "$threads" \
    --out "$out/supernet/predictor.pt"
fi
# 4. search
stage 4 "search under $budget_text"
if [[ ! -f $out/search/pareto.json ]]; then
  resume=(); [[ -f $out/search/search_state.json ]] && resume=(--resume)
  run "$bin/nas_search" --supernet "$out/supernet" "${budget_flags[@]}" "${search_flags[@]}" --seed 1 \
    --threads "$threads" --out "$out/search" "${resume[@]}"
fi
# 5. retraining of the top points (finished points are skipped, an interrupted one resumes)
stage 5 "retraining of $top points spread over the front (--aug $aug)"
# N processes share the cores: --threads 0 (every core) becomes cores / N each.
retrain_threads=$threads
if ((retrain_jobs > 1 && threads == 0)); then
  retrain_threads=$(( $(nproc) / retrain_jobs )); ((retrain_threads >= 1)) || retrain_threads=1
fi
# The recipe every retrained set shares: the searched points and both arms.
recipe=("${data_flags[@]}" "${rt_flags[@]}" --init "$init" --aug "$aug" --seed 1 --threads "$retrain_threads")
seed_flags=(); [[ -n $seeds ]] && seed_flags=(--seeds "$seeds")
retrain_set() {  # OUT_DIR SELECTION_ARGS...: one set into OUT_DIR, in retrain_jobs processes
  local prefix=$1; shift
  local retrain=("$bin/nas_retrain" "$@" "${recipe[@]}" --out "$prefix" "${seed_flags[@]}")
  if ((retrain_jobs == 1)); then
    run "${retrain[@]}"
    return
  elif ((dry_run)); then
    run "${retrain[@]}"
    echo "  (x $retrain_jobs processes at once, sharing the points)"
    return
  fi
  # N processes share the points (nas_retrain claims each point's directory); each one's
  # messages go to its own log. Background jobs of a script ignore SIGINT: an interrupted
  # pipeline stops them itself, so that no orphan keeps training (and holding its point).
  local pids=() failed=0 logs=() j
  trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 130' INT TERM
  for ((j = 1; j <= retrain_jobs; ++j)); do
    echo "+ ${retrain[*]}  (process $j of $retrain_jobs, log $prefix-process$j.log)" >> "$log"
    "${retrain[@]}" > "$prefix-process$j.log" 2>&1 &
    pids+=($!)
  done
  for ((j = 0; j < retrain_jobs; ++j)); do
    wait "${pids[j]}" || { failed=1; echo "pipeline.sh: retraining process $((j + 1)) failed: $(tail -n 1 "$prefix-process$((j + 1)).log")" >&2; }
  done
  trap - INT TERM
  ((failed == 0)) || exit 1
  for ((j = 1; j <= retrain_jobs; ++j)); do logs+=("$prefix-process$j.log"); done
  grep -h '^nas_retrain: best on validation' "${logs[@]}" | tail -n 1
}
retrain_set "$out/retrain" --pareto "$out/search/pareto.json" --spread "$top"
# 6-7. the baseline arms: a pareto.json each (nas_arms), retrained like the searched points. An
# arm nas_arms cannot build is a note (its line), and the report goes on without it.
arm_stage() {  # NAME NAS_ARMS_ARGS...
  local name=$1; shift
  local dir=$out/arms/$name
  if [[ ! -f $dir/pareto.json ]]; then
    if ((dry_run)); then run "$bin/nas_arms" --arm "$name" "$@" --out "$dir"
    else
      echo "+ $bin/nas_arms --arm $name $* --out $dir" >> "$log"
      local msg
      if ! msg=$("$bin/nas_arms" --arm "$name" "$@" --out "$dir" 2>&1); then
        echo "pipeline.sh: note: no $name arm: $(tail -n 1 <<< "$msg")" | tee -a "$log" >&2
        return 0
      fi
      echo "$msg" | tail -n 1
    fi
  fi
  retrain_set "$dir/retrain" --pareto "$dir/pareto.json" --all
}
arm_flags=(--supernet "$out/supernet" "${budget_flags[@]}")
if ((arms)); then
  # K: the searched points actually retrained (the front may hold fewer than --spread asks).
  count=$top
  if ((!dry_run)) && [[ -f $out/retrain/retrain_summary.json ]]; then
    count=$(tr -d ' \n' < "$out/retrain/retrain_summary.json" | grep -o '"selected":\[[^]]*\]' | grep -o '"point_index"' | wc -l)
    ((count >= 1)) || count=$top
  fi
  stage 6 "random arm ($count architecture(s) drawn within the budget)"
  arm_stage random "${arm_flags[@]}" --count "$count" --seed 1
  stage 7 "scaled arm (${scaled_baseline:-mbv2-micro} scaled to the budget)"
  scaled=(); [[ -n $scaled_baseline ]] && scaled=(--baseline "$scaled_baseline")
  arm_stage scaled "${arm_flags[@]}" "${scaled[@]}"
else
  stage 6 "random arm: skipped (--no-arms)"
  stage 7 "scaled arm: skipped (--no-arms)"
fi
# 8. report
stage 8 "report"
report_flags=(--search "$out/search" --retrain "$out/retrain" --out "$out/report.json" --svg "$out/report.svg")
[[ -n $baselines ]] && report_flags+=(--baselines "$baselines")
# The arms, where this nas_report takes them (its --help lists --random) and they were retrained.
report_help=$("$bin/nas_report" --help 2>/dev/null || true)
if ((arms)) && [[ $report_help == *--random* ]]; then
  for name in random scaled; do
    if ((dry_run)) || [[ -f $out/arms/$name/retrain/retrain_summary.json ]]; then report_flags+=("--$name" "$out/arms/$name/retrain"); fi
  done
fi
# The PNG plot needs python3 with matplotlib (scripts/plot_report.py, run by nas_report with
# $NAS_PYTHON, else /usr/bin/python3); the SVG does not.
report_python=${NAS_PYTHON:-/usr/bin/python3}
if "$report_python" -c 'import matplotlib' 2>/dev/null; then report_flags+=(--plot "$out/report.png")
else echo "pipeline.sh: note: $report_python with matplotlib not found: report.svg only (no report.png)" >&2; fi
NAS_SCRIPTS_DIR=$root/scripts run "$bin/nas_report" "${report_flags[@]}"
if ((dry_run)); then echo "pipeline.sh: dry run: nothing was run"; exit 0; fi
echo "pipeline.sh: done in $(( $(date +%s) - start )) s: $out/report.json, $out/report.md, $out/report.svg$([[ -f $out/report.png ]] && echo ", $out/report.png")" | tee -a "$log"
