# CLI output tests: run the real binaries and check what they print (google/benchmark's output
# tests). Included by tests/CMakeLists.txt. Add tests with the helpers below:
#   nas_cli_test(NAME REGEX COMMAND...)       passes when the output matches REGEX (exit code is
#                                             then not checked by ctest)
#   nas_cli_fail_test(NAME REGEX COMMAND...)  the command must exit non-zero (NAME.exit_code) and
#                                             print a line matching REGEX (NAME)
# CMake regexes: "." also matches a newline.
set(NAS_TEST_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data)

function(nas_cli_test name regex)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}" TIMEOUT 60
                                          LABELS cli)
endfunction()

function(nas_cli_fail_test name regex)
  nas_cli_test(${name} "${regex}" ${ARGN})
  add_test(NAME ${name}.exit_code COMMAND ${ARGN})
  set_tests_properties(${name}.exit_code PROPERTIES WILL_FAIL TRUE TIMEOUT 60 LABELS cli)
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
  nas_cli_fail_test(energy_cli.unknown_arch "nas_energy: error: unknown architecture 'resnet-1000'"
    ${energy} --arch resnet-1000)
endif()
