#!/usr/bin/env python3
"""Tabulates a hyper-parameter sweep of nas_retrain runs by VALIDATION accuracy (the split carved
from the training data), never by test accuracy: one row per (data set, op, aug, remap, eta, lr),
the validation top-1 of each seed and their mean. Writes OUT.json and OUT.md.

usage: experiments/shiftaddaug/val_sweep_table.py RUN_ROOT OUT_BASE [--note TEXT]
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))  # experiments/run_results.py
from run_results import command_lines_md, load_runs, markdown_table, run_record, write_atomic, write_json_atomic


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_root")
    ap.add_argument("out_base", help="output path without extension")
    ap.add_argument("--note", default="")
    ap.add_argument("--title", default="Validation sweep")
    args = ap.parse_args()

    groups = {}
    for r in load_runs(args.run_root):
        key = (r["dataset"], r["arch"], r["op"], r["aug"], r.get("remap", "none"),
               r["trainer"].get("sort_mode", "augmented"),
               r["net"]["eta"], r["trainer"]["lr"], r["epochs"], r["train_images"], r["val_images"])
        groups.setdefault(key, []).append(r)
    if not groups:
        sys.exit(f"val_sweep_table: no result.json under {args.run_root}")

    rows = []
    for key in sorted(groups):
        runs = sorted(groups[key], key=lambda r: r["seed"])
        dataset, arch, op, aug, remap, sort_mode, eta, lr, epochs, train_images, val_images = key
        val = [r["val_top1"] for r in runs]
        rows.append({
            "dataset": dataset, "arch": arch, "op": op, "aug": aug, "remap": remap,
            "sort_mode": sort_mode, "eta": eta,
            "lr": lr, "epochs": epochs, "train_images": train_images, "val_images": val_images,
            "seeds": [r["seed"] for r in runs], "val_top1": val,
            "val_top1_mean": statistics.mean(val),
            "val_history": [[h["val_top1"] for h in r["history"]] for r in runs],
            "runs": [run_record(r) for r in runs],
        })
    out = {"program": "experiments/shiftaddaug/val_sweep_table.py", "command_line": " ".join(sys.argv),
           "note": args.note, "selection": "validation top-1 (final epoch), mean over seeds",
           "rows": rows}
    write_json_atomic(args.out_base + ".json", out)

    lines = [f"# {args.title}", ""]
    if args.note:
        lines += [args.note, ""]
    cells = [[row["dataset"], row["arch"], row["op"], row["aug"], row["remap"],
              row["sort_mode"] if row["aug"] != "none" else "-", str(row["eta"]), str(row["lr"]),
              str(row["epochs"]), f"{row['train_images']} / {row['val_images']}",
              ", ".join(f"s{s}: {v:.2f}" for s, v in zip(row["seeds"], row["val_top1"])),
              f"{row['val_top1_mean']:.2f}",
              "; ".join(" ".join(f"{v:.1f}" for v in h) for h in row["val_history"])] for row in rows]
    lines += markdown_table(["data set", "arch", "op", "aug", "remap", "sort", "eta", "lr", "epochs",
                             "train / val images", "val top-1 % per seed", "mean", "val per epoch"], cells)
    lines += command_lines_md(rows)
    write_atomic(args.out_base + ".md", "\n".join(lines) + "\n")
    print(f"val_sweep_table: wrote {args.out_base}.json, .md")


if __name__ == "__main__":
    main()
