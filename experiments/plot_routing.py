#!/usr/bin/python3
"""Figures from a MoECollab run log (RUN_DIR/log.h5), as the paper's Figure 2.

  experiments/plot_routing.py runs/demo/log.h5 --out runs/demo/figures

writes
  utilization_over_rounds.png  (a) per domain, the mean gate weight its samples give each expert, over rounds
  performance_over_rounds.png  (b) per domain, MoE accuracy and macro-F1 over rounds (expert alone dashed)
  utilization_final.png        heat map of the last round's utilization matrix (domain x expert)
  specialization.png           specialization S(e) (paper eq. 6) per expert, last round and over rounds

Reads the file with h5py in SWMR mode, so it also works on a run still going.
Runs on Debian's /usr/bin/python3, where the python3-h5py package installs h5py.
Needs python3-h5py and python3-matplotlib (installed by scripts/setup).
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moecollab_log  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.lines  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402


def read_log(path):
    if moecollab_log.file_format(path) == moecollab_log.PRETRAIN_LOG[0]:
        sys.exit(f"{path}: a pre-training log (masked-LM loss per round), not a run log: print it with "
                 f"`moecollab report {path}`; this script draws the routing of a training run (RUN_DIR/log.h5)")
    with moecollab_log.open_file(path, moecollab_log.RUN_LOG) as f:
        data = moecollab_log.read_rounds(f, ["round", "utilization", "specialization", "moe_accuracy",
                                             "moe_macro_f1", "expert_accuracy", "expert_macro_f1"])
        # integrate: the new mixture evaluated before its gate was trained (round 0)
        data["before"] = {k: f["before"][k][()] for k in ("moe_accuracy", "moe_macro_f1")} if "before" in f else None
    if len(data["round"]) == 0:
        sys.exit(f"{path}: no round logged yet")
    return data


def integer_rounds(ax):
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))


def grid(count):
    """Panels for `count` domains plus one for the legend, as square as it gets, none left empty."""
    cols = max(1, math.ceil(math.sqrt(count + 1)))
    rows = math.ceil((count + 1) / cols)
    while cols > 1 and (rows * cols) - (count + 1) >= rows:  # a whole empty column: drop it
        cols -= 1
        rows = math.ceil((count + 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    flat = list(axes.flat)
    legend_ax = flat[count]
    legend_ax.axis("off")
    for ax in flat[count + 1:]:  # only when the legend does not fill the last row
        ax.remove()
    return fig, flat[:count], legend_ax


def plot_utilization(d, out):
    fig, axes, legend_ax = grid(len(d["domains"]))
    for i, (ax, name) in enumerate(zip(axes, d["domains"])):
        for e, expert in enumerate(d["domains"]):
            ax.plot(d["round"], d["utilization"][:, i, e], marker="o", ms=3, color=f"C{e}",
                    lw=2.5 if e == i else 1.2, label=f"{expert} expert")
        ax.set_title(f"{name} samples")
        integer_rounds(ax)
        ax.set_xlabel("round")
        ax.set_ylabel("mean gate weight")
        ax.set_ylim(0, 1)
    handles, labels = axes[0].get_legend_handles_labels()
    legend_ax.legend(handles, labels, loc="center", title="gate weight on")
    fig.suptitle("(a) Expert utilization over training (own expert drawn thick)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "utilization_over_rounds.png"), dpi=120)
    plt.close(fig)


def plot_performance(d, out):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    before = d["before"]
    for i, name in enumerate(d["domains"]):
        color = f"C{i}"
        for ax, moe, alone, key in ((axes[0], "moe_accuracy", "expert_accuracy", "moe_accuracy"),
                                    (axes[1], "moe_macro_f1", "expert_macro_f1", "moe_macro_f1")):
            rounds, values = d["round"], d[moe][:, i]
            if before is not None:  # integrate: the mixture before gate training, at round 0
                rounds, values = np.concatenate([[0], rounds]), np.concatenate([[before[key][i]], values])
                ax.plot([0], [before[key][i]], color=color, marker="s", ms=6)
            ax.plot(rounds, values, color=color, marker="o", ms=3, label=name)
            ax.plot(d["round"], d[alone][:, i], color=color, ls="--")
    for ax, metric in zip(axes, ["accuracy", "macro-F1"]):
        integer_rounds(ax)
        ax.set_xlabel("round" + (" (0: before integration's gate training)" if before is not None else ""))
        ax.set_ylabel(f"validation {metric}")
        ax.set_ylim(0, 1)
    key = [matplotlib.lines.Line2D([], [], color="k", marker="o", ms=3, label="MoECollab mixture"),
           matplotlib.lines.Line2D([], [], color="k", ls="--", label="expert alone")]
    if before is not None:
        key.append(matplotlib.lines.Line2D([], [], color="k", marker="s", ls="", label="mixture before integration"))
    domains = [matplotlib.lines.Line2D([], [], color=f"C{i}", lw=3, label=n) for i, n in enumerate(d["domains"])]
    fig.suptitle("(b) Performance over training: MoECollab (solid) and expert alone (dashed)")
    fig.tight_layout(rect=(0, 0.14, 1, 1))  # room below the panels for the keys, which then hide no line
    fig.legend(handles=domains, fontsize=8, loc="lower left", ncol=len(domains), bbox_to_anchor=(0.02, 0.0))
    fig.legend(handles=key, fontsize=8, loc="lower right", ncol=len(key), bbox_to_anchor=(0.98, 0.0))
    fig.savefig(os.path.join(out, "performance_over_rounds.png"), dpi=120)
    plt.close(fig)


def plot_final_utilization(d, out):
    u = d["utilization"][-1]
    fig, ax = plt.subplots(figsize=(1.3 * len(d["domains"]) + 2.5, 1.0 * len(d["domains"]) + 1.5))
    im = ax.imshow(u, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(u.shape[1]), [f"{n} expert" for n in d["domains"]], rotation=30, ha="right")
    ax.set_yticks(range(u.shape[0]), d["domains"])
    for i in range(u.shape[0]):
        for e in range(u.shape[1]):
            ax.text(e, i, f"{u[i, e]:.2f}", ha="center", va="center", color="w" if u[i, e] < 0.6 else "k")
    ax.set_xlabel("expert")
    ax.set_ylabel("domain of the samples")
    ax.set_title(f"Utilization, round {int(d['round'][-1])}")
    fig.colorbar(im, ax=ax, label="mean gate weight")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "utilization_final.png"), dpi=120)
    plt.close(fig)


def plot_specialization(d, out):
    s = d["specialization"]
    experts = np.arange(s.shape[1])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    axes[0].bar(experts, s[-1], color=[f"C{e}" for e in experts])
    axes[0].set_xticks(experts, [f"{n} expert" for n in d["domains"]], rotation=30, ha="right")
    axes[0].axhline(math.log(len(d["domains"])), color="k", ls=":", label="ln E = ln D (no specialization)")
    axes[0].set_ylabel("S(e), nats")
    axes[0].set_title(f"Specialization, round {int(d['round'][-1])} (lower = more specialised)")
    axes[0].legend(fontsize=8, loc="lower left")
    for e in experts:
        axes[1].plot(d["round"], s[:, e], marker="o", ms=3, color=f"C{e}", label=f"{d['domains'][e]} expert")
    axes[1].axhline(math.log(len(d["domains"])), color="k", ls=":", label="ln E = ln D (no specialization)")
    top = 1.15 * math.log(len(d["domains"]))
    axes[0].set_ylim(0, top)
    axes[1].set_ylim(0, top)
    axes[1].set_title("Specialization over rounds")
    integer_rounds(axes[1])
    axes[1].set_xlabel("round")
    axes[1].set_ylabel("S(e), nats")
    axes[1].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "specialization.png"), dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("log", help="run log, e.g. runs/demo/log.h5")
    parser.add_argument("--out", help="output directory (default: LOG's directory/figures)")
    args = parser.parse_args()
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.log)), "figures")
    os.makedirs(out, exist_ok=True)
    d = read_log(args.log)
    plot_utilization(d, out)
    plot_performance(d, out)
    plot_final_utilization(d, out)
    plot_specialization(d, out)
    print(f"plot_routing: {len(d['round'])} rounds, {len(d['domains'])} domains -> {out}/"
          "{utilization_over_rounds,performance_over_rounds,utilization_final,specialization}.png")


if __name__ == "__main__":
    main()
