#!/usr/bin/python3
"""G1's peer: one round of the demo's federated training (`moecollab train
--config experiments/demo.ini`: the encoder fine-tuned, `--joint`, features
exchange) written in Python the way a PyTorch user would write it, one process
per domain under mpirun, torch.distributed with the gloo backend.

The same work as ours, per round: a local phase (each rank trains its expert,
the adapter head of common.AdapterHead, and the shared encoder on its own
batches; the encoder in DistributedDataParallel, so its gradients are averaged
over ranks at every step, as ours), a gate phase (every rank's pooled features
gathered to every rank with torch.distributed.nn's differentiable all_gather,
every expert scoring every rank's rows, the logits gathered back the same way,
the gate's mixture of the zero-padded logits, eq. 3 with the mean gate over all
ranks' rows, backward through the gathers into the experts (joint) and every
rank's encoder, the gate's gradients summed over ranks), then the evaluation of
every rank's validation split through the same exchange in chunks of 256. Adam
everywhere at the demo's rates; batches of 32 texts padded to the longest text
of the batch, in length-sorted windows of 16 batches (--length-buckets).

The encoder starts from BERT's random initialisation at the same size (the compute
of a step does not depend on the weights). Prints one JSON line on rank 0 with
the seconds of the timed round (tokenization and start-up excluded, as ours:
its log's /rounds/seconds).

  mpirun -np 4 /usr/bin/python3 benchmarks/reference/finetune_reference.py \\
      --vocab data/vocab.txt --domain data/quotes ... --local-steps 100 --gate-steps 50
"""
import json
import os
import random
import sys
import time

import torch
import torch.distributed as dist
import torch.distributed.nn as dist_nn
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


def read_split(domain, split, vocab, max_length, names):
    rows = [json.loads(line) for line in open(os.path.join(domain, split + ".jsonl"), encoding="utf-8")]
    ids = [common.bert_reference.encode(r["text"], vocab, True, max_length) for r in rows]
    return ids, [names.index(r["label"]) for r in rows]


def padded_logits(expert, h, width):
    return F.pad(expert(h), (0, width - expert.classifier.out_features))


def mixture(encoder, expert, gate, ids, mask, rank, world, c_max, rows, train):
    """This rank's mixed logits and gate logits; every rank calls it with `rows`
    rows (evaluation pads its chunks to one size)."""
    h = encoder(ids, mask, "mean")
    gather = dist_nn.all_gather if train else plain_all_gather
    everyone = torch.cat(gather(h))                         # [W·rows, d]: every rank's features
    scored = padded_logits(expert, everyone, c_max)         # this expert on every rank's rows
    back = gather(scored)                                   # every expert's logits of every row
    mine = torch.stack([b[rank * rows:(rank + 1) * rows] for b in back], 1)  # [rows, W, c_max]
    gate_logits = gate(h)
    return (torch.softmax(gate_logits, 1).unsqueeze(-1) * mine).sum(1), gate_logits


def plain_all_gather(t):
    out = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(out, t.contiguous())
    return out


def main():
    p = common.argument_parser(__doc__)
    p.add_argument("--length-buckets", type=int, default=16)
    p.add_argument("--encoder-lr", type=float, default=3e-4)
    p.add_argument("--eval-batch", type=int, default=256)
    p.add_argument("--port", type=int, default=29527)
    p.set_defaults(local_steps=100, gate_steps=50)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rank, world = common.join_gloo(a.port, a.domain, "finetune_reference")
    vocab = {t.rstrip("\n"): i for i, t in enumerate(open(a.vocab, encoding="utf-8"))}
    domain = a.domain[rank]
    names = [line.rstrip("\n") for line in open(os.path.join(domain, "labels.txt"), encoding="utf-8")]
    train_ids, train_labels = read_split(domain, "train", vocab, a.max_length, names)
    val_ids, val_labels = read_split(domain, "val", vocab, a.max_length, names)
    counts = torch.tensor([len(names), len(train_ids), len(val_ids)])
    everyone = [torch.empty_like(counts) for _ in range(world)]
    dist.all_gather(everyone, counts)
    c_max = max(int(c[0]) for c in everyone)
    eval_chunks = max((int(c[2]) + a.eval_batch - 1) // a.eval_batch for c in everyone)

    torch.manual_seed(0)  # the shared encoder and the gate: identical replicas
    encoder = nn.parallel.DistributedDataParallel(common.bert_init(common.Encoder(len(vocab), a)))
    gate = nn.Linear(a.hidden, world)
    torch.manual_seed(100 + rank)
    expert = common.AdapterHead(a.hidden, a.adapter, len(names))
    encoder_optimizer = torch.optim.Adam(encoder.parameters(), a.encoder_lr)
    expert_optimizer = torch.optim.Adam(expert.parameters(), a.lr)
    gate_optimizer = torch.optim.Adam(gate.parameters(), a.lr)
    rng = random.Random(1000 + rank)
    batches = common.bucketed_batches([len(s) for s in train_ids], a.batch_size, a.length_buckets, rng)

    def batch():
        rows = next(batches)
        ids, mask = common.padded([train_ids[r] for r in rows])
        return ids, mask, torch.tensor([train_labels[r] for r in rows])

    dist.barrier()
    start = time.perf_counter()
    for _ in range(a.rounds):
        for _ in range(a.local_steps):  # each expert and the shared encoder on the rank's own texts
            ids, mask, labels = batch()
            loss = F.cross_entropy(expert(encoder(ids, mask, "mean")), labels)
            encoder_optimizer.zero_grad()
            expert_optimizer.zero_grad()
            loss.backward()  # DDP averages the encoder's gradients over the ranks
            expert_optimizer.step()
            encoder_optimizer.step()
        for _ in range(a.gate_steps):
            ids, mask, labels = batch()
            mixed, gate_logits = mixture(encoder, expert, gate, ids, mask, rank, world, c_max, a.batch_size, True)
            cols = torch.arange(c_max)[None, :]
            task = F.cross_entropy(mixed.masked_fill(cols >= len(names), -1e9), labels)
            g = torch.softmax(gate_logits, 1)
            entropy = -(g * torch.log_softmax(gate_logits, 1)).sum(1).mean()
            mean_g = dist_nn.all_reduce(g.sum(0)) / (a.batch_size * world)
            balance = (mean_g * torch.log(mean_g * world)).sum()
            # Each rank's share of eq. 3 (equal batches: 1/W of the task and entropy means; the
            # balance term's all_reduce sums its gradient over ranks, hence 1/W too), × W for DDP's mean.
            objective = (task + a.lambda1 * entropy + a.lambda2 * balance) / world
            for o in (encoder_optimizer, expert_optimizer, gate_optimizer):
                o.zero_grad()
            (objective * world).backward()
            for q in expert.parameters():
                q.grad.div_(world)
            flat = torch.cat([q.grad.reshape(-1) for q in gate.parameters()]) / world
            dist.all_reduce(flat)
            offset = 0
            for q in gate.parameters():
                q.grad.copy_(flat[offset:offset + q.numel()].view_as(q))
                offset += q.numel()
            for o in (encoder_optimizer, expert_optimizer, gate_optimizer):
                o.step()
        correct = 0
        with torch.no_grad():  # the validation split through the exchange, chunks of 256 padded to one size
            for c in range(eval_chunks):
                rows = list(range(c * a.eval_batch, min(len(val_ids), (c + 1) * a.eval_batch)))
                seqs = [val_ids[r] for r in rows] + [[0]] * (a.eval_batch - len(rows))
                ids, mask = common.padded(seqs)
                mixed, _ = mixture(encoder, expert, gate, ids, mask, rank, world, c_max, a.eval_batch, False)
                if rows:
                    predicted = mixed[:len(rows), :len(names)].argmax(1)
                    correct += int((predicted == torch.tensor([val_labels[r] for r in rows])).sum())
        totals = torch.tensor([float(correct), float(len(val_ids))])
        dist.all_reduce(totals)
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"reference": "finetune_reference", "ranks": world, "rounds": a.rounds,
                          "local_steps": a.local_steps, "gate_steps": a.gate_steps, "seconds": seconds,
                          "round_s": seconds / a.rounds, "val_accuracy": float(totals[0] / totals[1]),
                          "batch_size": a.batch_size, "threads": a.threads, "backend": "gloo+DDP"}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
