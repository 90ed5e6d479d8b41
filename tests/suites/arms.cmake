# Issue 34, items 1 and 4: the random and scaled baseline arms (workflow/baseline_arms.h,
# nas_arms) and --budget-from-baseline (cli/energy_flags.h). Seconds each.
nas_add_test(test_arms LIBS nas_baseline_arms nas_energy_flags)

find_program(NAS_ARMS_PYTHON3 python3)
if(TARGET nas_arms AND NAS_ARMS_PYTHON3)
  set(arms $<TARGET_FILE:nas_arms>)
  set(arms_dir ${CMAKE_CURRENT_BINARY_DIR}/arms)
  set(arms_space ${PROJECT_SOURCE_DIR}/results/supernet/space-fmnist-micro-shift.json)
  # A pareto.json of an arm: its objective, K distinct keys in the space's file, energy ascending,
  # each within the budget, predicted top-1 0.
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/arms_check.py "import json,sys
p=json.load(open(sys.argv[1])); k=int(sys.argv[3])
pts=p['points']; e=[q['energy_mj'] for q in pts]
assert p['objective']==sys.argv[2] and len(pts)==k, (p['objective'], len(pts))
assert len({q['key'] for q in pts})==k and e==sorted(e) and all(x<=p['budget_mj'] for x in e), e
assert all(q['predicted_top1']==0 for q in pts) and p['search']['arm']==sys.argv[2]
print('ARM_OK', p['objective'], k, p['search'].get('choice', ''))
")

  # random: three draws within mbv2-micro's exact energy; the same seed, the same points; another
  # seed, others.
  add_test(NAME arms_cli.random COMMAND sh -c "
    set -e; rm -rf ${arms_dir}/random*
    ${arms} --arm random --space ${arms_space} --budget-from-baseline mbv2-micro --count 3 --seed 4 --out ${arms_dir}/random 2>&1 | grep -E 'budget|within|wrote'
    ${NAS_ARMS_PYTHON3} ${CMAKE_CURRENT_BINARY_DIR}/arms_check.py ${arms_dir}/random/pareto.json random 3
    ${arms} --arm random --space ${arms_space} --budget-from-baseline mbv2-micro --count 3 --seed 4 --out ${arms_dir}/random_again >/dev/null 2>&1
    ${arms} --arm random --space ${arms_space} --budget-from-baseline mbv2-micro --count 3 --seed 5 --out ${arms_dir}/random_other >/dev/null 2>&1
    ${NAS_ARMS_PYTHON3} -c \"import json,sys
k=lambda d: [q['key'] for q in json.load(open('${arms_dir}/'+d+'/pareto.json'))['points']]
print('SAME_SEED', k('random')==k('random_again'), 'OTHER_SEED', k('random')==k('random_other'))\"")
  set_tests_properties(arms_cli.random PROPERTIES
    PASS_REGULAR_EXPRESSION "nas_arms: budget [0-9.]+ uJ: the exact energy of mbv2-micro:shift \\(in the space\\)\nnas_arms: 3 architectures within [0-9.]+ uJ in [0-9]+ draws[^\n]*\nnas_arms: wrote [^\n]*random/pareto.json \\(3 random point\\(s\\); the budget [0-9.]+ uJ binds[^\n]*\nARM_OK random 3 \nSAME_SEED True OTHER_SEED False"
    TIMEOUT 60 LABELS cli)

  # scaled: mbv2-micro with the space's shift op (39.86 uJ at 28x28) scaled to 35 uJ: no member at
  # resolution 28 fits (even one block shallower), so resolution 24 at the largest width and depth
  # step that fit there: w0.25, its own depths (7 of the 18 members fit).
  add_test(NAME arms_cli.scaled COMMAND sh -c "
    set -e; rm -rf ${arms_dir}/scaled
    ${arms} --arm scaled --space ${arms_space} --budget 35uJ --out ${arms_dir}/scaled 2>&1 | grep -E 'scaled to|wrote'
    ${NAS_ARMS_PYTHON3} ${CMAKE_CURRENT_BINARY_DIR}/arms_check.py ${arms_dir}/scaled/pareto.json scaled 1")
  set_tests_properties(arms_cli.scaled PROPERTIES
    PASS_REGULAR_EXPRESSION "nas_arms: mbv2-micro:shift scaled to 35 uJ: r24 w0\\.25 depth 0 \\(7 of 18 members of the space fit\\)\n[^\n]*wrote [^\n]*scaled/pareto.json \\(1 scaled point\\(s\\)[^\n]*\nARM_OK scaled 1 {'depth_step': 0, 'resolution': 24, 'width_mult': 0\\.25}"
    TIMEOUT 60 LABELS cli)

  # nas_retrain --pareto ... --all takes an arm's file as it takes a search's.
  set(arms_fm /usr/share/datasets/fashion-mnist)
  if(TARGET nas_retrain)
    add_test(NAME arms_cli.retrain_scaled COMMAND sh -c "
      if [ ! -f ${arms_fm}/train-images-idx3-ubyte.gz ] && [ ! -f ${arms_fm}/train-images-idx3-ubyte ]; then echo 'SKIPPED: Fashion-MNIST is not installed'; exit 0; fi
      set -e; rm -rf ${arms_dir}/scaled_retrain ${arms_dir}/scaled_for_retrain
      ${arms} --arm scaled --space ${arms_space} --budget 35uJ --out ${arms_dir}/scaled_for_retrain >/dev/null 2>&1
      $<TARGET_FILE:nas_retrain> --pareto ${arms_dir}/scaled_for_retrain/pareto.json --all --epochs 1 --limit-train 192 --val-size 64 --batch-size 64 --limit-test 64 --threads 1 --out ${arms_dir}/scaled_retrain 2>/dev/null | grep -E '^nas_retrain: retrained'
      ls ${arms_dir}/scaled_retrain")
    set_tests_properties(arms_cli.retrain_scaled PROPERTIES
      PASS_REGULAR_EXPRESSION "nas_retrain: retrained 1 point\\(s\\) of [^\n]*scaled_for_retrain/pareto.json[^\n]*\n.*point-00\nretrain_summary.json"
      SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 120 LABELS cli)
  endif()

  # Errors: one line, non-zero exit.
  nas_cli_fail_test(arms_cli.random_below_space
    "nas_arms: error: budget 1 uJ is below the cheapest architecture of the space \\(shift: [0-9.]+ uJ\\)"
    ${arms} --arm random --space ${arms_space} --budget 1uJ --count 2 --out ${arms_dir}/below)
  nas_cli_fail_test(arms_cli.scaled_below_smallest
    "nas_arms: error: scaled arm: the smallest mbv2-micro:shift of the space \\(r20 w0\\.25 depth -1, [0-9.]+ uJ\\) exceeds the budget 1 uJ"
    ${arms} --arm scaled --space ${arms_space} --budget 1uJ --out ${arms_dir}/below)
  nas_cli_fail_test(arms_cli.random_too_few
    "nas_arms: error: random arm: [0-9]+ of 500 distinct architectures within the budget 35 uJ found in 20 draws [^\n]*: lower --count or raise --max-draws"
    ${arms} --arm random --space ${arms_space} --budget 35uJ --count 500 --max-draws 20 --out ${arms_dir}/few)
  nas_cli_fail_test(arms_cli.no_count "nas_arms: error: --arm random needs --count K"
    ${arms} --arm random --space ${arms_space} --budget 35uJ --out ${arms_dir}/bad)
  nas_cli_fail_test(arms_cli.count_for_scaled "nas_arms: error: --count is for --arm random"
    ${arms} --arm scaled --space ${arms_space} --budget 35uJ --count 2 --out ${arms_dir}/bad)
  nas_cli_fail_test(arms_cli.two_budgets "nas_arms: error: give at most one of --budget and --budget-from-baseline"
    ${arms} --arm scaled --space ${arms_space} --budget 35uJ --budget-from-baseline mbv2-micro --out ${arms_dir}/bad)
  nas_cli_fail_test(arms_cli.no_budget "nas_arms: error: an arm needs a budget: give --budget or --budget-from-baseline"
    ${arms} --arm scaled --space ${arms_space} --out ${arms_dir}/bad)
  nas_cli_fail_test(arms_cli.bad_arm "nas_arms: error: --arm must be random or scaled, got 'best'"
    ${arms} --arm best --space ${arms_space} --budget 35uJ --out ${arms_dir}/bad)
  nas_cli_fail_test(arms_cli.unknown_baseline "nas_arms: error: --budget-from-baseline: unknown architecture 'resnet'"
    ${arms} --arm scaled --space ${arms_space} --budget-from-baseline resnet --out ${arms_dir}/bad)
  # An output never replaces an input: a space file named pareto.json inside --out.
  nas_cli_fail_test(arms_cli.baseline_needs_op
    "nas_arms: error: --baseline: baseline 'mbv2-micro': the space has several ops: name the op: mbv2-micro:shift or mbv2-micro:add"
    ${arms} --arm scaled --space ${PROJECT_SOURCE_DIR}/results/supernet/space-fmnist-micro.json --budget 35uJ --out ${arms_dir}/bad)
  nas_cli_fail_test(arms_cli.out_is_input "nas_arms: error: [^\n]*--out[^\n]*--space"
    sh -c "mkdir -p ${arms_dir}/in && cp ${arms_space} ${arms_dir}/in/pareto.json && ${arms} --arm scaled --space ${arms_dir}/in/pareto.json --budget 35uJ --out ${arms_dir}/in")
  nas_cli_test(arms_cli.help "--arm.*--space.*--supernet.*--budget.*--budget-from-baseline.*--energy-model.*--count.*--max-draws.*--baseline.*--seed.*--out"
    ${arms} --help)
endif()

# nas_search --budget-from-baseline: its pareto.json's budget is bit for bit the one nas_arms
# computes for the same space (the search's space, read back from its pareto.json), every point
# within it.
if(TARGET nas_arms AND TARGET nas_search AND TARGET bench_search AND NAS_ARMS_PYTHON3)
  set(arms_search ${CMAKE_CURRENT_BINARY_DIR}/arms_search)
  add_test(NAME arms_cli.search_budget_from_baseline COMMAND sh -c "
    set -e; rm -rf ${arms_search}; mkdir -p ${arms_search}
    $<TARGET_FILE:nas_search> --predictor ${CMAKE_CURRENT_BINARY_DIR}/search_cli/synthetic.pt --budget-from-baseline mbv2-micro:shift --population 8 --generations 2 --threads 1 --out ${arms_search}/search 2>&1 | grep -E 'exact energy|architectures on the front'
    ${NAS_ARMS_PYTHON3} -c \"import json; json.dump(json.load(open('${arms_search}/search/pareto.json'))['space'], open('${arms_search}/space.json','w'))\"
    $<TARGET_FILE:nas_arms> --arm random --space ${arms_search}/space.json --budget-from-baseline mbv2-micro:shift --count 1 --out ${arms_search}/random >/dev/null 2>&1
    ${NAS_ARMS_PYTHON3} -c \"import json
s=json.load(open('${arms_search}/search/pareto.json')); r=json.load(open('${arms_search}/random/pareto.json'))
assert all(p['energy_mj']<=s['budget_mj'] for p in s['points'])
print('SAME_BUDGET', s['budget_mj']==r['budget_mj'], s['search']['budget']['from'], s['search']['budget']['baseline']['energy_mj']==s['budget_mj'])\"")
  set_tests_properties(arms_cli.search_budget_from_baseline PROPERTIES
    FIXTURES_REQUIRED search_predictor
    PASS_REGULAR_EXPRESSION "nas_search: budget [0-9.]+ uJ: the exact energy of mbv2-micro:shift \\((not )?in the space[^\n]*\\)\n[^\n]*architectures on the front \\([^\n]*; the exact energy of mbv2-micro:shift[^\n]*\nSAME_BUDGET True --budget-from-baseline True"
    TIMEOUT 120 LABELS cli)
endif()

# scripts/pipeline.sh: --budget-from-baseline goes to nas_search and nas_arms; the random arm
# draws as many architectures as the searched points retrained (--spread 5 in the dry run), and
# both arms are retrained with the searched points' flags; --no-arms skips them; the two budget
# flags exclude each other. Nothing is run.
add_test(NAME arms_cli.pipeline_dry_run COMMAND sh -c "
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset full --dataset cifar10 --data-dir /nonexistent --budget-from-baseline mbv2-micro:shift \
    --seeds 1,2 --init supernet --out ${CMAKE_CURRENT_BINARY_DIR}/arms_dry --dry-run 2>&1 && \
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset smoke --budget 35uJ --no-arms --out ${CMAKE_CURRENT_BINARY_DIR}/arms_dry2 --dry-run 2>&1 | grep -E 'stage [67]/8' && \
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset smoke --budget 35uJ --budget-from-baseline mbv2-micro --out ${CMAKE_CURRENT_BINARY_DIR}/arms_dry3 --dry-run 2>&1; \
  test ! -e ${CMAKE_CURRENT_BINARY_DIR}/arms_dry && echo NOTHING_WRITTEN")
set_tests_properties(arms_cli.pipeline_dry_run PROPERTIES
  PASS_REGULAR_EXPRESSION "stage 4/8 search under the energy of mbv2-micro:shift[^\n]*\n[^\n]*nas_search --supernet [^ ]*/arms_dry/supernet --budget-from-baseline mbv2-micro:shift [^\n]*\n.*nas_retrain --pareto [^ ]*/arms_dry/search/pareto.json --spread 5 --dataset cifar10 [^\n]*--epochs 30 --lr 0\\.2 --init supernet --aug auto --seed 1 --threads [0-9]+ --out [^ ]*/arms_dry/retrain --seeds 1,2\n[^\n]*stage 6/8 random arm \\(5 architecture\\(s\\)[^\n]*\n[^\n]*nas_arms --arm random --supernet [^ ]*/arms_dry/supernet --budget-from-baseline mbv2-micro:shift --count 5 --seed 1 --out [^ ]*/arms_dry/arms/random\n[^\n]*nas_retrain --pareto [^ ]*/arms_dry/arms/random/pareto.json --all --dataset cifar10 [^\n]*--epochs 30 --lr 0\\.2 --init supernet --aug auto --seed 1 --threads [0-9]+ --out [^ ]*/arms_dry/arms/random/retrain --seeds 1,2\n[^\n]*stage 7/8 scaled arm \\(mbv2-micro scaled to the budget\\)[^\n]*\n[^\n]*nas_arms --arm scaled --supernet [^ ]*/arms_dry/supernet --budget-from-baseline mbv2-micro:shift --out [^ ]*/arms_dry/arms/scaled\n[^\n]*nas_retrain --pareto [^ ]*/arms_dry/arms/scaled/pareto.json --all [^\n]*--out [^ ]*/arms_dry/arms/scaled/retrain --seeds 1,2\n[^\n]*stage 8/8 report.*dry run: nothing was run\n[^\n]*stage 6/8 random arm: skipped \\(--no-arms\\)[^\n]*\n[^\n]*stage 7/8 scaled arm: skipped \\(--no-arms\\)[^\n]*\npipeline.sh: error: give at most one of --budget and --budget-from-baseline\nNOTHING_WRITTEN"
  LABELS cli)

# An arm nas_arms cannot build is a note, and the pipeline goes on: at 19 uJ the random arm
# finds an architecture of the micro space (17.93 uJ and up) but no scaled mbv2-micro fits (its
# smallest member is 20.77 uJ). Seconds (the smoke preset); skipped without Fashion-MNIST.
if(TARGET nas_arms AND TARGET nas_report AND TARGET nas_retrain AND TARGET nas_search)
  set(arms_note ${CMAKE_CURRENT_BINARY_DIR}/arms_pipeline_note)
  add_test(NAME arms_cli.pipeline_scaled_arm_note COMMAND sh -c "
    if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then echo 'SKIPPED: Fashion-MNIST is not installed'; exit 0; fi
    rm -rf ${arms_note} && ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset smoke --budget 19uJ --out ${arms_note} --threads 1 \
      --bin $<TARGET_FILE_DIR:nas_search> 2>&1 | grep -E '^\\[.*stage [678]|note: no|arms: wrote|pipeline.sh: done' && \
    ls ${arms_note}/arms/random/retrain/retrain_summary.json && test ! -e ${arms_note}/arms/scaled/pareto.json && echo NO_SCALED_FILE")
  set_tests_properties(arms_cli.pipeline_scaled_arm_note PROPERTIES
    PASS_REGULAR_EXPRESSION "stage 6/8 random arm \\(1 architecture\\(s\\)[^\n]*\nnas_arms: wrote [^\n]*arms/random/pareto.json \\(1 random point[^\n]*\n[^\n]*stage 7/8 scaled arm[^\n]*\npipeline.sh: note: no scaled arm: nas_arms: error: scaled arm: the smallest mbv2-micro:shift of the space \\(r20 w0\\.25 depth -1, 20\\.77 uJ\\) exceeds the budget 19 uJ\n[^\n]*stage 8/8 report[^\n]*\npipeline.sh: done in [0-9]+ s[^\n]*\n[^\n]*arms/random/retrain/retrain_summary.json\nNO_SCALED_FILE"
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 300 LABELS cli)
endif()
