#!/usr/bin/python3
"""Our design in Python, single process, as a throughput reference: ONE shared
frozen encoder (mean pooling), adapter experts and the gate on its output. A
round: each expert trained `local_steps` times on its domain's batch, then
`gate_steps` gate steps on one batch per domain (eq. 3 loss; experts without
gradients). --feature-cache computes every training text's features once, as
our trainer does by default (length-sorted chunks of 32, as ours); the time to
build it is included. Prints one JSON
line with training samples per second. The cache also encodes the validation and
test texts, as ours does (for evaluation), so both do the same work."""
import sys

import torch

import common


def encode_sorted(encoder, sequences, chunk=32):
    """Features of every sequence, encoded `chunk` at a time in order of length
    (as our cache does: little padding), returned in the original order."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    out = torch.zeros(len(sequences), encoder.words.embedding_dim)
    for i in range(0, len(order), chunk):
        rows = order[i:i + chunk]
        out[torch.tensor(rows)] = encoder(*common.padded([sequences[r] for r in rows]), "mean")
    return out


def main():
    cache = "--feature-cache" in sys.argv
    if cache:
        sys.argv.remove("--feature-cache")
    a = common.arguments(__doc__)
    vocab_size, domains = common.load(a)
    encoder = common.Encoder(vocab_size, a).eval()
    for p in encoder.parameters():
        p.requires_grad_(False)
    experts = [common.AdapterHead(a.hidden, a.adapter, d.classes) for d in domains]
    gate = torch.nn.Linear(a.hidden, len(domains))
    expert_opts = [torch.optim.Adam(e.parameters(), a.lr) for e in experts]
    gate_opt = torch.optim.Adam(gate.parameters(), a.lr)
    width = max(d.classes for d in domains)
    start = common.clock()
    cached = []
    if cache:
        with torch.no_grad():
            for d in domains:
                cached.append(encode_sorted(encoder, d.ids))
                encode_sorted(encoder, d.held_out)

    def features(i, domain):
        ids, mask, labels, rows = domain.batch(a.batch_size)
        if cache:
            return cached[i][torch.tensor(rows)], labels
        with torch.no_grad():
            return encoder(ids, mask, "mean"), labels

    for _ in range(a.rounds):
        for i, (expert, opt, domain) in enumerate(zip(experts, expert_opts, domains)):
            for _ in range(a.local_steps):
                h, labels = features(i, domain)
                loss = torch.nn.functional.cross_entropy(expert(h), labels)
                opt.zero_grad()
                loss.backward()
                opt.step()
        for _ in range(a.gate_steps):
            hs, ls, cs = [], [], []
            for i, d in enumerate(domains):
                h, labels = features(i, d)
                hs.append(h)
                ls.append(labels)
                cs.append(torch.full_like(labels, d.classes))
            h, labels, classes = torch.cat(hs), torch.cat(ls), torch.cat(cs)
            with torch.no_grad():
                outputs = torch.stack([common.pad(e(h), width) for e in experts], 1)
            gate_logits = gate(h)
            mixed = (outputs * torch.softmax(gate_logits, 1).unsqueeze(2)).sum(1)
            loss = common.gate_loss(mixed, labels, classes, gate_logits, a)
            gate_opt.zero_grad()
            loss.backward()
            gate_opt.step()
    common.report("same_design", a, domains, common.clock() - start, {"feature_cache": cache})


if __name__ == "__main__":
    main()
