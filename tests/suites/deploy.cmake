# deploy/ (issue 35): unit tests, and the end-to-end chain on a network trained in seconds.
nas_add_test(test_deploy LIBS nas_deploy_core)

# The generated C must also build for a 32-bit target where the compiler can (multilib).
find_program(NAS_DEPLOY_CC NAMES cc gcc)
set(NAS_DEPLOY_M32 0)
if(NAS_DEPLOY_CC)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/deploy_m32_probe.c "#include <stdint.h>\nint main(void) { return (int)sizeof(int32_t) - 4; }\n")
  execute_process(COMMAND ${NAS_DEPLOY_CC} -m32 ${CMAKE_CURRENT_BINARY_DIR}/deploy_m32_probe.c -o ${CMAKE_CURRENT_BINARY_DIR}/deploy_m32_probe
                  RESULT_VARIABLE m32_rc OUTPUT_QUIET ERROR_QUIET)
  if(m32_rc EQUAL 0)
    set(NAS_DEPLOY_M32 1)
  endif()
endif()
message(STATUS "ShiftAddAug NAS: generated C also tested with -m32: ${NAS_DEPLOY_M32}")

if(TARGET nas_deploy AND TARGET nas_retrain AND TARGET nas_eval AND NAS_DEPLOY_CC)
  set(deploy_out ${CMAKE_CURRENT_BINARY_DIR}/deploy_cli)
  set(fm_dir /usr/share/datasets/fashion-mnist)
  set(harness ${PROJECT_SOURCE_DIR}/deploy/harness/nas_harness.c)
  set(cflags "-std=c99 -Wall -Wextra -Werror -pedantic -O2")
  # A shift network trained for seconds -> nas_deploy -> the C compiled strictly (and -m32) -> its
  # logits equal the C++ engine's bit for bit on 1,000 test images; the counting build's counts equal
  # deploy.json's, multiplies only in multiplicative layers; no '*' in the MF kernels' code.
  add_test(NAME deploy_cli.fashion_mnist COMMAND sh -c "
    if [ ! -f ${fm_dir}/t10k-images-idx3-ubyte.gz ]; then echo 'SKIPPED: Fashion-MNIST is not installed in ${fm_dir}'; exit 0; fi
    d=${deploy_out}/fm; rm -rf ${deploy_out}/fm_net $d && \
    $<TARGET_FILE:nas_retrain> --arch mbv2-micro --op shift --aug none --epochs 1 --batch-size 64 --limit-train 1000 --val-size 128 \
      --limit-test 128 --bn-batches 2 --threads 1 --out ${deploy_out}/fm_net >/dev/null 2>&1 && \
    $<TARGET_FILE:nas_deploy> --model ${deploy_out}/fm_net/tiny_model.nasm --calib-images 256 --limit-test 1000 --out $d && \
    gzip -dc ${fm_dir}/t10k-images-idx3-ubyte.gz > $d/t10k-images && \
    ${NAS_DEPLOY_CC} ${cflags} -c $d/model.c -o $d/model.o && echo STRICT_C99_OK && \
    { [ ${NAS_DEPLOY_M32} = 0 ] && echo 'M32 skipped (no -m32 support)' || { ${NAS_DEPLOY_CC} ${cflags} -m32 -c $d/model.c -o $d/model32.o && echo M32_OK; }; } && \
    ${NAS_DEPLOY_CC} ${cflags} -I$d ${harness} $d/model.c -o $d/harness && $d/harness $d/t10k-images 1000 > $d/c_logits.txt && \
    $<TARGET_FILE:nas_eval> --engine int --model $d/model.nasq --limit-test 1000 --subset first --logits $d/engine_logits.txt && \
    [ $(wc -l < $d/c_logits.txt) = 1000 ] && cmp $d/c_logits.txt $d/engine_logits.txt && echo BIT_EXACT_1000 && \
    ${NAS_DEPLOY_CC} -std=c99 -O2 -DNAS_COUNT_OPS -I$d ${harness} $d/model.c -o $d/harness_count && \
    $d/harness_count $d/t10k-images 1 --counts > $d/counts.txt && \
    ${NAS_TEST_PYTHON3} ${PROJECT_SOURCE_DIR}/deploy/harness/compare_counts.py $d/deploy.json $d/counts.txt && \
    echo MF_STARS $(awk '/MF kernels begin/,/MF kernels end/' $d/model.c | sed -e 's|/[*].*[*]/||g' | grep -c '[*]') && \
    grep -o '\"mf_layer_multiplies\": 0' $d/deploy.json && grep -o '\"int8_top1\": [0-9.]*' $d/deploy.json && \
    grep -a -o '\"float_model\":\"[^\"]*\"' $d/model.nasq")
  set_tests_properties(deploy_cli.fashion_mnist PROPERTIES
    PASS_REGULAR_EXPRESSION "nas_deploy: flash [0-9]+ bytes, RAM [0-9]+ bytes.*STRICT_C99_OK\n(M32_OK|M32 skipped)[^\n]*\n.*int-vs-float agreement.*BIT_EXACT_1000\nCOUNTS_EQUAL.*MF_STARS 0\n\"mf_layer_multiplies\": 0\n\"int8_top1\": [0-9.]+\n\"float_model\":\"\\.\\./fm_net/tiny_model\\.nasm\""
    SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 600 LABELS cli FIXTURES_SETUP deploy_fm)

  # A 32-bit target: the generated C and the harness built strictly with -m32 give the engine's
  # logits bit for bit on the same 1,000 images. Skipped (77) where cc cannot build -m32 programs
  # (Debian: apt-get install gcc-multilib).
  add_test(NAME deploy_cli.m32_bit_exact COMMAND sh -c "
    d=${deploy_out}/fm
    if [ ! -f $d/engine_logits.txt ]; then echo 'SKIPPED: deploy_cli.fashion_mnist wrote no logits'; exit 77; fi
    printf '#include <stdint.h>\\nint main(void) { return (int)sizeof(void *) - 4; }\\n' > $d/m32_probe.c
    if ! ${NAS_DEPLOY_CC} -m32 $d/m32_probe.c -o $d/m32_probe 2>/dev/null || ! $d/m32_probe; then
      echo 'SKIPPED: ${NAS_DEPLOY_CC} cannot build -m32 programs'; exit 77; fi
    ${NAS_DEPLOY_CC} ${cflags} -m32 -I$d ${harness} $d/model.c -o $d/harness32 && \
    $d/harness32 $d/t10k-images 1000 > $d/c32_logits.txt && [ $(wc -l < $d/c32_logits.txt) = 1000 ] && \
    cmp $d/c32_logits.txt $d/engine_logits.txt && echo M32_BIT_EXACT_1000")
  set_tests_properties(deploy_cli.m32_bit_exact PROPERTIES PASS_REGULAR_EXPRESSION "M32_BIT_EXACT_1000"
    SKIP_RETURN_CODE 77 FIXTURES_REQUIRED deploy_fm LABELS cli TIMEOUT 120)

  # nas_retrain (a network trained for seconds) -> nas_deploy -> the C built strictly -> its logits
  # equal the engine's bit for bit on 1,000 test images -> the counting build's counts equal
  # deploy.json's. Skipped (77) unless the shell condition `guard` holds (the data is there);
  # `data`: the data set flags; `put_images`: a command that, followed by a path, puts the test
  # images there in a file the harness reads (IDX or CIFAR binary); optional 6th and 7th arguments:
  # the --arch of nas_retrain (default mbv2-micro) and its training size flags.
  function(nas_deploy_chain_test name guard op data put_images)
    set(arch mbv2-micro)
    set(train "--epochs 1 --limit-train 640")
    if(ARGC GREATER 5)
      set(arch ${ARGV5})
    endif()
    if(ARGC GREATER 6)
      set(train ${ARGV6})
    endif()
    set(d ${deploy_out}/${name})
    add_test(NAME deploy_cli.${name} COMMAND sh -c "
      if ! { ${guard}; }; then echo 'SKIPPED: the data of deploy_cli.${name} is not installed'; exit 77; fi
      rm -rf ${d}_net ${d} && \
      $<TARGET_FILE:nas_retrain> --arch ${arch} --op ${op} --aug none ${data} ${train} --batch-size 64 \
        --val-size 128 --limit-test 128 --bn-batches 2 --threads 1 --out ${d}_net >/dev/null 2>&1 && \
      $<TARGET_FILE:nas_deploy> --model ${d}_net/tiny_model.nasm ${data} --calib-images 256 --limit-test 1000 --out ${d} && \
      ${put_images} ${d}/images && ${NAS_DEPLOY_CC} ${cflags} -I${d} ${harness} ${d}/model.c -o ${d}/harness && \
      ${d}/harness ${d}/images 1000 > ${d}/c_logits.txt && \
      $<TARGET_FILE:nas_eval> --engine int --model ${d}/model.nasq ${data} --limit-test 1000 --subset first \
        --logits ${d}/engine_logits.txt > /dev/null && \
      [ $(wc -l < ${d}/c_logits.txt) = 1000 ] && cmp ${d}/c_logits.txt ${d}/engine_logits.txt && echo BIT_EXACT_1000 && \
      ${NAS_DEPLOY_CC} -std=c99 -O2 -DNAS_COUNT_OPS -I${d} ${harness} ${d}/model.c -o ${d}/harness_count && \
      ${d}/harness_count ${d}/images 1 --counts > ${d}/counts.txt && \
      ${NAS_TEST_PYTHON3} ${PROJECT_SOURCE_DIR}/deploy/harness/compare_counts.py ${d}/deploy.json ${d}/counts.txt")
    set_tests_properties(deploy_cli.${name} PROPERTIES
      PASS_REGULAR_EXPRESSION "nas_deploy: flash [0-9]+ bytes, RAM [0-9]+ bytes.*BIT_EXACT_1000\nCOUNTS_EQUAL"
      SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS cli FIXTURES_SETUP deploy_${name})
  endfunction()
  # An adder network (acc -= |x - w|, padded taps read 0).
  nas_deploy_chain_test(fashion_mnist_add "[ -f ${fm_dir}/t10k-images-idx3-ubyte.gz ]" add ""
    "gzip -dc ${fm_dir}/t10k-images-idx3-ubyte.gz >")
  # A searched network at resolution 20 on the 28x28 images (the space has 20 / 24 / 28): the
  # integer input resize in the engine and the C (bit for bit), its multiplies counted as
  # preprocessing (the counting build's input.resize line equals deploy.json's).
  nas_deploy_chain_test(fashion_mnist_res20 "[ -f ${fm_dir}/t10k-images-idx3-ubyte.gz ]" keep ""
    "gzip -dc ${fm_dir}/t10k-images-idx3-ubyte.gz >" ${NAS_TEST_DATA}/deploy_arch_res20.json "--epochs 2 --limit-train 6000")
  # ... and what it recorded: the source resolution in deploy.json and the .nasq, the resize outside
  # the MF kernels, no '*' inside them, no multiply in an MF layer.
  add_test(NAME deploy_cli.fashion_mnist_res20_record COMMAND sh -c "
    d=${deploy_out}/fashion_mnist_res20
    ${NAS_TEST_PYTHON3} -c \"import json; r = json.load(open('$d/deploy.json')); p = r['preprocessing']; print('SOURCE', p['source_image'], 'INPUT', p['network_input'], 'MF_MUL', r['total']['mf_layer_multiplies'], 'PRE_MUL', r['total']['preprocessing_multiplies'] == p['ops']['multiplies'] == 6 * 400, 'LEARNT', r['float_top1'] > 50, 'CLOSE', abs(r['top1_difference']) <= 3)\" && \
    grep -a -o -F '\"source_image\":[28,28]' $d/model.nasq && grep -o 'NAS_MODEL_INPUT_H 20' $d/model.h && \
    echo MF_STARS $(awk '/MF kernels begin/,/MF kernels end/' $d/model.c | sed -e 's|/[*].*[*]/||g' | grep -c '[*]') && \
    echo RESIZE_IN_MF $(awk '/MF kernels begin/,/MF kernels end/' $d/model.c | grep -c 'nas_resize') \\
      DEFINED $(grep -c '^static void nas_resize(' $d/model.c)")
  set_tests_properties(deploy_cli.fashion_mnist_res20_record PROPERTIES FIXTURES_REQUIRED deploy_fashion_mnist_res20 LABELS cli TIMEOUT 60
    PASS_REGULAR_EXPRESSION "SOURCE \\[28, 28, 1\\] INPUT \\[20, 20, 1\\] MF_MUL 0 PRE_MUL True LEARNT True CLOSE True\n\"source_image\":\\[28,28\\]\nNAS_MODEL_INPUT_H 20\nMF_STARS 0\nRESIZE_IN_MF 0 DEFINED 1")

  # CIFAR-10 (32x32x3, interleaved colour) when $NAS_CIFAR10_DIR holds the binaries.
  nas_deploy_chain_test(cifar10 [=[[ -n "$NAS_CIFAR10_DIR" ] && [ -f "$NAS_CIFAR10_DIR/test_batch.bin" ]]=] shift
    [=[--dataset cifar10 --data-dir "$NAS_CIFAR10_DIR"]=] [=[ln -s "$NAS_CIFAR10_DIR/test_batch.bin"]=])

  # Bad input: one line, non-zero exit, nothing written in --out but the claim.
  nas_cli_fail_test(deploy_cli.calib_zero "nas_deploy: error: --calib-images must be >= 1, got 0"
    $<TARGET_FILE:nas_deploy> --model ${deploy_out}/fm_net/tiny_model.nasm --calib-images 0 --out ${deploy_out}/bad)
  nas_cli_fail_test(deploy_cli.not_a_model "nas_deploy: error: model file '[^']*energy_small_layers.json': not a tiny-model file"
    $<TARGET_FILE:nas_deploy> --model ${NAS_TEST_DATA}/energy_small_layers.json --out ${deploy_out}/bad)
  add_test(NAME deploy_cli.refusals COMMAND sh -c "
    d=${deploy_out}/fm; rm -rf ${deploy_out}/ovf ${deploy_out}/dmg.nasq
    $<TARGET_FILE:nas_deploy> --model ${deploy_out}/fm_net/tiny_model.nasm --bits 16 --max-accumulator-bits 32 --calib-images 32 --out ${deploy_out}/ovf 2>&1
    echo ovf_exit $? files $(ls ${deploy_out}/ovf | wc -l)
    cp $d/model.nasq ${deploy_out}/dmg.nasq && printf 'X' | dd of=${deploy_out}/dmg.nasq bs=1 seek=2000 conv=notrunc 2>/dev/null
    $<TARGET_FILE:nas_eval> --engine int --model ${deploy_out}/dmg.nasq --limit-test 10 2>&1; echo dmg_exit $?")
  set_tests_properties(deploy_cli.refusals PROPERTIES FIXTURES_REQUIRED deploy_fm LABELS cli TIMEOUT 120
    PASS_REGULAR_EXPRESSION "nas_deploy: error: layer '[^']+': its worst-case accumulator [^\n]*could overflow int32[^\n]*refused[^\n]*\novf_exit 1 files 0\nnas_eval: error: quantized model '[^']*dmg.nasq': [^\n]*checksum[^\n]*\ndmg_exit 1")
  set_tests_properties(deploy_cli.calib_zero deploy_cli.calib_zero.exit_code PROPERTIES FIXTURES_REQUIRED deploy_fm)
endif()

# bench_deploy's smoke run on the network of deploy_cli.fashion_mnist (seconds).
if(TARGET bench_deploy AND TARGET nas_deploy)
  add_test(NAME bench_deploy.smoke COMMAND $<TARGET_FILE:bench_deploy> --model ${CMAKE_CURRENT_BINARY_DIR}/deploy_cli/fm_net/tiny_model.nasm
           --images 16 --calib-images 32 --repeats 2)
  set_tests_properties(bench_deploy.smoke PROPERTIES FIXTURES_REQUIRED deploy_fm LABELS bench TIMEOUT 120
    PASS_REGULAR_EXPRESSION "\"c_batch1_images_per_s\": [0-9.e+]+.*\"c_batch1_vs_libtorch_batch1_ratio\": [0-9.e+]+.*\"libtorch_batch128_images_per_s\"")
endif()
