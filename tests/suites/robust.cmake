# Issue 32: output guards (core/output_guard.h), strict linear-time JSON, bench smoke runs.
nas_add_test(test_robust LIBS nas_core)

# Every bench runs once at tiny settings (seconds), so that a bench that no longer runs is noticed
# (bench_dist failed on every run for weeks). The figures themselves come from full runs, never tests.
function(nas_bench_smoke_test bench regex)
  if(NOT TARGET ${bench})
    return()
  endif()
  add_test(NAME bench_smoke.${bench} COMMAND $<TARGET_FILE:${bench}> ${ARGN})
  set_tests_properties(bench_smoke.${bench} PROPERTIES
    PASS_REGULAR_EXPRESSION "${regex}" FAIL_REGULAR_EXPRESSION "error:"
    TIMEOUT 120 LABELS bench)
endfunction()
nas_bench_smoke_test(bench_ops "\"results\": " --repeats 1 --warmup 0 --shapes dw --ops shift,adder --threads 1)
nas_bench_smoke_test(bench_energy "\"archs_per_s\": [0-9]" --repeats 1 --archs 20)
nas_bench_smoke_test(bench_train_step "\"batch\": 4" --batch 4 --steps 1 --ops shift --augs none --threads 1)
nas_bench_smoke_test(bench_search "\"peak_rss_mib\": [1-9]" --population 8 --generations 2 --repeats 1 --threads 1)
nas_bench_smoke_test(bench_dist "\"two_process_images_per_s\": [0-9]" --images 16 --batch-size 8 --repeats 1 --nproc 2 --threads 2)
nas_bench_smoke_test(bench_json "\"linearity\"" --sizes 100,200 --repeats 1 --callback-sizes 50)
