"""Shared reading, pairing and writing for the study scripts that tabulate nas_retrain runs
(experiments/shiftaddaug/*.py, experiments/supernet_ranking/supernet_ranking.py): every run is
RUN_ROOT/<run>/result.json."""
import glob
import json
import math
import os
import statistics


def load_runs(run_root):
    """The result.json of every run under run_root (sorted by path); "_dir" is the run folder."""
    runs = []
    for path in sorted(glob.glob(os.path.join(run_root, "*", "result.json"))):
        with open(path) as f:
            r = json.load(f)
        r["_dir"] = os.path.dirname(path)
        runs.append(r)
    return runs


def run_record(r, device=False):
    """How a table cites one run: its folder, seed, exact command line and commit."""
    record = {"dir": os.path.basename(r["_dir"]), "seed": r["seed"],
              "command_line": r["context"]["command_line"],
              "git_commit": r["context"]["git_commit"]}
    if device:
        record["device"] = r["context"]["device"]
    return record


def command_lines_md(rows):
    """Markdown lines listing every run of every row (rows hold "runs" of run_record())."""
    lines = ["", "Runs (exact command lines):", ""]
    for row in rows:
        for run in row["runs"]:
            where = ", ".join(x for x in (f"commit {run['git_commit'][:12]}", run.get("device")) if x)
            lines.append(f"- `{run['command_line']}` ({where})")
    return lines


def write_atomic(path, text):
    """Writes text to path through a temporary file and a rename: never a half-written file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def json_safe(obj):
    """NaN and infinities (an undefined tau, say) become null: strict JSON, readable everywhere."""
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_json_atomic(path, obj):
    write_atomic(path, json.dumps(json_safe(obj), indent=2, allow_nan=False) + "\n")


def paired_difference(direct_runs, aug_runs, metric="test_top1"):
    """Aug - direct of `metric` paired by seed, over the seeds both sides have: {seeds,
    differences, mean, std_error, unpaired_seeds}. The standard error of the mean difference is
    std(differences) / sqrt(n), None under two pairs (one pair has no spread; it is not a
    measured 0). mean is None without any pair."""
    direct = {r["seed"]: r[metric] for r in direct_runs if r.get(metric) is not None}
    aug = {r["seed"]: r[metric] for r in aug_runs if r.get(metric) is not None}
    seeds = sorted(set(direct) & set(aug))
    differences = [aug[s] - direct[s] for s in seeds]
    std_error = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else None
    # Rounded to 1e-6 points (the inputs have 2 decimals): no float noise in the committed files.
    return {
        "seeds": seeds,
        "differences": [round(d, 6) for d in differences],
        "mean": round(statistics.mean(differences), 6) if differences else None,
        "std_error": None if std_error is None else round(std_error, 6),
        "unpaired_seeds": {"direct": sorted(set(direct) - set(aug)), "aug": sorted(set(aug) - set(direct))},
    }


def paired_text(paired):
    """'+0.06, -0.18 (mean -0.06 ± 0.12 SE)'; one pair: '+1.20 (1 seed, no SE)'; a seed run on
    one side only is named ('seed 2 of the direct column has no pair')."""
    if not paired["seeds"]:
        text = "no pair"
    else:
        per_seed = ", ".join(f"{d:+.2f}" for d in paired["differences"])
        if paired["std_error"] is None:
            text = f"{per_seed} (1 seed, no SE)"
        else:
            text = f"{per_seed} (mean {paired['mean']:+.2f} ± {paired['std_error']:.2f} SE)"
    for side, name in (("direct", "direct"), ("aug", "Aug")):
        missing = paired["unpaired_seeds"][side]
        if missing:
            text += f"; seed {', '.join(str(s) for s in missing)} of the {name} column has no pair"
    return text


def markdown_table(header, rows):
    """Markdown lines of a table: the header, its rule, one line per row (lists of cell texts)."""
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(row) + " |" for row in rows])
