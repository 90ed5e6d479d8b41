# The study scripts of experiments/shiftaddaug/ (issue 33) on fake run trees that
# tests/data/studies/make_runs.py writes at test time: the results table with its paired
# differences (a complete pair, a pair with one seed missing, a column without any run) and the
# gap-vs-epochs curve (a validation-only grid point, full-split points, a comparison not run yet,
# and runs whose epochs contradict their source). Run with /usr/bin/python3, as the scripts'
# README says; skipped (exit 77) where it is missing. Without matplotlib the .json and .md are
# still written and checked, the .png is not expected. (A semicolon in a PASS_REGULAR_EXPRESSION
# would split it into a list of alternatives: the regexes match it with ".".)
set(nas_studies_python /usr/bin/python3)
set(nas_studies_src ${PROJECT_SOURCE_DIR}/experiments/shiftaddaug)
set(nas_studies_data ${PROJECT_SOURCE_DIR}/tests/data/studies)
set(nas_studies_skip "[ -x ${nas_studies_python} ] || { echo 'SKIPPED: no ${nas_studies_python}'; exit 77; }")
set(nas_studies_png "if ${nas_studies_python} -c 'import matplotlib' 2>/dev/null; then ls")

set(table_fx ${CMAKE_CURRENT_BINARY_DIR}/studies_table)
add_test(NAME studies.table_paired COMMAND sh -c "${nas_studies_skip}
  rm -rf ${table_fx} && ${nas_studies_python} ${nas_studies_data}/make_runs.py ${table_fx} && \
  ${nas_studies_python} ${nas_studies_src}/shiftaddaug_table.py ${table_fx}/full cifar10 ${table_fx}/out \
    --name cifar10-100ep --columns 'Shift-lr0.2-ep100 ShiftAug-lr0.2-ep100 Add-lr0.1-ep100 AddAug-lr0.025-ep100 Mult-lr0.2-ep100' \
    2>/dev/null >/dev/null && cat ${table_fx}/out/cifar10-100ep.md ${table_fx}/out/cifar10-100ep.json && \
  ${nas_studies_png} ${table_fx}/out/cifar10-100ep.png; else echo 'no matplotlib: cifar10-100ep.png'; fi")
set_tests_properties(studies.table_paired PROPERTIES
  PASS_REGULAR_EXPRESSION "mbv2-micro, 100 epochs.*\\| ShiftAug-lr0\\.2-ep100 \\| 72\\.00 ± 0\\.71 \\| 71\\.50, 72\\.50 \\|[^\n]*\\| vs Shift-lr0\\.2-ep100: \\+1\\.50, \\+0\\.50 \\(mean \\+1\\.00 ± 0\\.50 SE\\) \\|\n\\| Add-lr0\\.1-ep100 \\|[^\n]*\\| - \\|\n\\| AddAug-lr0\\.025-ep100 \\| 62\\.25 \\(1 seed\\) \\|[^\n]*\\| vs Add-lr0\\.1-ep100: \\+2\\.25 \\(1 seed, no SE\\). seed 2 of the direct column has no pair \\|\n\nColumns without a finished run yet: Mult-lr0\\.2-ep100\\..*\"std_error\": 0\\.5,.*\"std_error\": null,.*\"direct\": \\[\n +2\n +\\].*\"missing_columns\": \\[\n +\"Mult-lr0\\.2-ep100\"\n +\\].*cifar10-100ep\\.png"
  SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS cli)

# The same script on the committed 30-epoch runs: the headline table's paired differences.
add_test(NAME studies.table_committed_c10 COMMAND sh -c "${nas_studies_skip}
  ${nas_studies_python} ${nas_studies_src}/shiftaddaug_table.py ${PROJECT_SOURCE_DIR}/results/shiftaddaug/fidelity/runs/c10-full \
    cifar10 ${CMAKE_CURRENT_BINARY_DIR}/studies_c10 >/dev/null 2>&1 && cat ${CMAKE_CURRENT_BINARY_DIR}/studies_c10/cifar10.md")
set_tests_properties(studies.table_committed_c10 PROPERTIES
  PASS_REGULAR_EXPRESSION "\\| ShiftAug-lr0\\.2 \\| 71\\.48 ± 0\\.79 [^\n]*vs Shift-lr0\\.2: \\+0\\.06, -0\\.18 \\(mean -0\\.06 ± 0\\.12 SE\\) \\|.*\\| AddAug-lr0\\.025 \\| 64\\.65 ± 0\\.98 [^\n]*vs Add-lr0\\.1: \\+1\\.94, -0\\.18 \\(mean \\+0\\.88 ± 1\\.06 SE\\) \\|"
  SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS cli)

set(gap_fx ${CMAKE_CURRENT_BINARY_DIR}/studies_gap)
add_test(NAME studies.gap_vs_epochs COMMAND sh -c "${nas_studies_skip}
  rm -rf ${gap_fx} && ${nas_studies_python} ${nas_studies_data}/make_runs.py ${gap_fx} && \
  ${nas_studies_python} ${nas_studies_src}/gap_vs_epochs.py ${gap_fx}/gap --sources ${nas_studies_data}/gap_sources.json \
    --base ${gap_fx} 2>/dev/null && cat ${gap_fx}/gap.md ${gap_fx}/gap.json && \
  ${nas_studies_png} ${gap_fx}/gap.png; else echo 'no matplotlib: gap.png'; fi")
set_tests_properties(studies.gap_vs_epochs PROPERTIES
  PASS_REGULAR_EXPRESSION "wrote [^\n]*gap\\.json, \\.md, \\.png: 5 points, 1 missing\n.*\\| Add \\| micro \\| test \\| 100 \\| full-split run \\| 45000 \\|[^\n]*\\| \\+2\\.25 \\(1 seed, no SE\\). seed 2 of the direct column has no pair \\| seed 2 missing. 1 pair: no error bar \\|.*\\| Shift \\| micro \\| test \\| 100 \\|[^\n]*\\| \\+1\\.50, \\+0\\.50 \\(mean \\+1\\.00 ± 0\\.50 SE\\) \\| - \\| full-100ep \\| 3\\.5x \\|.*\\| Shift \\| micro \\| validation \\| 5 \\| validation-only grid run \\| 9900 \\|[^\n]*\\| -1\\.50 \\(1 seed, no SE\\) \\| 1 pair: no error bar \\|.*\\| Shift \\| micro \\| validation \\| 100 \\|[^\n]*\\| \\+1\\.00, \\+3\\.00 \\(mean \\+2\\.00 ± 1\\.00 SE\\) \\|.*Not drawn: Shift at 300 epochs \\(not-run-300ep\\): no pair finished yet.*\"metric\": \"test_top1\",\n +\"epochs\": \\[\n +100\n +\\],.*gap\\.png"
  SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS cli)

# A pair whose runs trained for other epochs than the source says is refused (one line, exit 1),
# and --runs names only sources of the file.
add_test(NAME studies.gap_refuses_unequal_epochs COMMAND sh -c "${nas_studies_skip}
  rm -rf ${gap_fx}_bad && ${nas_studies_python} ${nas_studies_data}/make_runs.py ${gap_fx}_bad && \
  ${nas_studies_python} ${nas_studies_src}/gap_vs_epochs.py ${gap_fx}_bad/gap --sources ${nas_studies_data}/gap_sources.json \
    --base ${gap_fx}_bad --runs grid-5ep=${gap_fx}_bad/bad-epochs 2>&1; echo rc $?; \
  ${nas_studies_python} ${nas_studies_src}/gap_vs_epochs.py ${gap_fx}_bad/gap --sources ${nas_studies_data}/gap_sources.json \
    --runs nosuch=${gap_fx}_bad 2>&1; echo rc $?")
set_tests_properties(studies.gap_refuses_unequal_epochs PROPERTIES
  PASS_REGULAR_EXPRESSION "gap_vs_epochs: [^\n]*bad-epochs/Shift-lr0\\.2-s1/result\\.json: 30 epochs, the source grid-5ep says 5\nrc 1\ngap_vs_epochs: --runs nosuch=[^\n]*: expected SOURCE_ID=DIR with SOURCE_ID one of \\[[^\n]*\\]\nrc 1"
  SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS cli)

# experiments/supernet_ranking/run_supernet_ranking.sh: two instances at once share the standalone
# runs (flock(1) on each DIR/.queue.lock): every one is trained exactly once, an instance skips the
# runs the other is training and waits for them before its table. (The stand-ins write no real
# results, so the table step itself fails here; it has tests of its own: supernet_ranking.*.)
set(ranking_queue ${CMAKE_CURRENT_BINARY_DIR}/studies_ranking_queue)
add_test(NAME studies.ranking_shared_queue COMMAND sh -c "
  rm -rf ${ranking_queue} && mkdir -p ${ranking_queue} && export FAKE_RUN_LOG=${ranking_queue}/runs.log FAKE_RUN_SECONDS=1 && \
  for i in 1 2; do \
    BIN=${PROJECT_SOURCE_DIR}/tests/data/fake_bin SPACE=${PROJECT_SOURCE_DIR}/results/supernet/space-fmnist-micro.json \
      NAMED=mbv2-micro RANDOM_COUNT=2 ${PROJECT_SOURCE_DIR}/experiments/supernet_ranking/run_supernet_ranking.sh \
      fashion-mnist ${ranking_queue}/root > ${ranking_queue}/instance$i.txt 2>&1 & \
  done; wait; \
  echo runs $(wc -l < ${ranking_queue}/runs.log) distinct $(sort -u ${ranking_queue}/runs.log | wc -l) \
    retrained $(cat ${ranking_queue}/instance*.txt | grep -c '^retrained ') \
    skipped_busy $(cat ${ranking_queue}/instance*.txt | grep -c 'another instance is training it'); \
  cat ${ranking_queue}/instance*.txt | grep '^FAIL' || echo NO_FAIL")
set_tests_properties(studies.ranking_shared_queue PROPERTIES
  PASS_REGULAR_EXPRESSION "runs 8 distinct 8 retrained 8 skipped_busy [1-9][0-9]*\nNO_FAIL"
  TIMEOUT 120 LABELS cli)

# No finished run at all (the 100-epoch queue's first hours): one error line, no table written.
add_test(NAME studies.table_no_runs COMMAND sh -c "${nas_studies_skip}
  rm -rf ${table_fx}_empty && mkdir -p ${table_fx}_empty/Shift-lr0.2-ep100-s1 && \
  ${nas_studies_python} ${nas_studies_src}/shiftaddaug_table.py ${table_fx}_empty cifar10 ${table_fx}_empty/out --name cifar10-100ep 2>&1; \
  echo rc $?; ls ${table_fx}_empty/out 2>&1 | grep -c cifar10-100ep")
set_tests_properties(studies.table_no_runs PROPERTIES
  PASS_REGULAR_EXPRESSION "^shiftaddaug_table: no result\\.json for cifar10 under [^\n]*_empty\nrc 1\n0\n$"
  SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS cli)

# The table queue with the real nas_retrain (not a stand-in): two instances at once on one
# one-run queue. nas_retrain claims DIR/.run.lock itself, so the script's own lock must be another
# file (a queue that held DIR/.run.lock refused every run it started). One instance trains the
# run, the other skips it (busy or done); no FAIL. Seconds; skipped without Fashion-MNIST.
if(TARGET nas_retrain)
  set(table_queue ${CMAKE_CURRENT_BINARY_DIR}/studies_table_queue)
  set(table_queue_fm /usr/share/datasets/fashion-mnist)
  add_test(NAME studies.table_queue_real_retrain COMMAND sh -c "
    if [ ! -f ${table_queue_fm}/train-images-idx3-ubyte.gz ] && [ ! -f ${table_queue_fm}/train-images-idx3-ubyte ]; then echo 'SKIPPED: Fashion-MNIST is not installed'; exit 77; fi
    rm -rf ${table_queue} && mkdir -p ${table_queue} && \
    for i in 1 2; do \
      SEEDS=1 COLUMNS=Shift-lr0.2 ABLATION_REMAPS= BIN=$<TARGET_FILE_DIR:nas_retrain> \
        ${nas_studies_src}/run_shiftaddaug_table.sh fashion-mnist ${table_queue}/root --arch mbv2-micro \
        --epochs 1 --limit-train 192 --val-size 64 --batch-size 64 --limit-test 64 --threads 1 \
        > ${table_queue}/instance$i.txt 2>&1 & \
    done; wait; \
    echo ran $(cat ${table_queue}/instance*.txt | grep -c '^run ') \
      skipped $(cat ${table_queue}/instance*.txt | grep -c '^skip ') \
      results $(ls ${table_queue}/root/*/result.json | wc -l); \
    cat ${table_queue}/instance*.txt | grep FAIL || echo NO_FAIL")
  set_tests_properties(studies.table_queue_real_retrain PROPERTIES
    PASS_REGULAR_EXPRESSION "ran 1 skipped 1 results 1\nNO_FAIL" SKIP_RETURN_CODE 77 TIMEOUT 120 LABELS cli)
endif()
