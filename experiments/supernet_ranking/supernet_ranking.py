#!/usr/bin/env python3
"""Is the supernet any good? Collects a run of experiments/supernet_ranking/run_supernet_ranking.sh (ROOT/supernet,
ROOT/inherited/<key>, ROOT/standalone/<key>) into results/supernet/<dataset>.{json,md,png}:
per architecture its energy, its inherited validation top-1 (supernet weights, BN recalibrated)
and its validation / test top-1 when trained alone at the same recipe; Kendall's tau-b between
the two validation rankings; the gap for the smallest and the largest architectures. Standalone
runs of more seeds (ROOT/standalone-seedS/<key>, the same split through --split-seed) make the
standalone accuracy a mean over seeds and give the seed-to-seed tau: how well one standalone run
ranks another, the ceiling any supernet can be measured against.

usage: experiments/supernet_ranking/supernet_ranking.py ROOT --dataset D [--out-base results/supernet/D]
"""
import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))  # experiments/run_results.py
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


def run_split_seed(config):
    """The --split-seed of a nas_retrain run (None: the run's own seed carved its split).
    nas_retrain records it in config.json's data block since 2026-12-02; earlier
    binaries did not, and for their runs the recorded command line is the only witness."""
    if "split_seed" in config["data"]:
        return config["data"]["split_seed"]
    words = config.get("context", {}).get("command_line", "").split()
    for flag, value in zip(words, words[1:]):
        if flag == "--split-seed":
            return int(value)
    for word in words:
        if word.startswith("--split-seed="):
            return int(word.split("=", 1)[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--out-base")
    args = ap.parse_args()
    out_base = args.out_base or os.path.join("results", "supernet", args.dataset)
    sn = load(os.path.join(args.root, "supernet", "result.json"))
    archs = []
    extra_seed_dirs = sorted(glob.glob(os.path.join(args.root, "standalone-seed*")))
    for inherited_path in sorted(glob.glob(os.path.join(args.root, "inherited", "*", "result.json"))):
        key = inherited_path.split(os.sep)[-2]
        standalone_path = os.path.join(args.root, "standalone", key, "result.json")
        if not os.path.exists(standalone_path):
            print(f"note: {key} has no standalone run yet; left out", file=sys.stderr)
            continue
        inh, st = load(inherited_path), load(standalone_path)
        more = [os.path.join(d, key) for d in extra_seed_dirs if os.path.exists(os.path.join(d, key, "result.json"))]
        runs = [st] + [load(os.path.join(d, "result.json")) for d in more]
        for d, r in zip(more, runs[1:]):
            split_seed = run_split_seed(load(os.path.join(d, "config.json")))
            if r["val_images"] != st["val_images"] or split_seed != st["seed"]:
                sys.exit(f"supernet_ranking: {key}: a standalone run of seed {r['seed']} is not on seed "
                         f"{st['seed']}'s split (run it with --split-seed {st['seed']})")
        mean = lambda field: sum(r[field] for r in runs) / len(runs)
        archs.append({"key": key, "arch_key": inh["arch_key"], "arch": inh["arch_config"],
                      "energy_mj": inh["energy_mj"], "macs": inh["macs"], "params": inh["params"],
                      "inherited_val_top1": inh["inherited_val_top1"],
                      "standalone_val_top1": mean("val_top1"), "standalone_test_top1": mean("test_top1"),
                      "standalone_seeds": [r["seed"] for r in runs],
                      "standalone_val_top1_per_seed": [r["val_top1"] for r in runs],
                      "standalone_test_top1_per_seed": [r["test_top1"] for r in runs],
                      "standalone_train_seconds": st["train_seconds"],
                      "inherited_command": inh["context"]["command_line"],
                      "standalone_command": st["context"]["command_line"],
                      "standalone_commands_more_seeds": [r["context"]["command_line"] for r in runs[1:]]})
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
    # Seed to seed: tau between the standalone rankings of two seeds (over the architectures that
    # have both), and the supernet's tau against each seed alone, to compare like with like.
    seeds = sorted({s for a in archs for s in a["standalone_seeds"]})
    per_seed = {s: [a for a in archs if s in a["standalone_seeds"]] for s in seeds}
    def val_of(a, s):
        return a["standalone_val_top1_per_seed"][a["standalone_seeds"].index(s)]
    seed_to_seed = []
    for i, s1 in enumerate(seeds):
        for s2 in seeds[i + 1:]:
            both = [a for a in archs if s1 in a["standalone_seeds"] and s2 in a["standalone_seeds"]]
            if len(both) >= 2:
                seed_to_seed.append({"seeds": [s1, s2], "archs": len(both),
                                     "kendall_tau": kendall_tau_b([val_of(a, s1) for a in both],
                                                                  [val_of(a, s2) for a in both])})
    tau_per_seed = [{"seed": s, "archs": len(per_seed[s]),
                     "kendall_tau": kendall_tau_b([a["inherited_val_top1"] for a in per_seed[s]],
                                                  [val_of(a, s) for a in per_seed[s]])}
                    for s in seeds if len(per_seed[s]) >= 2]
    complete = all(len(a["standalone_seeds"]) == len(seeds) for a in archs)
    # Seed noise measured: the pooled standard deviation of one architecture's standalone
    # validation top-1 across seeds (over the architectures with two or more seeds).
    squares = dof = 0
    for a in archs:
        v = a["standalone_val_top1_per_seed"]
        if len(v) >= 2:
            m = sum(v) / len(v)
            squares += sum((x - m) ** 2 for x in v)
            dof += len(v) - 1
    seed_sd = (squares / dof) ** 0.5 if dof else None
    # What the supernet has to beat: the rank agreement of trivial proxies (no training at all)
    # with the standalone ranking.
    standalone = [a["standalone_val_top1"] for a in archs]
    proxies = (("energy_mj", "energy"), ("macs", "MACs"), ("params", "parameters"))  # field, name
    proxy_tau = {field: kendall_tau_b([a[field] for a in archs], standalone) for field, _ in proxies}
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
              "standalone_seeds": {"seeds": seeds, "every_arch_has_every_seed": complete,
                                   "standalone_val_top1": "mean over the seeds an architecture has",
                                   "kendall_tau_inherited_vs_each_seed": tau_per_seed,
                                   "kendall_tau_seed_to_seed": seed_to_seed},
              "kendall_tau_proxies": proxy_tau,
              "noise": {"val_images": val_images, "pairs": pairs, "resolvable_pairs": resolvable,
                        "seed_standard_deviation": seed_sd,
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
             "architectures (goal >= 0.6)" + (f"; standalone = mean of seeds {seeds}" if len(seeds) > 1 else "") +
             ("" if complete else " (not every architecture has every seed yet)") + ".", ""]
    if len(seeds) > 1:
        lines += ["Against each seed alone: " + ", ".join(f"seed {t['seed']} {t['kendall_tau']:.3f} ({t['archs']} archs)"
                                                         for t in tau_per_seed) + ". Seed to seed (standalone "
                  "against standalone, the ceiling of a single-seed reference): " +
                  ", ".join(f"seeds {t['seeds'][0]}/{t['seeds'][1]} {t['kendall_tau']:.3f} ({t['archs']} archs)"
                            for t in seed_to_seed) + ".", ""]
    lines += ["Proxies without any training, against the same standalone ranking: " +
              ", ".join(f"{name} {proxy_tau[field]:.3f}" for field, name in proxies) +
              (" (the supernet ranks worse than " +
               " and ".join(name for field, name in proxies if proxy_tau[field] > tau) + " alone)" if any(t > tau for t in proxy_tau.values()) else "") +
              ".", ""]
    if seed_sd is not None:
        lines += [f"Seed noise: one architecture's standalone validation top-1 varies by {seed_sd:.2f} points "
                  "(pooled standard deviation across seeds).", ""]
    lines += [
             f"Noise: with {val_images} validation images one accuracy has a binomial standard error of "
             f"~{sum(a['standalone_val_standard_error'] for a in archs) / len(archs):.2f} points; "
             f"{resolvable} of the {pairs} pairs differ in standalone accuracy by more than 1.96 standard errors "
             f"of the difference, and over those pairs tau = {resolvable_tau:.3f}." +
             (" (One seed per standalone run: seed noise comes on top.)" if len(seeds) == 1 else ""), "",
             "| architecture | energy (mJ) | MMAC | inherited val top-1 (%) | standalone val top-1 (%) | standalone test top-1 (%) |"
             + (" standalone val top-1 per seed (%) |" if len(seeds) > 1 else ""),
             "|---|---|---|---|---|---|" + ("---|" if len(seeds) > 1 else "")]
    for a in sorted(archs, key=lambda a: a["energy_mj"]):
        per_seed_cell = (" " + ", ".join(f"{v:.2f} (s{s})" for s, v in zip(a["standalone_seeds"],
                                                                           a["standalone_val_top1_per_seed"])) + " |"
                         if len(seeds) > 1 else "")
        lines.append(f"| {a['key']} | {a['energy_mj']:.4f} | {a['macs'] / 1e6:.2f} | {a['inherited_val_top1']:.2f} | "
                     f"{a['standalone_val_top1']:.2f} | {a['standalone_test_top1']:.2f} |" + per_seed_cell)
    lines += ["", "Gap (standalone - inherited, validation top-1 points): " +
              ", ".join(f"{k} {v:+.2f}" for k, v in sorted(gaps.items())), "",
              "Commands:", "", "```", sn["context"]["command_line"]]
    for a in archs:
        lines += [a["inherited_command"], a["standalone_command"]] + a["standalone_commands_more_seeds"]
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
