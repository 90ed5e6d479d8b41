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
  execute_process(COMMAND ${clean_env} ${PREFIX}/bin/nas_report ${report_args}
                          --out ${PREFIX}/out/report.json --svg ${PREFIX}/out/report.svg
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${PREFIX}/out/report.svg)
    message(FATAL_ERROR "installed nas_report failed (${rc}): ${out}${err}")
  endif()
  message(STATUS "installed into ${PREFIX}: ${out}")
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
  execute_process(COMMAND ${clean_env} ${PREFIX}/bin/nas_report ${report_args}
                          --out ${PREFIX}/out/plot.json --plot ${PREFIX}/out/plot.png
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${PREFIX}/out/plot.png)
    message(FATAL_ERROR "installed nas_report --plot failed (${rc}): ${out}${err}")
  endif()
  message(STATUS "installed nas_report --plot: ${out}")
else()
  message(FATAL_ERROR "install_check.cmake: unknown STAGE ${STAGE}")
endif()
