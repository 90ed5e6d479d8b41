#!/usr/bin/env python3
"""Aggregates nas_retrain runs (RUN_ROOT/<column>-s<seed>/result.json) into the ShiftAddAug
results table of one data set: OUT_DIR/<name>.json (machine-readable), OUT_DIR/<name>.md (the
table with every run listed) and OUT_DIR/<name>.png (top-1 vs energy); <name> is the data set
unless --name says otherwise. Every Aug row carries its paired difference: Aug - direct test
top-1 by seed against the direct column of its op at the same epochs, with the standard error of
the mean difference (none from a single pair).

usage: experiments/shiftaddaug/shiftaddaug_table.py RUN_ROOT DATASET OUT_DIR [--note TEXT]
           [--name NAME] [--columns "C1 C2 ..."]
--columns lists the columns the table should have: one without a finished run (a queue still
training) is listed as such instead of being left out silently.
"""
import argparse
import json
import math
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))  # experiments/run_results.py
from run_results import (command_lines_md, load_runs, markdown_table, paired_difference, paired_text, run_record,
                         write_atomic, write_json_atomic)

ORDER = ["Mult", "Shift", "ShiftAug", "Add", "AddAug"]


def column_of(result):
    """The run folder's column (RUN_ROOT/<column>-s<seed>, as run_shiftaddaug_table.sh names
    them), else one derived from the run's settings."""
    folder = os.path.basename(result.get("_dir", ""))
    m = re.match(r"^(.+)-s\d+$", folder)
    if m and m.group(1).split("-")[0] in ORDER:
        return m.group(1)
    op, aug, remap = result["op"], result["aug"], result.get("remap", "none")
    base = {"mult": "Mult", "shift": "Shift", "add": "Add"}[op]
    if aug == "shiftaddaug":
        base += "Aug"
    if remap == "none":
        return base
    net = result.get("net", {})
    if "remap_eta" in net and net["remap_eta"] != net.get("eta"):
        return f"{base}-{remap}-remap_eta{net['remap_eta']:g}"
    return f"{base}-{remap}"


# Options that later builds write and earlier ones did not, with the value the earlier builds
# had implicitly: a run that records one of these values has the same recipe as one that does not.
IMPLIED_BEFORE_RECORDED = {
    "net": {"adder_unit_rms": False, "relative_adder_scaling": False, "bn_per_op": True},
    # Subnets per step of a supernet: a fixed net trains one, whatever the field says.
    "trainer": {"sandwich": None},
}


def recipe_of(result):
    """The settings of a run other than its seed (net options and trainer options), without the
    fields that only say what earlier builds did implicitly."""
    def strip(section, options):
        implied = IMPLIED_BEFORE_RECORDED[section]
        return {k: v for k, v in options.items()
                if not (k in implied and (implied[k] is None or implied[k] == v))}
    trainer = {k: v for k, v in result.get("trainer", {}).items() if k != "seed"}
    return {"net": strip("net", result.get("net", {})), "trainer": strip("trainer", trainer)}


def direct_partner(name, rows):
    """The direct column an Aug column is paired with: the same op without augmentation or remap
    (only -lrX / -epN suffixes) at the same epochs; None when there is none or several."""
    base = name.split("-")[0]
    if not base.endswith("Aug"):
        return None
    row = next(r for r in rows if r["column"] == name)
    pattern = re.compile("^" + re.escape(base[:-len("Aug")]) + r"(-lr[0-9.e-]+)?(-ep\d+)?$")
    partners = [r for r in rows if pattern.match(r["column"]) and r["epochs"] == row["epochs"]]
    return partners[0] if len(partners) == 1 else None


def add_paired_differences(rows, groups):
    for row in rows:
        partner = direct_partner(row["column"], rows)
        if partner is not None:
            row["paired"] = dict(paired_difference(groups[partner["column"]], groups[row["column"]]),
                                 direct=partner["column"], metric="test_top1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_root")
    ap.add_argument("dataset")
    ap.add_argument("out_dir")
    ap.add_argument("--note", default="")
    ap.add_argument("--name", help="output base name (default: the data set)")
    ap.add_argument("--columns", default="", help="the columns expected (space-separated)")
    ap.add_argument("--copy-runs", action="store_true",
                    help="copy each run's result.json, config.json and log.txt to OUT_DIR/runs/DATASET/")
    args = ap.parse_args()

    results = [r for r in load_runs(args.run_root) if r["dataset"] == args.dataset]
    if not results:
        sys.exit(f"shiftaddaug_table: no result.json for {args.dataset} under {args.run_root}")
    recipes = {(r["arch"], r["train_images"], r["test_images"]) for r in results}
    if len(recipes) != 1:
        sys.exit(f"shiftaddaug_table: runs differ in arch/data sizes: {sorted(recipes)}")
    arch, train_images, test_images = recipes.pop()
    # One number of epochs for the table; a column of its own epochs says so (-epN: the
    # equal-wall-time baselines).
    main_epochs = {r["epochs"] for r in results if not re.search(r"-ep\d+$", column_of(r))}
    if not main_epochs:  # every column names its epochs (the 100-epoch table): they must agree
        main_epochs = {r["epochs"] for r in results}
    if len(main_epochs) != 1:
        sys.exit(f"shiftaddaug_table: runs differ in epochs: {sorted(main_epochs)}")
    epochs = main_epochs.pop()

    groups = {}
    for r in results:
        groups.setdefault(column_of(r), []).append(r)
    # The runs of one column must differ only in their seed: a row mixing recipes (another eta,
    # learning rate, augmentation list ...) would average different experiments.
    for name, runs in groups.items():
        recipes = {json.dumps(recipe_of(r), sort_keys=True) for r in runs}
        if len(recipes) != 1:
            sys.exit(f"shiftaddaug_table: the {name} runs differ in more than the seed: "
                     + " vs ".join(sorted(recipes)))
    def order_key(name):  # the main columns first (in ORDER), then their variants by name
        base = name.split("-")[0]
        return (ORDER.index(base) if base in ORDER else len(ORDER), name != base, name)

    names = sorted(groups, key=order_key)
    rows = []
    for name in names:
        runs = sorted(groups[name], key=lambda r: r["seed"])
        top1 = [r["test_top1"] for r in runs]
        rows.append({
            "column": name,
            "remap": runs[0].get("remap", "none"),
            "seeds": [r["seed"] for r in runs],
            "top1": top1,
            "top1_mean": statistics.mean(top1),
            "top1_std": statistics.stdev(top1) if len(top1) > 1 else 0.0,
            "val_top1": [r.get("val_top1") for r in runs],
            "eta": runs[0].get("net", {}).get("eta"),
            "lr": runs[0].get("trainer", {}).get("lr"),
            "epochs": runs[0]["epochs"],
            "peak_rss_mib": max((r.get("peak_rss_mib", 0.0) for r in runs), default=0.0),
            "params": runs[0]["params"],
            "macs": runs[0]["macs"],
            "energy_mj": runs[0]["energy_mj"],
            "energy_unit_mj": runs[0].get("energy", {}).get("unit_mj"),
            "train_seconds": statistics.mean(r["train_seconds"] for r in runs),
            "images_per_s": statistics.mean(r.get("images_per_s", 0.0) for r in runs),
            "runs": [run_record(r, device=True) for r in runs],
        })
    add_paired_differences(rows, groups)
    missing_columns = [c for c in args.columns.split() if c not in groups]
    first = results[0]
    out = {
        "context": dict(first["context"], program="experiments/shiftaddaug/shiftaddaug_table.py",
                        command_line=" ".join(sys.argv)),
        "arch": arch,
        "dataset": args.dataset,
        "epochs": epochs,
        "train_images": train_images,
        "test_images": test_images,
        "note": args.note,
        "rows": rows,
    }
    if args.columns:
        out["missing_columns"] = missing_columns
    os.makedirs(args.out_dir, exist_ok=True)
    if args.copy_runs:
        import shutil
        for r in results:
            dst = os.path.join(args.out_dir, "runs", args.dataset, os.path.basename(r["_dir"]))
            os.makedirs(dst, exist_ok=True)
            for name in ("result.json", "config.json", "log.txt"):
                if os.path.exists(os.path.join(r["_dir"], name)):
                    shutil.copy(os.path.join(r["_dir"], name), dst)
    base = os.path.join(args.out_dir, args.name or args.dataset)
    write_json_atomic(base + ".json", out)

    lines = [f"# ShiftAddAug on {args.dataset}: {arch}, {epochs} epochs, "
             f"{train_images} training / {test_images} test images", ""]
    if args.note:
        lines += [args.note, ""]
    cells = []
    for row in rows:
        uses_adder = row["column"].startswith("Add")
        val = ", ".join(f"{v:.2f}" for v in row["val_top1"] if v is not None)
        # One seed has no spread: its std is not printed as a measured 0.
        spread = f" ± {row['top1_std']:.2f}" if len(row["top1"]) > 1 else " (1 seed)"
        paired = f"vs {row['paired']['direct']}: {paired_text(row['paired'])}" if "paired" in row else "-"
        cells.append([row["column"], f"{row['top1_mean']:.2f}{spread}", ", ".join(f"{t:.2f}" for t in row["top1"]),
                      val, str(row["lr"]), str(row["eta"]) if uses_adder else "-", str(row["epochs"]),
                      str(row["params"]), f"{row['macs'] / 1e6:.2f}", f"{row['energy_mj']:.4f}",
                      f"{row['train_seconds']:.0f}", paired])
    lines += markdown_table(["column", "test top-1 % (mean ± std)", "seeds", "val top-1 %", "lr", "eta", "epochs",
                             "params", "MMAC", "energy mJ (eyeriss)", "train s",
                             "Aug - direct test top-1, paired by seed"], cells)
    if missing_columns:
        lines += ["", "Columns without a finished run yet: " + ", ".join(missing_columns) + "."]
    lines += command_lines_md(rows)
    write_atomic(base + ".md", "\n".join(lines) + "\n")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("shiftaddaug_table: matplotlib missing, no plot", file=sys.stderr)
        return
    # Left: top-1 vs energy for the five main columns (an Aug column sits on its base column's
    # energy: the augmentation costs nothing at inference). Right: every row as a bar, so the
    # ablation rows and near-equal columns stay readable.
    colours = {"Mult": "tab:blue", "Shift": "tab:orange", "Add": "tab:green"}

    def op_of(name):
        return name.split("-")[0].replace("Aug", "")

    main_rows = [row for row in rows if row["column"].split("-lr")[0] in ORDER and row["epochs"] == epochs]
    if len(main_rows) >= 2:
        fig, (ax, bars) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.1, 1]})
    else:  # an ablation-only table: the scatter would hold one point
        fig, bars = plt.subplots(figsize=(9, 0.5 * len(rows) + 1.8))
        ax = None
    # Labels of one operator's direct and Aug points sit close: the higher one's label goes above
    # its point, the lower one's below, so they never overlap whichever of the two is ahead.
    lower_in_op = {id(row) for i, row in enumerate(main_rows)
                   if any(op_of(other["column"]) == op_of(row["column"]) and j != i
                          and (other["top1_mean"], -j) > (row["top1_mean"], -i)
                          for j, other in enumerate(main_rows))}
    for row in main_rows if ax is not None else []:
        name = row["column"]
        aug = name.split("-")[0].endswith("Aug")  # "ShiftAug-lr0.2": the part before the lr
        ax.errorbar(row["energy_mj"], row["top1_mean"], yerr=row["top1_std"],
                    fmt="^" if aug else "o", color=colours.get(op_of(name), "gray"), capsize=3,
                    mfc="white" if aug else None, ms=7)
        ax.annotate(f"{name} {row['top1_mean']:.1f}", (row["energy_mj"], row["top1_mean"]),
                    textcoords="offset points", xytext=(8, -12) if id(row) in lower_in_op else (8, 4),
                    fontsize=8)
    if ax is not None:
        ax.set_xlabel("energy per image, mJ (Eyeriss-like model, 32-bit)")
        ax.set_ylabel("test top-1 % (mean ± std over seeds)")
        ax.set_title(f"{arch} on {args.dataset}, {epochs} epochs")
        ax.grid(alpha=0.3)
        ax.set_xlim(left=0)

    labels = [f"{row['column']} ({row['energy_mj']:.3f} mJ)" for row in rows]
    ypos = list(range(len(rows)))[::-1]
    bars.barh(ypos, [row["top1_mean"] for row in rows], xerr=[row["top1_std"] for row in rows],
              color=[colours.get(op_of(row["column"]), "gray") for row in rows],
              alpha=0.8, capsize=3)
    for y, row in zip(ypos, rows):
        bars.text(row["top1_mean"] + row["top1_std"] + 1, y, f"{row['top1_mean']:.2f}",
                  va="center", fontsize=8)
    bars.set_yticks(ypos)
    bars.set_yticklabels(labels, fontsize=8)
    bars.set_xlabel("test top-1 %")
    bars.set_xlim(0, 105)
    seeds = sorted({s for row in rows for s in row["seeds"]})
    bars.set_title(("" if ax is not None else f"{arch} on {args.dataset}, {epochs} epochs: ")
                   + "every row (seeds: " + ", ".join(str(s) for s in seeds) + ")", fontsize=10)
    bars.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(base + ".png", dpi=120)
    print(f"shiftaddaug_table: wrote {base}.json, .md, .png")


if __name__ == "__main__":
    main()
