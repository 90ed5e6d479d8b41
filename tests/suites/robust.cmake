# Issue 32: output guards (core/output_guard.h), strict linear-time JSON, bench smoke runs.
nas_add_test(test_robust LIBS nas_core)
