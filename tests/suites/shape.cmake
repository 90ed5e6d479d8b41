# Tests of the house's shape (issue 31): install, artifacts/, report/, cli/ guards.

# ---- install: `cmake --install` into a temp prefix, the installed nas_report runs and plots -----
if(TARGET nas_report)
  set(install_prefix ${CMAKE_CURRENT_BINARY_DIR}/install_check/prefix)
  set(install_args -DBUILD_DIR=${PROJECT_BINARY_DIR} -DPREFIX=${install_prefix}
                   -DREPORT_DATA=${CMAKE_CURRENT_SOURCE_DIR}/data/report)
  add_test(NAME install.programs
           COMMAND ${CMAKE_COMMAND} ${install_args} -DSTAGE=programs -P ${CMAKE_CURRENT_SOURCE_DIR}/install_check.cmake)
  set_tests_properties(install.programs PROPERTIES FIXTURES_SETUP installed TIMEOUT 120 LABELS cli
                       RESOURCE_LOCK install_prefix)
  add_test(NAME install.plot
           COMMAND ${CMAKE_COMMAND} ${install_args} -DSTAGE=plot -P ${CMAKE_CURRENT_SOURCE_DIR}/install_check.cmake)
  set_tests_properties(install.plot PROPERTIES FIXTURES_REQUIRED installed TIMEOUT 120 LABELS cli
                       RESOURCE_LOCK install_prefix SKIP_REGULAR_EXPRESSION "matplotlib is not available")
endif()

# ---- artifacts/: the committed run files through their readers ----------------------------------
nas_add_test(test_artifacts LIBS nas_artifacts)

# ---- workflow/: point selection ------------------------------------------------------------------
nas_add_test(test_workflow LIBS nas_point_selection)
