# Fails when a doctest TEST_CASE name holds a ';': ctest's discovery cuts the name there and runs a
# filter that matches no test case, so the case silently never runs (7 cases did not, until
# 2026-12-01).
file(GLOB sources ${SOURCE_DIR}/tests/*.cc)
foreach(f ${sources})
  file(STRINGS ${f} lines REGEX "TEST_CASE\\(\"[^\"]*;")
  if(lines)
    message(FATAL_ERROR "${f}: a TEST_CASE name holds ';' (ctest would never run it): ${lines}")
  endif()
endforeach()
