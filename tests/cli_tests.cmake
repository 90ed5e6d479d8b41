# CLI output tests: run the real binaries and check what they print (google/benchmark's output
# tests). Included by tests/CMakeLists.txt. Add tests with the helpers below:
#   nas_cli_test(NAME REGEX COMMAND...)       passes when the output matches REGEX (exit code is
#                                             then not checked by ctest)
#   nas_cli_fail_test(NAME REGEX COMMAND...)  the command must exit non-zero (NAME.exit_code) and
#                                             print a line matching REGEX (NAME)
# CMake regexes: "." also matches a newline.
set(NAS_TEST_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data)

# Empty arguments (`--budget ""`) survive: ${ARGN} would drop them, so each argument is quoted
# one by one (the calling function's ARGV<first>..ARGV<count-1>, into `command`) and the add_test
# call evaluated.
macro(nas_quote_function_args first count)
  set(command "")
  math(EXPR last_index "${count} - 1")
  foreach(index RANGE ${first} ${last_index})
    string(APPEND command " [==[${ARGV${index}}]==]")
  endforeach()
endmacro()

function(nas_cli_test name regex)
  nas_quote_function_args(2 ${ARGC})
  cmake_language(EVAL CODE "add_test(NAME [==[${name}]==] COMMAND ${command})")
  set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}" TIMEOUT 60
                                          LABELS cli)
endfunction()

function(nas_cli_fail_test name regex)
  nas_quote_function_args(2 ${ARGC})
  cmake_language(EVAL CODE "add_test(NAME [==[${name}]==] COMMAND ${command})")
  cmake_language(EVAL CODE "add_test(NAME [==[${name}.exit_code]==] COMMAND ${command})")
  set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}" TIMEOUT 60
                                          LABELS cli)
  set_tests_properties(${name}.exit_code PROPERTIES WILL_FAIL TRUE TIMEOUT 60 LABELS cli)
  # The twins run one command: side by side, one would find the other's claim on its output.
  set_tests_properties(${name} ${name}.exit_code PROPERTIES RESOURCE_LOCK ${name})
endfunction()

# ---- nas_energy ------------------------------------------------------------------------------
if(TARGET nas_energy)
  set(energy $<TARGET_FILE:nas_energy>)
  set(small ${NAS_TEST_DATA}/energy_small_layers.json)

  # The spec's check values appear in the per-layer table; totals and the breakdown follow.
  nas_cli_test(energy_cli.layers
    "conv1 +conv +3>16 +32x32[^\n]* 0\\.0261248 .*shift64 +shift +64>64[^\n]* 0\\.48468 .*add64 +add[^\n]* 1\\.30653 .*conv_s2[^\n]* 0\\.0480116 .*total: 1\\.87187 mJ.*per op: add 1\\.30653 mJ.*breakdown: DRAM"
    ${energy} --layers ${small})
  nas_cli_test(energy_cli.unit_8bit
    "energy model: unit.*8-bit.*total: 0\\.00230902 mJ"
    ${energy} --layers ${small} --model unit --bits 8)
  nas_cli_test(energy_cli.arch
    "head\\.pool +avgpool.*classifier +fc.*total: 0\\.40362[0-9]* mJ.*shift 0\\.37153"
    ${energy} --arch mbv2-tiny --op shift)
  nas_cli_test(energy_cli.budget_fits "budget: 10 mJ per image: fits"
    ${energy} --layers ${small} --budget 10mJ)
  nas_cli_test(energy_cli.budget_exceeded "budget: 1 mJ per image: EXCEEDED"
    ${energy} --layers ${small} --budget "1 mJ")
  nas_cli_test(energy_cli.help "--layers.*--model.*--bits.*--batch.*--energy-table.*--budget.*--json"
    ${energy} --help)

  # --json: written by one test, read back by the next.
  set(energy_json ${CMAKE_CURRENT_BINARY_DIR}/energy_cli_out.json)
  add_test(NAME energy_cli.json_write COMMAND ${energy} --layers ${small} --json ${energy_json})
  set_tests_properties(energy_cli.json_write PROPERTIES FIXTURES_SETUP energy_json LABELS cli)
  nas_cli_test(energy_cli.json_read
    "\"context\": {.*\"schema_version\": 1.*\"layers\": \\[.*\"energy_mj\": 0\\.0261248.*\"latency_ms\": 0\\.01228.*\"tiling\": {.*\"total_energy_mj\": 1\\.87187"
    ${CMAKE_COMMAND} -E cat ${energy_json})
  set_tests_properties(energy_cli.json_read PROPERTIES FIXTURES_REQUIRED energy_json)

  # Errors: one line, non-zero exit.
  nas_cli_fail_test(energy_cli.bad_layer
    "nas_energy: error: [^\n]*energy_bad_layers\\.json: layers\\[1\\]: layer 'bad_groups': field 'groups' = 3 does not divide c_in = 16"
    ${energy} --layers ${NAS_TEST_DATA}/energy_bad_layers.json)
  nas_cli_fail_test(energy_cli.bad_table
    "nas_energy: error: energy table [^\n]*energy_bad_table\\.json: field 'memory' is missing"
    ${energy} --layers ${small} --energy-table ${NAS_TEST_DATA}/energy_bad_table.json)
  nas_cli_fail_test(energy_cli.bad_model
    "nas_energy: error: unknown energy model 'timeloop' \\(accepted: eyeriss, unit\\)"
    ${energy} --layers ${small} --model timeloop)
  nas_cli_fail_test(energy_cli.bad_bits "nas_energy: error: --bits must be 32 or 8, got 16"
    ${energy} --layers ${small} --bits 16)
  nas_cli_fail_test(energy_cli.bad_budget "nas_energy: error: .*accepted:"
    ${energy} --layers ${small} --budget 10kJ)
  nas_cli_fail_test(energy_cli.no_input "nas_energy: error: give exactly one of --arch or --layers"
    ${energy})
  # Issue 13: sizes whose MAC count wrapped to a negative number that "fit" the budget.
  nas_cli_fail_test(energy_cli.huge_layer
    "nas_energy: error: [^\n]*energy_huge_layers\\.json: layers\\[0\\]: layer 'big': field 'c_in' = 16777215 exceeds the maximum 65536 \\(accepted: "
    ${energy} --layers ${NAS_TEST_DATA}/energy_huge_layers.json --model unit --budget 10mJ)
  # Deep nesting crashed both readers with SIGSEGV; the file is written at configure time.
  set(deep_json ${CMAKE_CURRENT_BINARY_DIR}/deep_nesting.json)
  string(REPEAT "[" 100000 deep_open)
  string(REPEAT "]" 100000 deep_close)
  file(WRITE ${deep_json} "${deep_open}${deep_close}\n")
  nas_cli_fail_test(energy_cli.deep_layers
    "nas_energy: error: [^\n]*deep_nesting\\.json: JSON nested deeper than 64 levels"
    ${energy} --layers ${deep_json})
  nas_cli_fail_test(energy_cli.deep_arch
    "nas_energy: error: [^\n]*deep_nesting\\.json: JSON nested deeper than 64 levels"
    ${energy} --arch ${deep_json})
  # A tiny budget makes the share a 30-digit number; a fixed buffer cut the line before ")".
  nas_cli_test(energy_cli.budget_tiny
    "budget: 1e-18 pJ per image: EXCEEDED \\(uses 1\\.872 mJ, [0-9]+\\.[0-9]% of the budget\\)"
    ${energy} --layers ${small} --budget 1e-30J)
  nas_cli_fail_test(energy_cli.unknown_arch "nas_energy: error: unknown architecture 'resnet-1000'"
    ${energy} --arch resnet-1000)
  # Issue 13, item 6: every error names the file, the field and what is accepted.
  nas_cli_fail_test(energy_cli.bits_not_in_table
    "nas_energy: error: [^\n]*energy_bits7_layers\\.json: layers\\[1\\]: layer 'shift64': field 'bits' = 7, but the energy table 'eyeriss-45nm' has entries for 8, 32 bits only"
    ${energy} --layers ${NAS_TEST_DATA}/energy_bits7_layers.json)
  nas_cli_fail_test(energy_cli.number_overflow
    "nas_energy: error: [^\n]*energy_overflow_number\\.json: invalid JSON: number overflow parsing '1e999'"
    ${energy} --layers ${NAS_TEST_DATA}/energy_overflow_number.json)
  nas_cli_fail_test(energy_cli.huge_integer
    "nas_energy: error: [^\n]*energy_huge_integer\\.json: layers\\[0\\] \\('conv1'\\): field 'c_out' is out of range, got 9\\.99[0-9]*e\\+22"
    ${energy} --layers ${NAS_TEST_DATA}/energy_huge_integer.json)
endif()

# ---- nas_retrain / nas_eval ------------------------------------------------------------------
if(TARGET nas_retrain AND TARGET nas_eval)
  set(retrain $<TARGET_FILE:nas_retrain>)
  set(neval $<TARGET_FILE:nas_eval>)
  set(retrain_out ${CMAKE_CURRENT_BINARY_DIR}/retrain_cli)

  nas_cli_test(retrain_cli.help
    "--arch.*--op.*--remap.*--dataset.*--data-dir.*--batch-size.*--aug-stop-fraction.*--limit-train.*--limit-test.*--val-size.*--split-seed.*--epochs.*--lr.*--aug.*--alpha.*--stop-width-aug-fraction.*--stop-expand-aug-fraction.*--expand-list.*--width-list.*--no-cross-term.*--sort-channels.*--eta.*--device.*--resume.*--seed.*--threads.*--out"
    ${retrain} --help)
  nas_cli_test(eval_cli.help "--model.*--dataset.*--data-dir.*--limit-test.*--device.*--json" ${neval} --help)

  # Flag errors: one line, non-zero exit, before any data is read.
  nas_cli_fail_test(retrain_cli.bad_op "nas_retrain: error: [^\n]*'mul'[^\n]*mult"
    ${retrain} --op mul --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_aug "nas_retrain: error: unknown --aug 'netaug' \\(accepted: auto, shiftaddaug, none\\)"
    ${retrain} --aug netaug --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_memory_format "nas_retrain: error: unknown --memory-format 'nhwc' \\(accepted: channels-last, nchw\\)"
    ${retrain} --memory-format nhwc --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_dataset "nas_retrain: error: unknown --dataset 'imagenet'"
    ${retrain} --dataset imagenet --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_epochs "nas_retrain: error: --epochs must be >= 1, got 0"
    ${retrain} --epochs 0 --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_sort "nas_retrain: error: unknown channel sort 'tiny' \\(accepted: all, augmented\\)"
    ${retrain} --sort-channels tiny --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_stop_fraction "nas_retrain: error: --stop-width-aug-fraction must be in \\[0, 1\\], got 2"
    ${retrain} --stop-width-aug-fraction 2 --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.aug_stop_conflict "nas_retrain: error: --aug-stop-fraction sets both stop fractions"
    ${retrain} --aug-stop-fraction 0.1 --stop-expand-aug-fraction 0.5 --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_remap "nas_retrain: error: unknown remap 'cubic'"
    ${retrain} --remap cubic --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.bad_list "nas_retrain: error: --width-list: '1,two' is not a comma-separated list"
    ${retrain} --width-list 1,two --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.missing_data_dir "nas_retrain: error: --data-dir /nonexistent/fmnist: no such directory"
    ${retrain} --data-dir /nonexistent/fmnist --out ${retrain_out}/bad)
  nas_cli_fail_test(retrain_cli.no_out "nas_retrain: error: --out DIR is required" ${retrain})
  nas_cli_fail_test(retrain_cli.bad_split_seed "nas_retrain: error: --split-seed must be >= -1, got -3"
    ${retrain} --split-seed -3 --out ${retrain_out}/bad)
  nas_cli_fail_test(eval_cli.not_a_model "nas_eval: error: model file '[^']*energy_small_layers.json': not a tiny-model file"
    ${neval} --model ${NAS_TEST_DATA}/energy_small_layers.json)
  nas_cli_fail_test(eval_cli.missing_model "nas_eval: error: [^\n]*/nonexistent.nasm"
    ${neval} --model /nonexistent.nasm)
  # A directory given as the model said "bad magic" (issue 13, item 6).
  nas_cli_fail_test(eval_cli.directory_model "nas_eval: error: [^\n]*data: is a directory, not a file"
    ${neval} --model ${NAS_TEST_DATA})

  # End to end on a small real subset: one epoch of ShiftAddAug (shift), export, nas_eval
  # reproduces the test top-1 exactly; a second run into the same directory needs --resume, and
  # --resume of a finished run only re-exports. Skipped when Fashion-MNIST is not installed.
  set(fm_dir /usr/share/datasets/fashion-mnist)
  add_test(NAME retrain_cli.fashion_mnist_1epoch COMMAND sh -c "
    if [ ! -f ${fm_dir}/train-images-idx3-ubyte.gz ] && [ ! -f ${fm_dir}/train-images-idx3-ubyte ]; then
      echo 'SKIPPED: Fashion-MNIST is not installed in ${fm_dir}'; exit 0; fi
    rm -rf ${retrain_out}/fm && \
    ${retrain} --arch mbv2-micro --op shift --epochs 1 --batch-size 64 --limit-train 640 --val-size 128 \
      --limit-test 256 --bn-batches 2 --threads 1 --out ${retrain_out}/fm && \
    ${neval} --model ${retrain_out}/fm/tiny_model.nasm --threads 1 --json ${retrain_out}/fm/eval.json && \
    { ${retrain} --arch mbv2-micro --op shift --epochs 1 --batch-size 64 --limit-train 640 --val-size 128 \
        --limit-test 256 --threads 1 --out ${retrain_out}/fm 2>&1; true; } && \
    ${retrain} --arch mbv2-micro --op shift --epochs 2 --batch-size 64 --limit-train 640 --val-size 128 \
        --limit-test 256 --threads 1 --out ${retrain_out}/fm --resume 2>&1; \
    cat ${retrain_out}/fm/result.json")
  set_tests_properties(retrain_cli.fashion_mnist_1epoch PROPERTIES
    PASS_REGULAR_EXPRESSION "epoch 1/1 [^\n]*val [0-9.]+%.*nas_retrain: test top-1 [0-9.]+% \\(val [0-9.]+%\\).*nas_eval: fashion-mnist test top-1 [0-9.]+% \\([0-9]+/256 images.*reproduced exactly.*already holds a run \\(checkpoint.pt\\): pass --resume.*was made with different settings \\(settings\\.trainer\\.[a-z_]+ differs\\).*\"energy_mj\": [0-9.]+.*\"test_top1\""
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 300 LABELS cli)

  # A setting recorded with a run and checked by --resume: a 1-epoch run with FIRST_FLAGS, then
  # SHOW (a command printing the setting as recorded), then --resume with RESUME_FLAGS, refused.
  function(retrain_setting_recorded_test name dir first_flags show resume_flags pass_regex)
    set(recipe "--arch mbv2-micro --op shift --aug none --batch-size 64 --limit-train 320 --val-size 64 --limit-test 128 --bn-batches 1 --threads 1")
    add_test(NAME ${name} COMMAND sh -c "
      if [ ! -f ${fm_dir}/train-images-idx3-ubyte.gz ] && [ ! -f ${fm_dir}/train-images-idx3-ubyte ]; then
        echo 'SKIPPED: Fashion-MNIST is not installed in ${fm_dir}'; exit 0; fi
      rm -rf ${dir} && ${retrain} ${recipe} --epochs 1 ${first_flags} --out ${dir} >/dev/null 2>&1 && ${show} && \
      ${retrain} ${recipe} --epochs 2 ${resume_flags} --out ${dir} --resume 2>&1; true")
    set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${pass_regex}"
      SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 120 LABELS cli)
  endfunction()
  # --memory-format nchw is recorded with the run (the default, channels-last, is not written, so
  # runs of earlier binaries resume), and a run resumed in the other layout is refused.
  retrain_setting_recorded_test(retrain_cli.memory_format_recorded ${retrain_out}/mf "--memory-format nchw"
    "grep -o '\"channels_last\": false' ${retrain_out}/mf/result.json" ""
    "\"channels_last\": false.*different settings \\(settings\\.net\\.channels_last differs\\)")
  # --split-seed is recorded with the run (config.json's data block) and is part of what --resume
  # checks: the same run resumed on another split is refused.
  retrain_setting_recorded_test(retrain_cli.split_seed_recorded ${retrain_out}/ss "--seed 2 --split-seed 1"
    "tr -d ' \\n' < ${retrain_out}/ss/config.json | grep -o '\"split_seed\":1'" "--seed 2 --split-seed 3"
    "\"split_seed\":1\n.*different settings \\(settings\\.data\\.split_seed differs\\)")

  # Data-parallel (issue 12): --nproc 2 launches two ranks over loopback; they export the same model,
  # byte for byte, as one process with 2 micro-batches (AddAug: the adder's normalised gradients
  # amplify any difference). Resuming with another world size is refused; a rank killed mid-run
  # ends the whole job with a line naming it.
  set(dist_flags "--arch mbv2-micro --op add --batch-size 64 --limit-train 384 --val-size 64 --limit-test 128 --bn-batches 2")
  add_test(NAME retrain_cli.data_parallel COMMAND sh -c "
    if [ ! -f ${fm_dir}/train-images-idx3-ubyte.gz ] && [ ! -f ${fm_dir}/train-images-idx3-ubyte ]; then
      echo 'SKIPPED: Fashion-MNIST is not installed in ${fm_dir}'; exit 0; fi
    rm -rf ${retrain_out}/dp1 ${retrain_out}/dp2 ${retrain_out}/dpk
    ${retrain} ${dist_flags} --epochs 1 --threads 1 --micro-batches 2 --out ${retrain_out}/dp1 >/dev/null 2>&1
    ${retrain} ${dist_flags} --epochs 1 --nproc 2 --threads 1 --out ${retrain_out}/dp2 2>&1 | grep -o 'launched 2 ranks'
    cmp ${retrain_out}/dp1/tiny_model.nasm ${retrain_out}/dp2/tiny_model.nasm && echo SAME_MODEL
    grep -o '\"world_size\": 2' ${retrain_out}/dp2/result.json
    ${retrain} ${dist_flags} --epochs 2 --threads 1 --out ${retrain_out}/dp2 --resume 2>&1 | grep -o 'resume it with 2 process(es), not 1'
    rm -rf ${retrain_out}/dpu ${retrain_out}/dpr
    ${retrain} ${dist_flags} --epochs 3 --nproc 2 --out ${retrain_out}/dpu >/dev/null 2>&1
    ${retrain} ${dist_flags} --epochs 3 --nproc 2 --checkpoint-every 2 --out ${retrain_out}/dpr >/dev/null 2>&1 &
    job=$!
    i=0; while ! grep -q 'epoch 1/' ${retrain_out}/dpr/log.txt 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
    kill -9 $(pgrep -P $job) $job; wait $job 2>/dev/null
    ${retrain} ${dist_flags} --epochs 3 --nproc 2 --checkpoint-every 2 --out ${retrain_out}/dpr --resume >/dev/null 2>&1
    cmp ${retrain_out}/dpu/tiny_model.nasm ${retrain_out}/dpr/tiny_model.nasm && echo SAME_AFTER_KILL_ALL
    ${retrain} ${dist_flags} --epochs 30 --nproc 2 --out ${retrain_out}/dpk >/dev/null 2>${retrain_out}/dpk.err &
    launcher=$!
    i=0; while [ ! -f ${retrain_out}/dpk/log.txt ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
    sleep 1
    for p in $(pgrep -P $launcher); do tr '\\0' '\\n' < /proc/$p/environ | grep -qx RANK=1 && kill -9 $p; done
    wait $launcher; echo launcher exit $?
    grep -o 'rank 1 was killed by signal 9[^;]*; stopping the other ranks' ${retrain_out}/dpk.err")
  set_tests_properties(retrain_cli.data_parallel PROPERTIES
    PASS_REGULAR_EXPRESSION "launched 2 ranks\nSAME_MODEL\n\"world_size\": 2\nresume it with 2 process\\(es\\), not 1\nSAME_AFTER_KILL_ALL\nlauncher exit 1\nrank 1 was killed by signal 9 \\(Killed\\); stopping the other ranks"
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 300 LABELS cli)

  # The same on CIFAR-10 when $NAS_CIFAR10_DIR holds the binaries (add, mbv2-micro, 32x32x3).
  add_test(NAME retrain_cli.cifar10_1epoch COMMAND sh -c "
    if [ -z \"$NAS_CIFAR10_DIR\" ] || [ ! -f \"$NAS_CIFAR10_DIR/test_batch.bin\" ]; then
      echo 'SKIPPED: NAS_CIFAR10_DIR is not set or holds no CIFAR-10 binaries'; exit 0; fi
    rm -rf ${retrain_out}/c10 && \
    ${retrain} --arch mbv2-micro --op add --dataset cifar10 --data-dir \"$NAS_CIFAR10_DIR\" --epochs 1 \
      --batch-size 64 --limit-train 640 --val-size 128 --limit-test 256 --bn-batches 2 --threads 1 \
      --out ${retrain_out}/c10 && \
    ${neval} --model ${retrain_out}/c10/tiny_model.nasm --data-dir \"$NAS_CIFAR10_DIR\" --threads 1")
  set_tests_properties(retrain_cli.cifar10_1epoch PROPERTIES
    PASS_REGULAR_EXPRESSION "nas_retrain: test top-1 [0-9.]+%.*nas_eval: cifar10 test top-1 .*reproduced exactly"
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 300 LABELS cli)

  # The supernet: train one epoch over the Fashion-MNIST micro space, extract mbv2-micro (add) with
  # its inherited weights, evaluate the file with nas_eval; an architecture outside the space is a
  # one-line error naming the field; --resume is required for an existing run.
  set(train_supernet $<TARGET_FILE:nas_train_supernet>)
  set(extract $<TARGET_FILE:nas_extract>)
  set(micro_space ${PROJECT_SOURCE_DIR}/results/supernet/space-fmnist-micro.json)
  nas_cli_test(supernet_cli.help "--space.*--sandwich.*--op-weights.*--limit-train.*--val-size.*--epochs.*--aug.*--alpha.*--resume"
    ${train_supernet} --help)
  nas_cli_test(extract_cli.help "--supernet.*--arch.*--bn-batches.*--out" ${extract} --help)
  nas_cli_fail_test(supernet_cli.bad_sandwich "nas_train_supernet: error: --sandwich must be in \\[1, 64\\], got 0"
    ${train_supernet} --sandwich 0 --out ${retrain_out}/bad)
  nas_cli_fail_test(supernet_cli.bad_op_weights "nas_train_supernet: error: unknown --op-weights 'per-op' \\(accepted: shared, separate-adder\\)"
    ${train_supernet} --op-weights per-op --out ${retrain_out}/bad)
  nas_cli_fail_test(supernet_cli.bad_adder_renorm "nas_train_supernet: error: unknown --adder-renorm 'always' \\(accepted: every-step, off\\)"
    ${train_supernet} --adder-renorm always --out ${retrain_out}/bad)
  nas_cli_fail_test(supernet_cli.adder_renorm_needs_relative "nas_train_supernet: error: --adder-renorm every-step needs --adder-weights unit-rms and --adder-scaling relative \\(or --adder-renorm off\\)"
    ${train_supernet} --adder-scaling absolute --out ${retrain_out}/bad)
  nas_cli_fail_test(supernet_cli.bad_memory_format "nas_train_supernet: error: unknown --memory-format 'NCHW' \\(accepted: channels-last, nchw\\)"
    ${train_supernet} --memory-format NCHW --out ${retrain_out}/bad)
  nas_cli_fail_test(supernet_cli.bad_distill "nas_train_supernet: error: unknown --distill 'teacher' \\(accepted: none, inplace\\)"
    ${train_supernet} --distill teacher --out ${retrain_out}/bad)
  nas_cli_fail_test(supernet_cli.bad_aug_micro_batches "nas_train_supernet: error: --aug-micro-batches must be in \\[1, 1024\\], got 0"
    ${train_supernet} --aug-micro-batches 0 --out ${retrain_out}/bad)
  nas_cli_fail_test(extract_cli.no_supernet "nas_extract: error: --supernet /nonexistent: no supernet.json"
    ${extract} --supernet /nonexistent --arch mbv2-micro --out ${retrain_out}/bad)
  add_test(NAME supernet_cli.fashion_mnist_extract COMMAND sh -c "
    if [ ! -f ${fm_dir}/train-images-idx3-ubyte.gz ] && [ ! -f ${fm_dir}/train-images-idx3-ubyte ]; then
      echo 'SKIPPED: Fashion-MNIST is not installed in ${fm_dir}'; exit 0; fi
    rm -rf ${retrain_out}/sn && \
    ${train_supernet} --space ${micro_space} --epochs 1 --batch-size 64 --limit-train 640 --val-size 128 \
      --sandwich 2 --bn-batches 1 --threads 1 --out ${retrain_out}/sn && \
    ${extract} --supernet ${retrain_out}/sn --arch mbv2-micro --op add --bn-batches 2 --threads 1 \
      --out ${retrain_out}/sn/micro-add && \
    ${neval} --model ${retrain_out}/sn/micro-add/tiny_model.nasm --limit-test 256 --threads 1 && \
    { ${extract} --supernet ${retrain_out}/sn --arch mbv2-tiny --op add --out ${retrain_out}/sn/bad 2>&1; true; } && \
    { ${train_supernet} --space ${micro_space} --epochs 1 --limit-train 640 --out ${retrain_out}/sn 2>&1; true; } && \
    cat ${retrain_out}/sn/result.json ${retrain_out}/sn/micro-add/result.json")
  set_tests_properties(supernet_cli.fashion_mnist_extract PROPERTIES
    PASS_REGULAR_EXPRESSION "nas_train_supernet: trained 1 epochs.*nas_extract: [^\n]*inherited val top-1 [0-9.]+% \\(128 images\\).*nas_eval: fashion-mnist test top-1 [0-9.]+%.*nas_extract: error: --arch mbv2-tiny is not in the supernet's space: head.channels 1280.*already holds a run \\(supernet.ckpt\\): pass --resume.*\"final_val\".*\"inherited_val_top1\""
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 600 LABELS cli FIXTURES_SETUP fmnist_supernet)
endif()

# ---- nas_search (issue 10): a synthetic 3 x 400 predictor of default_space(28, 1, 10) --------
if(TARGET nas_search AND TARGET bench_search)
  set(search $<TARGET_FILE:nas_search>)
  set(search_out ${CMAKE_CURRENT_BINARY_DIR}/search_cli)
  set(synth_predictor ${search_out}/synthetic.pt)
  add_test(NAME search_cli.make_predictor COMMAND sh -c "mkdir -p ${search_out} && \
    $<TARGET_FILE:bench_search> --generations 1 --population 4 --repeats 1 --threads 1 --write-predictor ${synth_predictor}")
  set_tests_properties(search_cli.make_predictor PROPERTIES FIXTURES_SETUP search_predictor TIMEOUT 120 LABELS cli)
  # Run context lines (date, command line, threads) aside, the output is a function of the seed.
  set(strip_context "grep -v '\"date\"\\|\"command_line\"\\|\"threads\"'")

  nas_cli_test(search_cli.help "--supernet.*--predictor.*--budget.*--energy-model.*--bits.*--energy-batch.*--population.*--generations.*--objective.*--resume"
    ${search} --help)
  nas_cli_fail_test(search_cli.infeasible "nas_search: error: budget 1 nJ is below the cheapest architecture of the space \\(shift: [0-9.]+ uJ, add: [0-9.]+ uJ\\)"
    ${search} --predictor ${synth_predictor} --budget 1nJ --out ${search_out}/infeasible)
  nas_cli_fail_test(search_cli.bad_budget "nas_search: error: .*10 parsecs"
    ${search} --predictor ${synth_predictor} --budget "10 parsecs" --out ${search_out}/bad)
  nas_cli_fail_test(search_cli.no_predictor "nas_search: error: --supernet /nonexistent: no predictor.pt"
    ${search} --supernet /nonexistent --budget 1mJ --out ${search_out}/bad)
  nas_cli_fail_test(search_cli.not_a_predictor "nas_search: error: .*not an accuracy predictor"
    ${search} --predictor ${NAS_TEST_DATA}/energy_small_layers.json --out ${search_out}/bad)
  set_tests_properties(search_cli.infeasible search_cli.infeasible.exit_code PROPERTIES FIXTURES_REQUIRED search_predictor)

  # Same seed: the same pareto.json with 1 and 2 threads; a search stopped at generation 8 and
  # resumed to 20 ends where an uninterrupted one does; the budget binds and holds.
  add_test(NAME search_cli.deterministic_resume COMMAND sh -c "
    set -e; rm -rf ${search_out}/a ${search_out}/b ${search_out}/c
    ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 20 --seed 5 --threads 1 --out ${search_out}/a 2>/dev/null
    ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 20 --seed 5 --threads 2 --out ${search_out}/b 2>/dev/null
    ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 8 --seed 5 --threads 2 --out ${search_out}/c 2>/dev/null
    if ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 20 --seed 5 --out ${search_out}/c 2>${search_out}/c.err; then exit 1; fi
    ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 20 --seed 5 --threads 1 --out ${search_out}/c --resume 2>${search_out}/c.err
    for d in a b c; do ${strip_context} ${search_out}/$d/pareto.json > ${search_out}/$d.json; done
    cmp ${search_out}/a.json ${search_out}/b.json && echo SAME_THREADS
    cmp ${search_out}/a.json ${search_out}/c.json && echo SAME_RESUMED
    grep -q 'resumed from' ${search_out}/c.err && echo RESUME_SAID
    grep -o '\"energy_mj\": [0-9.e-]*' ${search_out}/a/pareto.json | awk '{ if ($2 > 0.06) bad = 1 } END { print bad ? \"OVER_BUDGET\" : \"WITHIN_BUDGET\" }'
    grep -q '\"budget_binds\": true' ${search_out}/a/pareto.json && echo BINDS
    grep -c '\"generation\"' ${search_out}/c/history.json")
  set_tests_properties(search_cli.deterministic_resume PROPERTIES FIXTURES_REQUIRED search_predictor
    PASS_REGULAR_EXPRESSION "SAME_THREADS\nSAME_RESUMED\nRESUME_SAID\nWITHIN_BUDGET\nBINDS\n21\n" TIMEOUT 300 LABELS cli)
  # kill -9 in the middle of a search, then --resume: the same pareto.json as an uninterrupted run.
  add_test(NAME search_cli.kill_resume COMMAND sh -c "
    rm -rf ${search_out}/k ${search_out}/u; mkdir -p ${search_out}/k
    ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 400 --seed 9 --threads 2 --out ${search_out}/k 2>/dev/null &
    pid=$!
    while [ ! -f ${search_out}/k/search_state.json ]; do sleep 0.05; done
    sleep 0.3
    kill -9 $pid && echo KILLED; wait $pid 2>/dev/null
    ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 400 --seed 9 --threads 2 --out ${search_out}/k --resume 2>/dev/null >/dev/null
    ${search} --predictor ${synth_predictor} --budget 60uJ --population 24 --generations 400 --seed 9 --threads 1 --out ${search_out}/u 2>/dev/null >/dev/null
    ${strip_context} ${search_out}/k/pareto.json > ${search_out}/k.json
    ${strip_context} ${search_out}/u/pareto.json > ${search_out}/u.json
    cmp ${search_out}/k.json ${search_out}/u.json && echo SAME_AFTER_KILL")
  set_tests_properties(search_cli.kill_resume PROPERTIES FIXTURES_REQUIRED search_predictor
    PASS_REGULAR_EXPRESSION "KILLED\nSAME_AFTER_KILL" TIMEOUT 300 LABELS cli)
  nas_cli_test(search_cli.budget_does_not_bind "note: the budget 10 mJ is above the most expensive architecture of the space \\([0-9.]+ mJ\\): it does not bind"
    sh -c "rm -rf ${search_out}/nobind && ${search} --predictor ${synth_predictor} --budget 10mJ --population 8 --generations 2 --objective max-accuracy --out ${search_out}/nobind 2>&1")
  set_tests_properties(search_cli.budget_does_not_bind PROPERTIES FIXTURES_REQUIRED search_predictor)
endif()

# ---- the search pipeline on the tiny Fashion-MNIST supernet of supernet_cli.fashion_mnist_extract:
# accuracy data set (killed mid-line, resumed: the same file as an uninterrupted run), predictor,
# search; a predictor of another space is refused.
if(TARGET nas_build_acc_dataset AND TARGET nas_train_predictor AND TARGET nas_search AND TARGET nas_train_supernet AND TARGET nas_retrain)
  set(acc_build $<TARGET_FILE:nas_build_acc_dataset>)
  set(sn ${CMAKE_CURRENT_BINARY_DIR}/retrain_cli/sn)
  add_test(NAME search_cli.fashion_mnist_pipeline COMMAND sh -c "
    if [ ! -f ${sn}/supernet.ckpt ]; then echo 'SKIPPED: no supernet (Fashion-MNIST not installed?)'; exit 0; fi
    set -e; rm -rf ${sn}/acc.jsonl ${sn}/acc_full.jsonl ${sn}/predictor.pt* ${sn}/search ${sn}/other
    ${acc_build} --supernet ${sn} --samples 6 --bn-batches 1 --seed 2 --threads 1 --out ${sn}/acc.jsonl 2>/dev/null
    head -c -40 ${sn}/acc.jsonl > ${sn}/acc.cut && mv ${sn}/acc.cut ${sn}/acc.jsonl
    ${acc_build} --supernet ${sn} --samples 14 --bn-batches 1 --seed 2 --threads 1 --out ${sn}/acc.jsonl --resume 2>&1 | grep -E 'dropped|resuming'
    ${acc_build} --supernet ${sn} --samples 14 --bn-batches 1 --seed 2 --threads 1 --out ${sn}/acc_full.jsonl 2>/dev/null
    cmp ${sn}/acc.jsonl ${sn}/acc_full.jsonl && echo SAME_DATASET
    ${acc_build} --supernet ${sn} --samples 14 --out ${sn}/acc_full.jsonl 2>&1 | grep -o 'exists: pass --resume' || true
    ${acc_build} --supernet ${sn} --samples 14 --seed 3 --threads 1 --out ${sn}/acc_full.jsonl --resume 2>&1 | grep -o 'built with other settings' || true
    $<TARGET_FILE:nas_train_predictor> --data ${sn}/acc.jsonl --out ${sn}/predictor.pt --holdout 0.3 --epochs 20 --threads 1 2>/dev/null
    ${search} --supernet ${sn} --population 8 --generations 3 --threads 1 --out ${sn}/search 2>/dev/null
    rm -rf ${sn}/retrain
    $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --top 2 --epochs 1 --limit-train 384 --val-size 64 --limit-test 128 --threads 1 --out ${sn}/retrain 2>/dev/null | grep -E '^nas_retrain: retrained'
    $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --top 2 --epochs 1 --limit-train 384 --val-size 64 --limit-test 128 --threads 1 --out ${sn}/retrain 2>&1 | grep -c 'done already'
    grep -c '\"test_top1\"' ${sn}/retrain/retrain_summary.json
    tr -d ' \n' < ${sn}/retrain/retrain_summary.json | grep -o '\"selected\":\\[[^]]*\\]' | grep -o '\"point_index\"' | grep -c point_index
    $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --top 2 --epochs 1 --lr 0.5 --limit-train 384 --val-size 64 --limit-test 128 --threads 1 --out ${sn}/retrain 2>&1 | grep -o 'settings.trainer.lr differs): rerun with its flags' || true
    $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --top 2 --epochs 1 --limit-train 384 --val-size 32 --limit-test 128 --threads 1 --out ${sn}/retrain 2>&1 | grep -o 'settings.data.val_size differs' || true
    $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --top 2 --epochs 1 --limit-train 384 --val-size 64 --limit-test 128 --split-seed 12345 --threads 1 --out ${sn}/retrain 2>&1 | grep -o 'settings.data.split_seed differs' || true
    rm -rf ${sn}/retrain_two
    pids=''; for i in a b; do $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --top 2 --epochs 1 --limit-train 384 --val-size 64 --limit-test 128 --threads 1 --out ${sn}/retrain_two > /dev/null 2> ${sn}/retrain_two_$i.txt & pids=\"$pids $!\"; done
    for p in $pids; do wait $p || echo A_RETRAIN_PROCESS_FAILED; done
    echo two_instances trained $(cat ${sn}/retrain_two_a.txt ${sn}/retrain_two_b.txt | grep -c 'predicted top-1') summary $(grep -c '\"test_top1\"' ${sn}/retrain_two/retrain_summary.json)
    rm -rf ${sn}/retrain_inherit
    $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --top 1 --init supernet --epochs 1 --limit-train 384 --val-size 64 --limit-test 128 --threads 1 --out ${sn}/retrain_inherit >/dev/null 2>&1
    cat ${sn}/retrain_inherit/point-*/result.json | tr -d ' \n' | grep -o '\"init\":{\"from\":\"supernet\",\"inherited_fraction\":1\.0'
    $<TARGET_FILE:nas_retrain> --pareto ${sn}/search/pareto.json --init supernet --supernet /nonexistent --out ${sn}/retrain_bad 2>&1 | grep -o 'no supernet.json' || true
    mkdir -p ${sn}/other && cp ${sn}/space.json ${sn}/other/ && cp ${synth_predictor} ${sn}/other/predictor.pt
    ${search} --supernet ${sn}/other --generations 1 --out ${sn}/other/search 2>&1 | grep -o 'the predictor was trained for space fnv1a64:[0-9a-f]*, not' || true")
  set_tests_properties(search_cli.fashion_mnist_pipeline PROPERTIES
    FIXTURES_REQUIRED "fmnist_supernet;search_predictor"
    PASS_REGULAR_EXPRESSION "dropped an incomplete last line.*resuming with 5 architectures.*SAME_DATASET\nexists: pass --resume\nbuilt with other settings\nnas_train_predictor: hold-out of 4: RMSE [0-9.]+ pt, Kendall tau [-0-9.na/]+ \\(baselines: MACs.*nas_search: [0-9]+ architectures on the front \\(no budget\\).*nas_retrain: retrained 2 point\\(s\\) of .*pareto.json\n2\n3\n2\nsettings.trainer.lr differs\\): rerun with its flags\nsettings.data.val_size differs\nsettings.data.split_seed differs\ntwo_instances trained 2 summary 3\n\"init\":{\"from\":\"supernet\",\"inherited_fraction\":1\\.0\nno supernet.json\n.*the predictor was trained for space fnv1a64:[0-9a-f]+, not"
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 600 LABELS cli)
endif()

# nas_report's tests live beside their app's fixture files.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/report_cli_tests.cmake)
  include(${CMAKE_CURRENT_SOURCE_DIR}/report_cli_tests.cmake)
endif()

# ---- scripts/pipeline.sh --preset smoke: every stage, a few steps each, then a rerun that skips
# the finished stages.
if(TARGET nas_report AND TARGET nas_retrain AND TARGET nas_search)
  set(pipe_out ${CMAKE_CURRENT_BINARY_DIR}/pipeline_smoke)
  add_test(NAME pipeline_cli.smoke COMMAND sh -c "
    if [ ! -f ${fm_dir}/train-images-idx3-ubyte.gz ] && [ ! -f ${fm_dir}/train-images-idx3-ubyte ]; then
      echo 'SKIPPED: Fashion-MNIST is not installed in ${fm_dir}'; exit 0; fi
    rm -rf ${pipe_out} && \
    ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset smoke --budget 35uJ --out ${pipe_out} --threads 1 \
      --retrain-jobs 2 --bin $<TARGET_FILE_DIR:nas_search> 2>&1 | grep -E '^\\[.*stage|pipeline.sh: done|best on validation' && \
    ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset smoke --budget 35uJ --out ${pipe_out} --threads 1 \
      --bin $<TARGET_FILE_DIR:nas_search> 2>&1 | grep -c 'done already' && \
    ls ${pipe_out}/report.json ${pipe_out}/report.md ${pipe_out}/report.svg && \
    if \"\${NAS_PYTHON:-/usr/bin/python3}\" -c 'import matplotlib' 2>/dev/null; then ls ${pipe_out}/report.png; else echo 'no matplotlib: no report.png expected'; fi")
  set_tests_properties(pipeline_cli.smoke PROPERTIES
    PASS_REGULAR_EXPRESSION "stage 1/8 supernet.*stage 5/8[^\n]*\nnas_retrain: best on validation: point-[0-9]+.*stage 6/8 random arm \\(1 architecture\\(s\\) drawn[^\n]*\nnas_retrain: best on validation: point-00.*stage 7/8 scaled arm[^\n]*\nnas_retrain: best on validation: point-00.*stage 8/8 report.*pipeline.sh: done in [0-9]+ s.*\n3\n.*report.json.*report.md.*report.svg.*report.png"
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 300 LABELS cli)
endif()

# ---- experiments/supernet_ranking/supernet_ranking.py (issue 9, item 5) on a fixture whose rankings are reversed -----
find_program(NAS_TEST_PYTHON3 python3)
if(NAS_TEST_PYTHON3)
  add_test(NAME supernet_ranking.fixture COMMAND sh -c "
    ${NAS_TEST_PYTHON3} ${PROJECT_SOURCE_DIR}/experiments/supernet_ranking/supernet_ranking.py ${PROJECT_SOURCE_DIR}/tests/data/supernet_ranking \
      --dataset fixture --out-base ${CMAKE_CURRENT_BINARY_DIR}/ranking_fixture 2>/dev/null && \
    cat ${CMAKE_CURRENT_BINARY_DIR}/ranking_fixture.md ${CMAKE_CURRENT_BINARY_DIR}/ranking_fixture.json")
  set_tests_properties(supernet_ranking.fixture PROPERTIES
    PASS_REGULAR_EXPRESSION "Kendall tau \\(inherited vs standalone validation top-1\\): -1.000\\*\\* over 4 architectures.*5 of the 6 pairs differ.*tau = -1.000.*largest-shift \\+50.50, smallest-shift \\+10.00.*\"resolvable_pairs\": 5"
    LABELS cli)
  # A second standalone seed on the same split: the mean ranks, and the seed-to-seed tau is reported.
  set(two_seeds ${CMAKE_CURRENT_BINARY_DIR}/ranking_two_seeds)
  add_test(NAME supernet_ranking.two_seeds COMMAND sh -c "
    rm -rf ${two_seeds} && cp -r ${PROJECT_SOURCE_DIR}/tests/data/supernet_ranking ${two_seeds} && \
    mv ${two_seeds}/more-seeds/standalone-seed2 ${two_seeds}/ && \
    ${NAS_TEST_PYTHON3} ${PROJECT_SOURCE_DIR}/experiments/supernet_ranking/supernet_ranking.py ${two_seeds} --dataset fixture \
      --out-base ${two_seeds}/out 2>/dev/null && cat ${two_seeds}/out.md && \
    sed -i 's/\"split_seed\": 1/\"split_seed\": 3/' ${two_seeds}/standalone-seed2/random0/config.json && \
    ${NAS_TEST_PYTHON3} ${PROJECT_SOURCE_DIR}/experiments/supernet_ranking/supernet_ranking.py ${two_seeds} --dataset fixture \
      --out-base ${two_seeds}/out2 2>&1; echo rc $?")
  set_tests_properties(supernet_ranking.two_seeds PROPERTIES
    PASS_REGULAR_EXPRESSION "-1.000\\*\\* over 4 architectures \\(goal >= 0.6\\); standalone = mean of seeds \\[1, 2\\]\\.\n.*seed 1 -1.000 \\(4 archs\\), seed 2 -0.667 \\(4 archs\\).*seeds 1/2 0.667 \\(4 archs\\).*Proxies without any training, against the same standalone ranking: energy 1\\.000, MACs 1\\.000, parameters nan \\(the supernet ranks worse than energy and MACs alone\\).*Seed noise: [^\n]* 2\\.27 points.*\\| random1 \\| [0-9.]+ \\| [0-9.]+ \\| 60.00 \\| 84.50 \\| 83.50 \\| 85.00 \\(s1\\), 84.00 \\(s2\\) \\|.*random0: a standalone run of seed 2 is not on seed 1's split.*rc 1"
    LABELS cli)
endif()

# ---- bench_train_step --profile: where a step's time goes (convolutions split by kind) ---------
if(TARGET bench_train_step)
  nas_cli_test(bench_train_step.profile
    "\"profile\": \\[.*\"op\": \"aten::convolution_backward \\(depthwise 3x3\\)\".*\"self_ms_per_step\".*\"profiled\": true"
    $<TARGET_FILE:bench_train_step> --ops shift --augs none --steps 1 --threads 1 --profile 40)
  nas_cli_fail_test(bench_train_step.bad_profile "bench_train_step: error: --profile must be in \\[0, 1000\\], got -1"
    $<TARGET_FILE:bench_train_step> --profile -1)
endif()

# ---- experiments/shiftaddaug/run_shiftaddaug_table.sh: three instances at once share the queue; every run is
# trained exactly once (each run directory is claimed with flock(1) on DIR/.run.lock).
set(queue_dir ${CMAKE_CURRENT_BINARY_DIR}/table_queue)
add_test(NAME run_scripts.shared_queue COMMAND sh -c "
  rm -rf ${queue_dir} && mkdir -p ${queue_dir} && export FAKE_RUN_LOG=${queue_dir}/runs.log && \
  pids=''; for i in 1 2 3; do \
    SEEDS='1 2' COLUMNS='Mult Shift Add' ABLATION_REMAPS='' BIN=${PROJECT_SOURCE_DIR}/tests/data/fake_bin \
      ${PROJECT_SOURCE_DIR}/experiments/shiftaddaug/run_shiftaddaug_table.sh fashion-mnist ${queue_dir}/root --epochs 1 \
      > ${queue_dir}/instance$i.txt 2>&1 & pids=\"$pids $!\"; \
  done; for p in $pids; do wait $p || echo AN_INSTANCE_FAILED; done; \
  echo runs $(wc -l < ${queue_dir}/runs.log) distinct $(sort -u ${queue_dir}/runs.log | wc -l) \
    results $(ls ${queue_dir}/root/*/result.json | wc -l) \
    skipped_busy $(cat ${queue_dir}/instance*.txt | grep -c 'another instance'); \
  rm -rf ${queue_dir}/bad && mkdir -p ${queue_dir}/bad && touch ${queue_dir}/bad/Mult-s1 && \
  SEEDS=1 COLUMNS=Mult ABLATION_REMAPS='' BIN=${PROJECT_SOURCE_DIR}/tests/data/fake_bin \
    ${PROJECT_SOURCE_DIR}/experiments/shiftaddaug/run_shiftaddaug_table.sh fashion-mnist ${queue_dir}/bad --epochs 1 2>&1; echo rc $?")
# Also: a run directory that cannot be claimed (a file in its place) fails the script, not "skip".
set_tests_properties(run_scripts.shared_queue PROPERTIES
  PASS_REGULAR_EXPRESSION "runs 6 distinct 6 results 6 skipped_busy [1-9][0-9]*\n.*FAIL [^\n]*bad/Mult-s1: cannot claim the run directory\nrc 1"
  FAIL_REGULAR_EXPRESSION "AN_INSTANCE_FAILED" TIMEOUT 60 LABELS cli)

# Column names -> nas_retrain flags: an augmented or direct net with a remap, suffixes -lr / -ep
# (a column with its own epochs drops the common --epochs).
set(columns_dir ${CMAKE_CURRENT_BINARY_DIR}/table_columns)
add_test(NAME run_scripts.column_flags COMMAND sh -c "
  rm -rf ${columns_dir} && mkdir -p ${columns_dir} && export FAKE_RUN_LOG=${columns_dir}/runs.log \
    FAKE_ARGS_LOG=${columns_dir}/args.log FAKE_RUN_SECONDS=0 && \
  SEEDS=3 COLUMNS='Shift-piecewise-lr0.2 ShiftAug-fc AddAug-quantile-remap_eta0.1-lr0.025 Add-lr0.1-ep99' ABLATION_REMAPS='' \
    BIN=${PROJECT_SOURCE_DIR}/tests/data/fake_bin ${PROJECT_SOURCE_DIR}/experiments/shiftaddaug/run_shiftaddaug_table.sh \
    cifar10 ${columns_dir}/root --epochs 30 > /dev/null 2>&1 && cat ${columns_dir}/args.log")
set_tests_properties(run_scripts.column_flags PROPERTIES
  PASS_REGULAR_EXPRESSION "--dataset cifar10 --op shift --aug none --remap piecewise --lr 0\\.2 --seed 3 --out [^ ]*/Shift-piecewise-lr0\\.2-s3 --device cpu --epochs 30\n--dataset cifar10 --op shift --aug shiftaddaug --remap fc --seed 3 --out [^ ]*/ShiftAug-fc-s3 [^\n]*\n--dataset cifar10 --op add --aug shiftaddaug --remap quantile --remap-eta 0\\.1 --lr 0\\.025 --seed 3 --out [^\n]*\n--dataset cifar10 --op add --aug none --epochs 99 --lr 0\\.1 --seed 3 --out [^ ]*/Add-lr0\\.1-ep99-s3 --device cpu\n$"
  TIMEOUT 60 LABELS cli)

# ---- experiments/supernet_ranking/supernet_ranking.py: runs of binaries that did not record data.split_seed in
# config.json are judged by the --split-seed of their recorded command line.
if(NAS_TEST_PYTHON3)
  set(cmdline_seeds ${CMAKE_CURRENT_BINARY_DIR}/ranking_cmdline_seeds)
  add_test(NAME supernet_ranking.split_seed_from_command_line COMMAND sh -c "
    rm -rf ${cmdline_seeds} && cp -r ${PROJECT_SOURCE_DIR}/tests/data/supernet_ranking ${cmdline_seeds} && \
    mv ${cmdline_seeds}/more-seeds/standalone-seed2 ${cmdline_seeds}/ && \
    for c in ${cmdline_seeds}/standalone-seed2/*/config.json; do \
      echo '{\"data\": {}, \"context\": {\"command_line\": \"nas_retrain --seed 2 --split-seed 1 --epochs 5\"}}' > $c; done && \
    ${NAS_TEST_PYTHON3} ${PROJECT_SOURCE_DIR}/experiments/supernet_ranking/supernet_ranking.py ${cmdline_seeds} --dataset fixture \
      --out-base ${cmdline_seeds}/out 2>/dev/null && grep -o 'standalone = mean of seeds \\[1, 2\\]' ${cmdline_seeds}/out.md && \
    echo '{\"data\": {}, \"context\": {\"command_line\": \"nas_retrain --seed 2 --epochs 5\"}}' > ${cmdline_seeds}/standalone-seed2/random0/config.json && \
    ${NAS_TEST_PYTHON3} ${PROJECT_SOURCE_DIR}/experiments/supernet_ranking/supernet_ranking.py ${cmdline_seeds} --dataset fixture \
      --out-base ${cmdline_seeds}/out2 2>&1; echo rc $?")
  set_tests_properties(supernet_ranking.split_seed_from_command_line PROPERTIES
    PASS_REGULAR_EXPRESSION "standalone = mean of seeds \\[1, 2\\]\n.*random0: a standalone run of seed 2 is not on seed 1's split.*rc 1"
    LABELS cli)
endif()

# ---- the oversubscription warning (every other test runs with NAS_NO_LOAD_WARNING=1, below) -----
# A machine whose load file says another thread is busy: 64 threads cannot fit beside it. The
# warning comes once, on its own line, before the program goes on (here to fail on missing data).
if(TARGET nas_train_predictor)
  add_test(NAME cli.oversubscription_warning COMMAND sh -c "
    printf '1.50 1.20 0.90 3/400 12345\\n' > ${CMAKE_CURRENT_BINARY_DIR}/busy_loadavg && \
    env -u NAS_NO_LOAD_WARNING NAS_LOADAVG_FILE=${CMAKE_CURRENT_BINARY_DIR}/busy_loadavg \
      $<TARGET_FILE:nas_train_predictor> --data /nonexistent/acc.jsonl --out ${CMAKE_CURRENT_BINARY_DIR}/busy_pred.pt --threads 64 2>&1; \
    echo; NAS_LOADAVG_FILE=${CMAKE_CURRENT_BINARY_DIR}/busy_loadavg NAS_NO_LOAD_WARNING=1 \
      $<TARGET_FILE:nas_train_predictor> --data /nonexistent/acc.jsonl --out ${CMAKE_CURRENT_BINARY_DIR}/busy_pred.pt --threads 64 2>&1")
  set_tests_properties(cli.oversubscription_warning PROPERTIES
    PASS_REGULAR_EXPRESSION "^nas_train_predictor: warning: 64 threads on [0-9]+ cores while about 1 other thread is busy \\(load average 1\\.50, 3 runnable\\)[^\n]*NAS_NO_LOAD_WARNING=1 silences this\\)\nnas_train_predictor: error: [^\n]*\n\nnas_train_predictor: error: [^\n]*\n$"
    LABELS cli)
endif()

# ---- scripts/pipeline.sh --dry-run: the full preset's commands per data set, nothing run ----------
add_test(NAME pipeline_cli.full_preset_dry_run COMMAND sh -c "
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset full --dataset fashion-mnist --budget 40uJ \
    --out ${CMAKE_CURRENT_BINARY_DIR}/dry_fm --retrain-jobs 2 --dry-run 2>&1 && \
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset full --dataset cifar10 --data-dir /nonexistent --budget 0.1mJ \
    --baselines ${PROJECT_SOURCE_DIR}/tests/data/report/baselines_cifar10.json --out ${CMAKE_CURRENT_BINARY_DIR}/dry_c10 --dry-run 2>&1 && \
  test ! -e ${CMAKE_CURRENT_BINARY_DIR}/dry_fm && test ! -e ${CMAKE_CURRENT_BINARY_DIR}/dry_c10 && echo NOTHING_WRITTEN")
set_tests_properties(pipeline_cli.full_preset_dry_run PROPERTIES
  PASS_REGULAR_EXPRESSION "nas_train_supernet --dataset fashion-mnist --space [^ ]*/space-fmnist-micro\\.json --epochs 20 --limit-train 15000 --val-size 5000 [^\n]*--lr 0\\.05.*nas_retrain --pareto [^\n]*--spread 5 --dataset fashion-mnist --epochs 15 --lr 0\\.1 --init scratch --aug auto --seed 1 --threads [0-9]+ [^\n]*\n  \\(x 2 processes at once, sharing the points\\).*nas_report [^\n]*--baselines [^ ]*/results/shiftaddaug/fashion-mnist\\.json( --plot [^ \n]*report\\.png)?\n.*dry run: nothing was run.*nas_train_supernet --dataset cifar10 --data-dir /nonexistent --space [^ ]*/space-cifar10-micro-shift\\.json .*nas_retrain [^\n]*--epochs 30 --lr 0\\.2 .*--baselines [^ ]*/tests/data/report/baselines_cifar10\\.json.*dry run: nothing was run\nNOTHING_WRITTEN"
  LABELS cli)

# The committed CIFAR-10 table (results/shiftaddaug/cifar10.json) is at the full preset's retraining
# recipe (30 epochs), so the full preset compares against it without --baselines.
add_test(NAME pipeline_cli.full_preset_cifar10_default_baselines COMMAND sh -c "
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset full --dataset cifar10 --data-dir /nonexistent --budget 56uJ \
    --out ${CMAKE_CURRENT_BINARY_DIR}/dry_c10_default --dry-run 2>&1")
set_tests_properties(pipeline_cli.full_preset_cifar10_default_baselines PROPERTIES
  PASS_REGULAR_EXPRESSION "nas_report [^\n]*--baselines [^ ]*/results/shiftaddaug/cifar10\\.json( --plot [^ \n]*report\\.png)?\n"
  FAIL_REGULAR_EXPRESSION "is not at the retraining recipe"
  LABELS cli)

# The quick preset's retraining (issue 34, item 5): 2 points on the whole split (no --limit-train)
# for 10 epochs at the direct Shift lr, the arms with the same recipe, 2 processes by default
# where there are 2 cores.
add_test(NAME pipeline_cli.quick_preset_dry_run COMMAND sh -c "
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset quick --dataset fashion-mnist --budget 35uJ \
    --out ${CMAKE_CURRENT_BINARY_DIR}/dry_quick --dry-run 2>&1 | grep -E 'nas_retrain|processes' && \
  test ! -e ${CMAKE_CURRENT_BINARY_DIR}/dry_quick && echo NOTHING_WRITTEN; \
  [ $(nproc) -ge 2 ] && echo TWO_CORES || echo ONE_CORE")
set_tests_properties(pipeline_cli.quick_preset_dry_run PROPERTIES
  PASS_REGULAR_EXPRESSION "nas_retrain --pareto [^ ]*/search/pareto\\.json --spread 2 --dataset fashion-mnist --epochs 10 --lr 0\\.2 --init scratch --aug auto --seed 1 [^\n]*\n.*nas_retrain --pareto [^ ]*/arms/random/pareto\\.json --all --dataset fashion-mnist --epochs 10 --lr 0\\.2 .*nas_retrain --pareto [^ ]*/arms/scaled/pareto\\.json --all [^\n]*--epochs 10 --lr 0\\.2 .*NOTHING_WRITTEN\n(TWO_CORES|ONE_CORE)"
  FAIL_REGULAR_EXPRESSION "limit-train"
  LABELS cli)
