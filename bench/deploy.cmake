# bench_deploy (issue 35): the generated C vs LibTorch inference.
if(TARGET nas_deploy_torch)
  find_program(NAS_BENCH_CC NAMES cc gcc)
  nas_add_program(bench_deploy LIBS nas_deploy_torch)
  target_compile_definitions(bench_deploy PRIVATE NAS_DEPLOY_CC="${NAS_BENCH_CC}"
                             NAS_DEPLOY_HARNESS="${PROJECT_SOURCE_DIR}/deploy/harness/nas_harness.c")
endif()
