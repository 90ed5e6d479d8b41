#!/usr/bin/env python3
"""results/deploy: float vs int8 / int16 test top-1 per network from nas_deploy's deploy.json files.
Usage: make_table.py OUT_DIR NAME=INT8_DIR,INT16_DIR ...   (writes OUT_DIR/deploy_results.json + float_vs_int8.png)"""
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out_dir = sys.argv[1]
rows = []
for arg in sys.argv[2:]:
    name, dirs = arg.split("=", 1)
    d8, d16 = dirs.split(",")
    j8 = json.load(open(os.path.join(d8, "deploy.json")))
    j16 = json.load(open(os.path.join(d16, "deploy.json")))
    rows.append({"network": name, "model": j8["model"], "test_images": j8["test_images"],
                 "float_top1": j8["float_top1"], "int8_top1": j8["int8_top1"], "int16_top1": j16["int16_top1"],
                 "int8_minus_float": j8["int8_top1"] - j8["float_top1"], "int16_minus_float": j16["int16_top1"] - j16["float_top1"],
                 "int8_float_agreement": j8["int_float_agreement"], "flash_weight_bytes": j8["total"]["flash_weight_bytes"],
                 "ram_peak_activation_bytes": j8["total"]["ram_peak_activation_bytes"],
                 "multiplies_per_image": j8["total"]["ops"]["multiplies"], "mf_layer_multiplies": j8["total"]["mf_layer_multiplies"],
                 "energy_8bit_mj": j8["energy_8bit_mj"], "commands": [j8["context"]["command_line"], j16["context"]["command_line"]]})
json.dump({"networks": rows}, open(os.path.join(out_dir, "deploy_results.json"), "w"), indent=2)
fig, ax = plt.subplots(figsize=(4.5, 4.5))
xs = [r["float_top1"] for r in rows]
ax.scatter(xs, [r["int8_top1"] for r in rows], label="int8")
ax.scatter(xs, [r["int16_top1"] for r in rows], marker="x", label="int16")
for r in rows:
    ax.annotate(r["network"], (r["float_top1"], r["int8_top1"]), fontsize=7)
lo, hi = min(xs) - 3, max(xs) + 3
ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="equal")
ax.set_xlabel("float test top-1 (%)")
ax.set_ylabel("integer test top-1 (%)")
ax.legend()
fig.tight_layout()
fig.savefig(os.path.join(out_dir, "float_vs_int8.png"), dpi=120)
for r in rows:
    print(f"| {r['network']} | {r['float_top1']:.2f} | {r['int8_top1']:.2f} ({r['int8_minus_float']:+.2f}) | "
          f"{r['int16_top1']:.2f} ({r['int16_minus_float']:+.2f}) | {r['flash_weight_bytes']} | {r['ram_peak_activation_bytes']} | "
          f"{r['multiplies_per_image']} | {r['energy_8bit_mj']:.4f} |")
