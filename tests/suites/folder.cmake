# Image-folder data sets (issue 32): the PNG / JPEG fixture (generated at test time, nothing
# committed), its unit tests inside test_datasets (tests/test_datasets_folder.cc), and CLI tests:
# one clear error line per bad folder, and --dataset folder through every stage via
# scripts/pipeline.sh --preset smoke, nas_extract and nas_eval.
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
add_library(nas_image_fixture STATIC ${CMAKE_CURRENT_SOURCE_DIR}/image_folder_fixture.cc)
target_link_libraries(nas_image_fixture PUBLIC PNG::PNG JPEG::JPEG)
if(TARGET test_datasets)
  target_link_libraries(test_datasets PRIVATE nas_image_fixture)
endif()
add_executable(nas_make_image_folder ${CMAKE_CURRENT_SOURCE_DIR}/make_image_folder.cc)
target_link_libraries(nas_make_image_folder PRIVATE nas_image_fixture)

if(TARGET nas_train_supernet AND TARGET nas_dataset_info)
  set(make_folder $<TARGET_FILE:nas_make_image_folder>)
  set(folder_root ${CMAKE_CURRENT_BINARY_DIR}/image_folders)
  set(dataset_info $<TARGET_FILE:nas_dataset_info>)
  set(folder_supernet $<TARGET_FILE:nas_train_supernet>)
  # The folders: colour, 4 classes x (60 train + 8 test) (enough for the smoke preset's batches);
  # greyscale, 3 classes x (8 + 2), the base of the fault tests.
  add_test(NAME folder_cli.make COMMAND sh -c "
    rm -rf ${folder_root} && ${make_folder} ${folder_root}/colour 4 60 8 3 && ${make_folder} ${folder_root}/grey 3 8 2 1")
  set_tests_properties(folder_cli.make PROPERTIES FIXTURES_SETUP image_folders LABELS cli
                       PASS_REGULAR_EXPRESSION "colour: 4 classes, 60 \\+ 8 images each, 3 channel.*grey: 3 classes")

  nas_cli_test(folder_cli.info
    "nas_dataset_info: folder [^\n]*colour: 4 classes \\(Apple, birch, oak, tulip\\), 3 channel\\(s\\), 240 train \\+ 32 test images, 32x32.*\"class_names\": \\[\n *\"Apple\""
    sh -c "${dataset_info} --dataset folder --data-dir ${folder_root}/colour --json ${folder_root}/info.json && cat ${folder_root}/info.json")
  nas_cli_test(folder_cli.adapt_space
    "space-cifar100.json: [^\n]*space-cifar10-micro-shift.json for 3 channel\\(s\\) and 100 classes.*\"num_classes\": 100"
    sh -c "${dataset_info} --dataset cifar100 --space-template ${PROJECT_SOURCE_DIR}/results/supernet/space-cifar10-micro-shift.json --space-out ${folder_root}/space-cifar100.json && cat ${folder_root}/space-cifar100.json")
  set_tests_properties(folder_cli.info folder_cli.adapt_space PROPERTIES FIXTURES_REQUIRED image_folders)

  # A bad folder: one error line, exit non-zero, before any training. Each run mutates its own
  # copy of the greyscale folder (the .exit_code twin may run beside it).
  function(folder_fail_test name regex mutate)
    nas_cli_fail_test(folder_cli.${name} "${regex}" sh -c "
      d=${folder_root}/${name}.$$ && rm -rf $d && cp -r ${folder_root}/grey $d && cd $d && ${mutate} && \
      ${folder_supernet} --dataset folder --data-dir $d --epochs 1 --threads 1 --out $d.out 2>&1
      s=$?
      rm -rf $d $d.out
      exit $s")
    set_tests_properties(folder_cli.${name} folder_cli.${name}.exit_code PROPERTIES FIXTURES_REQUIRED image_folders)
  endfunction()
  folder_fail_test(empty_class "^nas_train_supernet: error: [^\n]*/train/zebra: empty class folder \\(no .png, .jpg or .jpeg image\\)\n$"
    "mkdir train/zebra")
  folder_fail_test(not_an_image "^nas_train_supernet: error: [^\n]*/train/oak/notes.txt: not an image file [^\n]*\n$"
    "echo hello > train/oak/notes.txt")
  folder_fail_test(test_class_not_in_train "^nas_train_supernet: error: [^\n]*/test/pine: class 'pine' is not a class of train/ [^\n]*\n$"
    "mkdir test/pine && cp test/oak/img0.* test/pine/")
  folder_fail_test(mixed_channels "^nas_train_supernet: error: [^\n]*: mixed greyscale and colour images [^\n]*/train/oak/rgb.png colour\\): convert them to one kind\n$"
    "cp ${folder_root}/colour/train/oak/img0.png train/oak/rgb.png")
  folder_fail_test(corrupt_image "^nas_train_supernet: error: [^\n]*/train/tulip/img0.png: corrupt PNG \\(libpng: [^\n]*\\)\n$"
    "head -c 40 train/tulip/img0.png > cut && mv cut train/tulip/img0.png")
  nas_cli_fail_test(folder_cli.no_data_dir "^nas_train_supernet: error: --dataset folder needs --data-dir: the image folder's root[^\n]*\n$"
    sh -c "${folder_supernet} --dataset folder --out ${folder_root}/none 2>&1")
endif()

# ---- --dataset folder through every stage: scripts/pipeline.sh --preset smoke (supernet,
# accuracy data set, predictor, search, retraining, report), then nas_extract and nas_eval of the
# exported model; the class names are in the runs' configs and in the model; a folder with other
# classes is refused by nas_eval.
if(TARGET nas_report AND TARGET nas_retrain AND TARGET nas_search AND TARGET nas_dataset_info AND TARGET nas_extract)
  set(folder_pipe ${CMAKE_CURRENT_BINARY_DIR}/pipeline_folder)
  add_test(NAME folder_cli.pipeline_smoke COMMAND sh -c "
    rm -rf ${folder_pipe} && \
    ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --preset smoke --dataset folder --data-dir ${folder_root}/colour \
      --budget 60uJ --out ${folder_pipe} --threads 1 --bin $<TARGET_FILE_DIR:nas_search> 2>&1 \
      | grep -E '^\\[.*stage|pipeline.sh: done|best on validation' && \
    $<TARGET_FILE:nas_extract> --supernet ${folder_pipe}/supernet --arch mbv2-micro --op shift --bn-batches 1 \
      --threads 1 --out ${folder_pipe}/micro 2>&1 | tail -n 1 && \
    $<TARGET_FILE:nas_eval> --model ${folder_pipe}/retrain/best_tiny_model.nasm --data-dir ${folder_root}/colour --threads 1 && \
    grep -c '\"class_names\"' ${folder_pipe}/supernet/supernet.json && \
    grep -l '\"class_names\"' ${folder_pipe}/retrain/*/config.json | wc -l && \
    grep -a -o '\"class_names\":\\[[^]]*\\]' ${folder_pipe}/retrain/best_tiny_model.nasm ${folder_pipe}/micro/tiny_model.nasm && \
    ! $<TARGET_FILE:nas_eval> --model ${folder_pipe}/retrain/best_tiny_model.nasm --data-dir ${folder_root}/grey 2>&1")
  set_tests_properties(folder_cli.pipeline_smoke PROPERTIES
    PASS_REGULAR_EXPRESSION "stage 1/8 supernet \\(smoke, folder\\).*stage 8/8 report.*pipeline.sh: done in [0-9]+ s.*nas_eval: folder test top-1 [0-9.]+% \\([0-9]+/32 images.*reproduced exactly.*\n2\n1\n[^\n]*best_tiny_model.nasm:\"class_names\":\\[\"Apple\",\"birch\",\"oak\",\"tulip\"\\]\n[^\n]*micro/tiny_model.nasm:\"class_names\":\\[\"Apple\",\"birch\",\"oak\",\"tulip\"\\]\nnas_eval: error: [^\n]*grey: the classes are not the recorded ones \\(4 recorded, 3 found"
    FIXTURES_REQUIRED image_folders TIMEOUT 300 LABELS cli)
endif()

# ---- scripts/pipeline.sh: every data set the programs read; a clear error for anything else ----
nas_cli_fail_test(pipeline_cli.unknown_dataset
  "^pipeline.sh: error: unknown --dataset 'svhn' \\(accepted: fashion-mnist, mnist, cifar10, cifar100, folder\\)\n$"
  sh -c "${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --dataset svhn --budget 35uJ --out ${CMAKE_CURRENT_BINARY_DIR}/pipe_bad 2>&1")
nas_cli_fail_test(pipeline_cli.folder_needs_data_dir "^pipeline.sh: error: --dataset folder needs --data-dir ROOT"
  sh -c "${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --dataset folder --budget 35uJ --out ${CMAKE_CURRENT_BINARY_DIR}/pipe_bad 2>&1")
nas_cli_fail_test(pipeline_cli.cifar100_needs_data_dir "^pipeline.sh: error: --dataset cifar100 needs --data-dir"
  sh -c "${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --dataset cifar100 --budget 35uJ --out ${CMAKE_CURRENT_BINARY_DIR}/pipe_bad 2>&1")
nas_cli_test(pipeline_cli.dry_run_mnist "nas_train_supernet --dataset mnist --data-dir /data/mnist --space [^ ]*/results/supernet/space-fmnist-micro-shift.json"
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --dry-run --preset smoke --dataset mnist --data-dir /data/mnist --budget 35uJ
  --out ${CMAKE_CURRENT_BINARY_DIR}/pipe_dry)
nas_cli_test(pipeline_cli.dry_run_cifar100
  "nas_dataset_info --dataset cifar100 --data-dir /data/c100 --space-template [^ ]*space-cifar10-micro-shift.json --space-out [^ ]*pipe_dry/space.json.*nas_train_supernet --dataset cifar100 --data-dir /data/c100 --space [^ ]*pipe_dry/space.json"
  ${PROJECT_SOURCE_DIR}/scripts/pipeline.sh --dry-run --preset smoke --dataset cifar100 --data-dir /data/c100 --budget 35uJ
  --out ${CMAKE_CURRENT_BINARY_DIR}/pipe_dry)
