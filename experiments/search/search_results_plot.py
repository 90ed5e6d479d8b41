#!/usr/bin/env python3
"""Plot of a search result (results/search/): the accuracy data set (inherited validation top-1 of
sampled subnets vs energy), the search's final population and its Pareto front (predicted top-1),
and the budget.

  experiments/search/search_results_plot.py ACC.jsonl[.gz] PARETO.json OUT.png [PARETO2.json ...]
"""
import gzip
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt


def read_lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return lines[1:]  # the first line is the header


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    records = read_lines(sys.argv[1])
    out = sys.argv[3]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ax.scatter([r["energy_mj"] * 1e3 for r in records], [r["val_top1"] for r in records], s=6, c="#9ecae1",
               label=f"sampled subnets: inherited val top-1 ({len(records)})")
    colors = ["#d62728", "#2ca02c", "#9467bd"]
    for i, path in enumerate([sys.argv[2]] + sys.argv[4:]):
        p = json.load(open(path))
        pop = p.get("population", [])
        ax.scatter([q["energy_mj"] * 1e3 for q in pop], [q["predicted_top1"] for q in pop], s=8, c="#999999",
                   label="final population (predicted)" if i == 0 else None)
        pts = p["points"]
        budget = p["budget_mj"]
        label = f"front, budget {budget * 1e3:.0f} uJ" if budget is not None else "front, no budget"
        if budget is not None and budget * 1e3 > 1000:
            label = f"front, budget {budget:.0f} mJ (does not bind)"
        ax.plot([q["energy_mj"] * 1e3 for q in pts], [q["predicted_top1"] for q in pts], "o-", ms=4,
                c=colors[i % len(colors)], label=label)
        if budget is not None and budget * 1e3 < 1000:
            ax.axvline(budget * 1e3, c=colors[i % len(colors)], ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("energy per image (uJ, Eyeriss model, 32 bit; log)")
    ax.set_ylabel("top-1 (%)")
    ax.set_title("Search on the shift-only micro space (Fashion-MNIST)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=130)


if __name__ == "__main__":
    main()
