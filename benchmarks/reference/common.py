"""What both Python references share: a BERT-style encoder in plain torch (the
size of ours), the bundled domains tokenized with BERT's tokenizer (the
independent one in tests/encoder/bert_reference.py), batch sampling, the
paper's adapter expert and gate heads, the eq. 3 loss, and the timing and
output format that benchmarks/run reads (one JSON line)."""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "encoder"))
import bert_reference  # noqa: E402  (tokenizer only)


def arguments(description):
    return argument_parser(description).parse_args()


def argument_parser(description):
    """The options every reference shares (the sizes of ours and the demo's run shape)."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--domain", action="append", required=True, help="a domain directory; repeat per domain")
    p.add_argument("--vocab", default="data/vocab.txt")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--intermediate", type=int, default=512)
    p.add_argument("--adapter", type=int, default=64)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--local-steps", type=int, default=20)
    p.add_argument("--gate-steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--lambda1", type=float, default=0.01)
    p.add_argument("--lambda2", type=float, default=0.1)
    return p


class Layer(nn.Module):
    def __init__(self, d, heads, inner):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d, eps=1e-12)
        self.ff1 = nn.Linear(d, inner)
        self.ff2 = nn.Linear(inner, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x, mask):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        scores = scores.masked_fill(mask[:, None, None, :] == 0, -1e4)
        context = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, n, d)
        x = self.ln1(x + self.out(context))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class Encoder(nn.Module):
    """BERT's post-LN encoder: word + position + segment embeddings, LayerNorm, layers."""

    def __init__(self, vocab_size, a):
        super().__init__()
        self.words = nn.Embedding(vocab_size, a.hidden)
        self.positions = nn.Embedding(512, a.hidden)
        self.segments = nn.Embedding(2, a.hidden)
        self.ln = nn.LayerNorm(a.hidden, eps=1e-12)
        self.layers = nn.ModuleList(Layer(a.hidden, a.heads, a.intermediate) for _ in range(a.layers))

    def hidden_states(self, ids, mask):
        n = ids.shape[1]
        x = self.ln(self.words(ids) + self.positions.weight[:n] + self.segments.weight[0])
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def forward(self, ids, mask, pooling):
        x = self.hidden_states(ids, mask)
        if pooling == "cls":
            return x[:, 0]
        m = mask.unsqueeze(-1).to(x.dtype)
        return (x * m).sum(1) / m.sum(1)


def bert_init(module, std=0.02):
    """BERT's initialisation, as ours (model/encoder.cpp): weights N(0, std), biases 0, LayerNorm 1."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if isinstance(dict(module.named_modules()).get(name.rsplit(".", 1)[0]), nn.LayerNorm):
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, std)
    return module


class AdapterHead(nn.Module):
    """The paper's expert on top of h: h' = h + W_up ReLU(W_down h), then a classifier."""

    def __init__(self, d, k, classes):
        super().__init__()
        self.down = nn.Linear(d, k)
        self.up = nn.Linear(k, d)
        self.classifier = nn.Linear(d, classes)

    def forward(self, h):
        return self.classifier(h + self.up(F.relu(self.down(h))))


def gate_loss(mixed, labels, classes, gate_logits, a):
    """Eq. 3: masked task cross-entropy + λ1 mean routing entropy + λ2 KL(mean g ‖ uniform)."""
    cols = torch.arange(mixed.shape[1])[None, :]
    task = F.cross_entropy(mixed.masked_fill(cols >= classes[:, None], -1e9), labels)
    g = torch.softmax(gate_logits, 1)
    entropy = -(g * torch.log_softmax(gate_logits, 1)).sum(1).mean()
    mean_g = g.mean(0)
    balance = (mean_g * torch.log(mean_g * mean_g.numel())).sum()
    return task + a.lambda1 * entropy + a.lambda2 * balance


class Domain:
    def __init__(self, path, vocab, max_length):
        def read(split):
            return [json.loads(line) for line in open(os.path.join(path, split + ".jsonl"), encoding="utf-8")]

        rows = read("train")
        labels = [line.rstrip("\n") for line in open(os.path.join(path, "labels.txt"), encoding="utf-8")]
        self.classes = len(labels)
        self.ids = [bert_reference.encode(r["text"], vocab, True, max_length) for r in rows]
        # Validation and test texts: our trainer's feature cache encodes them too (for evaluation).
        self.held_out = [bert_reference.encode(r["text"], vocab, True, max_length)
                         for r in read("val") + read("test")]
        self.labels = [labels.index(r["label"]) for r in rows]
        self.rng = random.Random(len(rows))

    def batch(self, size, rows=None):
        """`size` random training rows, or the given ones: padded ids, mask, labels, rows."""
        rows = rows if rows is not None else [self.rng.randrange(len(self.ids)) for _ in range(size)]
        ids, mask = padded([self.ids[r] for r in rows])
        return ids, mask, torch.tensor([self.labels[r] for r in rows]), rows


def padded(sequences):
    """Token id lists -> (ids, mask), padded to the longest."""
    n = max(len(s) for s in sequences)
    ids = torch.zeros(len(sequences), n, dtype=torch.long)
    mask = torch.zeros(len(sequences), n, dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def bucketed_batches(lengths, batch, window, rng):
    """An endless stream of full batches (row lists): each epoch shuffled, every window
    of `window` batches sorted by length and its batches drawn in random order."""
    while True:
        order = list(range(len(lengths)))
        rng.shuffle(order)
        span = batch * window if window else len(order)
        for start in range(0, len(order), span):
            rows = sorted(order[start:start + span], key=lambda r: lengths[r]) if window else order[start:start + span]
            # Full batches only, as ours (its sampler wraps into the next epoch): a gather over
            # ranks needs every rank's batch at the same size.
            chunks = [rows[i:i + batch] for i in range(0, len(rows) - batch + 1, batch)]
            if window:
                rng.shuffle(chunks)
            for chunk in chunks:
                yield chunk


def join_gloo(port, domains, name):
    """One process per domain under mpirun: (rank, world) of a gloo process group."""
    import torch.distributed as dist
    rank, world = int(os.environ["OMPI_COMM_WORLD_RANK"]), int(os.environ["OMPI_COMM_WORLD_SIZE"])
    if world != len(domains):
        sys.exit(f"{name}: {world} ranks for {len(domains)} domains (one rank per domain)")
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    return rank, world


def load(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    vocab = {t.rstrip("\n"): i for i, t in enumerate(open(a.vocab, encoding="utf-8"))}
    return len(vocab), [Domain(p, vocab, a.max_length) for p in a.domain]


def pad(logits, width):
    return F.pad(logits, (0, width - logits.shape[1]))


def report(name, a, domains, seconds, extra=None):
    samples = a.rounds * (a.local_steps + a.gate_steps) * a.batch_size * len(domains)
    out = {"reference": name, "samples": samples, "seconds": seconds, "samples_per_s": samples / seconds,
           "threads": a.threads, "hidden": a.hidden, "layers": a.layers, "batch_size": a.batch_size}
    out.update(extra or {})
    print(json.dumps(out))


def clock():
    return time.perf_counter()
