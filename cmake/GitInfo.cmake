# Generates ${CMAKE_BINARY_DIR}/generated/git_info.cc on every build, rewriting it only when the
# commit (or the dirty flag) changed, so the context block of every JSON output names the real
# commit without forcing a rebuild of anything else.
set(NAS_GIT_INFO_CC ${CMAKE_BINARY_DIR}/generated/git_info.cc)
add_custom_target(nas_git_info
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${NAS_GIT_INFO_CC}
          -P ${PROJECT_SOURCE_DIR}/cmake/WriteGitInfo.cmake
  BYPRODUCTS ${NAS_GIT_INFO_CC}
  COMMENT "" VERBATIM)
