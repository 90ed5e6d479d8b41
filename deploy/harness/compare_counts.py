#!/usr/bin/env python3
"""Checks a counting build's per-step operation counts (nas_harness --counts) against deploy.json,
and that multiplies appear only in multiplicative layers (the stem, the classifier, any mult conv).
Usage: compare_counts.py deploy.json counts.txt"""
import json
import sys

report = json.load(open(sys.argv[1]))
lines = [l.split() for l in open(sys.argv[2]) if l.strip()]
layers = report["layers"]
total = {"multiplies": 0, "shifts": 0, "adds": 0, "comparisons": 0}
pre = report.get("preprocessing")
if pre and pre.get("resize", "none") != "none":
    # The input resize: its own line first, multiplicative (preprocessing, no MF layer).
    if not lines or lines[0][0] != pre["name"]:
        sys.exit(f"the C reports no {pre['name']} line first")
    name, mul, shift, add, cmp = lines.pop(0)
    c = {"multiplies": int(mul), "shifts": int(shift), "adds": int(add), "comparisons": int(cmp)}
    if c != pre["ops"]:
        sys.exit(f"step {name}: C counts {c}, deploy.json {pre['ops']}")
    for k in total:
        total[k] += c[k]
if len(lines) != len(layers):
    sys.exit(f"step count differs: C {len(lines)}, deploy.json {len(layers)}")
for (name, mul, shift, add, cmp), layer in zip(lines, layers):
    c = {"multiplies": int(mul), "shifts": int(shift), "adds": int(add), "comparisons": int(cmp)}
    if name != layer["name"] or c != layer["ops"]:
        sys.exit(f"step {name}: C counts {c}, deploy.json {layer['name']} {layer['ops']}")
    if c["multiplies"] and layer.get("op") != "mult":
        sys.exit(f"step {name}: {c['multiplies']} multiplies in an MF step")
    for k in total:
        total[k] += c[k]
if total != report["total"]["ops"]:
    sys.exit(f"totals differ: C {total}, deploy.json {report['total']['ops']}")
print("COUNTS_EQUAL", len(lines), "steps", total)
