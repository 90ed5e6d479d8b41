# Issue 34: nas_report --random / --scaled, the baseline arms beside the searched points and the
# claims per budget (report/pareto_report.h, "Arms"). Seconds; doctest (test_report_arms.cc) and
# CLI tests on the fixtures in tests/data/report/arms/ (hand-written; their pareto.json files are
# points of tests/data/report/search with one block's op changed, energies made up, and each
# summary carries its pareto.json's fingerprint). All against the search at 60 uJ:
#   retrain2/ (seeds 1, 2): P0 test 71.0/71.4 val 72.0/72.4, P1 73.5/73.9 val 74.0/74.2,
#     P2 72.0/72.4 val 74.4/74.6 -> searched best by validation P2, test 72.2 ± 0.28
#   retrain1/ (seed 1): P2 best (val 74.5), test 72.0
#   random/ (budget 60 uJ, seeds 1, 2; pareto.file absolute and gone: found as DIR/../pareto.json):
#     R0 39 uJ test 72.1/72.5 val 73.0/73.4, R1 55 uJ test 71.2/71.4 val 73.6/74.0 -> best R1
#     (validation, though R0 tests higher): margin +0.90, paired 0.8, 1.0 (SE 0.10) -> beats
#   random1/ (seed 1; the same pareto.json named relative to the summary): R1 best, test 71.2
#   scaled/ (budget 60 uJ): S0 45 uJ test 71.0/72.8 (std 1.27) -> +0.30, paired 1.0, -0.4
#     (SE 0.70): within the seeds' spread -> does not beat
#   scaled_high/ (budget 100 uJ): S0 at 80 uJ: no arm point within 60 uJ; at 100 uJ -2.00
#   scaled_bad/: a summary cut short
nas_add_test(test_report_arms LIBS nas_pareto_report)

if(NOT TARGET nas_report)
  return()
endif()

set(arms_report $<TARGET_FILE:nas_report>)
set(arms_data ${NAS_TEST_DATA}/report/arms)
set(arms_out ${CMAKE_CURRENT_BINARY_DIR}/report_arms)
set(arms_search --search ${NAS_TEST_DATA}/report/search)

# report_cli_write / report_cli_read: tests/report_cli_tests.cmake's helpers (tests report_cli.arms_*);
# a writing run's stdout must list the claims (arms_claims_printed).
function(arms_claims_printed fixture regex)
  set_tests_properties(report_cli.${fixture} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}")
endfunction()

nas_cli_test(report_cli.arms_help "--random[^\n]*random arm.*--scaled[^\n]*scaled arm" ${arms_report} --help)

# ---- two seeds, both arms: one beaten, one within the seeds' spread ------------------------------
report_cli_write(arms_both ${arms_out}/both.json
  ${arms_search} --retrain ${arms_data}/retrain2 --random ${arms_data}/random/retrain
  --scaled ${arms_data}/scaled/retrain --svg ${arms_out}/both.svg)
arms_claims_printed(arms_both
  "3 of 4 points retrained; wrote [^\n]*\nnas_report: claim at <= 60 uJ: searched P2 beats random R1 by \\+0\\.90 points \\(paired over seeds 1, 2: \\+0\\.90 ± 0\\.10 SE\\)\nnas_report: claim at <= 60 uJ: searched P2 does not beat scaled S0: \\+0\\.30 points is within the seeds' spread \\(paired over seeds 1, 2: \\+0\\.30 ± 0\\.70 SE\\)\nnas_report: wrote [^\n]*both\\.svg")
# report.json: the claims with exactly these names (sorted keys), the arms' points.
report_cli_read(arms_json_claims arms_both ${arms_out}/both.json
  "\"claims\": \\[\n *{\n *\"arm\": \"random\",\n *\"arm_energy_mj\": 0\\.055,\n *\"arm_key\": \"[^\"]*s1\\.c24:s3e3-a5e3[^\"]*\",\n *\"arm_label\": \"R1\",\n *\"arm_test_top1\": 71\\.3[0-9]*,\n *\"arm_test_top1_std\": 0\\.141[0-9]*,\n *\"budget_mj\": 0\\.06,\n *\"chosen_by\": \"val_top1\",\n *\"margin_points\": 0\\.(9|89999)[0-9]*,\n *\"paired_differences\": \\[\n *0\\.(8|79999)[0-9]*,\n *1\\.0\n *\\],\n *\"paired_std_error\": 0\\.1(0000)?[0-9]*,\n *\"searched_energy_mj\": 0\\.0417[0-9]*,\n *\"searched_key\": \"[^\"]*s2\\.c160:s3e3-a7e3\\|s1\\.c320:s3e3[^\"]*\",\n *\"searched_label\": \"P2\",\n *\"searched_test_top1\": 72\\.2[0-9]*,\n *\"searched_test_top1_std\": 0\\.28[0-9]*,\n *\"seeds\": \\[\n *1,\n *2\n *\\],\n *\"verdict\": \"searched P2 beats random R1 by \\+0\\.90 points[^\"]*\",\n *\"within_seed_spread\": false\n *},\n *{\n *\"arm\": \"scaled\",.*\"margin_points\": 0\\.(3|29999)[0-9]*,.*\"paired_std_error\": 0\\.(7|69999)[0-9]*,.*\"verdict\": \"searched P2 does not beat scaled S0: \\+0\\.30 points is within the seeds' spread[^\"]*\",\n *\"within_seed_spread\": true\n *}\n *\\],\n *\"claims_note\": \"per budget and arm: [^\"]*highest mean validation top-1")
report_cli_read(arms_json_arms arms_both ${arms_out}/both.json
  "\"arms\": {\n *\"random\": {\n *\"budget_mj\": 0\\.06,\n *\"init\": \"scratch\",\n *\"inputs\": {\n *\"pareto\": {\n *\"file\": \"[^\"]*random/pareto\\.json\",\n *\"fingerprint\": \"fnv1a64:[0-9a-f]+\"\n *},\n *\"retrain_summary\": \"[^\"]*random/retrain/retrain_summary\\.json\"\n *},\n *\"not_retrained\": \\[\\],\n *\"points\": \\[\n *{.*\"energy_mj\": 0\\.039,.*\"label\": \"R0\",.*\"measured_test_top1\": 72\\.3[0-9]*,\n *\"measured_test_top1_by_seed\": \\[\n *72\\.1,\n *72\\.5\n *\\],\n *\"measured_test_top1_std\": 0\\.28[0-9]*,\n *\"measured_val_top1\": 73\\.2[0-9]*,.*\"seeds\": \\[\n *1,\n *2\n *\\],.*\"label\": \"R1\",.*\"recipe_aug\": \"none\"\n *},\n *\"scaled\": {.*\"label\": \"S0\",.*\"baselines\": \\[\\]")
report_cli_read(arms_markdown arms_both ${arms_out}/both.md
  "- Arms \\(random search, the scaled hand-made network\\): random `[^`]*random/retrain/retrain_summary\\.json`, 2 of 2 points retrained; scaled `[^`]*scaled/retrain/retrain_summary\\.json`, 1 of 1 points retrained\\..*## Searched points and arms\n\n\\| arm \\| point \\| energy \\| test top-1 % \\| val top-1 % \\| MACs \\| params \\|\n\\|---\\|---\\|---\\|---\\|---\\|---\\|---\\|\n\\| searched \\| P0 \\| 38\\.26 uJ \\| 71\\.20 ± 0\\.28 \\(2 seeds\\) \\| 72\\.20 \\|[^\n]*\n\\| random \\| R0 \\| 39 uJ \\| 72\\.30 ± 0\\.28 \\(2 seeds\\) \\| 73\\.20 \\|[^\n]*\n\\| searched \\| P1 \\|[^\n]*\n\\| searched \\| P2 \\|[^\n]*\n\\| scaled \\| S0 \\| 45 uJ \\| 71\\.90 ± 1\\.27 \\(2 seeds\\) \\|[^\n]*\n\\| random \\| R1 \\| 55 uJ \\|[^\n]*\n\n## Claims\n.*- Against the arms \\(each side's best within the budget chosen by validation top-1; [^\n]*\n  - At <= 60 uJ: searched P2 beats random R1 by \\+0\\.90 points \\(paired over seeds 1, 2: \\+0\\.90 ± 0\\.10 SE\\)\\.\n  - At <= 60 uJ: searched P2 does not beat scaled S0: \\+0\\.30 points is within the seeds' spread \\(paired over seeds 1, 2: \\+0\\.30 ± 0\\.70 SE\\)\\.\n.*## Architecture keys.*- R0 \\(random\\): `[^`]*s1\\.c16:s3e1[^`]*`\n- R1 \\(random\\): `[^\n]*\n- S0 \\(scaled\\): `")
# The plot: the three colours (searched orange, random green triangles, scaled magenta diamonds),
# the seeds' std bars, a legend entry per arm.
report_cli_read(arms_svg arms_both ${arms_out}/both.svg
  "<g class=\"measured\" fill=\"#d95f02\">\n<line class=\"std\"[^>]*stroke=\"#d95f02\"/>.*<g class=\"arm-random\" fill=\"#1b9e77\">\n<line class=\"std\"[^>]*/><g transform=\"translate\\([0-9.]+ [0-9.]+\\)\"><path d=\"M0,-5 L4\\.5,3\\.5 L-4\\.5,3\\.5 Z\"/></g><text[^>]*>R0</text>\n.*>R1</text>\n</g>\n<g class=\"arm-scaled\" fill=\"#e7298a\">\n<line class=\"std\"[^>]*/><g[^>]*><path d=\"M0,-5 L5,0 L0,5 L-5,0 Z\"/></g><text[^>]*>S0</text>\n</g>\n<g class=\"legend\".*searched, retrained: measured test top-1.*fill=\"#1b9e77\"[^\n]*random arm: measured test top-1 \\(mean, std\\).*fill=\"#e7298a\"[^\n]*scaled arm: measured test top-1 \\(mean, std\\).*</svg>\n$")

# ---- no arms: the report says so, the JSON has none ----------------------------------------------
report_cli_write(arms_none ${arms_out}/none.json
  ${arms_search} --retrain ${arms_data}/retrain2)
arms_claims_printed(arms_none
  "3 of 4 points retrained; wrote [^\n]*none\\.md\n$")
report_cli_read(arms_none_json arms_none ${arms_out}/none.json "\"arms\": {},.*\"claims\": \\[\\],")
report_cli_read(arms_none_markdown arms_none ${arms_out}/none.md
  "- Arms \\(random search, the scaled hand-made network\\): none given\\..*- No arms given \\(--random, --scaled\\): the searched points are not compared with random search or the scaled hand-made network\\.")
set_tests_properties(report_cli.arms_none_markdown PROPERTIES FAIL_REGULAR_EXPRESSION "Searched points and arms")

# ---- one seed each: one paired difference, no SE, the spread unknown -----------------------------
report_cli_write(arms_one_seed ${arms_out}/one_seed.json

  ${arms_search} --retrain ${arms_data}/retrain1 --random ${arms_data}/random1/retrain)
arms_claims_printed(arms_one_seed
  "claim at <= 60 uJ: searched P2 beats random R1 by \\+0\\.80 points \\(one seed: no spread known\\)")
report_cli_read(arms_one_seed_json arms_one_seed ${arms_out}/one_seed.json
  "\"paired_differences\": \\[\n *0\\.(8|79999)[0-9]*\n *\\],\n *\"paired_std_error\": null,.*\"seeds\": \\[\n *1\n *\\],.*\"within_seed_spread\": null")

# ---- a budget below every point of an arm: no claim for it, not an error -------------------------
report_cli_write(arms_budget_miss ${arms_out}/budget_miss.json

  ${arms_search} --retrain ${arms_data}/retrain2 --scaled ${arms_data}/scaled_high/retrain)
arms_claims_printed(arms_budget_miss
  "claim at <= 60 uJ: no arm point within the budget: no claim against the scaled arm\nnas_report: claim at <= 100 uJ: searched P2 does not beat scaled S0: -2\\.00 points")
report_cli_read(arms_budget_miss_json arms_budget_miss ${arms_out}/budget_miss.json
  "\"claims\": \\[\n *{\n *\"arm\": \"scaled\",\n *\"arm_key\": null,\n *\"budget_mj\": 0\\.06,\n *\"chosen_by\": \"val_top1\",\n *\"margin_points\": null,\n *\"searched_key\": \"[^\"]*\",\n *\"searched_label\": \"P2\",\n *\"seeds\": null,\n *\"verdict\": \"no arm point within the budget: no claim against the scaled arm\"\n *},\n *{\n *\"arm\": \"scaled\",.*\"budget_mj\": 0\\.1,")
report_cli_read(arms_budget_miss_markdown arms_budget_miss ${arms_out}/budget_miss.md
  "  - At <= 60 uJ: no arm point within the budget: no claim against the scaled arm\\.\n  - At <= 100 uJ: searched P2 does not beat scaled S0: -2\\.00 points")

# ---- PNG with the arms (matplotlib): skipped where python3-matplotlib is not installed -----------
add_test(NAME report_cli.arms_png COMMAND ${arms_report} --out ${arms_out}/png.json ${arms_search}
                                         --retrain ${arms_data}/retrain2 --random ${arms_data}/random/retrain
                                         --scaled ${arms_data}/scaled/retrain --plot ${arms_out}/png.png)
set_tests_properties(report_cli.arms_png PROPERTIES PASS_REGULAR_EXPRESSION "nas_report: wrote [^\n]*png\\.png"
                     SKIP_REGULAR_EXPRESSION "matplotlib is not available" TIMEOUT 120 LABELS cli)

# ---- errors: one line, non-zero exit -------------------------------------------------------------
nas_cli_fail_test(report_cli.arms_missing_summary
  "^nas_report: error: [^\n]*arms/nowhere/retrain_summary\\.json does not exist \\(nas_retrain --pareto[^\n]*\n$"
  ${arms_report} --out ${arms_out}/err-missing.json ${arms_search} --retrain ${arms_data}/retrain2
  --random ${arms_data}/nowhere)
nas_cli_fail_test(report_cli.arms_malformed_summary
  "^nas_report: error: [^\n]*scaled_bad/retrain/retrain_summary\\.json: invalid JSON: [^\n]*\n$"
  ${arms_report} --out ${arms_out}/err-malformed.json ${arms_search} --retrain ${arms_data}/retrain2
  --scaled ${arms_data}/scaled_bad/retrain)
nas_cli_fail_test(report_cli.arms_wrong_arm
  "^nas_report: error: --random [^\n]*scaled/retrain: [^\n]*scaled/pareto\\.json has objective \"scaled\", not \"random\" \\(nas_arms --arm random writes it\\)\n$"
  ${arms_report} --out ${arms_out}/err-wrong_arm.json ${arms_search} --retrain ${arms_data}/retrain2
  --random ${arms_data}/scaled/retrain)
# Guarded inputs, on a copy (a refusal that failed would replace the copy, not the fixture): an
# output into an arm's directory or over its pareto.json, which lies outside it.
set(arms_copy ${CMAKE_CURRENT_BINARY_DIR}/report_arms_inputs)
file(REMOVE_RECURSE ${arms_copy})
file(COPY ${arms_data}/random DESTINATION ${arms_copy})
set(arms_copy_inputs ${arms_search} --retrain ${arms_data}/retrain2 --random ${arms_copy}/random/retrain)
nas_cli_fail_test(report_cli.arms_out_over_arm_summary
  "nas_report: error: --out '[^']*random/retrain/retrain_summary\\.json' would replace a file in the input of --random '[^']*random/retrain': an output must not replace an input"
  ${arms_report} --out ${arms_copy}/random/retrain/retrain_summary.json ${arms_copy_inputs})
nas_cli_fail_test(report_cli.arms_svg_over_arm_pareto
  "nas_report: error: --svg '[^']*random/pareto\\.json' is the input of --random \\(its pareto\\.json\\) [^\n]*: an output must not replace an input"
  ${arms_report} --out ${arms_out}/err-svg_over.json --svg ${arms_copy}/random/pareto.json ${arms_copy_inputs})
