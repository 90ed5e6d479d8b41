#!/usr/bin/env python3
"""Is the supernet any good? Collects a run of scripts/run_supernet_ranking.sh (ROOT/supernet,
ROOT/inherited/<key>, ROOT/standalone/<key>) into results/supernet/<dataset>.{json,md,png}:
per architecture its energy, its inherited validation top-1 (supernet weights, BN recalibrated)
and its validation / test top-1 when trained alone at the same recipe; Kendall's tau-b between
the two validation rankings; the gap for the smallest and the largest architectures.

usage: scripts/supernet_ranking.py ROOT --dataset D [--out-base results/supernet/D]
"""
import argparse
import glob
import json
import os
import sys

from run_results import write_atomic, write_json_atomic


def kendall_tau_b(x, y):
    """Kendall's tau-b (ties counted as neither concordant nor discordant, tau-b's correction)."""
    n = len(x)
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denom = ((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) ** 0.5
    return (concordant - discordant) / denom if denom > 0 else float("nan")


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--out-base")
    args = ap.parse_args()
    out_base = args.out_base or os.path.join("results", "supernet", args.dataset)
    sn = load(os.path.join(args.root, "supernet", "result.json"))
    archs = []
    for inherited_path in sorted(glob.glob(os.path.join(args.root, "inherited", "*", "result.json"))):
        key = inherited_path.split(os.sep)[-2]
        standalone_path = os.path.join(args.root, "standalone", key, "result.json")
        if not os.path.exists(standalone_path):
            print(f"note: {key} has no standalone run yet; left out", file=sys.stderr)
            continue
        inh, st = load(inherited_path), load(standalone_path)
        archs.append({"key": key, "arch_key": inh["arch_key"], "arch": inh["arch_config"],
                      "energy_mj": inh["energy_mj"], "macs": inh["macs"], "params": inh["params"],
                      "inherited_val_top1": inh["inherited_val_top1"],
                      "standalone_val_top1": st["val_top1"], "standalone_test_top1": st["test_top1"],
                      "standalone_train_seconds": st["train_seconds"],
                      "inherited_command": inh["context"]["command_line"],
                      "standalone_command": st["context"]["command_line"]})
    if len(archs) < 2:
        sys.exit("supernet_ranking: fewer than two architectures with both runs")
    tau = kendall_tau_b([a["inherited_val_top1"] for a in archs], [a["standalone_val_top1"] for a in archs])
    # How much of the standalone ranking the validation set can resolve at all: the binomial
    # standard error of each accuracy, and the pairs whose standalone difference exceeds 1.96
    # standard errors of the difference (the others are ordered by sampling noise of the
    # validation images alone, before any seed noise). tau over the resolvable pairs only.
    val_images = sn["data"]["val_images"]
    for a in archs:
        p = a["standalone_val_top1"] / 100.0
        a["standalone_val_standard_error"] = 100.0 * (p * (1 - p) / val_images) ** 0.5
    concordant = discordant = resolvable = 0
    for i in range(len(archs)):
        for j in range(i + 1, len(archs)):
            a, b = archs[i], archs[j]
            d_st = a["standalone_val_top1"] - b["standalone_val_top1"]
            se = (a["standalone_val_standard_error"] ** 2 + b["standalone_val_standard_error"] ** 2) ** 0.5
            if abs(d_st) <= 1.96 * se:
                continue
            resolvable += 1
            d_inh = a["inherited_val_top1"] - b["inherited_val_top1"]
            if d_inh * d_st > 0:
                concordant += 1
            elif d_inh * d_st < 0:
                discordant += 1
    pairs = len(archs) * (len(archs) - 1) // 2
    resolvable_tau = (concordant - discordant) / resolvable if resolvable else float("nan")
    gaps = {}
    for which in ("smallest", "largest"):
        for a in archs:
            if a["key"].startswith(which + "-"):
                gaps[a["key"]] = a["standalone_val_top1"] - a["inherited_val_top1"]
    result = {"context": sn["context"], "dataset": args.dataset,
              "supernet": {"epochs": sn["supernet"]["epochs"], "sandwich": sn["supernet"]["sandwich"],
                           "aug": sn["supernet"]["aug"], "train_seconds": sn["supernet"]["train_seconds"],
                           "images_per_s": sn["supernet"]["images_per_s"], "peak_rss_mib": sn["peak_rss_mib"],
                           "space_log10_size": sn["space_log10_size"], "space": sn["space"], "net": sn["net"],
                           "trainer": sn["trainer"], "data": sn["data"],
                           "command": sn["context"]["command_line"]},
              "kendall_tau": tau, "gap_standalone_minus_inherited": gaps,
              "noise": {"val_images": val_images, "pairs": pairs, "resolvable_pairs": resolvable,
                        "kendall_tau_resolvable_pairs": resolvable_tau,
                        "what": "resolvable: standalone validation top-1 differ by more than 1.96 binomial "
                                "standard errors of the difference; tau over those pairs (ties count 0)"},
              "archs": archs}
    write_json_atomic(out_base + ".json", result)

    lines = [f"# Supernet ranking quality, {args.dataset}", "",
             f"Supernet: {sn['supernet']['epochs']} epochs, sandwich {sn['supernet']['sandwich']}, "
             f"aug {sn['supernet']['aug']}, {sn['supernet']['train_seconds']:.0f} s of training, "
             f"space of 10^{sn['space_log10_size']:.1f} architectures; "
             f"{sn['data']['train_images']} training / {sn['data']['val_images']} validation images.", "",
             f"**Kendall tau (inherited vs standalone validation top-1): {tau:.3f}** over {len(archs)} "
             "architectures (goal >= 0.6).", "",
             f"Noise: with {val_images} validation images one accuracy has a binomial standard error of "
             f"~{sum(a['standalone_val_standard_error'] for a in archs) / len(archs):.2f} points; "
             f"{resolvable} of the {pairs} pairs differ in standalone accuracy by more than 1.96 standard errors "
             f"of the difference, and over those pairs tau = {resolvable_tau:.3f}. (One seed per standalone run: "
             "seed noise comes on top.)", "",
             "| architecture | energy (mJ) | MMAC | inherited val top-1 (%) | standalone val top-1 (%) | standalone test top-1 (%) |",
             "|---|---|---|---|---|---|"]
    for a in sorted(archs, key=lambda a: a["energy_mj"]):
        lines.append(f"| {a['key']} | {a['energy_mj']:.4f} | {a['macs'] / 1e6:.2f} | {a['inherited_val_top1']:.2f} | "
                     f"{a['standalone_val_top1']:.2f} | {a['standalone_test_top1']:.2f} |")
    lines += ["", "Gap (standalone - inherited, validation top-1 points): " +
              ", ".join(f"{k} {v:+.2f}" for k, v in sorted(gaps.items())), "",
              "Commands:", "", "```", sn["context"]["command_line"]]
    for a in archs:
        lines += [a["inherited_command"], a["standalone_command"]]
    lines += ["```", ""]
    write_atomic(out_base + ".md", "\n".join(lines))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib missing, no plot (use /usr/bin/python3)", file=sys.stderr)
        return
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.5))
    for a in archs:
        ax[0].errorbar(a["standalone_val_top1"], a["inherited_val_top1"], xerr=a["standalone_val_standard_error"],
                       fmt="o", color="C0", ecolor="0.7", capsize=2)
        ax[0].annotate(a["key"], (a["standalone_val_top1"], a["inherited_val_top1"]), fontsize=7)
        ax[1].scatter(a["energy_mj"], a["standalone_val_top1"], color="C1", label=None)
        ax[1].scatter(a["energy_mj"], a["inherited_val_top1"], color="C0", marker="x")
    ax[0].set_xlabel("standalone val top-1 (%), +- 1 binomial standard error")
    ax[0].set_ylabel("inherited val top-1 (%)")
    ax[0].set_title(f"rank agreement: Kendall tau {tau:.2f}")
    ax[1].set_xscale("log")
    ax[1].set_xlabel("energy (mJ / image, eyeriss)")
    ax[1].set_ylabel("val top-1 (%)")
    ax[1].set_title("o standalone, x inherited")
    fig.tight_layout()
    fig.savefig(out_base + ".png", dpi=120)


if __name__ == "__main__":
    main()
