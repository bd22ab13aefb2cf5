#!/usr/bin/python3
"""G2's peer: our federated masked-LM pre-training (`moecollab pretrain`, FedSGD)
written in Python the way a PyTorch user would write it, one process per domain
under mpirun, torch.distributed with the gloo backend and DistributedDataParallel
(bucketed gradient all-reduce overlapped with the backward pass).

The same work as ours: the same encoder (common.Encoder: d, layers, heads, FFN of
ours; BERT's post-LN), the same vocabulary and tokenizer (bert_reference), the
same corpus per rank (its domain's training split + unlabelled.txt), BERT's
masking (15% of non-special tokens; 80% [MASK], 10% random, 10% kept), the same
batches (B texts per rank, dynamic padding to the longest text, windows of
--length-buckets batches sorted by length and drawn in random order), the MLM
head (dense, GELU, LayerNorm, decoder tied to the word embeddings, bias) on the
masked positions only, Adam with BERT's warm-up and linear decay, and FedSGD:
each rank's loss weighted by its share of all texts, gradients summed over ranks
(DDP averages, so the loss is scaled by the world size), every replica taking the
same step. Prints one JSON line on rank 0 with steps/s of the timed steps
(tokenization and start-up excluded, as ours: its log's round seconds).

  mpirun -np 4 /usr/bin/python3 benchmarks/reference/pretrain_reference.py \\
      --vocab data/vocab.txt --domain data/quotes ... --steps 200
"""
import json
import os
import random
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


class MaskedLM(nn.Module):
    def __init__(self, vocab_size, a):
        super().__init__()
        self.encoder = common.Encoder(vocab_size, a)
        self.dense = nn.Linear(a.hidden, a.hidden)
        self.ln = nn.LayerNorm(a.hidden, eps=1e-12)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, ids, mask, positions):
        x = self.encoder.hidden_states(ids, mask)[positions]
        return self.ln(F.gelu(self.dense(x))) @ self.encoder.words.weight.t() + self.bias


def mask_tokens(ids, mask, special, mask_id, vocab_size, rate):
    """BERT's masking, vectorised as Hugging Face's collator does: labels -100 where not chosen."""
    candidates = mask.bool() & ~torch.isin(ids, special)
    chosen = (torch.rand(ids.shape) < rate) & candidates
    if not chosen.any():
        chosen.view(-1)[candidates.view(-1).nonzero()[0]] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    how = torch.rand(ids.shape)
    out = ids.clone()
    out[chosen & (how < 0.8)] = mask_id
    random_rows = chosen & (how >= 0.8) & (how < 0.9)
    out[random_rows] = torch.randint(vocab_size, (int(random_rows.sum()),))
    return out, labels


def learning_rate(step, total, peak, warmup):
    warm, at = warmup * total, step + 1.0
    return peak * at / warm if at <= warm else peak * max(0.0, (total - at + 1.0) / (total - warm + 1.0))


def main():
    p = common.argument_parser(__doc__)
    p.add_argument("--length-buckets", type=int, default=16)
    p.add_argument("--steps", type=int, default=200, help="timed steps")
    p.add_argument("--warmup-steps", type=int, default=5, help="untimed steps first")
    p.add_argument("--total-steps", type=int, default=2500, help="the schedule's length (the demo's)")
    p.add_argument("--port", type=int, default=29517)
    p.set_defaults(lr=1e-3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rank, world = common.join_gloo(a.port, a.domain, "pretrain_reference")
    vocab = {t.rstrip("\n"): i for i, t in enumerate(open(a.vocab, encoding="utf-8"))}
    domain = a.domain[rank]
    texts = [json.loads(line)["text"] for line in open(os.path.join(domain, "train.jsonl"), encoding="utf-8")]
    unlabelled = os.path.join(domain, "unlabelled.txt")
    if os.path.exists(unlabelled):
        texts += [line.rstrip("\n") for line in open(unlabelled, encoding="utf-8")]
    corpus = [common.bert_reference.encode(t, vocab, True, a.max_length) for t in texts]
    sizes = torch.tensor([float(len(corpus))])
    total = sizes.clone()
    dist.all_reduce(total)
    share = (sizes / total).item()
    torch.manual_seed(0)  # identical replicas
    model = nn.parallel.DistributedDataParallel(common.bert_init(MaskedLM(len(vocab), a)))
    optimizer = torch.optim.Adam(model.parameters(), a.lr)
    special = torch.tensor([vocab["[CLS]"], vocab["[SEP]"], vocab["[PAD]"]])
    rng = random.Random(1000 + rank)
    torch.manual_seed(1000 + rank)  # masking differs per rank
    batches = common.bucketed_batches([len(s) for s in corpus], a.batch_size, a.length_buckets, rng)
    losses, start = [], None
    for step in range(a.warmup_steps + a.steps):
        if step == a.warmup_steps:
            dist.barrier()
            start = time.perf_counter()
        ids, mask = common.padded([corpus[r] for r in next(batches)])
        inputs, labels = mask_tokens(ids, mask, special, vocab["[MASK]"], len(vocab), 0.15)
        positions = labels != -100
        loss = F.cross_entropy(model(inputs, mask, positions), labels[positions])
        optimizer.zero_grad()
        (loss * share * world).backward()  # DDP averages: × world makes it Σ_r share_r ∇loss_r
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, a.total_steps, a.lr, 0.1)
        optimizer.step()
        losses.append(loss.item())
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"reference": "pretrain_reference", "ranks": world, "steps": a.steps, "seconds": seconds,
                          "steps_per_s": a.steps / seconds, "last_loss": sum(losses[-20:]) / len(losses[-20:]),
                          "batch_size": a.batch_size, "threads": a.threads, "backend": "gloo+DDP"}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
