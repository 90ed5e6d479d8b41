"""Shared reading and writing for the scripts that tabulate nas_retrain runs
(shiftaddaug_table.py, val_sweep_table.py): every run is RUN_ROOT/<run>/result.json."""
import glob
import json
import os


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
