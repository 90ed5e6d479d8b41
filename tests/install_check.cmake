# Script mode (tests/suites/shape.cmake): `cmake --install` into a fresh prefix, then the
# installed nas_report on the report fixtures, with no override of the data directory, so that it
# can only find its plot script through <prefix>/share/shiftaddaug-nas.
#   -DBUILD_DIR= -DPREFIX= -DREPORT_DATA= -DSTAGE=programs|plot [-DPYTHON=]
foreach(var BUILD_DIR PREFIX REPORT_DATA STAGE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_check.cmake: -D${var}= is required")
  endif()
endforeach()
set(report_args --search ${REPORT_DATA}/search --retrain ${REPORT_DATA}/retrain
                --baselines ${REPORT_DATA}/baselines.json)
set(clean_env ${CMAKE_COMMAND} -E env --unset=NAS_DATA_DIR --unset=NAS_SCRIPTS_DIR)

# run_installed_report(WRITTEN ARGS...): the installed nas_report with ARGS must exit 0 and write WRITTEN.
function(run_installed_report written)
  execute_process(COMMAND ${clean_env} ${PREFIX}/bin/nas_report ${report_args} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${written})
    message(FATAL_ERROR "installed nas_report ${ARGN} failed (${rc}): ${out}${err}")
  endif()
  message(STATUS "installed nas_report: ${out}")
endfunction()

if(STAGE STREQUAL "programs")
  file(REMOVE_RECURSE ${PREFIX})
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install failed: ${err}")
  endif()
  foreach(file bin/nas_report bin/nas_search bin/nas_retrain bin/nas_eval
               share/shiftaddaug-nas/plot_report.py share/shiftaddaug-nas/default_v1.json)
    if(NOT EXISTS ${PREFIX}/${file})
      message(FATAL_ERROR "not installed: ${PREFIX}/${file}")
    endif()
  endforeach()
  run_installed_report(${PREFIX}/out/report.svg --out ${PREFIX}/out/report.json --svg ${PREFIX}/out/report.svg)
elseif(STAGE STREQUAL "plot")
  if(NOT PYTHON)
    set(PYTHON /usr/bin/python3)
  endif()
  execute_process(COMMAND ${PYTHON} -c "import matplotlib" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    message(STATUS "matplotlib is not available: the installed --plot is not checked")
    return()
  endif()
  file(REMOVE ${PREFIX}/out/plot.png)
  run_installed_report(${PREFIX}/out/plot.png --out ${PREFIX}/out/plot.json --plot ${PREFIX}/out/plot.png)
else()
  message(FATAL_ERROR "install_check.cmake: unknown STAGE ${STAGE}")
endif()
