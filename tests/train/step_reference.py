#!/usr/bin/python3
"""An independent float64 reference of one whole collaborative (gate) step.

usage: step_reference.py DUMP.h5 [--self-check]

DUMP.h5 is what `moecollab train-local --precision float64 --dump-step DUMP.h5` wrote of its
last gate step: the inputs (features h, labels, each row's class count and domain, rows per
domain, every expert's and the gate's parameters, the loss weights) and the outputs the C++
computed. This script recomputes the outputs from the inputs with numpy alone (none of the
project's code, no autograd): each expert's adapter and head, the logits zero-padded to the
largest label count, the gate's softmax, the mixture y = sum_i g_i O_i, the task loss (each
row's cross-entropy over its own domain's labels), the routing entropy H(g), KL(mean g || uniform),
the router z-loss and the domain term, the total, and the gradient of the total with respect to
the gate's parameters, by hand (backpropagation written out). It then compares every number at
a relative tolerance of 1e-9 (per tensor: max |C++ - reference| <= 1e-9 * max |reference|).

The dump must be a float64 run with at least 3 domains of unequal batches and different label
counts, and a clearly non-uniform mean gate (largest / smallest mean gate weight >= 1.5), so
that the balance term's gradient is not negligible. With --self-check it also shows that the
comparison fails when the balance weight is off by 1%.
Exit 0 when every number agrees, 1 otherwise.
"""
import sys

import h5py
import numpy as np

RTOL = 1e-9


def read(path):
    with h5py.File(path, "r") as f:
        out = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def expert_logits(h, p):
    """The adapter h' = h + W_up relu(W_down h + b_down) + b_up, then the head."""
    down = np.maximum(h @ p["down_project.weight"].T + p["down_project.bias"], 0.0)
    adapted = h + down @ p["up_project.weight"].T + p["up_project.bias"]
    return adapted @ p["classifier.weight"].T + p["classifier.bias"]


def reference(d, balance_scale=1.0):
    h = d["inputs/features"]
    labels, classes, domains = d["inputs/labels"], d["inputs/classes"], d["inputs/domains"]
    w_entropy, w_balance, w_z, w_domain = d["inputs/weights"]
    w_balance *= balance_scale
    n_experts = 1 + max(int(k.split("/")[1][len("expert"):]) for k in d if k.startswith("inputs/expert"))
    experts = [{k.split("/", 2)[2]: v for k, v in d.items() if k.startswith(f"inputs/expert{e}/")}
               for e in range(n_experts)]
    gate = {k.split("/", 2)[2]: v for k, v in d.items() if k.startswith("inputs/gate/")}
    if set(gate) != {"gate.weight", "gate.bias"}:
        sys.exit(f"the reference knows a plain linear gate, not one with {sorted(gate)}")
    n, c_max = h.shape[0], int(classes.max())

    # Every expert's logits, zero-padded to c_max: n x E x c_max.
    O = np.zeros((n, n_experts, c_max))
    for e, p in enumerate(experts):
        logits = expert_logits(h, p)
        O[:, e, :logits.shape[1]] = logits
    # The gate and the mixture.
    z = h @ gate["gate.weight"].T + gate["gate.bias"]
    log_g = log_softmax(z)
    g = np.exp(log_g)
    y = (g[:, :, None] * O).sum(axis=1)

    # Task loss: each row's cross-entropy over its own domain's classes.
    valid = np.arange(c_max)[None, :] < classes[:, None]
    masked = np.where(valid, y, -np.inf)
    log_p = log_softmax(masked)
    rows = np.arange(n)
    task = -log_p[rows, labels].mean()
    entropy = -(g * log_g).sum(axis=1).mean()
    mean_g = g.mean(axis=0)
    balance = (mean_g * (np.log(np.maximum(mean_g, 1e-12)) + np.log(n_experts))).sum()
    lse = np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)) + z.max(axis=1)
    z_loss = (lse ** 2).mean()
    domain = -log_g[rows, domains].mean()
    total = task + w_entropy * entropy + w_balance * balance + w_z * z_loss + w_domain * domain

    # The gradient of the total with respect to the gate's parameters, by hand.
    d_y = np.where(valid, np.exp(log_p), 0.0)
    d_y[rows, labels] -= 1.0
    d_y /= n
    d_g = (d_y[:, None, :] * O).sum(axis=2)                      # task, through y = sum g_i O_i
    d_g += w_entropy * (-(log_g + 1.0) / n)                       # H = -mean sum g log g
    d_mean = np.log(mean_g) + np.log(n_experts) + 1.0              # KL(mean g || uniform)
    d_g += w_balance * np.broadcast_to(d_mean / n, g.shape)
    d_z = g * (d_g - (g * d_g).sum(axis=1, keepdims=True))        # softmax backward
    d_z += w_z * (2.0 / n) * lse[:, None] * g                     # z-loss: mean lse^2
    onehot = np.zeros_like(g)
    onehot[rows, domains] = 1.0
    d_z += w_domain * (g - onehot) / n                            # domain cross-entropy
    grads = {"gate.weight": d_z.T @ h, "gate.bias": d_z.sum(axis=0)}

    return {"outputs/expert_logits": O, "outputs/gate_logits": z, "outputs/mixed": y,
            "outputs/losses": np.array([task, entropy, balance, z_loss, domain, total]),
            **{f"outputs/gate_grad/{k}": v for k, v in grads.items()}}, mean_g


def compare(dump, ref):
    """Lines naming every tensor that differs beyond the tolerance."""
    wrong = []
    for name, want in ref.items():
        got = dump[name]
        if got.shape != want.shape:
            wrong.append(f"{name}: shape {got.shape}, reference {want.shape}")
            continue
        if name == "outputs/losses":
            for i, term in enumerate(["task", "entropy", "balance", "z", "domain", "total"]):
                err = abs(got[i] - want[i])
                if err > RTOL * abs(want[i]):
                    wrong.append(f"loss {term}: {got[i]!r} vs reference {want[i]!r} (relative {err / abs(want[i]):.2e})")
            continue
        err, scale = np.abs(got - want).max(), np.abs(want).max()
        if err > RTOL * scale:
            wrong.append(f"{name}: max difference {err:.3e}, {err / scale:.2e} of max |reference| {scale:.3e}")
    return wrong


def main():
    dump = read(sys.argv[1])
    features = dump["inputs/features"]
    rows, classes = dump["inputs/rows"], dump["inputs/classes"]
    per_domain_classes = sorted(set(classes.tolist()))
    problems = []
    if features.dtype != np.float64:
        problems.append(f"features are {features.dtype}: dump a --precision float64 run")
    if len(rows) < 3 or len(set(rows.tolist())) < 2:
        problems.append(f"rows per domain {rows.tolist()}: need 3+ domains with unequal batches")
    if len(per_domain_classes) < 2:
        problems.append(f"label counts {per_domain_classes}: need domains with different label counts")
    ref, mean_g = reference(dump)
    if mean_g.max() / mean_g.min() < 1.5:
        problems.append(f"mean gate {np.round(mean_g, 4).tolist()} is nearly uniform")
    if problems:
        sys.exit("unsuitable dump: " + "; ".join(problems))
    print(f"{len(rows)} domains, rows {rows.tolist()}, label counts {per_domain_classes}, "
          f"mean gate {np.round(mean_g, 4).tolist()}, weights {dump['inputs/weights'].tolist()}")
    wrong = compare(dump, ref)
    losses = dump["outputs/losses"]
    print("C++ losses (task, entropy, balance, z, domain, total): " + ", ".join(f"{v:.15g}" for v in losses))
    for name in ref:
        want = ref[name]
        rel = np.abs(dump[name] - want).max() / max(np.abs(want).max(), 1e-300)
        print(f"  {name}: max relative difference {rel:.2e}")
    if wrong:
        print("FAILED: the C++ step differs from the reference:\n  " + "\n  ".join(wrong))
        return 1
    if "--self-check" in sys.argv:
        off = compare(dump, reference(dump, balance_scale=1.01)[0])
        if not off:
            print("FAILED: a 1% error in the balance weight went unnoticed")
            return 1
        print(f"self-check: a 1% error in the balance weight is caught ({len(off)} mismatches, e.g. {off[0]})")
    print(f"ok: every output agrees with the float64 reference within {RTOL:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
