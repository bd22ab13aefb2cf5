#!/usr/bin/python3
"""The paper's own design (section 5.1), as a throughput reference: every
expert (ExpertModel) and the gate (GatingNetwork) has its OWN encoder, CLS
pooling, and CollaborativeMoEModel pads and mixes the experts' logits. A round
is what ours does: each expert fine-tuned `local_steps` times on its domain's
batch (the expert's encoder trains with it, as the paper's AutoModel does), then
`gate_steps` gate steps on one batch per domain through the whole model (the
gating network, encoder included, trains; experts are evaluated without
gradients). Prints one JSON line with training samples per second."""
import torch
import torch.nn as nn

import common


class ExpertModel(nn.Module):
    def __init__(self, vocab_size, a, classes):
        super().__init__()
        self.encoder = common.Encoder(vocab_size, a)
        self.head = common.AdapterHead(a.hidden, a.adapter, classes)

    def forward(self, ids, mask):
        return self.head(self.encoder(ids, mask, "cls"))


class GatingNetwork(nn.Module):
    def __init__(self, vocab_size, a, experts):
        super().__init__()
        self.encoder = common.Encoder(vocab_size, a)
        self.gate = nn.Linear(a.hidden, experts)

    def forward(self, ids, mask):
        return self.gate(self.encoder(ids, mask, "cls"))  # logits; softmax in the mixture


def main():
    a = common.arguments(__doc__)
    vocab_size, domains = common.load(a)
    experts = [ExpertModel(vocab_size, a, d.classes) for d in domains]
    gating = GatingNetwork(vocab_size, a, len(domains))
    expert_opts = [torch.optim.Adam(e.parameters(), a.lr) for e in experts]
    gate_opt = torch.optim.Adam(gating.parameters(), a.lr)
    width = max(d.classes for d in domains)
    start = common.clock()
    for _ in range(a.rounds):
        for expert, opt, domain in zip(experts, expert_opts, domains):
            for _ in range(a.local_steps):
                ids, mask, labels, _ = domain.batch(a.batch_size)
                loss = torch.nn.functional.cross_entropy(expert(ids, mask), labels)
                opt.zero_grad()
                loss.backward()
                opt.step()
        for _ in range(a.gate_steps):
            batches = [d.batch(a.batch_size) for d in domains]
            loss = 0
            for d, (ids, mask, labels, _) in zip(domains, batches):
                gate_logits = gating(ids, mask)
                with torch.no_grad():
                    outputs = torch.stack([common.pad(e(ids, mask), width) for e in experts], 1)
                mixed = (outputs * torch.softmax(gate_logits, 1).unsqueeze(2)).sum(1)
                classes = torch.full_like(labels, d.classes)
                loss = loss + common.gate_loss(mixed, labels, classes, gate_logits, a) / len(domains)
            gate_opt.zero_grad()
            loss.backward()
            gate_opt.step()
    common.report("paper_reference", a, domains, common.clock() - start)


if __name__ == "__main__":
    main()
