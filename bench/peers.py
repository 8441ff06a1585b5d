#!/usr/bin/python3
"""libovica against its peers on the same machine, in one run (`make bench-peers`).

Benchmark-only dependencies (never needed to build or test the library):
Debian's python3-numpy, python3-sklearn, python3-torch, run with /usr/bin/python3.

1. Inference: m=64, n=256, 10,000 samples of 5%-active sparse sources.
   Everything is compared in one unit, the LASSO objective summed over samples
       sum_k 1/2 ||x_k - A s_k||^2 + mu ||s_k||_1,   mu = sigma^2 / b,
   (sigma^2 times libovica's E(s), less its constant). scikit-learn's
   sparse_encode(alpha=a) solves, per sample, Lasso with alpha = a / m, whose
   objective is (1/(2m)) ||x - D^T s||^2 + (a/m) ||s||_1: m times it is the
   LASSO above with mu = a, so sparse_encode gets alpha = mu (the script also
   checks this numerically: its codes must reach the exact objective).
   "exact" is the objective of libovica's active-set solver (optimality to
   rounding); a method counts as having reached it when its objective is
   within 1e-6 (relative). lasso_cd's tolerance is not exposed by
   sparse_encode, so its code path (Lasso with the Gram matrix, one fit over
   all samples) is also run with tighter tolerances until it gets there.
2. Learning: time to MMCS 0.99 against a known m=64, n=256 basis (5% active
   exponential sources) for libovica's trainer, scikit-learn's
   MiniBatchDictionaryLearning and a ReLU sparse autoencoder in PyTorch (L1
   penalty, unit-norm decoder, Adam), each with a time limit.

Ratios are printed next to the times. Usage:
    /usr/bin/python3 bench/peers.py [--bin build/bench/bench_peers] [--quick]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def lasso_obj(X, A, S, mu):
    R = X - S @ A.T
    return 0.5 * float(np.sum(R * R)) + mu * float(np.abs(S).sum())


def make_data(rng, m, n, N, activity, prior, noise):
    A = rng.standard_normal((m, n))
    A /= np.linalg.norm(A, axis=0)
    mask = rng.random((N, n)) < activity
    if prior == "laplace":
        vals = rng.laplace(0.0, 1.0, (N, n))
    else:
        vals = rng.exponential(1.0, (N, n))
    S = mask * vals
    X = S @ A.T + noise * rng.standard_normal((N, m))
    return A, S, X


def run_c(args):
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def parse_kv(line):
    f = line.split()
    if len(f) % 2:
        f = f[1:]  # a leading tag word
    return {f[i]: f[i + 1] for i in range(0, len(f) - 1, 2)}


def bench_inference(binp, tmp, prior, sigma, b, N, quick):
    from sklearn.decomposition import sparse_encode
    from sklearn.linear_model import Lasso
    m, n = 64, 256
    rng = np.random.default_rng(7 if prior == "laplace" else 8)
    A, _, X = make_data(rng, m, n, N, 0.05, prior, 0.05)
    mu = sigma * sigma / b
    pos = prior == "exponential"
    xp, ap, sp = (os.path.join(tmp, f) for f in ("X.npy", "A.npy", "S.npy"))
    np.save(xp, X)
    np.save(ap, A)
    rows = []
    lines = run_c([binp, "encode", xp, ap, prior, repr(sigma), repr(b), sp])
    exact = None
    for ln in lines:
        kv = parse_kv(ln)
        t, obj = float(kv["seconds"]), float(kv["objective"])
        if kv["solver"] == "active":
            exact = obj
            S = np.load(sp)
            check = lasso_obj(X, A, S, mu)
            assert abs(check - obj) <= 1e-9 * abs(obj), (check, obj)
            name = "libovica active-set"
            note = "support %.1f, %s rounds" % (float(kv["support"]), kv["rounds"])
        else:
            name = "libovica FISTA " + kv["solver"].split("_")[1]
            note = "%s iterations" % kv["rounds"]
        rows.append((name, t, obj, note))
    # scikit-learn, as sparse_encode runs it (n_jobs=1)
    D = A.T.copy()
    for alg in ("lasso_cd",) + (() if quick else ("lasso_lars",)):
        t0 = time.perf_counter()
        S = sparse_encode(X, D, algorithm=alg, alpha=mu, positive=pos, max_iter=1000)
        t = time.perf_counter() - t0
        rows.append(("sklearn sparse_encode " + alg, t, lasso_obj(X, A, S, mu), "default tolerance"))
    # lasso_cd's path with tighter tolerances, until within 1e-6 of exact
    G = D @ D.T
    for tol in (1e-6, 1e-8, 1e-10):
        clf = Lasso(alpha=mu / m, fit_intercept=False, precompute=G, max_iter=100000, tol=tol,
                    positive=pos, warm_start=False)
        t0 = time.perf_counter()
        clf.fit(D.T, X.T)
        t = time.perf_counter() - t0
        S = clf.coef_.reshape(N, n)
        obj = lasso_obj(X, A, S, mu)
        rows.append(("sklearn Lasso (cd, Gram) tol %.0e" % tol, t, obj, "sparse_encode's path"))
        if (obj - exact) <= 1e-6 * abs(exact) or quick:
            break
    t_act = rows[0][1]
    print("\n### Inference: prior %s, sigma %g, b %g (mu = %g), m=%d n=%d N=%d"
          % (prior, sigma, b, mu, m, n, N))
    print("| method | seconds | objective - exact (relative) | reached 1e-6 | time / active-set | note |")
    print("|---|---|---|---|---|---|")
    for name, t, obj, note in rows:
        gap = (obj - exact) / abs(exact)
        print("| %s | %.3f | %.1e | %s | %.1f | %s |"
              % (name, t, gap, "yes" if gap <= 1e-6 else "no", t / t_act, note))
    sys.stdout.flush()
    return rows


def mmcs(Al, At):
    Al = Al / np.maximum(np.linalg.norm(Al, axis=0), 1e-300)
    At = At / np.linalg.norm(At, axis=0)
    C = At.T @ Al  # signed: exponential sources, non-negative codes
    return float(C.max(axis=1).mean())


def bench_learning(binp, tmp, limit, quick):
    import torch
    from sklearn.decomposition import MiniBatchDictionaryLearning
    m, n, N = 64, 256, 20000
    rng = np.random.default_rng(11)
    At, _, X = make_data(rng, m, n, N, 0.05, "exponential", 0.01)
    xp, ap = os.path.join(tmp, "Xl.npy"), os.path.join(tmp, "Atrue.npy")
    np.save(xp, X)
    np.save(ap, At)
    results = []
    # libovica: reconstruction rule (as MiniBatchDictionaryLearning), active-set codes
    sigma, b = 0.05, 0.05
    lines = run_c([binp, "learn", xp, ap, "exponential", repr(sigma), repr(b), str(n), "1000",
                   "reconstruction", repr(limit), "1"])
    kv = parse_kv(lines[-1])
    results.append(("libovica trainer (reconstruction rule, active-set codes)",
                    float(kv["seconds"]), float(kv["mmcs"]), kv["reached"] == "1",
                    "%s steps of 1000" % kv["steps"]))
    # scikit-learn MiniBatchDictionaryLearning
    mb = MiniBatchDictionaryLearning(n_components=n, alpha=sigma * sigma / b, batch_size=256,
                                     positive_code=True, positive_dict=False, random_state=0,
                                     fit_algorithm="cd", transform_algorithm="lasso_cd")
    t, k, best = 0.0, 0, 0.0
    while t < limit:
        t0 = time.perf_counter()
        for _ in range(10):
            idx = rng.integers(0, N, 256)
            mb.partial_fit(X[idx])
            k += 1
        t += time.perf_counter() - t0
        best = mmcs(mb.components_.T, At)
        if best >= 0.99:
            break
    results.append(("sklearn MiniBatchDictionaryLearning (batch 256)", t, best, best >= 0.99,
                    "%d partial_fit calls" % k))
    # PyTorch ReLU sparse autoencoder, L1 penalty, unit-norm decoder, Adam
    torch.manual_seed(0)
    Xt = torch.tensor(X, dtype=torch.float32)
    enc = torch.nn.Linear(m, n)
    dec = torch.nn.Parameter(torch.tensor(X[rng.integers(0, N, n)].T, dtype=torch.float32))
    with torch.no_grad():
        dec /= dec.norm(dim=0, keepdim=True)
    opt = torch.optim.Adam(list(enc.parameters()) + [dec], lr=1e-3)
    l1 = 0.05
    t, k, best = 0.0, 0, 0.0
    while t < limit:
        t0 = time.perf_counter()
        for _ in range(50):
            idx = torch.randint(0, N, (256,))
            xb = Xt[idx]
            h = torch.relu(enc(xb))
            loss = ((xb - h @ dec.T) ** 2).sum(1).mean() + l1 * h.sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                dec /= dec.norm(dim=0, keepdim=True)
            k += 1
        t += time.perf_counter() - t0
        best = mmcs(dec.detach().numpy().astype(np.float64), At)
        if best >= 0.99:
            break
    results.append(("PyTorch ReLU SAE (L1 %.2g, Adam 1e-3, batch 256, float32)" % l1, t, best,
                    best >= 0.99, "%d steps" % k))
    print("\n### Learning: time to MMCS 0.99, m=%d n=%d, N=%d, 5%% active exponential sources, "
          "time limit %g s each" % (m, n, N, limit))
    print("| method | seconds | final MMCS | reached 0.99 | time / libovica | note |")
    print("|---|---|---|---|---|---|")
    t0 = results[0][1]
    for name, t, mm, ok, note in results:
        print("| %s | %.1f | %.4f | %s | %.1f | %s |" % (name, t, mm, "yes" if ok else "no",
                                                      t / t0, note))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bench/bench_peers")
    ap.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    ap.add_argument("--learn-limit", type=float, default=120.0)
    ap.add_argument("--skip-learning", action="store_true")
    ap.add_argument("--skip-inference", action="store_true")
    a = ap.parse_args()
    import sklearn
    import torch
    print("peers: numpy %s, scikit-learn %s, torch %s (%d threads); OPENBLAS_NUM_THREADS=%s; "
          "load average %s" % (np.__version__, sklearn.__version__, torch.__version__,
                               torch.get_num_threads(), os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
                               " ".join("%.2f" % v for v in os.getloadavg())))
    N = 2000 if a.quick else 10000
    with tempfile.TemporaryDirectory() as tmp:
        if not a.skip_inference:
            bench_inference(a.bin, tmp, "laplace", 0.05, 0.05, N, a.quick)
            bench_inference(a.bin, tmp, "exponential", 0.05, 0.05, N, a.quick)
        if not a.skip_learning:
            bench_learning(a.bin, tmp, 10.0 if a.quick else a.learn_limit, a.quick)
    print("\nload average at the end: %s" % " ".join("%.2f" % v for v in os.getloadavg()))


if __name__ == "__main__":
    main()
