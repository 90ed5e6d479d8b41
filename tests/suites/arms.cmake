# Issue 34, items 1 and 4: the random and scaled baseline arms (workflow/baseline_arms.h,
# nas_arms) and --budget-from-baseline (cli/energy_flags.h). Seconds each.
nas_add_test(test_arms LIBS nas_baseline_arms nas_energy_flags)
