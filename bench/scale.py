#!/usr/bin/env python3
"""The scale benchmark of issue 15 (not a test): a synthetic float32 .npy
file of sparse non-negative features, too large to hold as float64, learned
by the library with its defaults and by two peers, each streaming the file
block by block, on the same machine and threads.

    python3 bench/scale.py                       # m 256, n 2048, 500,000 rows
    python3 bench/scale.py --m 64 --n 512 --rows 100000 --minutes 3   # a smaller run

The data (written once to --dir, default build/scale; about 0.5 GB at the
default size): a random unit basis A (m x n), sources Bernoulli(activity)
times exponential(1), Gaussian noise, rows x = A s + noise as float32.

Each method runs in its own process (so that its peak resident memory is
its own: VmHWM of the child) and reads the file through a fresh
read-only memory map of one block of rows per step, so that its memory does
not grow with the file:

- libovica: ovica.Trainer with the library's defaults (rule auto, the
  exponential prior for the non-negative features, nothing else set but
  --threads), one float32 block of clamp(8 n, 1024, 8192) rows per step
  (ovica_trainer_step_f32: the codes in single precision by default,
  --precision double for the float64 reference) (the rows
  the trainer's sparse route uses per step), until the trainer says that the
  basis has settled (ovica_trainer_converged) or its planned steps are done;
- MiniBatchDictionaryLearning (scikit-learn), given its best: positive
  codes, its sparsity weight alpha set from the TRUE basis and codes (the
  LASSO weight at which the true basis gives back the true number of active
  coefficients, by bisection on a subsample), then alpha x {0.5, 1, 2}, one
  partial_fit per block of 1024 rows, the three settings sharing --minutes
  of training;
- a PyTorch sparse autoencoder as the field trains them: untied ReLU encoder
  (pre-encoder bias = decoder bias), unit-norm decoder columns (renormalised
  after every step, the gradient along them removed first), Adam, blocks of
  4096 rows; loss |x - x_hat|^2 + lambda |f|_1 with lambda in {0.1, 0.3, 1}
  (a LASSO threshold of lambda / 2 on amplitudes of mean 1), and TopK (k = the
  true mean number of active features, and half and twice that), learning rates 1e-3 and 3e-3, the twelve settings
  sharing --minutes of training; the decoder columns are the atoms.

--alpha-factors and --sae-settings pick the peers' settings (the best of a
first run, say, given all of --minutes:
    python3 bench/scale.py --parts mbdl sae --alpha-factors 2 --sae-settings topk:1:0.003 --minutes 15
).

Every 25 steps (libovica) or every --eval-every seconds of training (the
peers) the atoms are scored against the truth (the scoring is not timed):
MMCS, the mean over true atoms of |cos| with the matched atom (one-to-one
matching, ovica.match_atoms; signed: the features are non-negative).
Reported per method: the best MMCS and the training time to reach it, the
time to MMCS 0.99 (if reached), rows per second, and the peak resident
memory of its process.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))


class Blocks:
    """Reads blocks of rows of a 2-D float32 .npy file through a memory map
    of just those bytes, released after each read."""

    def __init__(self, path, seed):
        arr = np.load(path, mmap_mode="r")
        self.rows, self.m = arr.shape
        self.dtype = arr.dtype
        self.offset = arr.offset  # the header's length
        del arr
        self.path = path
        self.rng = np.random.default_rng(seed)

    def block(self, B, dtype=np.float64):
        start = int(self.rng.integers(0, self.rows - B + 1))
        mm = np.memmap(self.path, dtype=self.dtype, mode="r",
                       offset=self.offset + start * self.m * self.dtype.itemsize,
                       shape=(B, self.m))
        out = np.array(mm, dtype=dtype)
        del mm
        return out


def mmcs(A_learned, A_true):
    import ovica
    _, ang = ovica.match_atoms(np.ascontiguousarray(A_learned, dtype=np.float64),
                               np.ascontiguousarray(A_true), use_sign=True)
    c = np.cos(np.radians(np.where(np.isnan(ang), 90.0, ang)))
    return float(c.mean()), int((c >= 0.99).sum())


# --- the data --------------------------------------------------------------------------
def generate(a):
    os.makedirs(a.dir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    A = rng.standard_normal((a.m, a.n))
    A /= np.linalg.norm(A, axis=0)
    X = np.lib.format.open_memmap(os.path.join(a.dir, "X.npy"), mode="w+", dtype=np.float32,
                                  shape=(a.rows, a.m))
    chunk = 20000
    for i in range(0, a.rows, chunk):
        r = min(chunk, a.rows - i)
        S = rng.exponential(1.0, (r, a.n)) * (rng.random((r, a.n)) < a.activity)
        X[i:i + r] = (S @ A.T + a.noise * rng.standard_normal((r, a.m))).astype(np.float32)
    X.flush()
    del X
    np.save(os.path.join(a.dir, "A.npy"), A)
    # a small sample with its codes, for the peers' sparsity weights (set from the truth)
    S = rng.exponential(1.0, (2000, a.n)) * (rng.random((2000, a.n)) < a.activity)
    np.savez(os.path.join(a.dir, "oracle.npz"),
             X=S @ A.T + a.noise * rng.standard_normal((2000, a.m)), S=S)


# --- the methods (each in its own process) ---------------------------------------------
class Track:
    """Training time (scoring excluded), the best MMCS and when it came."""

    def __init__(self, A_true):
        self.A = A_true
        self.train = 0.0
        self.rows = 0
        self.best = (-1.0, 0, 0.0)
        self.t99 = None
        self.curve = []

    def score(self, A_learned):
        mm, c99 = mmcs(A_learned, self.A)
        self.curve.append((round(self.train, 2), round(mm, 5)))
        if mm > self.best[0]:
            self.best = (mm, c99, self.train)
        if self.t99 is None and mm >= 0.99:
            self.t99 = self.train
        return mm


def run_ovica(a, A_true, blocks):
    import ovica
    tr = Track(A_true)
    model = ovica.Model(a.m, a.n, prior="exponential", sigma=0.05)
    t = ovica.Trainer(model, rule="auto", seed=1, threads=a.threads)
    if a.precision == "double":
        t.set_param("precision", 2)  # (the default codes float32 data in single precision)
    steps = int(t.get_param("steps"))
    if a.max_steps:
        steps = min(steps, a.max_steps)
    B = min(max(8 * a.n, 1024), 8192)
    k = 0
    for k in range(steps):
        X = blocks.block(B, np.float32)  # (ovica_trainer_step_f32)
        t0 = time.perf_counter()
        t.step(X)
        tr.train += time.perf_counter() - t0
        tr.rows += B
        settled = t.converged
        if (k + 1) % 25 == 0 or settled:
            mm = tr.score(t.basis)
            sys.stderr.write("libovica: step %d, %.1f s of training, MMCS %.4f, route %s\n" % (
                k + 1, tr.train, mm, t.regime))
        if settled:
            break
    return tr, {"steps": k + 1, "settled": bool(t.converged), "rows_per_step": B}


def oracle_alpha(a):
    from sklearn.decomposition import sparse_encode
    o = np.load(os.path.join(a.dir, "oracle.npz"))
    A = np.load(os.path.join(a.dir, "A.npy"))
    X, S = o["X"][:500], o["S"][:500]
    want = (S != 0).sum(1).mean()
    lo, hi = 1e-4, 1.0
    for _ in range(10):
        mid = np.sqrt(lo * hi)
        C = sparse_encode(X, A.T, algorithm="lasso_cd", alpha=mid, positive=True)
        lo, hi = (mid, hi) if (C != 0).sum(1).mean() > want else (lo, mid)
    return float(np.sqrt(lo * hi)), float(want)


def run_mbdl(a, A_true, blocks):
    from sklearn.decomposition import MiniBatchDictionaryLearning
    a0, _ = oracle_alpha(a)
    best = None
    for alpha in [f * a0 for f in a.alpha_factors]:
        tr = Track(A_true)
        est = MiniBatchDictionaryLearning(n_components=a.n, alpha=alpha, batch_size=1024,
                                          fit_algorithm="cd", positive_code=True,
                                          random_state=0)
        last = 0.0
        while tr.train < 60.0 * a.minutes / len(a.alpha_factors):
            X = blocks.block(1024)
            t0 = time.perf_counter()
            est.partial_fit(X)
            tr.train += time.perf_counter() - t0
            tr.rows += 1024
            if tr.train - last >= a.eval_every:
                last = tr.train
                tr.score(est.components_.T)
        tr.score(est.components_.T)
        info = {"alpha": alpha, "oracle_alpha": a0}
        if best is None or tr.best[0] > best[0].best[0]:
            best = (tr, info)
    return best


def run_sae(a, A_true, blocks):
    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    _, want = oracle_alpha_l0(a)
    configs = [("topk", k, lr) for k in (max(1, round(want / 2)), max(1, round(want)),
                                         round(2 * want)) for lr in (1e-3, 3e-3)]
    configs += [("l1", lam, lr) for lam in (0.1, 0.3, 1.0) for lr in (1e-3, 3e-3)]
    if a.sae_settings:  # "topk:F:LR" (k = F times the true L0) or "l1:LAMBDA:LR"
        configs = []
        for s in a.sae_settings:
            kind, level, lr = s.split(":")
            level = max(1, round(float(level) * want)) if kind == "topk" else float(level)
            configs.append((kind, level, float(lr)))
    best = None
    for kind, level, lr in configs:
        tr = Track(A_true)
        W_d = torch.randn(a.m, a.n)
        W_d /= W_d.norm(dim=0, keepdim=True)
        W_d.requires_grad_(True)
        W_e = W_d.detach().t().clone().requires_grad_(True)
        b_e = torch.zeros(a.n, requires_grad=True)
        b_d = torch.zeros(a.m, requires_grad=True)
        opt = torch.optim.Adam([W_d, W_e, b_e, b_d], lr=lr)
        last = 0.0
        while tr.train < 60.0 * a.minutes / len(configs):
            X = torch.from_numpy(blocks.block(4096).astype(np.float32))
            t0 = time.perf_counter()
            pre = (X - b_d) @ W_e.t() + b_e
            if kind == "topk":
                v, i = pre.topk(int(level), dim=1)
                f = torch.zeros_like(pre).scatter_(1, i, torch.relu(v))
            else:
                f = torch.relu(pre)
            err = ((f @ W_d.t() + b_d - X) ** 2).sum(1).mean()
            loss = err + (level * f.abs().sum(1).mean() if kind == "l1" else 0.0)
            opt.zero_grad()
            loss.backward()
            with torch.no_grad():  # no gradient along the decoder's unit columns
                W_d.grad -= (W_d.grad * W_d).sum(0, keepdim=True) * W_d
            opt.step()
            with torch.no_grad():
                W_d /= W_d.norm(dim=0, keepdim=True)
            tr.train += time.perf_counter() - t0
            tr.rows += 4096
            if tr.train - last >= a.eval_every:
                last = tr.train
                tr.score(W_d.detach().numpy().astype(np.float64))
        tr.score(W_d.detach().numpy().astype(np.float64))
        info = {"kind": kind, "level": level, "lr": lr}
        if best is None or tr.best[0] > best[0].best[0]:
            best = (tr, info)
    return best


def oracle_alpha_l0(a):
    o = np.load(os.path.join(a.dir, "oracle.npz"))
    return None, float((o["S"] != 0).sum(1).mean())


def peak_rss_mb():
    """This process's peak resident memory (VmHWM: kept per address space,
    so unlike getrusage's ru_maxrss it does not inherit the parent's peak
    across fork and exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(a):
    A_true = np.load(os.path.join(a.dir, "A.npy"))
    blocks = Blocks(os.path.join(a.dir, "X.npy"), seed=7)
    t0 = time.time()
    if a.child == "ovica":
        tr, info = run_ovica(a, A_true, blocks)
    elif a.child == "mbdl":
        tr, info = run_mbdl(a, A_true, blocks)
    else:
        tr, info = run_sae(a, A_true, blocks)
    out = {"method": a.child, "best_mmcs": tr.best[0], "atoms_99": tr.best[1],
           "time_to_best": tr.best[2], "time_to_099": tr.t99, "train_seconds": tr.train,
           "rows": tr.rows, "rows_per_second": tr.rows / max(tr.train, 1e-9),
           "wall_seconds": time.time() - t0, "curve": tr.curve, "settings": info,
           "peak_rss_mb": peak_rss_mb()}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--m", type=int, default=256)
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--rows", type=int, default=500000)
    ap.add_argument("--activity", type=float, default=0.03)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--dir", default=os.path.join(HERE, "..", "build", "scale"))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OPENBLAS_NUM_THREADS",
                                                                      "2")))
    ap.add_argument("--minutes", type=float, default=10.0,
                    help="each peer's training time, shared by its settings (libovica runs "
                    "to its own end)")
    ap.add_argument("--eval-every", type=float, default=10.0)
    ap.add_argument("--parts", nargs="+", default=["ovica", "mbdl", "sae"],
                    choices=["ovica", "mbdl", "sae"])
    ap.add_argument("--alpha-factors", nargs="+", type=float, default=[0.5, 1.0, 2.0],
                    help="MiniBatchDictionaryLearning's sparsity weights, as multiples of the "
                    "one set from the truth")
    ap.add_argument("--sae-settings", nargs="+", default=None,
                    help="the autoencoder's settings instead of the twelve: topk:F:LR (k = F "
                    "times the true mean L0) or l1:LAMBDA:LR")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--precision", choices=["default", "double"], default="default",
                    help="libovica: the trainer's default (single-precision codes for the "
                         "float32 blocks) or double")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="libovica: stop after this many steps (0: the trainer's plan)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.dir = os.path.abspath(a.dir)
    if a.child:
        return child(a)
    meta = os.path.join(a.dir, "meta.json")
    want = {k: getattr(a, k) for k in ("m", "n", "rows", "activity", "noise", "seed")}
    if a.regenerate or not os.path.exists(meta) or json.load(open(meta)) != want:
        t0 = time.time()
        generate(a)
        json.dump(want, open(meta, "w"))
        print("data: %s (%d x %d float32, %.0f MB) written in %.0f s" % (
            os.path.join(a.dir, "X.npy"), a.rows, a.m, a.rows * a.m * 4 / 2**20,
            time.time() - t0))
    print("m %d, n %d, rows %d, activity %g, noise %g; threads %d (OPENBLAS_NUM_THREADS, the "
          "library's solver threads, torch threads)" % (a.m, a.n, a.rows, a.activity, a.noise,
                                                         a.threads))
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads), PYTHONWARNINGS="ignore")
    results = []
    for part in a.parts:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", part] + [
            x for k in ("m", "n", "rows", "activity", "noise", "seed", "dir", "threads",
                        "minutes", "eval_every", "precision", "max_steps")
            for x in ("--" + k.replace("_", "-"), str(getattr(a, k)))]
        cmd += ["--alpha-factors"] + [str(f) for f in a.alpha_factors]
        if a.sae_settings:
            cmd += ["--sae-settings"] + list(a.sae_settings)
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True, text=True)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        results.append(res)
        t99 = "%.1f s" % res["time_to_099"] if res["time_to_099"] is not None else "not reached"
        print("%-6s best MMCS %.4f (%d/%d atoms at cos >= 0.99) after %.1f s of training; "
              "MMCS 0.99: %s; %.0f rows/s; peak RSS %.0f MB; %s" % (
                  part, res["best_mmcs"], res["atoms_99"], a.n, res["time_to_best"], t99,
                  res["rows_per_second"], res["peak_rss_mb"], json.dumps(res["settings"])))
        sys.stdout.flush()
    json.dump(results, open(os.path.join(a.dir, "results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
