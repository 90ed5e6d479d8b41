#!/usr/bin/env python3
"""Weight tearing, measured: for every nas_retrain run under RUN_ROOT (or the runs named), the
distribution of each MF layer's weight slice at the end of training, before and after the weight
remap (result.json "weight_statistics": kurtosis 3 = Gaussian, 6 = Laplacian), and how many tiny
channels the channel sorts moved in from the augmented (multiplicatively trained) range (the
epochs' "channels_moved_into_tiny"). Writes OUT.json, OUT.md and OUT.png (kurtosis per layer
before/after the remap, and the histogram of the largest MF layer of the best remapped run).

usage: experiments/shiftaddaug/tearing_table.py OUT_BASE RUN_DIR [RUN_DIR ...]
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))  # experiments/run_results.py
from run_results import command_lines_md, markdown_table, run_record, write_atomic, write_json_atomic


def load(run_dir):
    with open(os.path.join(run_dir, "result.json")) as f:
        r = json.load(f)
    r["_dir"] = run_dir
    return r


def per_epoch_text(moved):
    """'0, 6, 5, 0, 0, 0' -> '0, 6, 5, then 0 (epochs 4-6)': a 30-epoch run's trailing zeros in one entry."""
    last = max((i for i, m in enumerate(moved) if m), default=-1)
    head = ", ".join(str(m) for m in moved[:last + 1])
    zeros = len(moved) - (last + 1)
    if zeros <= 2:
        return ", ".join(str(m) for m in moved)
    tail = f"0 (epochs {last + 2}-{len(moved)})"
    return f"{head}, then {tail}" if head else tail


def summary(r):
    layers = r.get("weight_statistics", [])
    hist = r.get("history", [])
    moved = [h.get("channels_moved_into_tiny", 0) for h in hist]
    sorted_tiny = [h.get("sorted_tiny_channels", 0) for h in hist]
    raw = [l["raw"]["kurtosis"] for l in layers]
    remapped = [l["remapped"]["kurtosis"] for l in layers]
    return {
        "run": os.path.basename(r["_dir"]),
        "op": r["op"], "aug": r["aug"], "remap": r.get("remap", "none"),
        "sort_mode": (r.get("trainer", {}).get("sort_mode", "augmented")
                      if r["aug"] != "none" and r.get("trainer", {}).get("sort_channels", True) else "-"),
        "test_top1": r["test_top1"], "val_top1": r.get("val_top1"),
        "mf_layers": len(layers),
        "kurtosis_raw_median": statistics.median(raw) if raw else None,
        "kurtosis_remapped_median": statistics.median(remapped) if remapped else None,
        "moved_into_tiny_per_epoch": moved,
        "tiny_channels_sorted_per_epoch": sorted_tiny,
        "moved_fraction_total": (sum(moved) / sum(sorted_tiny)) if sum(sorted_tiny) else 0.0,
        "layers": [{"layer": l["layer"], "numel": l["numel"],
                    "kurtosis_raw": l["raw"]["kurtosis"], "kurtosis_remapped": l["remapped"]["kurtosis"],
                    "std_raw": l["raw"]["std"], "std_remapped": l["remapped"]["std"]} for l in layers],
        "runs": [run_record(r)],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_base")
    ap.add_argument("run_dirs", nargs="+")
    args = ap.parse_args()
    runs = [load(d) for d in args.run_dirs if os.path.exists(os.path.join(d, "result.json"))]
    runs = [r for r in runs if r.get("weight_statistics")]
    if not runs:
        sys.exit("tearing_table: no run with weight_statistics among the given folders")
    rows = [summary(r) for r in runs]
    write_json_atomic(args.out_base + ".json", {"program": "experiments/shiftaddaug/tearing_table.py",
                                               "command_line": " ".join(sys.argv), "rows": rows})
    lines = ["# Weight tearing: MF weight slices at the end of training", "",
             "Kurtosis of each MF layer's weight slice (3: Gaussian, 6: Laplacian), median over the "
             "MF layers, before and after the remap; tiny channels moved in from the augmented range "
             "by the channel sorts (per epoch, and in all as a share of the tiny channels sorted).", "",
             ]
    fmt = lambda v: "-" if v is None else f"{v:.2f}"
    lines += markdown_table(
        ["run", "op", "aug", "remap", "sort", "MF layers", "kurtosis raw", "kurtosis remapped",
         "moved into tiny per epoch", "moved share", "val top-1 %", "test top-1 %"],
        [[row["run"], row["op"], row["aug"], row["remap"], row["sort_mode"], str(row["mf_layers"]),
          fmt(row["kurtosis_raw_median"]), fmt(row["kurtosis_remapped_median"]),
          per_epoch_text(row["moved_into_tiny_per_epoch"]) if row["aug"] != "none" else "-",
          f"{100 * row['moved_fraction_total']:.1f}%", fmt(row["val_top1"]), f"{row['test_top1']:.2f}"]
         for row in rows])
    lines += command_lines_md(rows)
    write_atomic(args.out_base + ".md", "\n".join(lines) + "\n")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("tearing_table: matplotlib missing, no plot", file=sys.stderr)
        return
    fig, (ax, hx) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.4, 1]})
    for r, row in zip(runs, rows):
        ks = [l["kurtosis_raw"] for l in row["layers"]]
        line, = ax.plot(range(len(ks)), ks, marker="o", ms=3, label=f"{row['run']} raw")
        if row["remap"] != "none":
            ax.plot(range(len(ks)), [l["kurtosis_remapped"] for l in row["layers"]], marker="x", ms=3,
                    ls="--", color=line.get_color(), label=f"{row['run']} remapped")
    ax.axhline(3, color="gray", lw=0.8, ls=":")
    ax.axhline(6, color="gray", lw=0.8, ls=":")
    ax.text(0, 3.1, "Gaussian", fontsize=7, color="gray")
    ax.text(0, 6.1, "Laplacian", fontsize=7, color="gray")
    ax.set_xlabel("MF layer (network order)")
    ax.set_ylabel("kurtosis of the MF weight slice")
    ax.set_title("MF weight distributions at the end of training")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    if max((l["kurtosis_raw"] for row in rows for l in row["layers"]), default=0) > 30 or \
       max((l["kurtosis_remapped"] for row in rows for l in row["layers"]), default=0) > 30:
        ax.set_yscale("symlog", linthresh=10)  # one broken remap (kurtosis in the hundreds) would flatten the rest
    # Histograms of the largest MF layer, raw and remapped, of the best remapped run (where the
    # two differ), else of the first run.
    remapped = [r for r, row in zip(runs, rows) if row["remap"] != "none"]
    r = max(remapped, key=lambda run: run["test_top1"]) if remapped else runs[0]
    layer = max(r["weight_statistics"], key=lambda l: l["numel"])
    for key, style in (("raw", "-"), ("remapped", "--")):
        h = layer[key]["histogram"]
        n = len(h["counts"])
        width = (h["hi"] - h["lo"]) / n
        centres = [h["lo"] + (i + 0.5) * width for i in range(n)]
        ax_counts = [c / max(1, sum(h["counts"])) for c in h["counts"]]
        hx.plot(centres, ax_counts, ls=style, label=f"{key} (kurtosis {layer[key]['kurtosis']:.2f})")
    hx.set_yscale("log")
    hx.set_title(f"{os.path.basename(r['_dir'])}: {layer['layer']} ({layer['numel']} weights)", fontsize=9)
    hx.set_xlabel("weight value")
    hx.set_ylabel("share of weights (log)")
    hx.legend(fontsize=8)
    hx.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out_base + ".png", dpi=120)
    print(f"tearing_table: wrote {args.out_base}.json, .md, .png")


if __name__ == "__main__":
    main()
