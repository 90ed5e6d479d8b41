# Issue 34, item 2: nas_retrain --pareto --seeds (one run per point and seed, mean / std over the
# seeds in the summary) and the report's means over seeds. Seconds; skipped without Fashion-MNIST.
find_program(NAS_SEEDS_PYTHON3 python3)
if(TARGET nas_retrain AND TARGET nas_report AND NAS_SEEDS_PYTHON3)
  set(seeds_dir ${CMAKE_CURRENT_BINARY_DIR}/seeds)
  set(seeds_search ${NAS_TEST_DATA}/report/search)
  set(seeds_fm /usr/share/datasets/fashion-mnist)
  set(seeds_key "r20.i1.n10.w0.25|stem:m.k3.s1.c32|s1.c16:a3e1|s1.c24:a3e3|s2.c32:a3e3-a3e3|s2.c64:a3e3-a3e3|s1.c96:a3e3-a3e3|s2.c160:a3e3-a3e3|s1.c320:a3e3|head:a.c1280.fc:m")
  set(seeds_run $<TARGET_FILE:nas_retrain> --pareto ${seeds_search}/pareto.json --keys '${seeds_key}' --seeds 1,2
      --epochs 1 --limit-train 192 --val-size 64 --batch-size 64 --limit-test 64 --threads 1 --out ${seeds_dir}/run)
  string(REPLACE ";" " " seeds_run_text "${seeds_run}")
  # The summary's points must be the mean / sample std of its runs, per key; every seed shares
  # the first seed's split.
  set(seeds_check "import json,statistics,sys
s=json.load(open(sys.argv[1]))
runs=[r for r in s['runs']]
p=s['points'][0]
t=[r['test_top1'] for r in runs]; v=[r['val_top1'] for r in runs]
assert [r['seed'] for r in runs]==[1,2] and p['seeds']==[1,2] and s['seeds']==[1,2], s
assert abs(p['test_top1_mean']-statistics.mean(t))<1e-9 and abs(p['test_top1_std']-statistics.stdev(t))<1e-9, p
assert abs(p['val_top1_mean']-statistics.mean(v))<1e-9 and abs(p['val_top1_std']-statistics.stdev(v))<1e-9, p
best=max(runs,key=lambda r:r['val_top1'])
assert s['best_by_val']['dir']==best['dir'] and s['best_by_val']['seeds']==2, s['best_by_val']
for d in ('point-00-seed1','point-00-seed2'):
  c=json.load(open(sys.argv[2]+'/'+d+'/config.json'))
  assert c['data']['split_seed']==1 and c['trainer']['seed']==int(d[-1]), c['data']
print('SUMMARY_OK')")
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/seeds_check.py "${seeds_check}\n")
  add_test(NAME seeds_cli.pareto_two_seeds COMMAND sh -c "
    if [ ! -f ${seeds_fm}/train-images-idx3-ubyte.gz ] && [ ! -f ${seeds_fm}/train-images-idx3-ubyte ]; then echo 'SKIPPED: Fashion-MNIST is not installed'; exit 0; fi
    set -e; rm -rf ${seeds_dir}; mkdir -p ${seeds_dir}
    ${seeds_run_text} 2>/dev/null | grep -E 'over 2 seeds|best on validation'
    ls ${seeds_dir}/run
    ${NAS_SEEDS_PYTHON3} ${CMAKE_CURRENT_BINARY_DIR}/seeds_check.py ${seeds_dir}/run/retrain_summary.json ${seeds_dir}/run
    ${seeds_run_text} 2>&1 | grep -c 'done already'
    $<TARGET_FILE:nas_report> --search ${seeds_search} --retrain ${seeds_dir}/run --out ${seeds_dir}/report.json >/dev/null
    grep -o ' ± [0-9.]* (2 seeds)' ${seeds_dir}/report.md | head -1
    tr -d ' \\n' < ${seeds_dir}/report.json | grep -o '\"seeds\":\\[1,2\\]' | head -1
    ${NAS_SEEDS_PYTHON3} -c \"import json; s=json.load(open('${seeds_dir}/run/retrain_summary.json')); s['runs'][1]['seed']=1; json.dump(s, open('${seeds_dir}/run/retrain_summary.json','w'))\"
    $<TARGET_FILE:nas_report> --search ${seeds_search} --retrain ${seeds_dir}/run --out ${seeds_dir}/report2.json 2>&1 | grep -o 'appears twice with seed 1' || true")
  set_tests_properties(seeds_cli.pareto_two_seeds PROPERTIES
    PASS_REGULAR_EXPRESSION "point-00 over 2 seeds: val [0-9.]+ \\+- [0-9.]+%  test [0-9.]+ \\+- [0-9.]+%\nnas_retrain: best on validation: point-00-seed[12] -> [^\n]*\nbest_tiny_model.nasm\npoint-00-seed1\npoint-00-seed2\nretrain_summary.json\nSUMMARY_OK\n2\n ± [0-9.]+ \\(2 seeds\\)\n\"seeds\":\\[1,2\\]\nappears twice with seed 1"
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 120 LABELS cli)

  nas_cli_fail_test(seeds_cli.twice "nas_retrain: error: --seeds: seed 1 appears twice"
    $<TARGET_FILE:nas_retrain> --pareto ${seeds_search}/pareto.json --seeds 1,2,1 --out ${seeds_dir}/twice)
  nas_cli_fail_test(seeds_cli.not_a_seed "nas_retrain: error: --seeds: 'x' is not a seed"
    $<TARGET_FILE:nas_retrain> --pareto ${seeds_search}/pareto.json --seeds 1,x --out ${seeds_dir}/nan)
  nas_cli_fail_test(seeds_cli.empty_item "nas_retrain: error: --seeds[^\n]*empty"
    $<TARGET_FILE:nas_retrain> --pareto ${seeds_search}/pareto.json --seeds 1,,2 --out ${seeds_dir}/empty)
  nas_cli_fail_test(seeds_cli.without_pareto "nas_retrain: error: [^\n]*--seeds select points of a --pareto set"
    $<TARGET_FILE:nas_retrain> --arch mbv2-micro --seeds 1,2 --out ${seeds_dir}/single)
endif()
