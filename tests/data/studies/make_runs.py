#!/usr/bin/env python3
"""Writes tiny fake nas_retrain run trees for the study-script tests (tests/suites/studies.cmake):
ROOT/full/<column>-s<seed>/result.json (a 100-epoch table: one complete pair, one pair whose
augmented seed 2 is missing), ROOT/grid/... (a validation-only 5-epoch grid, one seed) and
ROOT/bad-epochs/... (a pair whose augmented run trained for other epochs than the direct one).
Only the fields the scripts read; top-1 values are the test's inputs, chosen so that the paired
differences and their standard errors are easy to check by hand.

usage: make_runs.py ROOT
"""
import json
import os
import sys

OPS = {"Shift": ("shift", "none"), "ShiftAug": ("shift", "shiftaddaug"), "Add": ("add", "none"),
       "AddAug": ("add", "shiftaddaug")}


def write_run(root, column, seed, epochs, test_top1, val_top1, lr, train_images=45000):
    base = column.split("-")[0]
    op, aug = OPS[base]
    folder = os.path.join(root, f"{column}-s{seed}")
    os.makedirs(folder, exist_ok=True)
    result = {
        "context": {"command_line": f"nas_retrain --op {op} --aug {aug} --seed {seed} --epochs {epochs} --out {folder}",
                    "git_commit": "0123456789abcdef0123456789abcdef01234567", "device": "cpu", "program": "nas_retrain",
                    "schema_version": 1},
        "dataset": "cifar10", "arch": "mbv2-micro", "op": op, "aug": aug, "remap": "none", "seed": seed,
        "epochs": epochs, "train_images": train_images, "val_images": 5000, "test_images": 10000,
        "net": {"eta": 1.0}, "trainer": {"lr": lr, "seed": seed},
        "test_top1": test_top1, "val_top1": val_top1, "params": 24576, "macs": 1250000,
        "energy_mj": 0.0554 if op == "shift" else 0.0432, "energy": {"unit_mj": 1e-9},
        "train_seconds": 100.0 * epochs * (3.5 if aug == "shiftaddaug" else 1.0), "images_per_s": 450.0, "peak_rss_mib": 300.0,
    }
    with open(os.path.join(folder, "result.json"), "w") as f:
        json.dump(result, f, indent=1)


def main():
    root = sys.argv[1]
    full = os.path.join(root, "full")
    # Shift pair, both seeds: test differences +1.50, +0.50 (mean +1.00, SE 0.50);
    # validation differences +1.00, +3.00 (mean +2.00, SE 1.00).
    write_run(full, "Shift-lr0.2-ep100", 1, 100, 70.00, 69.00, 0.2)
    write_run(full, "Shift-lr0.2-ep100", 2, 100, 72.00, 70.00, 0.2)
    write_run(full, "ShiftAug-lr0.2-ep100", 1, 100, 71.50, 70.00, 0.2)
    write_run(full, "ShiftAug-lr0.2-ep100", 2, 100, 72.50, 73.00, 0.2)
    # Add pair with the augmented seed 2 still missing: one pair, +2.25 on test.
    write_run(full, "Add-lr0.1-ep100", 1, 100, 60.00, 59.00, 0.1)
    write_run(full, "Add-lr0.1-ep100", 2, 100, 61.00, 60.00, 0.1)
    write_run(full, "AddAug-lr0.025-ep100", 1, 100, 62.25, 61.00, 0.025)
    grid = os.path.join(root, "grid")
    write_run(grid, "Shift-lr0.2", 1, 5, 41.00, 40.00, 0.2, train_images=9900)
    write_run(grid, "ShiftAug-lr0.2", 1, 5, 40.00, 38.50, 0.2, train_images=9900)
    bad = os.path.join(root, "bad-epochs")
    write_run(bad, "Shift-lr0.2", 1, 30, 70.00, 69.00, 0.2)
    write_run(bad, "ShiftAug-lr0.2", 1, 20, 70.00, 69.00, 0.2)


if __name__ == "__main__":
    main()
