# nas_report (issue 11): CLI tests on the fixtures in tests/data/report/. Included by
# tests/cli_tests.cmake, whose helpers nas_cli_test / nas_cli_fail_test it uses.
#
# Fixtures: search/pareto.json (4 points P0..P3 and 8 population entries of a real nas_search run
# at 60 uJ, trimmed; keep its bytes: the summaries carry its fingerprint fnv1a64:2294f1a684da9805),
# retrain*/retrain_summary.json (hand-written nas_retrain --pareto summaries), baselines*.json
# (hand-written results tables). The main case, retrain/: P0..P2 retrained, test top-1 71.0 / 73.5 /
# 72.0 %, val 72.0 / 74.0 / 74.5 %, P3 not yet:
#   Kendall tau (predicted 68.2 < 69.2 < 69.8 vs measured): (2 - 1) / 3 = 0.333
#   measured front P0, P1 (P2 is dominated by P1); best under budget by validation top-1: P2
#   baselines: Add (71.5 % at 45 uJ) beaten by P1 (+2.0) and P2; Shift (72.5 % at 39 uJ: only P0,
#   71.0 %, is cheaper) and Mult (75.0 %) not; the quantile-remap row is an ablation, not a baseline.
if(NOT TARGET nas_report)
  return()
endif()

set(report $<TARGET_FILE:nas_report>)
set(report_data ${NAS_TEST_DATA}/report)
set(report_out ${CMAKE_CURRENT_BINARY_DIR}/report_cli)
set(report_inputs --search ${report_data}/search --retrain ${report_data}/retrain)

# report_cli_write(FIXTURE OUT ARGS...): runs nas_report --out OUT ARGS as the setup of FIXTURE.
function(report_cli_write fixture out)
  add_test(NAME report_cli.${fixture} COMMAND ${report} --out ${out} ${ARGN})
  set_tests_properties(report_cli.${fixture} PROPERTIES FIXTURES_SETUP report_${fixture} TIMEOUT 60 LABELS cli
                                                        PASS_REGULAR_EXPRESSION "nas_report: [0-9]+ of [0-9]+ points retrained; wrote")
endfunction()

# report_cli_read(NAME FIXTURE FILE REGEX): FILE, written by FIXTURE's run, matches REGEX.
function(report_cli_read name fixture file regex)
  nas_cli_test(report_cli.${name} "${regex}" ${CMAKE_COMMAND} -E cat ${file})
  set_tests_properties(report_cli.${name} PROPERTIES FIXTURES_REQUIRED report_${fixture})
endfunction()

nas_cli_test(report_cli.help "--search.*--retrain.*--baselines.*--out.*--svg.*--plot" ${report} --help)

# ---- the main case: report.json, report.md, report.svg ------------------------------------------
report_cli_write(full ${report_out}/full.json ${report_inputs} --baselines ${report_data}/baselines.json
                 --svg ${report_out}/full.svg)
set(full_json ${report_out}/full.json)
report_cli_read(json_context full ${full_json}
  "\"context\": {.*\"program\": \"nas_report\".*\"schema_version\": 1.*\"dataset\": \"fashion-mnist\",.*\"energy_model\": {.*\"tier\": \"eyeriss\".*\"init\": \"scratch\",.*\"inputs\": {.*\"fingerprint\": \"fnv1a64:2294f1a684da9805\".*\"objective\": \"pareto\"")
report_cli_read(json_tau full ${full_json}
  "\"kendall_tau_points\": 3,\n *\"kendall_tau_predicted_vs_measured\": 0\\.333333")
report_cli_read(json_best full ${full_json}
  "\"best_under_budget\": {.*\"measured_test_top1\": 72\\.0,\n.*\"measured_test_top1_std\": null,\n *\"measured_val_top1\": 74\\.5,.*\"point_index\": 2,.*\"run_dir\": \"point-02\",\n *\"seeds\": \\[\n *null\n *\\],\n *\"selected_by\": \"the highest measured validation top-1[^\"]*\",.*\"context\": {")
report_cli_read(json_dominated full ${full_json}
  "\"dominated_baselines\": \\[\n *{\n *\"baseline\": \"mbv2-micro Add\",\n *\"beaten_by\": \\[\n *\"[^\"]*s1\\.c320:a3e3\\|head:s\\.c1280\\.fc:m\",\n *\"[^\"]*s1\\.c320:s3e3\\|head:a\\.c1280\\.fc:m\"\n *\\],\n *\"best\": \"[^\"]*s1\\.c320:a3e3\\|head:s\\.c1280\\.fc:m\",\n *\"energy_mj\": 0\\.045,\n *\"energy_ratio\": 1\\.11[0-9]*,\n *\"margin_top1\": 2\\.0,\n *\"top1_mean\": 71\\.5\n *}\n *\\],\n *\"energy_model\"")
report_cli_read(json_baselines full ${full_json}
  "\"baselines\": \\[\n *{\n *\"beaten\": false,[^}]*\"name\": \"mbv2-micro Mult\",[^}]*},\n *{\n *\"beaten\": false,[^}]*\"name\": \"mbv2-micro Shift\",[^}]*},\n *{\n *\"beaten\": true,[^}]*\"name\": \"mbv2-micro Add\",[^}]*}\n *\\],\n *\"best_under_budget\"")
string(REPEAT " *\"[^\"]*\",?\n" 4 four_keys)
report_cli_read(json_points full ${full_json}
  "\"measured_front\": \\[\n *\"[^\"]*head:a\\.c1280\\.fc:m\",\n *\"[^\"]*s1\\.c320:a3e3\\|head:s\\.c1280\\.fc:m\"\n *\\],.*\"not_retrained\": \\[\n *{.*\"point_index\": 3,.*\\],\n *\"notes\": \\[\n *\"1 of 4 points not retrained yet[^\n]*\n *\\],.*\"points\": \\[.*\"measured_test_top1\": 71\\.0,.*\"beats_baselines\": \\[\n *\"mbv2-micro Add\"\n *\\],.*\"measured_test_top1\": 73\\.5,.*\"on_measured_front\": true,.*\"measured_test_top1\": 72\\.0,.*\"on_measured_front\": false,.*\"predicted_front\": \\[\n${four_keys} *\\]")
set_tests_properties(report_cli.json_baselines PROPERTIES FAIL_REGULAR_EXPRESSION "quantile")

report_cli_read(markdown full ${report_out}/full.md
  "# Pareto report: fashion-mnist, energy budget 60 uJ.*3 of 4 points retrained.*\\| point \\| arch \\| energy \\| predicted top-1 % \\| test top-1 % \\| val top-1 % \\| MACs \\| params \\| remarks \\|.*\\| P0 \\| `[^`\n]*` \\| 38\\.26 uJ \\| 68\\.20 \\| 71\\.00 \\| 72\\.00 \\| 1\\.29M \\| 71\\.4k \\| measured front \\|.*\\| P2 \\| `[^`\n]*` \\| 41\\.74 uJ \\| 69\\.77 \\| 72\\.00 \\| 74\\.50 \\| 1\\.35M \\| 76\\.4k \\| \\*\\*best under budget\\*\\*; beats mbv2-micro Add \\|.*\\| P3 \\| [^\n]* \\| - \\| - \\|[^\n]*not retrained yet \\|.*\\| baseline: mbv2-micro Add \\| - \\| 45 uJ \\| - \\| 71\\.50 ± 0\\.60 \\|.*## Claims.*Best under the budget of 60 uJ, chosen by validation top-1: \\*\\*P2\\*\\*, test top-1 72\\.00 %.*\\*\\*P1\\*\\* beats \\*\\*mbv2-micro Add\\*\\* \\(71\\.50 % at 45 uJ\\) by \\+2\\.00 points of test top-1 with 10% less energy \\(40\\.41 uJ\\); also beaten by P2\\..*Not beaten: mbv2-micro Mult \\(75\\.00 % at 200 uJ\\), mbv2-micro Shift \\(72\\.50 % at 39 uJ\\).*Kendall tau[^\n]* over 3 retrained points: 0\\.333.*Measured Pareto front: P0, P1 \\(predicted front: P0, P1, P2, P3\\).*Not retrained yet: P3\\..*## Architecture keys.*- P3: `r20\\.i1\\.n10\\.w0\\.25\\|stem")

string(REPEAT "<circle [^>]*/>\n" 8 population_circles)
string(REPEAT "[0-9.]+,[0-9.]+ " 4 four_xy)
string(REPEAT "[0-9.]+,[0-9.]+ " 2 two_xy)
report_cli_read(svg full ${report_out}/full.svg
  "^<\\?xml[^\n]*\n<svg xmlns=\"http://www\\.w3\\.org/2000/svg\".*<title>Pareto report: fashion-mnist, budget 60 uJ.*class=\"x-tick\"[^>]*>0\\.05</text>.*class=\"x-tick\"[^>]*>0\\.1</text>.*class=\"y-tick\"[^>]*>70</text>.*energy per image \\(mJ, log scale\\).*>top-1 \\(%\\)</text>.*<line class=\"budget\"[^>]*/>.*>budget 60 uJ</text>.*<g class=\"population\"[^>]*>\n${population_circles}</g>.*<polyline class=\"predicted-front\"[^>]*stroke-dasharray=\"6 4\" points=\"${four_xy}\"/>.*<polyline class=\"measured-front\"[^>]*points=\"${two_xy}\"/>.*>P2</text>.*<g class=\"baselines\".*>mbv2-micro Mult</text>.*>mbv2-micro Shift</text>.*>mbv2-micro Add</text>.*<g class=\"legend\".*predicted front.*measured test top-1.*baselines.*energy budget 60 uJ.*</svg>\n$")

# ---- partial retraining, no baselines, baselines none of which is beaten -------------------------
report_cli_write(partial ${report_out}/partial.json --search ${report_data}/search --retrain ${report_data}/retrain_partial)
report_cli_read(partial_json partial ${report_out}/partial.json
  "\"baselines\": \\[\\],\n *\"best_under_budget\": {.*\"point_index\": 1,.*\"dominated_baselines\": \\[\\],.*\"inputs\": {\n *\"baselines\": null,.*\"kendall_tau_points\": 1,\n *\"kendall_tau_predicted_vs_measured\": null,.*\"not_retrained\": \\[.*\"point_index\": 0,.*\"point_index\": 2,.*\"point_index\": 3,.*\"notes\": \\[[^]]*no baselines given \\(--baselines\\)[^]]*fewer than 2 retrained points: no Kendall tau[^]]*3 of 4 points not retrained yet")
report_cli_read(partial_markdown partial ${report_out}/partial.md
  "1 of 4 points retrained.*No baselines given: no comparison with hand-made networks\\..*Kendall tau of predicted vs measured test top-1: not available \\(1 retrained point\\(s\\)\\)\\..*Not retrained yet: P0, P2, P3\\.")

# ---- a summary that lists its selected points (nas_retrain writes selected): P1 and P3 chosen,
# P1 retrained; P0 and P2 were never chosen, so they are "not selected", not "not retrained yet".
report_cli_write(selected ${report_out}/selected.json --search ${report_data}/search --retrain ${report_data}/retrain_selected)
report_cli_read(selected_json selected ${report_out}/selected.json
  "\"not_retrained\": \\[\n.*\"point_index\": 0,\n[^\n]*\n *\"selected_for_retraining\": false\n *},.*\"point_index\": 2,\n[^\n]*\n *\"selected_for_retraining\": false\n *},.*\"point_index\": 3,\n[^\n]*\n *\"selected_for_retraining\": true\n *}\n *\\],\n *\"notes\": \\[[^]]*\"1 of 2 selected points not retrained yet \\(listed in not_retrained\\)\",\n *\"2 of 4 points not selected for retraining \\(nas_retrain selection: keys\\); listed in not_retrained with selected_for_retraining false\"\n *\\],.*\"selection\": \"keys\"")
report_cli_read(selected_markdown selected ${report_out}/selected.md
  "1 of 4 points retrained \\(2 selected: keys\\)\\..*\\| P0 \\| [^\n]*\\| not selected for retraining \\|\n\\| P1 \\|[^\n]*\n\\| P2 \\| [^\n]*\\| not selected for retraining \\|\n\\| P3 \\| [^\n]*\\| not retrained yet \\|.*- Not retrained yet: P3\\.\n- Not selected for retraining \\(keys\\): 2 of 4 points\\.")
nas_cli_fail_test(report_cli.run_not_selected
  "nas_report: error: [^\n]*retrain_unselected_run/retrain_summary\\.json: runs\\[0\\] \\(dir \"point-01\"\\): key \"r20\\.i1[^\n]* is not among the 'selected' points"
  ${report} --out ${report_out}/err-run_not_selected.json --search ${report_data}/search --retrain ${report_data}/retrain_unselected_run)
nas_cli_fail_test(report_cli.selected_twice
  "nas_report: error: [^\n]*retrain_selected_twice/retrain_summary\\.json: selected\\[1\\]: key \"r20\\.i1[^\n]* appears twice"
  ${report} --out ${report_out}/err-selected_twice.json --search ${report_data}/search --retrain ${report_data}/retrain_selected_twice)

# The real results table (results/shiftaddaug, mbv2-micro): its baselines cost 0.03-0.11 mJ at 90-92 %.
report_cli_write(unbeaten ${report_out}/unbeaten.json ${report_inputs}
                 --baselines ${PROJECT_SOURCE_DIR}/results/shiftaddaug/fashion-mnist.json)
report_cli_read(unbeaten_markdown unbeaten ${report_out}/unbeaten.md
  "\\| baseline: mbv2-micro AddAug-lr0.1 \\|.*None of the [0-9]+ baselines is beaten: no retrained point at lower or equal energy has a higher test top-1 than any of them\\.")

# ---- PNG (matplotlib): skipped where python3-matplotlib is not installed -------------------------
add_test(NAME report_cli.png COMMAND ${report} --out ${report_out}/png.json ${report_inputs}
                                     --baselines ${report_data}/baselines.json --plot ${report_out}/png.png)
set_tests_properties(report_cli.png PROPERTIES PASS_REGULAR_EXPRESSION "nas_report: wrote [^\n]*png\\.png"
                     SKIP_REGULAR_EXPRESSION "matplotlib is not available" TIMEOUT 120 LABELS cli)
# No interpreter: one error line, after the JSON and the Markdown are written.
nas_cli_fail_test(report_cli.png_no_python
  "wrote [^\n]*nopython\\.json and [^\n]*nopython\\.md\nnas_report: error: cannot run /nonexistent/python3: No such file or directory"
  ${CMAKE_COMMAND} -E env NAS_PYTHON=/nonexistent/python3
  ${report} --out ${report_out}/nopython.json ${report_inputs} --plot ${report_out}/nopython.png)
nas_cli_fail_test(report_cli.png_no_script "nas_report: error: NAS_DATA_DIR: no plot_report\\.py in \"/nonexistent\""
  ${CMAKE_COMMAND} -E env NAS_DATA_DIR=/nonexistent
  ${report} --out ${report_out}/noscript.json ${report_inputs} --plot ${report_out}/noscript.png)

# ---- errors: one line naming the file and the field, non-zero exit -------------------------------
nas_cli_fail_test(report_cli.other_search
  "nas_report: error: [^\n]*retrain_other_search/retrain_summary\\.json: the retraining was made from another search: its pareto\\.fingerprint is \"fnv1a64:0123456789abcdef\", [^\n]*search/pareto\\.json has fnv1a64:2294f1a684da9805"
  ${report} --out ${report_out}/err-other_search.json --search ${report_data}/search --retrain ${report_data}/retrain_other_search)
nas_cli_fail_test(report_cli.unknown_key
  "nas_report: error: [^\n]*retrain_unknown_key/retrain_summary\\.json: runs\\[2\\] \\(dir \"point-02\"\\): key \"r20\\.i1[^\n]* is not a point of [^\n]*search/pareto\\.json"
  ${report} --out ${report_out}/err-unknown_key.json --search ${report_data}/search --retrain ${report_data}/retrain_unknown_key)
nas_cli_fail_test(report_cli.bad_field
  "nas_report: error: [^\n]*retrain_bad_field/retrain_summary\\.json: runs\\[1\\]: field 'test_top1' must be a number, got \"high\""
  ${report} --out ${report_out}/err-bad_field.json --search ${report_data}/search --retrain ${report_data}/retrain_bad_field)
nas_cli_fail_test(report_cli.dataset_mismatch
  "nas_report: error: [^\n]*baselines_cifar10\\.json: field 'dataset' is \"cifar10\" but the retraining \\([^\n]*retrain/retrain_summary\\.json\\) is on \"fashion-mnist\""
  ${report} --out ${report_out}/err-dataset_mismatch.json ${report_inputs} --baselines ${report_data}/baselines_cifar10.json)
nas_cli_fail_test(report_cli.missing_search
  "nas_report: error: [^\n]*nowhere/pareto\\.json does not exist \\(nas_search --out DIR writes DIR/pareto\\.json\\)"
  ${report} --out ${report_out}/err-missing_search.json --search ${report_data}/nowhere --retrain ${report_data}/retrain)
nas_cli_fail_test(report_cli.missing_retrain
  "nas_report: error: [^\n]*nowhere/retrain_summary\\.json does not exist \\(nas_retrain --pareto"
  ${report} --out ${report_out}/err-missing_retrain.json --search ${report_data}/search --retrain ${report_data}/nowhere)
nas_cli_fail_test(report_cli.missing_baselines
  "nas_report: error: [^\n]*nowhere\\.json does not exist \\(a results table"
  ${report} --out ${report_out}/err-missing_baselines.json ${report_inputs} --baselines ${report_data}/nowhere.json)
nas_cli_fail_test(report_cli.no_out "nas_report: error: the option '--out' is required" ${report} ${report_inputs})
nas_cli_fail_test(report_cli.out_md "nas_report: error: --out [^\n]*r\\.md: the Markdown summary would overwrite it"
  ${report} --out ${report_out}/r.md ${report_inputs})
set(report_deep ${report_out}/deep.json)
string(REPEAT "[" 100 deep_open)
string(REPEAT "]" 100 deep_close)
file(WRITE ${report_deep} "${deep_open}${deep_close}\n")
nas_cli_fail_test(report_cli.deep_baselines "nas_report: error: [^\n]*deep\\.json: JSON nested deeper than 64 levels"
  ${report} --out ${report_out}/err-deep_baselines.json ${report_inputs} --baselines ${report_deep})
