#!/usr/bin/env python3
"""Draws nas_report's plot as a PNG, with the content of its --svg: top-1 (%) vs energy per image
(mJ, log axis); the search's final population in grey, the predicted front (dashed) and the
retrained points with their measured front (solid), the baselines as labelled squares with their
std, the energy budget as a vertical line; the random and scaled arms (report.json's `arms`, when
given) in their own colours, mean test top-1 with the seeds' std.

usage: scripts/plot_report.py REPORT_JSON PARETO_JSON OUT_PNG

REPORT_JSON is nas_report --out, PARETO_JSON the search's pareto.json (for the population).
nas_report --plot runs it with /usr/bin/python3 ($NAS_PYTHON). Exit codes: 0 written, 2 usage or
unreadable input, 3 matplotlib missing.
"""
import json
import math
import os
import sys

POPULATION = "#b0b0b0"
PREDICTED = "#1f77b4"
MEASURED = "#d95f02"
BASELINE = "#7b3294"
BUDGET = "#d62728"
# The arms: nas_report's SVG colours and markers (report/report_svg.cc).
ARMS = {"random": ("#1b9e77", "^", "R"), "scaled": ("#e7298a", "D", "S")}


def fail(message, code):
    print(f"plot_report.py: error: {message}", file=sys.stderr)
    sys.exit(code)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}", 2)


def energy_text(mj):
    """The unit nas_report's tables use: uJ below 1 mJ."""
    return f"{mj:.4g} mJ" if mj >= 1 else f"{mj * 1e3:.4g} uJ"


def log_ticks(e0, e1):
    """nas_report's log-axis ticks: labels on the densest of the mantissa sets {1}, {1, 2, 5},
    {1, 2, 3, 4, 5, 6, 8}, {1..9} whose labels stay 7.5 % of the axis apart."""
    lo, hi = math.log10(e0), math.log10(e1)
    labelled = []
    for mantissas in ([1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 8], list(range(1, 10))):
        ticks = [m * 10.0 ** k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in mantissas
                 if lo <= math.log10(m * 10.0 ** k) <= hi]
        if any(math.log10(b / a) < 0.075 * (hi - lo) for a, b in zip(ticks, ticks[1:])):
            break
        labelled = ticks
    return labelled


def place_baseline_labels(fig, ax, baselines):
    """nas_report's placement (in points): right of the marker, or left when the label would leave
    the plot; then down a line at a time while it overlaps a label placed before it (baselines
    often share an energy). Needs the final layout: call after tight_layout."""
    to_pt = 72.0 / fig.dpi
    right = ax.transAxes.transform((1, 0))[0] * to_pt
    char_width, height, line, gap = 4.8, 9.0, 10.0, 7.0
    placed = []
    for b in sorted(baselines, key=lambda b: -b["top1_mean"]):
        px, py = (v * to_pt for v in ax.transData.transform((b["energy_mj"], b["top1_mean"])))
        width = char_width * len(b["name"])
        x0 = px - gap - width if px + gap + width > right else px + gap
        y = py
        for _ in range(8):
            if not any(x0 < q[2] and q[0] < x0 + width and y - height / 2 < q[3] and q[1] < y + height / 2
                       for q in placed):
                break
            y -= line
        placed.append((x0, y - height / 2, x0 + width, y + height / 2))
        ax.annotate(b["name"], (b["energy_mj"], b["top1_mean"]), textcoords="offset points",
                    xytext=(x0 - px, y - py), ha="left", va="center", fontsize=8, color=BASELINE)


def energy_model_text(model):
    text = model.get("tier", "?")
    if isinstance(model.get("table"), dict) and "name" in model["table"]:
        text += f", table {model['table']['name']}"
    if "bits" in model:
        text += f", {model['bits']}-bit"
    return text


def main():
    if len(sys.argv) != 4:
        fail("usage: plot_report.py REPORT_JSON PARETO_JSON OUT_PNG", 2)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        fail(f"matplotlib is not available to {sys.executable} (Debian: apt install python3-matplotlib)", 3)
    report_path, pareto_path, out_png = sys.argv[1:]
    report, pareto = load(report_path), load(pareto_path)

    points = {p["key"]: p for p in pareto.get("points", [])}
    retrained = sorted(report["points"], key=lambda p: p["energy_mj"])
    measured_front = set(report["measured_front"])
    budget = report.get("budget_mj")

    fig, ax = plt.subplots(figsize=(10, 5.6))
    population = pareto.get("population", [])
    ax.scatter([p["energy_mj"] for p in population], [p["predicted_top1"] for p in population], s=12,
               color=POPULATION, label="final population (predicted)", zorder=1)
    front = [points[k] for k in report["predicted_front"] if k in points]
    ax.plot([p["energy_mj"] for p in front], [p["predicted_top1"] for p in front], "--o", color=PREDICTED,
            mfc="white", ms=5, lw=1.5, label="predicted front", zorder=2)
    on_front = [p for p in retrained if p["key"] in measured_front]
    off_front = [p for p in retrained if p["key"] not in measured_front]
    ax.plot([p["energy_mj"] for p in on_front], [p["measured_test_top1"] for p in on_front], "-o", color=MEASURED,
            ms=6, lw=1.5, label="searched, retrained: measured test top-1", zorder=4)
    ax.scatter([p["energy_mj"] for p in off_front], [p["measured_test_top1"] for p in off_front], s=30,
               color=MEASURED, alpha=0.45, zorder=4)
    with_std = [p for p in retrained if p.get("measured_test_top1_std")]
    ax.errorbar([p["energy_mj"] for p in with_std], [p["measured_test_top1"] for p in with_std],
                yerr=[p["measured_test_top1_std"] for p in with_std], fmt="none", ecolor=MEASURED, capsize=3, zorder=4)
    for p in retrained:
        ax.annotate(f"P{p['point_index']}", (p["energy_mj"], p["measured_test_top1"]), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    for i, b in enumerate(report["baselines"]):
        ax.errorbar(b["energy_mj"], b["top1_mean"], yerr=b["top1_std"], fmt="s", color=BASELINE, ms=6, capsize=3,
                    label="baselines (mean, std)" if i == 0 else None, zorder=5)
    for arm, (colour, marker, letter) in ARMS.items():
        arm_points = report.get("arms", {}).get(arm, {}).get("points", [])
        if not arm_points:
            continue
        ax.errorbar([p["energy_mj"] for p in arm_points], [p["measured_test_top1"] for p in arm_points],
                    yerr=[p["measured_test_top1_std"] or 0 for p in arm_points], fmt=marker, color=colour, ms=6,
                    capsize=3, label=f"{arm} arm: measured test top-1 (mean, std)", zorder=4)
        for p in arm_points:
            ax.annotate(f"{letter}{p['point_index']}", (p["energy_mj"], p["measured_test_top1"]),
                        textcoords="offset points", xytext=(5, -10), fontsize=8, color=colour)
    if budget is not None:
        ax.axvline(budget, color=BUDGET, ls=":", lw=1.2, label=f"energy budget {energy_text(budget)}")

    ax.set_xscale("log")
    e0, e1 = ax.get_xlim()
    labelled = log_ticks(e0, e1)
    if len(labelled) >= 2:
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(labelled))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())

    ax.set_xlabel("energy per image (mJ, log scale)")
    ax.set_ylabel("top-1 (%)")
    ax.set_title(f"Pareto report: {report['dataset']}, budget "
                 f"{energy_text(budget) if budget is not None else 'none'} "
                 f"({energy_model_text(report.get('energy_model', {}))})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    fig.tight_layout()
    place_baseline_labels(fig, ax, report["baselines"])
    # A temporary file beside the target and a rename: never a half-written PNG.
    tmp = f"{out_png}.tmp.{os.getpid()}"
    fig.savefig(tmp, format="png", dpi=150)
    os.replace(tmp, out_png)


if __name__ == "__main__":
    main()
