# Issue 33's recipe rule in the product (workflow/recipe_rule.h): nas_retrain --pareto picks --aug
# from the evidence when none is given, an explicit --aug wins, both are recorded in
# retrain_summary.json and shown by nas_report. Seconds each; skipped without Fashion-MNIST.
if(TARGET nas_retrain AND TARGET nas_report)
  set(recipe_dir ${CMAKE_CURRENT_BINARY_DIR}/recipe)
  set(recipe_pareto ${NAS_TEST_DATA}/report/search/pareto.json)
  set(recipe_fm /usr/share/datasets/fashion-mnist)
  set(recipe_skip "if [ ! -f ${recipe_fm}/train-images-idx3-ubyte.gz ] && [ ! -f ${recipe_fm}/train-images-idx3-ubyte ]; then echo 'SKIPPED: Fashion-MNIST is not installed'; exit 0; fi")
  set(recipe_small --epochs 1 --limit-train 192 --val-size 64 --batch-size 64 --limit-test 64 --threads 1)
  string(REPLACE ";" " " recipe_small_text "${recipe_small}")
  set(recipe_key "r20.i1.n10.w0.25|stem:m.k3.s1.c32|s1.c16:a3e1|s1.c24:a3e3|s2.c32:a3e3-a3e3|s2.c64:a3e3-a3e3|s1.c96:a3e3-a3e3|s2.c160:a3e3-a3e3|s1.c320:a3e3|head:a.c1280.fc:m")

  # No --aug: the rule; its reason on stderr, in the summary and in the report.
  add_test(NAME recipe_cli.pareto_default_rule COMMAND sh -c "${recipe_skip}
    set -e; rm -rf ${recipe_dir}/rule
    $<TARGET_FILE:nas_retrain> --pareto ${recipe_pareto} --keys '${recipe_key}' ${recipe_small_text} --out ${recipe_dir}/rule 2>&1 | grep -E 'recipe rule|aug none'
    tr -d ' \\n' < ${recipe_dir}/rule/retrain_summary.json | grep -o '\"recipe\":{\"aug\":\"none\",\"chosen_by\":\"rule\"'
    tr -d ' \\n' < ${recipe_dir}/rule/point-00/result.json | grep -o '\"aug\":\"none\"'
    $<TARGET_FILE:nas_report> --search ${NAS_TEST_DATA}/report/search --retrain ${recipe_dir}/rule --out ${recipe_dir}/rule-report.json >/dev/null
    grep -o 'Retraining recipe: `--aug none` (recipe rule[^)]*' ${recipe_dir}/rule-report.md
    tr -d ' \\n' < ${recipe_dir}/rule-report.json | grep -o '\"recipe\":{\"aug\":\"none\",\"chosen_by\":\"rule\"'
    tr -d ' \\n' < ${recipe_dir}/rule/retrain_summary.json | grep -o '\"pareto\":{\"file\":\"[^\"]*\"'")
  set_tests_properties(recipe_cli.pareto_default_rule PROPERTIES
    PASS_REGULAR_EXPRESSION "recipe rule \\(docs/DESIGN.md\\) at 1 epoch[^\n]*no Add measurement at <= 1 epochs[^\n]* -> --aug none\n[^\n]*aug none[^\n]*\n\"recipe\":{\"aug\":\"none\",\"chosen_by\":\"rule\"\n(\"aug\":\"none\"\n)+Retraining recipe: `--aug none` \\(recipe rule[^\n]*\n\"recipe\":{\"aug\":\"none\",\"chosen_by\":\"rule\"\n\"pareto\":{\"file\":\"\\.\\./[^\"/][^\"]*/report/search/pareto\\.json\""
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 120 LABELS cli)

  # An explicit --aug wins over the rule, and the summary says it was given.
  add_test(NAME recipe_cli.pareto_explicit_aug COMMAND sh -c "${recipe_skip}
    set -e; rm -rf ${recipe_dir}/explicit
    $<TARGET_FILE:nas_retrain> --pareto ${recipe_pareto} --keys '${recipe_key}' ${recipe_small_text} --aug shiftaddaug --out ${recipe_dir}/explicit 2>&1 | grep -c 'recipe rule' || true
    tr -d ' \\n' < ${recipe_dir}/explicit/retrain_summary.json | grep -o '\"recipe\":{\"aug\":\"shiftaddaug\",\"chosen_by\":\"--aug\"'
    tr -d ' \\n' < ${recipe_dir}/explicit/point-00/result.json | grep -o '\"aug\":\"shiftaddaug\"'")
  set_tests_properties(recipe_cli.pareto_explicit_aug PROPERTIES
    PASS_REGULAR_EXPRESSION "^0\n\"recipe\":{\"aug\":\"shiftaddaug\",\"chosen_by\":\"--aug\"\n\"aug\":\"shiftaddaug\"\n\"aug\":\"shiftaddaug\""
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 120 LABELS cli)

  # One architecture: --aug auto applies the rule to --op; with --op keep it cannot.
  nas_cli_fail_test(recipe_cli.auto_with_keep "nas_retrain: error: --aug auto needs the network's op"
    $<TARGET_FILE:nas_retrain> --arch mbv2-micro --op keep --aug auto --out ${recipe_dir}/keep)
  nas_cli_fail_test(recipe_cli.unknown_aug "nas_retrain: error: unknown --aug 'netaug' \\(accepted: auto, shiftaddaug, none\\)"
    $<TARGET_FILE:nas_retrain> --pareto ${recipe_pareto} --aug netaug --out ${recipe_dir}/unknown)
endif()
