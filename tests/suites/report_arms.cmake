# Issue 34: nas_report --random / --scaled, the baseline arms beside the searched points and the
# claims per budget (report/pareto_report.h, "Arms"). Seconds; doctest (test_report_arms.cc) on
# the fixtures in tests/data/report/arms/ (hand-written; their pareto.json files are
# points of tests/data/report/search with one block's op changed, energies made up, and each
# summary carries its pareto.json's fingerprint). All against the search at 60 uJ:
#   retrain2/ (seeds 1, 2): P0 test 71.0/71.4 val 72.0/72.4, P1 73.5/73.9 val 74.0/74.2,
#     P2 72.0/72.4 val 74.4/74.6 -> searched best by validation P2, test 72.2 ± 0.28
#   retrain1/ (seed 1): P2 best (val 74.5), test 72.0
#   random/ (budget 60 uJ, seeds 1, 2; pareto.file absolute and gone: found as DIR/../pareto.json):
#     R0 39 uJ test 72.1/72.5 val 73.0/73.4, R1 55 uJ test 71.2/71.4 val 73.6/74.0 -> best R1
#     (validation, though R0 tests higher): margin +0.90, paired 0.8, 1.0 (SE 0.10) -> beats
#   random1/ (seed 1; the same pareto.json named relative to the summary): R1 best, test 71.2
#   scaled/ (budget 60 uJ): S0 45 uJ test 71.0/72.8 (std 1.27) -> +0.30, paired 1.0, -0.4
#     (SE 0.70): within the seeds' spread -> does not beat
#   scaled_high/ (budget 100 uJ): S0 at 80 uJ: no arm point within 60 uJ; at 100 uJ -2.00
#   scaled_bad/: a summary cut short
nas_add_test(test_report_arms LIBS nas_pareto_report)

