#!/usr/bin/python3
"""Independent reference for the C++ encoder: a BERT forward pass and BERT's
tokenizer written in plain Python (torch, numpy, unicodedata), reading the same
safetensors file with its own parser.

  bert_reference.py make DIR              write a random tiny BERT in the Hugging Face layout
  bert_reference.py check DIR MOECOLLAB   compare `MOECOLLAB encode` with this reference:
                                          token ids exactly, CLS vectors to 1e-5
"""
import json
import os
import struct
import subprocess
import sys
import unicodedata

import numpy as np
import torch

SENTENCES = [
    "The cat sat on the mat.",
    "Hello, WORLD!! unaffable cafés",
    "Ça été Šťastný — naïve coöperation",
    "Привет, мир! Ёлка",
    "Καλημέρα κόσμε",
    "中文字符 mixed with text",
    "tabs\tand\nnewlines and\u200bzero-width",
    "an unknownword xyzzy 123",
    "",
]

CONFIG = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
          "num_attention_heads": 4, "intermediate_size": 37, "max_position_embeddings": 64, "type_vocab_size": 2,
          "layer_norm_eps": 1e-12, "hidden_act": "gelu", "position_embedding_type": "absolute"}


# ---- safetensors, by hand ----------------------------------------------------------

def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (dtype, array) in tensors.items():
        blob = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        buffer = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = buffer[begin:end]
        if entry["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif entry["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif entry["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif entry["dtype"] == "I64":
            a = np.frombuffer(raw, dtype="<i8")
        else:
            raise ValueError(entry["dtype"])
        out[name] = torch.from_numpy(a.reshape(entry["shape"]).copy())
    return out


# ---- BERT's tokenizer ----------------------------------------------------------------

def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text, lower):
    cleaned = []
    for ch in text:
        if ord(ch) in (0, 0xFFFD) or is_control(ch):
            continue
        cleaned.append(" " if is_whitespace(ch) else (f" {ch} " if is_cjk(ord(ch)) else ch))
    tokens = []
    for token in "".join(cleaned).split():
        if lower:
            token = "".join(c for c in unicodedata.normalize("NFD", token.lower()) if unicodedata.category(c) != "Mn")
        current = ""
        for ch in token:
            if is_punctuation(ch):
                if current:
                    tokens.append(current)
                tokens.append(ch)
                current = ""
            else:
                current += ch
        if current:
            tokens.append(current)
    return tokens


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = ("##" if start else "") + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def encode(text, vocab, lower, max_length=128):
    ids = [vocab["[CLS]"]]
    for word in basic_tokenize(text, lower):
        for piece in wordpiece(word, vocab):
            if len(ids) + 1 >= max_length:
                break
            ids.append(vocab[piece])
    return ids + [vocab["[SEP]"]]


# ---- BERT's forward pass ----------------------------------------------------------------

def bert_cls(w, config, ids):
    def p(name):
        for candidate in ["bert." + name, name]:
            old = candidate.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
            for key in (candidate, old):
                if key in w:
                    return w[key]
        raise KeyError(name)

    def ln(x, prefix):
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), p(prefix + ".weight"), p(prefix + ".bias"),
                                              config["layer_norm_eps"])

    def linear(x, prefix):
        return x @ p(prefix + ".weight").T + p(prefix + ".bias")

    ids = torch.tensor(ids)
    n = len(ids)
    x = p("embeddings.word_embeddings.weight")[ids] + p("embeddings.position_embeddings.weight")[:n] \
        + p("embeddings.token_type_embeddings.weight")[0]
    x = ln(x, "embeddings.LayerNorm")
    heads = config["num_attention_heads"]
    dh = config["hidden_size"] // heads
    for layer in range(config["num_hidden_layers"]):
        pre = f"encoder.layer.{layer}."
        q = linear(x, pre + "attention.self.query").view(n, heads, dh).transpose(0, 1)
        k = linear(x, pre + "attention.self.key").view(n, heads, dh).transpose(0, 1)
        v = linear(x, pre + "attention.self.value").view(n, heads, dh).transpose(0, 1)
        context = torch.softmax(q @ k.transpose(1, 2) / dh ** 0.5, dim=-1) @ v
        attended = ln(linear(context.transpose(0, 1).reshape(n, -1), pre + "attention.output.dense") + x,
                      pre + "attention.output.LayerNorm")
        inner = linear(attended, pre + "intermediate.dense")
        gelu = 0.5 * inner * (1 + torch.erf(inner / 2 ** 0.5))
        x = ln(linear(gelu, pre + "output.dense") + attended, pre + "output.LayerNorm")
    return x[0]


# ---- the two commands ------------------------------------------------------------------

def make(directory):
    os.makedirs(directory, exist_ok=True)
    words = ["the", "cat", "sat", "on", "mat", "hello", "world", "un", "##aff", "##able", "caf", "##es", "ete",
             "mixed", "with", "text", "and", "tabs", "new", "##lines", "zero", "width", "an", "12", "##3", "привет",
             "мир", "елка", "καλημερα", "κοσμε", "coop", "##eration", "naive", "stastny"]
    chars = sorted({c for s in SENTENCES for w in basic_tokenize(s, True) for c in w} - {"x", "y", "z"})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + chars + ["##" + c for c in chars]
    tokens = list(dict.fromkeys(tokens))
    with open(os.path.join(directory, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
    config = dict(CONFIG, vocab_size=len(tokens))
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True}, f)
    rng = np.random.default_rng(7)
    d, inter = config["hidden_size"], config["intermediate_size"]

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    t = {"bert.embeddings.word_embeddings.weight": ("F16", normal(len(tokens), d).astype(np.float16)),
         "bert.embeddings.position_embeddings.weight": ("F32", normal(config["max_position_embeddings"], d)),
         "bert.embeddings.token_type_embeddings.weight": ("F32", normal(2, d)),
         "bert.embeddings.LayerNorm.gamma": ("F32", 1 + normal(d)),  # old-style names
         "bert.embeddings.LayerNorm.beta": ("F32", normal(d)),
         "bert.embeddings.position_ids": ("I64", np.arange(config["max_position_embeddings"])[None, :]),
         "bert.pooler.dense.weight": ("F32", normal(d, d)), "bert.pooler.dense.bias": ("F32", normal(d)),
         "cls.predictions.bias": ("F32", normal(len(tokens)))}
    for layer in range(config["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{layer}."
        for name, shape in [("attention.self.query", (d, d)), ("attention.self.key", (d, d)),
                            ("attention.self.value", (d, d)), ("attention.output.dense", (d, d)),
                            ("intermediate.dense", (inter, d)), ("output.dense", (d, inter))]:
            weight = normal(*shape)
            if layer == 1 and name == "intermediate.dense":  # one tensor stored as bfloat16
                bits = weight.view(np.uint32) >> 16
                t[pre + name + ".weight"] = ("BF16", bits.astype(np.uint16))
            else:
                t[pre + name + ".weight"] = ("F32", weight)
            t[pre + name + ".bias"] = ("F32", normal(shape[0]))
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"]:
            t[pre + norm + ".weight"] = ("F32", 1 + normal(d))
            t[pre + norm + ".bias"] = ("F32", normal(d))
    write_safetensors(os.path.join(directory, "model.safetensors"), t)
    print(f"bert_reference: wrote a {config['num_hidden_layers']}-layer d={d} BERT with {len(tokens)} tokens to {directory}")


def check(directory, binary):
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(directory, "vocab.txt"), encoding="utf-8") as f:
        vocab = {token: i for i, token in enumerate(f.read().split("\n")[:-1])}
    weights = read_safetensors(os.path.join(directory, "model.safetensors"))
    args = [binary, "encode", "--encoder", "hf:" + directory]
    for s in SENTENCES:
        args += ["--text", s]
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(got) == len(SENTENCES), result.stdout
    worst = 0.0
    for sentence, row in zip(SENTENCES, got):
        ids = encode(sentence, vocab, True)
        if row["ids"] != ids:
            sys.exit(f"token ids differ for {sentence!r}:\n  C++    {row['ids']}\n  Python {ids}")
        with torch.no_grad():
            want = bert_cls(weights, config, ids).double().numpy()
        diff = float(np.abs(np.array(row["features"]) - want).max())
        worst = max(worst, diff)
        if diff > 1e-5:
            sys.exit(f"CLS vectors differ by {diff:.2e} for {sentence!r}")
    print(f"bert_reference: {len(SENTENCES)} sentences, ids identical, CLS max abs difference {worst:.2e}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
