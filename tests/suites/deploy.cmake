# deploy/ (issue 35): unit tests, and the end-to-end chain on a network trained in seconds.
nas_add_test(test_deploy LIBS nas_deploy_core)
