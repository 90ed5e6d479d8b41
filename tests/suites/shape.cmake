# Tests of the house's shape (issue 31): install, artifacts/, report/, cli/ guards.

# ---- install: `cmake --install` into a temp prefix, the installed nas_report runs and plots -----
if(TARGET nas_report)
  set(install_prefix ${CMAKE_CURRENT_BINARY_DIR}/install_check/prefix)
  set(install_args -DBUILD_DIR=${PROJECT_BINARY_DIR} -DPREFIX=${install_prefix}
                   -DREPORT_DATA=${CMAKE_CURRENT_SOURCE_DIR}/data/report)
  add_test(NAME install.programs
           COMMAND ${CMAKE_COMMAND} ${install_args} -DSTAGE=programs -P ${CMAKE_CURRENT_SOURCE_DIR}/install_check.cmake)
  set_tests_properties(install.programs PROPERTIES FIXTURES_SETUP installed TIMEOUT 120 LABELS cli
                       RESOURCE_LOCK install_prefix)
  add_test(NAME install.plot
           COMMAND ${CMAKE_COMMAND} ${install_args} -DSTAGE=plot -P ${CMAKE_CURRENT_SOURCE_DIR}/install_check.cmake)
  set_tests_properties(install.plot PROPERTIES FIXTURES_REQUIRED installed TIMEOUT 120 LABELS cli
                       RESOURCE_LOCK install_prefix SKIP_REGULAR_EXPRESSION "matplotlib is not available")
endif()

# ---- artifacts/: the committed run files through their readers ----------------------------------
nas_add_test(test_artifacts LIBS nas_artifacts)

# ---- workflow/: point selection ------------------------------------------------------------------
nas_add_test(test_workflow LIBS nas_point_selection nas_recipe_rule)

# ---- issue 32, classes 1-3 on every program that writes: one clear line, non-zero exit ---------
# Class 1 (two processes, one output): the output is held with flock(1) on the lock file the
# program claims (DIR/.run.lock for a run directory, FILE.lock for a file), as a first process
# holds it; the program must refuse, naming the output, and write nothing.
# Class 2 (an output that is an input) and class 3 (empty values) need no second process.
set(guard_dir ${CMAKE_CURRENT_BINARY_DIR}/guards)
file(MAKE_DIRECTORY ${guard_dir})
set(guard_report ${guard_dir}/report)
file(COPY ${NAS_TEST_DATA}/report/search ${NAS_TEST_DATA}/report/retrain DESTINATION ${guard_report})
file(WRITE ${guard_dir}/model.nasm "not a model: nas_eval must refuse the output before reading it\n")
file(WRITE ${guard_dir}/acc.jsonl "")

# guard_held(NAME LOCK REGEX COMMAND...): COMMAND runs while LOCK is held; it must fail with REGEX.
function(guard_held name lock regex)
  nas_cli_fail_test(${name} "${regex}" flock -o ${lock} ${ARGN})
endfunction()

if(TARGET nas_report)
  set(report_guard_inputs --search ${guard_report}/search --retrain ${guard_report}/retrain)
  guard_held(guards.report_held ${guard_dir}/held.json.lock "nas_report: error: --out '[^\n]*held\\.json' is in use"
    $<TARGET_FILE:nas_report> ${report_guard_inputs} --out ${guard_dir}/held.json)
  nas_cli_fail_test(guards.report_over_pareto
    "nas_report: error: --out [^\n]*search/pareto\\.json[^\n]*--search"
    $<TARGET_FILE:nas_report> ${report_guard_inputs} --out ${guard_report}/search/pareto.json)
  nas_cli_fail_test(guards.report_svg_over_summary
    "nas_report: error: --svg [^\n]*retrain_summary\\.json[^\n]*--retrain"
    $<TARGET_FILE:nas_report> ${report_guard_inputs} --out ${guard_dir}/r.json --svg ${guard_report}/retrain/retrain_summary.json)
  nas_cli_fail_test(guards.report_empty_baselines "nas_report: error: [^\n]*--baselines'? (needs a value|is missing)"
    $<TARGET_FILE:nas_report> ${report_guard_inputs} --out ${guard_dir}/r.json --baselines "")
endif()

if(TARGET nas_eval)
  nas_cli_fail_test(guards.eval_json_over_model "nas_eval: error: --json [^\n]*model\\.nasm[^\n]*--model"
    $<TARGET_FILE:nas_eval> --model ${guard_dir}/model.nasm --json ${guard_dir}/model.nasm)
  nas_cli_fail_test(guards.eval_empty_dataset "nas_eval: error: [^\n]*--dataset'? (needs a value|is missing)"
    $<TARGET_FILE:nas_eval> --model ${guard_dir}/model.nasm --dataset "")
endif()

if(TARGET nas_search)
  nas_cli_fail_test(guards.search_empty_budget "nas_search: error: [^\n]*--budget'? (needs a value|is missing)"
    $<TARGET_FILE:nas_search> --supernet ${guard_dir}/sn --budget "" --out ${guard_dir}/search)
  nas_cli_fail_test(guards.search_empty_budget_equals "nas_search: error: [^\n]*--budget'? (needs a value|is missing|should follow immediately after the equal sign)"
    $<TARGET_FILE:nas_search> --supernet ${guard_dir}/sn --budget= --out ${guard_dir}/search)
  nas_cli_fail_test(guards.search_blank_budget "nas_search: error: [^\n]*--budget'? (needs a value|is missing)"
    $<TARGET_FILE:nas_search> --supernet ${guard_dir}/sn --budget " " --out ${guard_dir}/search)
  nas_cli_fail_test(guards.search_out_over_predictor "nas_search: error: [^\n]*--predictor"
    $<TARGET_FILE:nas_search> --predictor ${guard_dir}/search_held/pareto.json --out ${guard_dir}/search_held)
  file(MAKE_DIRECTORY ${guard_dir}/search_held)
  guard_held(guards.search_held ${guard_dir}/search_held/.run.lock "nas_search: error: --out '[^\n]*search_held' is in use"
    $<TARGET_FILE:nas_search> --predictor ${guard_dir}/nowhere.pt --out ${guard_dir}/search_held)
endif()

if(TARGET nas_build_acc_dataset)
  guard_held(guards.acc_held_resume ${guard_dir}/acc.jsonl.lock "nas_build_acc_dataset: error: --out '[^\n]*acc\\.jsonl' is in use"
    $<TARGET_FILE:nas_build_acc_dataset> --supernet ${guard_dir}/sn --out ${guard_dir}/acc.jsonl --resume)
  file(MAKE_DIRECTORY ${guard_dir}/sn)
  file(WRITE ${guard_dir}/sn/supernet.json "{}\n")
  nas_cli_fail_test(guards.acc_over_supernet "nas_build_acc_dataset: error: --out [^\n]*supernet\\.json[^\n]*--supernet"
    $<TARGET_FILE:nas_build_acc_dataset> --supernet ${guard_dir}/sn --out ${guard_dir}/sn/supernet.json --resume)
  nas_cli_fail_test(guards.acc_empty_data_dir "nas_build_acc_dataset: error: [^\n]*--data-dir'? (needs a value|is missing)"
    $<TARGET_FILE:nas_build_acc_dataset> --supernet ${guard_dir}/sn --out ${guard_dir}/acc2.jsonl --data-dir "")
endif()

if(TARGET nas_train_supernet)
  file(MAKE_DIRECTORY ${guard_dir}/sn_held)
  guard_held(guards.supernet_held ${guard_dir}/sn_held/.run.lock "nas_train_supernet: error: --out '[^\n]*sn_held' is in use"
    $<TARGET_FILE:nas_train_supernet> --epochs 1 --out ${guard_dir}/sn_held)
  nas_cli_fail_test(guards.supernet_out_in_data "nas_train_supernet: error: --out [^\n]*--data-dir"
    $<TARGET_FILE:nas_train_supernet> --epochs 1 --data-dir ${guard_dir}/sn --out ${guard_dir}/sn/run)
  nas_cli_fail_test(guards.supernet_empty_space "nas_train_supernet: error: [^\n]*--space'? (needs a value|is missing)"
    $<TARGET_FILE:nas_train_supernet> --space "" --out ${guard_dir}/sn_empty)
endif()

if(TARGET nas_train_predictor)
  nas_cli_fail_test(guards.predictor_over_data "nas_train_predictor: error: --out [^\n]*acc\\.jsonl[^\n]*--data"
    $<TARGET_FILE:nas_train_predictor> --data ${guard_dir}/acc.jsonl --out ${guard_dir}/acc.jsonl)
  guard_held(guards.predictor_held ${guard_dir}/p.pt.lock "nas_train_predictor: error: --out '[^\n]*p\\.pt' is in use"
    $<TARGET_FILE:nas_train_predictor> --data ${guard_dir}/acc.jsonl --out ${guard_dir}/p.pt)
  nas_cli_fail_test(guards.predictor_empty_data "nas_train_predictor: error: [^\n]*--data'? (needs a value|is missing)"
    $<TARGET_FILE:nas_train_predictor> --data "" --out ${guard_dir}/p2.pt)
endif()

if(TARGET nas_retrain)
  nas_cli_fail_test(guards.retrain_empty_keys "nas_retrain: error: [^\n]*--keys'? (needs a value|is missing)"
    $<TARGET_FILE:nas_retrain> --pareto ${guard_report}/search/pareto.json --keys "" --out ${guard_dir}/rt)
  nas_cli_fail_test(guards.retrain_empty_key_item "nas_retrain: error: --keys[^\n]*empty"
    $<TARGET_FILE:nas_retrain> --pareto ${guard_report}/search/pareto.json --keys "a,,b" --out ${guard_dir}/rt)
  nas_cli_fail_test(guards.retrain_out_over_pareto "nas_retrain: error: --out [^\n]*--pareto"
    $<TARGET_FILE:nas_retrain> --pareto ${guard_report}/search/pareto.json --all --out ${guard_report}/search)
  file(MAKE_DIRECTORY ${guard_dir}/rt_held)
  guard_held(guards.retrain_held ${guard_dir}/rt_held/.run.lock "nas_retrain: error: --out '[^\n]*rt_held' is in use"
    $<TARGET_FILE:nas_retrain> --arch mbv2-micro --op shift --epochs 1 --out ${guard_dir}/rt_held)
endif()

if(TARGET nas_energy)
  file(COPY ${NAS_TEST_DATA}/energy_small_layers.json DESTINATION ${guard_dir})
  nas_cli_fail_test(guards.energy_json_over_layers "nas_energy: error: --json [^\n]*energy_small_layers\\.json[^\n]*--layers"
    $<TARGET_FILE:nas_energy> --layers ${guard_dir}/energy_small_layers.json --json ${guard_dir}/energy_small_layers.json)
  guard_held(guards.energy_held ${guard_dir}/e.json.lock "nas_energy: error: --json '[^\n]*e\\.json' is in use"
    $<TARGET_FILE:nas_energy> --layers ${guard_dir}/energy_small_layers.json --json ${guard_dir}/e.json)
endif()
if(TARGET nas_extract)
  nas_cli_fail_test(guards.extract_out_is_supernet "nas_extract: error: --out [^\n]*--supernet"
    $<TARGET_FILE:nas_extract> --supernet ${guard_dir}/sn --arch mbv2-micro --out ${guard_dir}/sn)
endif()
