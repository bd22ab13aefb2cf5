#!/usr/bin/python3
"""Heat maps of a λ1 × λ2 sweep from its summary (SWEEP_DIR/summary.h5, written
by `moecollab sweep-summary`).

  experiments/plot_sweep.py runs/sweep-lambda/summary.h5 -o runs/sweep-lambda/sweep.png

One panel per metric over the grid (λ1 down, λ2 across), each cell the mean over
seeds with the value printed: mean MoE accuracy over domains, load balance
H(load)/ln E, utilization rate, specialization mean S(e)/ln D.
Needs python3-h5py and python3-matplotlib (installed by scripts/setup).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moecollab_log  # noqa: E402

PANELS = [
    ("mean_accuracy", "mean MoE accuracy (validation)", "viridis"),
    ("load_balance", "load balance H(load) / ln E", "magma"),
    ("utilization_rate", "utilization rate (load >= 1/(2E))", "cividis"),
    ("specialization", "specialization mean S(e) / ln D (0 = specialised)", "magma_r"),
]


def grid_means(lambda1, lambda2, values):
    l1 = np.unique(lambda1)
    l2 = np.unique(lambda2)
    cells = np.full((len(l1), len(l2)), np.nan)
    for i, a in enumerate(l1):
        for j, b in enumerate(l2):
            picked = values[(lambda1 == a) & (lambda2 == b)]
            if len(picked):
                cells[i, j] = picked.mean()
    return l1, l2, cells


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("summary", help="SWEEP_DIR/summary.h5")
    parser.add_argument("-o", "--out", required=True, help="PNG to write")
    args = parser.parse_args()
    with moecollab_log.open_file(args.summary, moecollab_log.SWEEP_SUMMARY) as f:
        lambda1, lambda2 = f["lambda1"][()], f["lambda2"][()]
        data = {name: f[name][()] for name, _, _ in PANELS}
        seeds = len(np.unique(f["seed"][()]))
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.8), squeeze=False)
    for ax, (name, title, cmap) in zip(axes[0], PANELS):
        l1, l2, cells = grid_means(lambda1, lambda2, data[name])
        image = ax.imshow(cells, cmap=cmap, aspect="auto", origin="upper")
        ax.set_xticks(range(len(l2)), [f"{v:g}" for v in l2])
        ax.set_yticks(range(len(l1)), [f"{v:g}" for v in l1])
        ax.set_xlabel("λ2 (balance)")
        ax.set_ylabel("λ1 (entropy)")
        ax.set_title(title, fontsize=9)
        for i in range(len(l1)):
            for j in range(len(l2)):
                if np.isfinite(cells[i, j]):
                    ax.text(j, i, f"{cells[i, j]:.3f}", ha="center", va="center", fontsize=8, color="white",
                            path_effects=None)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle(f"{args.summary}: mean over {seeds} seed(s)", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
