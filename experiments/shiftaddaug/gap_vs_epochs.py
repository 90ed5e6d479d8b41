#!/usr/bin/env python3
"""Does ShiftAddAug pay with longer training? The Aug - direct difference in top-1, paired by
seed at equal epochs, against the training length: one line per (data set, op, recipe family,
metric), from the comparisons a sources file lists (gap_sources.json beside this script).
Writes OUT_BASE.json, OUT_BASE.md and OUT_BASE.png.

Validation and test never share a line: a source's `metrics` say which it gives (the
learning-rate grid runs give validation top-1 only, the full-split runs test and validation).
Error bars are the standard error of the mean paired difference; a point of one pair (one seed,
or a seed of one side still missing) has none and is flagged. A comparison without any pair yet
(a column still training) is listed as missing, not drawn.

usage: experiments/shiftaddaug/gap_vs_epochs.py OUT_BASE [--sources FILE] [--base DIR]
           [--runs SOURCE_ID=DIR ...]
--base: what the sources' paths are relative to (default: the working directory);
--runs: read a source's runs from DIR instead (e.g. a queue still writing them, read only).
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))  # experiments/run_results.py
from run_results import (load_runs, markdown_table, paired_difference, paired_text, run_record, write_atomic,
                         write_json_atomic)

METRIC_NAMES = {"test_top1": "test", "val_top1": "validation"}


def column_runs(runs, column):
    """The runs of RUN_ROOT/<column>-s<seed>."""
    pattern = re.compile("^" + re.escape(column) + r"-s\d+$")
    return [r for r in runs if pattern.match(os.path.basename(r["_dir"]))]


def check_pair(source, pair, direct, aug):
    """Equal epochs within a pair, the source's epochs and data set: else the comparison is not
    the one the source claims."""
    for r in direct + aug:
        where = os.path.join(r["_dir"], "result.json")
        if r["epochs"] != source["epochs"]:
            sys.exit(f"gap_vs_epochs: {where}: {r['epochs']} epochs, the source {source['id']} says {source['epochs']}")
        if r["dataset"] != source["dataset"]:
            sys.exit(f"gap_vs_epochs: {where}: data set {r['dataset']}, the source {source['id']} says {source['dataset']}")
    sizes = {r["train_images"] for r in direct + aug}
    if len(sizes) > 1:
        sys.exit(f"gap_vs_epochs: {source['id']} {pair['op']}: the direct and augmented runs differ in "
                 f"training images: {sorted(sizes)}")


def flag_of(paired, expected_seeds):
    """Why a point is weaker than its source promised ('' when it is not)."""
    missing = [s for s in expected_seeds if s not in paired["seeds"]]
    flags = []
    if missing:
        flags.append("seed " + ", ".join(str(s) for s in missing) + " missing")
    if len(paired["seeds"]) == 1:
        flags.append("1 pair: no error bar")
    return "; ".join(flags)


def time_ratio(direct, aug):
    """What the augmentation costs: mean training seconds of the Aug runs over the direct runs'
    (shared-machine time, as the runs recorded it; None without a time on either side)."""
    d = [r["train_seconds"] for r in direct if r.get("train_seconds")]
    a = [r["train_seconds"] for r in aug if r.get("train_seconds")]
    return round((sum(a) / len(a)) / (sum(d) / len(d)), 3) if d and a else None


def collect(spec, base, overrides):
    points, missing = [], []
    for source in spec["sources"]:
        root = overrides.get(source["id"], os.path.join(base, source["root"]))
        runs = load_runs(root) if os.path.isdir(root) else []
        for pair in source["pairs"]:
            aug_root = overrides.get(source["id"], os.path.join(base, pair.get("aug_root", source["root"])))
            aug_pool = runs if aug_root == root else (load_runs(aug_root) if os.path.isdir(aug_root) else [])
            direct, aug = column_runs(runs, pair["direct"]), column_runs(aug_pool, pair["aug"])
            check_pair(source, pair, direct, aug)
            for metric in source["metrics"]:
                paired = paired_difference(direct, aug, metric)
                where = {"source": source["id"], "dataset": source["dataset"], "family": source["family"],
                         "op": pair["op"], "metric": metric, "epochs": source["epochs"],
                         "split": source["split"], "direct_column": pair["direct"], "aug_column": pair["aug"]}
                if not paired["seeds"]:
                    if metric == source["metrics"][0]:  # one entry per pair, whatever the metrics
                        missing.append(dict(where, metric=None, finished_seeds={
                            "direct": sorted(r["seed"] for r in direct), "aug": sorted(r["seed"] for r in aug)}))
                    continue
                points.append(dict(where, **paired, flag=flag_of(paired, source["seeds"]),
                                   train_images=(direct + aug)[0]["train_images"],
                                   train_time_ratio=time_ratio(direct, aug),
                                   runs=[run_record(r) for r in direct + aug]))
    return points, missing


def lines_of(points):
    """The points grouped into lines, each sorted by epochs: (dataset, family, op, metric) -> points."""
    lines = {}
    for p in points:
        lines.setdefault((p["dataset"], p["family"], p["op"], p["metric"]), []).append(p)
    for key in lines:
        lines[key].sort(key=lambda p: p["epochs"])
    return lines


def write_markdown(path, spec, points, missing, command_line):
    text = ["# ShiftAddAug: Aug - direct top-1 against the training length", "",
            "Each point: the augmented network's top-1 minus the directly trained one's, paired by seed "
            "at equal epochs (per seed, then mean ± the standard error of the mean difference; no SE "
            "from one pair). **Validation and test are separate lines**: the learning-rate grid runs "
            "are validation-only (they chose the learning rates; the test set played no part), the "
            "full-split runs give test and validation top-1. The train time ratio is the runs' own "
            "(shared-machine seconds; what the augmentation costs at these epochs). The recipe families are not comparable "
            "with each other (network, trainer, training-set size), so each has lines of its own:", ""]
    text += [f"- **{name}**: {what}" for name, what in spec["families"].items()]
    for dataset in sorted({p["dataset"] for p in points} | {m["dataset"] for m in missing}):
        text += ["", f"## {dataset}", ""]
        cells = []
        for p in sorted((p for p in points if p["dataset"] == dataset),
                        key=lambda p: (p["family"], p["op"], p["metric"], p["epochs"])):
            cells.append([p["op"], p["family"], METRIC_NAMES.get(p["metric"], p["metric"]), str(p["epochs"]),
                          p["split"], str(p["train_images"]), f"{p['aug_column']} - {p['direct_column']}",
                          paired_text(p), p["flag"] or "-", p["source"],
                          "-" if p["train_time_ratio"] is None else f"{p['train_time_ratio']:.1f}x"])
        text += markdown_table(["op", "family", "metric", "epochs", "runs", "training images", "columns",
                                "Aug - direct, per seed (mean ± SE)", "flag", "source",
                                "train time Aug / direct"], cells)
        gaps = [m for m in missing if m["dataset"] == dataset]
        if gaps:
            text.append("")
        for m in gaps:
            text.append(f"- Not drawn: {m['op']} at {m['epochs']} epochs ({m['source']}): no pair finished yet "
                        f"(finished seeds: {m['direct_column']} {m['finished_seeds']['direct'] or 'none'}, "
                        f"{m['aug_column']} {m['finished_seeds']['aug'] or 'none'}).")
    text += ["", "Sources:", ""]
    text += [f"- `{s['id']}` ({s['split']}, {s['epochs']} epochs): {s['note']}; runs in `{s['root']}`"
             for s in spec["sources"]]
    text += ["", f"Made by `{command_line}`; every run's exact command line is in the .json."]
    write_atomic(path, "\n".join(text) + "\n")


def plot(path, points):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("gap_vs_epochs: matplotlib missing, no plot", file=sys.stderr)
        return
    datasets = sorted({p["dataset"] for p in points})
    if not datasets:
        print("gap_vs_epochs: no point to plot", file=sys.stderr)
        return
    colours = {"Shift": "tab:orange", "Add": "tab:green"}
    markers = {"micro": "o", "tiny-issue3": "s", "tiny-issue3-gpu": "^"}
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.2 * len(datasets), 4.8), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for (ds, family, op, metric), line in sorted(lines_of(points).items()):
            if ds != dataset:
                continue
            test = metric == "test_top1"
            # Validation points a little to the right, so that they do not hide the test points.
            xs = [p["epochs"] * (1.0 if test else 1.06) for p in line]
            ys = [p["mean"] for p in line]
            colour = colours.get(op, "gray")
            alpha = 1.0 if family == "micro" else 0.45
            ax.plot(xs, ys, ls="-" if test else "--", color=colour, alpha=alpha, lw=1.6 if test else 1.1,
                    label=f"{op}, {METRIC_NAMES.get(metric, metric)}, {family}")
            for x, p in zip(xs, line):
                if p["std_error"] is not None:
                    ax.errorbar(x, p["mean"], yerr=p["std_error"], fmt="none", ecolor=colour, alpha=alpha, capsize=3)
                ax.plot(x, p["mean"], marker=markers.get(family, "D"), ls="none", color=colour, alpha=alpha, ms=6,
                        mfc=colour if test else "white")
                if p["flag"]:
                    ax.annotate(p["flag"].split(";")[0], (x, p["mean"]), textcoords="offset points",
                                xytext=(4, 4), fontsize=6, color=colour, alpha=alpha)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xscale("log")
        ticks = sorted({p["epochs"] for p in points if p["dataset"] == dataset})
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("epochs (log scale)")
        ax.set_ylabel("Aug - direct top-1, points (mean ± SE of the paired difference)")
        ax.set_title(f"{dataset}: solid = test (full split), dashed = validation", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_base", help="output path without extension")
    ap.add_argument("--sources", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "gap_sources.json"))
    ap.add_argument("--base", default=".")
    ap.add_argument("--runs", action="append", default=[], metavar="SOURCE_ID=DIR")
    args = ap.parse_args()
    with open(args.sources) as f:
        spec = json.load(f)
    ids = {s["id"] for s in spec["sources"]}
    overrides = {}
    for item in args.runs:
        source_id, sep, directory = item.partition("=")
        if not sep or source_id not in ids:
            sys.exit(f"gap_vs_epochs: --runs {item}: expected SOURCE_ID=DIR with SOURCE_ID one of {sorted(ids)}")
        overrides[source_id] = directory
    points, missing = collect(spec, args.base, overrides)
    command_line = " ".join(sys.argv)
    out = {"context": {"program": "experiments/shiftaddaug/gap_vs_epochs.py", "command_line": command_line,
                       "schema_version": 1},
           "sources_file": os.path.relpath(args.sources), "families": spec["families"],
           "difference": "aug - direct top-1 (points), paired by seed, at equal epochs",
           "points": points, "missing": missing,
           "lines": [{"dataset": k[0], "family": k[1], "op": k[2], "metric": k[3],
                      "epochs": [p["epochs"] for p in line], "mean": [p["mean"] for p in line],
                      "std_error": [p["std_error"] for p in line]}
                     for k, line in sorted(lines_of(points).items())]}
    write_json_atomic(args.out_base + ".json", out)
    write_markdown(args.out_base + ".md", spec, points, missing, command_line)
    plot(args.out_base + ".png", points)
    print(f"gap_vs_epochs: wrote {args.out_base}.json, .md, .png: {len(points)} points, {len(missing)} missing")


if __name__ == "__main__":
    main()
