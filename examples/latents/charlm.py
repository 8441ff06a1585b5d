"""A small character-level transformer trained on the fortunes files, and the
residual-stream activations of one of its layers, for the latents benchmark
(docs/LATENTS.md).

    /usr/bin/python3 examples/latents/charlm.py --out build/latents [--minutes 10]
        [--rows 1200000] [--layers 4] [--d-model 128] [--tiny]

Writes into --out:
    text.txt      the corpus after mapping to the model's alphabet (one byte per character)
    acts.npy      float32 (rows, d_model): the residual stream after block --layer
    pos.npy       int64 (rows,): the position in text.txt of the character each row was read at
    lm.json       the model's settings, training loss, steps and time
Example and benchmark code only (PyTorch, numpy): the library never depends on it.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

FORTUNES = "/usr/share/games/fortunes"
SKIP = {"ascii-art"}  # pictures, not English


def load_corpus(src, max_chars=None):
    """The fortune files (UTF-8 text, not the .dat indexes), concatenated in
    name order; characters outside printable ASCII and newline become '?'."""
    if os.path.isfile(src):
        names = [src]
    else:
        names = [os.path.join(src, f) for f in sorted(os.listdir(src))
                 if not f.endswith((".dat", ".u8")) and f not in SKIP
                 and os.path.isfile(os.path.join(src, f)) and not os.path.islink(os.path.join(src, f))]
    parts = []
    for n in names:
        with open(n, "rb") as fh:
            parts.append(fh.read().decode("utf-8", "replace"))
    text = "".join(parts)
    text = "".join(c if (32 <= ord(c) < 127 or c == "\n") else "?" for c in text)
    text = text.replace("\n%\n", "\n\n")  # the fortune separators
    if max_chars:
        text = text[:max_chars]
    return text


class Block(nn.Module):
    def __init__(self, d, heads, ctx):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.heads = heads
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)))

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        sh = lambda t: t.view(B, T, self.heads, D // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = sh(q), sh(k), sh(v)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D // self.heads)
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(B, T, D))
        return x + self.out(Fn.gelu(self.fc(self.ln2(x))))


class CharLM(nn.Module):
    def __init__(self, vocab, d, layers, heads, ctx):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(Block(d, heads, ctx) for _ in range(layers))
        self.lnf, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, idx, upto=None):
        """Logits; with upto=L the residual stream after block L instead."""
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for i, b in enumerate(self.blocks):
            x = b(x)
            if upto is not None and i + 1 == upto:
                return x
        return self.head(self.lnf(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus", default=FORTUNES, help="a directory of fortune files or one text file")
    ap.add_argument("--minutes", type=float, default=10.0, help="training time budget")
    ap.add_argument("--max-steps", type=int, default=100000)
    ap.add_argument("--rows", type=int, default=1200000, help="activation rows to write")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--layer", type=int, default=2, help="residual stream after this block (1-based)")
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tiny", action="store_true",
                    help="test size: 60k characters, 1 layer of d_model 32, a few seconds")
    a = ap.parse_args()
    if a.tiny:
        a.layers, a.layer, a.d_model, a.heads, a.ctx = 1, 1, 32, 2, 32
        a.rows, a.minutes, a.max_steps = min(a.rows, 20000), min(a.minutes, 0.1), min(a.max_steps, 100)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    text = load_corpus(a.corpus, 60000 if a.tiny else None)
    alphabet = sorted(set(text))
    stoi = {c: i for i, c in enumerate(alphabet)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    with open(os.path.join(a.out, "text.txt"), "w", encoding="ascii") as fh:
        fh.write(text)
    n_train = int(len(data) * 0.9)
    print("charlm: %d characters (%d distinct) from %s; training on the first %d"
          % (len(text), len(alphabet), a.corpus, n_train), flush=True)

    model = CharLM(len(alphabet), a.d_model, a.layers, a.heads, a.ctx)
    n_par = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(a.seed)

    def batch(lo, hi):
        ix = torch.randint(lo, hi - a.ctx - 1, (a.batch,), generator=g)
        x = torch.stack([data[i:i + a.ctx] for i in ix])
        y = torch.stack([data[i + 1:i + a.ctx + 1] for i in ix])
        return x, y

    budget = a.minutes * 60.0
    t_train = time.time()
    step, ema = 0, None
    model.train()
    while step < a.max_steps and time.time() - t_train < budget:
        frac = (time.time() - t_train) / budget
        for pg in opt.param_groups:  # warm-up then cosine over the time budget
            pg["lr"] = a.lr * min(1.0, (step + 1) / 20) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        x, y = batch(0, n_train)
        loss = Fn.cross_entropy(model(x).reshape(-1, len(alphabet)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        step += 1
        if step % 50 == 0:
            print("charlm: step %d  loss %.3f nats/char  %.0f s" % (step, ema, time.time() - t_train),
                  flush=True)
    train_s = time.time() - t_train
    model.eval()
    with torch.no_grad():  # held-out loss on the last 10% of the text
        losses = []
        for k in range(20):
            x, y = batch(n_train, len(data))
            losses.append(Fn.cross_entropy(model(x).reshape(-1, len(alphabet)), y.reshape(-1)).item())
        val = float(np.mean(losses))
    print("charlm: %d parameters, %d steps in %.0f s; held-out loss %.3f nats/char (%.3f bits)"
          % (n_par, step, train_s, val, val / math.log(2)), flush=True)

    # Activations: windows of ctx characters with stride ctx/2; each row comes
    # from a window in which it has at least ctx/2 characters of context
    # (except the first window's first half).
    rows = min(a.rows, len(data) - a.ctx)
    half = a.ctx // 2
    acts = np.lib.format.open_memmap(os.path.join(a.out, "acts.npy"), mode="w+",
                                     dtype=np.float32, shape=(rows, a.d_model))
    pos = np.empty(rows, dtype=np.int64)
    r, start, t_act = 0, 0, time.time()
    with torch.no_grad():
        while r < rows:
            starts = []
            while len(starts) < 64 and start + a.ctx <= len(data):
                starts.append(start)
                start += half
            if not starts:
                break
            x = torch.stack([data[s:s + a.ctx] for s in starts])
            h = model(x, upto=a.layer).numpy()
            for j, s in enumerate(starts):
                lo = 0 if s == 0 else half
                take = min(a.ctx - lo, rows - r)
                if take <= 0:
                    break
                acts[r:r + take] = h[j, lo:lo + take]
                pos[r:r + take] = np.arange(s + lo, s + lo + take)
                r += take
    acts.flush()
    del acts
    np.save(os.path.join(a.out, "pos.npy"), pos[:r])
    meta = dict(corpus=a.corpus, chars=len(text), alphabet="".join(alphabet), layers=a.layers,
                layer=a.layer, d_model=a.d_model, heads=a.heads, ctx=a.ctx, params=n_par,
                steps=step, train_seconds=round(train_s, 1), heldout_loss_nats=round(val, 4),
                rows=int(r), act_seconds=round(time.time() - t_act, 1), threads=a.threads,
                total_seconds=round(time.time() - t0, 1), tiny=a.tiny)
    with open(os.path.join(a.out, "lm.json"), "w") as fh:
        json.dump(meta, fh, indent=1)
    print("charlm: wrote %d rows x %d of the residual stream after block %d to %s (%.0f s)"
          % (r, a.d_model, a.layer, os.path.join(a.out, "acts.npy"), time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
