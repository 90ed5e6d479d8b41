# nas_deploy (issue 35): the integer export of a tiny MF network.
if(TARGET nas_deploy_torch)
  nas_add_program(nas_deploy LIBS nas_deploy_torch)
endif()
# nas_eval --engine int runs the integer engine.
if(TARGET nas_eval AND TARGET nas_deploy_torch)
  target_link_libraries(nas_eval PRIVATE nas_deploy_torch)
endif()
