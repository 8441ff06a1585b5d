"""The latents benchmark (docs/LATENTS.md): the library's overcomplete basis
against sparse autoencoders on a character model's activations, and on the
toy model of superposition where the true features are known.

    /usr/bin/python3 examples/latents/compare.py --data build/latents --out build/latents/results
        [--ratios 4 8] [--ica-rows 0 (all)] [--ica-max-steps N] [--train-rows 100000] [--tiny]

Reads acts.npy, pos.npy, text.txt (examples/latents/charlm.py). Writes into --out:
    results.json  every measured figure (frontiers, dead features, times, proxy, toy benchmark)
    results.md    the tables of docs/LATENTS.md
    frontier.svg  fraction of variance unexplained against mean L0, one line per method
    browse.npz    codes of a contiguous held-out block for the feature browser (browser.py)

The library is used with its defaults: OvercompleteICA(n_components=k) and
nothing else (--ica-max-steps, off by default, shortens the schedule when the
defaults do not fit the time there is; the results say when it was used).
The autoencoders get what the field gives them: untied ReLU encoder with an
L1 penalty and unit-norm decoder (Bricken et al. 2023), and TopK with the
AuxK loss (Gao et al. 2024), several sparsity levels, several learning
rates, the best kept. Example and benchmark code only.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))
import ovica  # noqa: E402

COS_RECOVERED = 0.99


def log(*a):
    print("compare:", *a, flush=True)


# --- data ---------------------------------------------------------------------------
def load(data_dir, train_rows, test_rows, browse_rows, seed):
    """Train rows: a random subsample of the first 80% of the rows; test rows
    (frontier) a random subsample of the last 20%; browse rows: a contiguous
    block of the last 20% (consecutive characters, for the snippets).
    Centred by the train mean and scaled so that the mean squared norm of a
    train row is the dimension (the same transform for every method)."""
    acts = np.load(os.path.join(data_dir, "acts.npy"), mmap_mode="r")
    pos = np.load(os.path.join(data_dir, "pos.npy"))
    with open(os.path.join(data_dir, "text.txt"), encoding="ascii") as fh:
        text = fh.read()
    R, d = acts.shape
    cut = int(R * 0.8)
    rng = np.random.default_rng(seed)
    tr = np.sort(rng.choice(cut, size=min(train_rows, cut), replace=False))
    te = np.sort(rng.choice(np.arange(cut, R), size=min(test_rows, R - cut), replace=False))
    b0 = cut + (R - cut - min(browse_rows, R - cut)) // 2
    br = np.arange(b0, b0 + min(browse_rows, R - cut))
    Xtr = np.asarray(acts[tr], dtype=np.float64)
    mu = Xtr.mean(0)
    scale = math.sqrt(((Xtr - mu) ** 2).sum(1).mean() / d)
    f = lambda idx: (np.asarray(acts[idx], dtype=np.float64) - mu) / scale  # noqa: E731
    return dict(Xtr=(Xtr - mu) / scale, Xte=f(te), Xbr=f(br), pos_br=pos[br], text=text,
                rows=R, d=d, scale=scale, n_train=len(tr), n_test=len(te))


def fvu(X, Xh):
    return float(((X - Xh) ** 2).sum() / ((X - X.mean(0)) ** 2).sum())


# --- the library ---------------------------------------------------------------------
def fit_ica(X, k, seed, max_steps):
    kw = dict(n_components=k, random_state=seed)
    if max_steps:
        kw["max_steps"] = max_steps
    est = ovica.OvercompleteICA(**kw)
    t = time.time()
    est.fit(X)
    return est, time.time() - t


def ica_codes(est, X, sigma):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ovica.sparse_encode(X, est.components_, prior=est.prior, noise_sigma=sigma,
                                   prior_scale=est.prior_scale, solver=est.solver)


def nonneg_prior(est):
    """Whether the fitted estimator's codes are non-negative (exponential prior)."""
    pr = est.prior
    return (pr if isinstance(pr, str) else getattr(pr, "kind", "")) == "exponential"


def refit_on_support(X, D, S, nonneg, offset=None, chunk=256):
    """Least-squares refit of each row's code on its support (the non-zeros
    of S): min |x - c D|^2 over c with c_j = 0 off the support, which undoes
    the shrinkage of a LASSO-type code (debiasing). D is (atoms, features),
    one atom per row; offset (features,) is subtracted from X first (an
    autoencoder's decoder bias). With nonneg (the exponential prior, ReLU
    codes) coefficients that come out negative are dropped from the support
    the codes kept >= 0: the rows whose unconstrained refit has a negative
    coefficient get the exact NNLS on their support (scipy.optimize.nnls;
    without scipy, the negative coefficients are dropped and the rest
    refitted until none is negative). The support only shrinks. Batched:
    the rows' Gram matrices, padded to the largest support with identity,
    solved together.
    Returns the refitted codes, shaped like S."""
    try:
        from scipy.optimize import nnls
    except ImportError:
        nnls = None
    X = np.asarray(X, dtype=np.float64)
    if offset is not None:
        X = X - offset
    D = np.asarray(D, dtype=np.float64)
    G = D @ D.T
    out = np.zeros_like(S, dtype=np.float64)
    for r0 in range(0, len(X), chunk):
        Sc, Xc = S[r0:r0 + chunk], X[r0:r0 + chunk]
        act = Sc != 0
        kmax = int(act.sum(1).max()) if len(Sc) else 0
        if kmax == 0:
            continue
        # support indices per row, padded (pad entries masked out)
        order = np.argsort(~act, axis=1, kind="stable")[:, :kmax]
        mask = np.take_along_axis(act, order, axis=1)
        b_all = Xc @ D.T  # (rows, atoms)
        b = np.take_along_axis(b_all, order, axis=1)
        Gs = G[order[:, :, None], order[:, None, :]]  # (rows, kmax, kmax)
        for _ in range(kmax + 1):
            m2 = mask[:, :, None] & mask[:, None, :]
            eye = np.broadcast_to(np.eye(kmax, dtype=bool), m2.shape)
            A = np.where(m2, Gs, 0.0) + np.where(eye & ~m2, 1.0, 0.0) + 1e-10 * np.eye(kmax)
            rhs = np.where(mask, b, 0.0)
            try:
                c = np.linalg.solve(A, rhs[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                c = np.stack([np.linalg.lstsq(a, v, rcond=None)[0] for a, v in zip(A, rhs)])
            c = np.where(mask, c, 0.0)
            if not nonneg:
                break
            neg = mask & (c < 0)
            if not neg.any():
                break
            if nnls is not None:  # the exact NNLS on the support, row by row
                for i in np.flatnonzero(neg.any(1)):
                    j = np.flatnonzero(mask[i])
                    c[i] = 0.0
                    c[i, j] = nnls(D[order[i, j]].T, Xc[i])[0]
                break
            mask = mask & ~neg
        oc = np.zeros((len(Sc), S.shape[1]))
        np.put_along_axis(oc, order, c, axis=1)
        out[r0:r0 + chunk] = oc
    return out


def ica_frontier(est, X, sigmas):
    """Per coding noise level: the MAP codes (L0, FVU), and the same codes
    refitted by least squares on their support (refit_l0, refit_fvu)."""
    pts = []
    for s in sigmas:
        t = time.time()
        S = ica_codes(est, X, s)
        secs = time.time() - t
        t = time.time()
        Sr = refit_on_support(X, est.components_, S, nonneg_prior(est))
        pts.append(dict(noise_sigma=s, l0=float((S != 0).sum(1).mean()),
                        fvu=fvu(X, S @ est.components_), seconds=secs,
                        refit_l0=float((Sr != 0).sum(1).mean()), refit_fvu=fvu(X, Sr @ est.components_),
                        refit_seconds=time.time() - t))
    return pts


# --- sparse autoencoders ------------------------------------------------------------------
class SAE(torch.nn.Module):
    """Untied encoder W_e, b_e; decoder W_d with unit-norm columns, b_d.
    kind "l1": f = ReLU(W_e (x - b_d) + b_e), loss |x - x_hat|^2 + lam |f|_1.
    kind "topk": f = TopK(ReLU(...)), loss |x - x_hat|^2 + AuxK/32."""

    def __init__(self, d, n, kind, k=None):
        super().__init__()
        Wd = torch.randn(d, n)
        Wd /= Wd.norm(dim=0, keepdim=True)
        self.Wd = torch.nn.Parameter(Wd)
        self.We = torch.nn.Parameter(Wd.T.clone())
        self.be = torch.nn.Parameter(torch.zeros(n))
        self.bd = torch.nn.Parameter(torch.zeros(d))
        self.kind, self.k = kind, k

    def pre(self, x):
        return (x - self.bd) @ self.We.T + self.be

    def encode(self, x):
        f = torch.relu(self.pre(x))
        if self.kind == "topk":
            v, i = f.topk(self.k, dim=1)
            f = torch.zeros_like(f).scatter_(1, i, v)
        return f

    def decode(self, f):
        return f @ self.Wd.T + self.bd

    @torch.no_grad()
    def renorm(self):
        self.Wd /= self.Wd.norm(dim=0, keepdim=True).clamp_min(1e-8)


def train_sae(Xtr, Xval, n, kind, level, lr, epochs, batch, seed):
    torch.manual_seed(seed)
    d = Xtr.shape[1]
    m = SAE(d, n, kind, k=int(level) if kind == "topk" else None)
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    X = torch.tensor(Xtr, dtype=torch.float32)
    N = X.shape[0]
    steps = max(1, epochs * N // batch)
    since = torch.zeros(n)  # batches since each latent last fired (AuxK)
    g = torch.Generator().manual_seed(seed)
    t = time.time()
    for step in range(steps):
        for pg in opt.param_groups:  # constant, linear decay over the last 20%
            pg["lr"] = lr * min(1.0, (steps - step) / (0.2 * steps))
        idx = torch.randint(0, N, (batch,), generator=g)
        x = X[idx]
        f = m.encode(x)
        xh = m.decode(f)
        err = x - xh
        loss = (err ** 2).sum(1).mean()
        if kind == "l1":
            loss = loss + level * f.abs().sum(1).mean()
        else:
            fired = (f > 0).any(0)
            since = torch.where(fired, torch.zeros_like(since), since + 1)
            dead = since > max(10, 2 * N // batch // 10)
            if dead.any():
                kaux = min(2 * m.k, int(dead.sum()))
                pre = torch.relu(m.pre(x)).masked_fill(~dead, 0.0)
                v, i = pre.topk(kaux, dim=1)
                ea = torch.zeros_like(pre).scatter_(1, i, v) @ m.Wd.T
                loss = loss + ((err.detach() - ea) ** 2).sum(1).mean() / (err.detach() ** 2).sum(1).mean().clamp_min(1e-8) / 32
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():  # remove the gradient along the unit-norm columns
            Wd = m.Wd
            Wd.grad -= Wd * (Wd * Wd.grad).sum(0, keepdim=True)
        opt.step()
        m.renorm()
    secs = time.time() - t
    with torch.no_grad():
        Xv = torch.tensor(Xval, dtype=torch.float32)
        f = m.encode(Xv)
        obj = float(((Xv - m.decode(f)) ** 2).sum(1).mean() + (level * f.abs().sum(1).mean() if kind == "l1" else 0.0))
    return m, secs, obj


def decoder_map_frontier(m, X, sigmas):
    """An autoencoder's decoder used as a fixed dictionary and coded by the
    library (ovica.sparse_encode, exponential prior, prior scale 1: the MAP
    codes, non-negative like its ReLU codes) at each noise_sigma, plus the
    least-squares refit on the MAP support: separates the dictionary the
    autoencoder learned from its one-layer encoder."""
    import warnings
    A = m.Wd.detach().numpy().T.astype(np.float64)  # (atoms, features)
    bd = m.bd.detach().numpy().astype(np.float64)
    pts = []
    for s in sigmas:
        t = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            S = ovica.sparse_encode(X - bd, A, prior="exponential", noise_sigma=s, prior_scale=1.0)
        Sr = refit_on_support(X, A, S, True, offset=bd)
        pts.append(dict(noise_sigma=s, l0=float((S != 0).sum(1).mean()), fvu=fvu(X, S @ A + bd),
                        refit_l0=float((Sr != 0).sum(1).mean()), refit_fvu=fvu(X, Sr @ A + bd),
                        seconds=time.time() - t))
    return pts


def sae_codes(m, X):
    with torch.no_grad():
        f = m.encode(torch.tensor(X, dtype=torch.float32))
        return f.numpy().astype(np.float64), m.decode(f).numpy().astype(np.float64)


def sae_sweep(D, n, kind, levels, lrs, epochs, batch, seed, lr_for=None):
    """Every (level, lr); per level the lr with the lowest objective on a
    validation slice of the train rows is kept and measured on the test rows.
    lr_for: {level: lr} to use one learning rate per level instead (the
    best one found at the first ratio)."""
    Xtr, Xval = D["Xtr"][: int(len(D["Xtr"]) * 0.9)], D["Xtr"][int(len(D["Xtr"]) * 0.9):]
    kept, tried, total = [], [], 0.0
    for lv in levels:
        best = None
        for lr in (lrs if not lr_for or lv not in lr_for else [lr_for[lv]]):
            m, secs, obj = train_sae(Xtr, Xval, n, kind, lv, lr, epochs, batch, seed)
            total += secs
            tried.append(dict(level=lv, lr=lr, val_objective=obj, seconds=secs))
            if best is None or obj < best[2]:
                best = (m, lr, obj, secs)
        m, lr, obj, secs = best
        f, xh = sae_codes(m, D["Xte"])
        # the same least-squares refit on the support as for the library (a
        # peer gets the same debiasing: ReLU codes, so kept >= 0)
        fr = refit_on_support(D["Xte"], m.Wd.detach().numpy().T, f, True,
                              offset=m.bd.detach().numpy().astype(np.float64))
        kept.append(dict(level=lv, lr=lr, l0=float((f > 0).sum(1).mean()), fvu=fvu(D["Xte"], xh),
                         refit_l0=float((fr != 0).sum(1).mean()),
                         refit_fvu=fvu(D["Xte"], fr @ m.Wd.detach().numpy().T.astype(np.float64)
                                   + m.bd.detach().numpy().astype(np.float64)),
                         dead=int(((sae_codes(m, D["Xbr"])[0] > 0).sum(0) == 0).sum() if len(D["Xbr"]) else 0),
                         seconds=secs, model=m))
        log("%s n=%d level %g: lr %g kept; L0 %.1f FVU %.4f; refit on support: L0 %.1f FVU %.4f (%.0f s)" % (
            kind, n, lv, lr, kept[-1]["l0"], kept[-1]["fvu"], kept[-1]["refit_l0"], kept[-1]["refit_fvu"], secs))
    return kept, tried, total


# --- the interpretability proxy ---------------------------------------------------------
def proxy(codes, pos, text, top=50):
    """Per feature (a column of codes, positive = active): among its `top`
    largest activations, the fraction on the most common current character,
    next character, and current bigram (previous + current). Features with
    fewer than `top` activations > 0 get NaN (too rare to judge)."""
    T = len(text)
    cur = np.array([text[p] for p in pos])
    nxt = np.array([text[p + 1] if p + 1 < T else "" for p in pos])
    big = np.array([(text[p - 1] if p > 0 else "") + text[p] for p in pos])
    out = np.full((codes.shape[1], 3), np.nan)
    order = np.argsort(-codes, axis=0)[:top]
    nact = (codes > 0).sum(0)
    for j in range(codes.shape[1]):
        if nact[j] < top:
            continue
        rows = order[:, j]
        for c, arr in enumerate((cur, nxt, big)):
            _, cnt = np.unique(arr[rows], return_counts=True)
            out[j, c] = cnt.max() / top
    return out


def oriented(S):
    """Laplace codes are signed: a feature is read in the direction of its
    larger activations (the sign hint), so that positive = active."""
    flip = (np.clip(-S, 0, None).sum(0) > np.clip(S, 0, None).sum(0))
    return np.where(flip, -S, S), flip


def summarize(p):
    v = np.nanmax(p[:, :2], axis=1)
    ok = v[~np.isnan(v)]
    q = np.quantile(ok, [0.1, 0.25, 0.5, 0.75, 0.9]).tolist() if len(ok) else [float("nan")] * 5
    return dict(judged=int(len(ok)), features=int(len(v)), quantiles=q,
                frac_ge_0_9=float((ok >= 0.9).mean()) if len(ok) else float("nan"),
                bigram_median=float(np.nanmedian(p[:, 2])) if len(ok) else float("nan"),
                hist=np.histogram(ok, bins=10, range=(0, 1))[0].tolist())


# --- the toy model of superposition ----------------------------------------------------------
def toy(F, D, sparsity, steps, n_act, seed, sae_epochs, lrs, ica_max_steps):
    torch.manual_seed(seed)

    def feats(n):
        x = torch.rand(n, F)
        return x * (torch.rand(n, F) >= sparsity)

    W = torch.nn.Parameter(torch.randn(D, F) * (1.0 / D) ** 0.5)
    b = torch.nn.Parameter(torch.zeros(F))
    opt = torch.optim.Adam([W, b], lr=1e-2)
    sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        x = feats(1024)
        loss = ((x - torch.relu((x @ W.T) @ W + b)) ** 2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sch.step()
    Wn = W.detach().numpy().astype(np.float64)
    norms = np.linalg.norm(Wn, axis=0)
    kept = np.flatnonzero(norms > 0.5)
    with torch.no_grad():
        H = (feats(n_act) @ W.T).numpy().astype(np.float64)
    sc = math.sqrt((H ** 2).sum(1).mean() / D)  # the char model's scaling: mean |h|^2 = D
    H = H / sc
    thr = math.degrees(math.acos(COS_RECOVERED))
    res = dict(features=F, hidden=D, sparsity=sparsity, represented=int(len(kept)),
               rows=n_act, cos=COS_RECOVERED, methods=[])

    def score(name, A, secs, note=""):
        _, ang = ovica.match_atoms(A, Wn[:, kept], use_sign=True)
        rec = int((ang <= thr).sum())
        res["methods"].append(dict(method=name, atoms=int(A.shape[1]), recovered=rec,
                                   frac=rec / max(1, len(kept)), median_angle=float(np.median(ang)),
                                   seconds=secs, note=note))
        log("toy %s: %d/%d represented features at cos >= %.2f (median angle %.2f deg, %.1f s)"
            % (name, rec, len(kept), COS_RECOVERED, float(np.median(ang)), secs))

    # The library: defaults, n_components = F, and the sign hint (the
    # features are non-negative: the exponential prior).
    kw = dict(n_components=F, prior="exponential", random_state=seed)
    if ica_max_steps:
        kw["max_steps"] = ica_max_steps
    t = time.time()
    est = ovica.OvercompleteICA(**kw).fit(H)
    score("ovica (defaults, exponential prior)", est.components_.T, time.time() - t)
    # Autoencoders on the same rows (scaled as for the char model), best lr by
    # recovery, several sparsity levels, each reported.
    Dd = dict(Xtr=H)
    for kind, levels in (("l1", [0.03, 0.1, 0.3, 1.0]), ("topk", [1, 2, 3])):
        for lv in levels:
            best = None
            t = time.time()
            for lr in lrs:
                Xtr = Dd["Xtr"]
                m, _, _ = train_sae(Xtr[: int(len(Xtr) * 0.9)], Xtr[int(len(Xtr) * 0.9):], F, kind, lv,
                                    lr, sae_epochs, 256, seed)
                A = m.Wd.detach().numpy().astype(np.float64)
                _, ang = ovica.match_atoms(A, Wn[:, kept], use_sign=True)
                r = int((ang <= thr).sum())
                if best is None or r > best[0]:
                    best = (r, A, lr)
            score("%s SAE %s=%g (best of lr %s: %g)" % ("L1" if kind == "l1" else "TopK",
                                                        "lambda" if kind == "l1" else "k", lv,
                                                        "/".join("%g" % v for v in lrs), best[2]),
                  best[1], time.time() - t)
    return res


# --- plot ----------------------------------------------------------------------------------
COLORS = {"ovica": "#1f5fbf", "l1": "#d9541e", "topk": "#2a9d3a", "refit": "#8e3fc0"}
LIGHT = {"ovica": ("#8fb3ee", "#bcd2f5"), "l1": ("#f0a77f", "#f6cbb3"), "topk": ("#74c282", "#b2e0ba")}


def frontier_svg(series, path, title):
    """series: list of (label, color, dash, [(l0, fvu), ...]); log-log axes."""
    W, H, L, R, T, B = 640, 420, 64, 190, 36, 48
    pts = [p for s in series for p in s[3] if p[0] > 0 and p[1] > 0]
    if not pts:
        return
    x0, x1 = math.log10(min(p[0] for p in pts)) - 0.05, math.log10(max(p[0] for p in pts)) + 0.05
    y0, y1 = math.log10(min(p[1] for p in pts)) - 0.05, math.log10(max(p[1] for p in pts)) + 0.05
    X = lambda v: L + (math.log10(v) - x0) / (x1 - x0) * (W - L - R)  # noqa: E731
    Y = lambda v: T + (y1 - math.log10(v)) / (y1 - y0) * (H - T - B)  # noqa: E731
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
         'font-family="sans-serif" font-size="12">' % (W, H, W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="20" font-size="14">%s</text>' % (L, title),
         '<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>' % (L, T, W - L - R, H - T - B)]
    for e in range(int(math.floor(x0)), int(math.ceil(x1)) + 1):
        for mlt in (1, 2, 5):
            v = mlt * 10 ** e
            if x0 <= math.log10(v) <= x1:
                o.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/>' % (X(v), X(v), T, H - B))
                o.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (X(v), H - B + 16, v))
    for e in range(int(math.floor(y0)), int(math.ceil(y1)) + 1):
        for mlt in (1, 2, 5):
            v = mlt * 10 ** e
            if y0 <= math.log10(v) <= y1:
                o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>' % (L, W - R, Y(v), Y(v)))
                o.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (L - 4, Y(v) + 4, v))
    o.append('<text x="%d" y="%d" text-anchor="middle">mean L0 (active features per row, held-out)</text>'
             % ((L + W - R) / 2, H - 10))
    o.append('<text transform="translate(14,%d) rotate(-90)" text-anchor="middle">fraction of variance '
             'unexplained</text>' % ((T + H - B) / 2))
    for i, (label, color, dash, p) in enumerate(series):
        p = sorted(q for q in p if q[0] > 0 and q[1] > 0)
        if p:
            o.append('<polyline fill="none" stroke="%s" stroke-width="2" %s points="%s"/>' % (
                color, 'stroke-dasharray="6,4"' if dash else "", " ".join("%.1f,%.1f" % (X(a), Y(b)) for a, b in p)))
            for a, b in p:
                o.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (X(a), Y(b), color))
        ly = T + 10 + 18 * i
        o.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2" %s/>' % (
            W - R + 10, W - R + 34, ly, ly, color, 'stroke-dasharray="6,4"' if dash else ""))
        o.append('<text x="%d" y="%d">%s</text>' % (W - R + 40, ly + 4, label))
    o.append("</svg>")
    with open(path, "w") as fh:
        fh.write("\n".join(o) + "\n")


# --- main ---------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ratios", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--train-rows", type=int, default=100000, help="rows the autoencoders train on")
    ap.add_argument("--ica-rows", type=int, default=0,
                    help="the first rows of the train rows that the library is fitted on (0: all; "
                         "the sparse route draws its own rows per step, clamp(8n, 1024, 8192))")
    ap.add_argument("--ica-max-steps", type=int, default=0,
                    help="0: the library's default schedule; else max_steps (a deviation, reported)")
    ap.add_argument("--test-rows", type=int, default=2000)
    ap.add_argument("--browse-rows", type=int, default=10000)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.05, 0.2, 0.5, 1.0, 1.5, 2.5],
                    help="noise_sigma values the held-out rows are coded at (the library's frontier)")
    ap.add_argument("--l1", type=float, nargs="+", default=[0.1, 0.3, 1.0, 3.0])
    ap.add_argument("--topk", type=int, nargs="+", default=[8, 16, 32, 64])
    ap.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    ap.add_argument("--sae-epochs", type=int, default=5)
    ap.add_argument("--toy-features", type=int, default=20)
    ap.add_argument("--toy-hidden", type=int, default=8)
    ap.add_argument("--toy-sparsity", type=float, default=0.95)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-toy", action="store_true")
    ap.add_argument("--parts", nargs="+", default=["sae", "ica", "toy"], choices=["sae", "ica", "toy"],
                    help="what to run (the parts can run as separate processes into separate --out "
                         "directories, then be joined with --merge)")
    ap.add_argument("--sae-map", action="store_true",
                    help="also code the held-out rows with each kept autoencoder's decoder by the "
                         "library's MAP solver at the --sigmas (and refit): the decoder without its encoder")
    ap.add_argument("--kinds", nargs="+", default=["l1", "topk"], choices=["l1", "topk"],
                    help="which autoencoders (part sae)")
    ap.add_argument("--lr-first-ratio-only", action="store_true",
                    help="try the learning rates at the first ratio only; the other ratios reuse "
                         "each level's best")
    ap.add_argument("--merge", nargs="+", default=None, metavar="DIR",
                    help="join the results of runs of parts into --out (nothing is computed)")
    ap.add_argument("--tiny", action="store_true", help="test size: seconds, not a measurement")
    a = ap.parse_args()
    if a.tiny:
        a.ratios, a.train_rows, a.ica_rows, a.test_rows, a.browse_rows = [2], 4000, a.ica_rows or 600, 600, 1500
        a.ica_max_steps = a.ica_max_steps or 10
        a.sigmas, a.l1, a.topk, a.lrs, a.sae_epochs = [0.1, 0.5], [0.1], [4], [1e-3], 2
        a.toy_features, a.toy_hidden = 8, 4
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    if a.merge:
        return merge(a.merge, a.out)
    t0 = time.time()
    D = load(a.data, a.train_rows, a.test_rows, a.browse_rows, a.seed)
    d = D["d"]
    a.ica_rows = min(a.ica_rows or D["n_train"], D["n_train"])
    log("%d rows x %d; %d train rows (autoencoders), the first %d for the library; %d test rows; "
        "%d contiguous browse rows" % (D["rows"], d, D["n_train"], min(a.ica_rows, D["n_train"]),
                                      D["n_test"], len(D["Xbr"])))
    R = dict(data=dict(rows=D["rows"], d=d, train_rows=D["n_train"], ica_rows=min(a.ica_rows, D["n_train"]),
                       test_rows=D["n_test"], browse_rows=len(D["Xbr"]), scale=D["scale"]),
             settings=dict(ica_max_steps=a.ica_max_steps or None, sigmas=a.sigmas, l1=a.l1, topk=a.topk,
                           lrs=a.lrs, sae_epochs=a.sae_epochs, threads=a.threads, tiny=a.tiny),
             methods=[])
    lm = os.path.join(a.data, "lm.json")
    if os.path.exists(lm):
        with open(lm) as fh:
            R["lm"] = json.load(fh)
    browse = dict(pos=D["pos_br"])
    Xica = D["Xtr"][: a.ica_rows]
    with open(os.path.join(a.out, "text.txt"), "w", encoding="ascii") as fh:
        fh.write(D["text"])

    def save():
        """Everything measured so far (the run can be read while it goes on)."""
        R["seconds"] = time.time() - t0
        np.savez_compressed(os.path.join(a.out, "browse.npz"), **browse)
        frontier_svg(frontier_series(R), os.path.join(a.out, "frontier.svg"),
                     "Held-out FVU vs L0: %s" % ("tiny test run" if a.tiny else "char model, residual stream"))
        with open(os.path.join(a.out, "results.json"), "w") as fh:
            json.dump(R, fh, indent=1)
        with open(os.path.join(a.out, "results.md"), "w") as fh:
            fh.write(tables(R))

    def ica_part():
        for r in a.ratios:
            n = r * d
            log("ovica %dx (%d atoms) on %d rows: fitting with the defaults%s" % (
                r, n, len(Xica), "" if not a.ica_max_steps else ", max_steps=%d" % a.ica_max_steps))
            est, secs = fit_ica(Xica, n, a.seed, a.ica_max_steps)
            conv = bool(est.trainer_.converged)
            sig = float(est.model_.sigma)
            log("ovica %dx: fitted in %.0f s (%d steps, %s; regime %s; noise sigma estimated %.4g)" % (
                r, secs, est.n_steps_, "stopped: the trainer reports the basis settled" if conv
                else "not reported settled", est.regime_, sig))
            pts = ica_frontier(est, D["Xte"], a.sigmas)
            for p in pts:
                log("ovica %dx sigma %g: MAP L0 %.1f FVU %.4f (%.0f s); refit on support: L0 %.1f FVU %.4f"
                    % (r, p["noise_sigma"], p["l0"], p["fvu"], p["seconds"], p["refit_l0"], p["refit_fvu"]))
            # the operating point for the proxy and the browser: the coding
            # noise level whose L0 is closest to 32 (as for the autoencoders)
            op = min(pts, key=lambda e: abs(math.log(max(e["l0"], 0.1) / 32)))
            S = ica_codes(est, D["Xbr"], op["noise_sigma"])
            So, flip = oriented(S)
            pr = proxy(So, D["pos_br"], D["text"])
            key = "ovica_%dx" % r
            browse[key] = So.astype(np.float32)
            browse[key + "_proxy"] = pr
            R["methods"].append(dict(key=key, method="ovica", ratio=r, atoms=n, fit_seconds=secs,
                                     steps=est.n_steps_, converged=conv, regime=est.regime_,
                                     fitted_noise_sigma=sig, fit_rows=len(Xica), frontier=pts,
                                     operating_point=dict(noise_sigma=op["noise_sigma"],
                                                          l0=float((S != 0).sum(1).mean()),
                                                          fvu=fvu(D["Xbr"], S @ est.components_)),
                                     dead=int(((S != 0).sum(0) == 0).sum()), proxy=summarize(pr)))
            save()

    def sae_part():
        for kind, levels in (("l1", a.l1), ("topk", a.topk)):
            if kind not in a.kinds:
                continue
            lr_for = None
            for r in a.ratios:
                n = r * d
                kept, tried, total = sae_sweep(D, n, kind, levels, a.lrs, a.sae_epochs, 1024, a.seed,
                                               lr_for if a.lr_first_ratio_only else None)
                lr_for = {e["level"]: e["lr"] for e in kept}
                if a.sae_map:  # each kept decoder coded by the library's MAP solver
                    for e in kept:
                        e["map_frontier"] = decoder_map_frontier(e["model"], D["Xte"], a.sigmas)
                        for p in e["map_frontier"]:
                            log("%s %dx level %g, decoder coded by MAP at sigma %g: L0 %.1f FVU %.4f; "
                                "refit: L0 %.1f FVU %.4f" % (kind, r, e["level"], p["noise_sigma"], p["l0"],
                                                            p["fvu"], p["refit_l0"], p["refit_fvu"]))
                # the operating point for the proxy and the browser: the kept model
                # whose L0 is closest to 32 (the middle of the range)
                mid = min(kept, key=lambda e: abs(math.log(max(e["l0"], 0.1) / 32)))
                f, xh = sae_codes(mid["model"], D["Xbr"])
                pr = proxy(f, D["pos_br"], D["text"])
                key = "%s_%dx" % (kind, r)
                browse[key] = f.astype(np.float32)
                browse[key + "_proxy"] = pr
                for e in kept:
                    e.pop("model")
                R["methods"].append(dict(key=key, method=kind, ratio=r, atoms=n, fit_seconds=total,
                                         runs=len(tried), tried=tried, frontier=kept,
                                         operating_point=dict(level=mid["level"], l0=float((f > 0).sum(1).mean()),
                                                              fvu=fvu(D["Xbr"], xh)),
                                         dead=mid["dead"], proxy=summarize(pr)))
                save()

    if "sae" in a.parts:
        sae_part()
    if "ica" in a.parts:
        ica_part()
    if "toy" in a.parts and not a.skip_toy:
        R["toy"] = toy(a.toy_features, a.toy_hidden, a.toy_sparsity, 1500 if a.tiny else 10000,
                       3000 if a.tiny else 10000, a.seed, 2 if a.tiny else 60, a.lrs,
                       a.ica_max_steps if a.tiny else 0)  # the toy: always the full defaults
    save()
    log("done in %.0f s: %s" % (R["seconds"], a.out))
    return 0


def name_of(m):
    n = "%s %dx" % (m["method"], m["ratio"])
    if m["method"] == "ovica" and m.get("settings", {}).get("ica_max_steps"):
        n += " (%d steps)" % m["steps"]
    if m["method"] != "ovica" and m.get("settings", {}).get("sae_epochs"):
        n += " (%d epochs)" % m["settings"]["sae_epochs"]
    return n


def frontier_series(R):
    out, seen = [], set()
    for m in ordered(R["methods"]):
        first = min(x["ratio"] for x in R["methods"] if x["method"] == m["method"])
        label = {"ovica": "ovica", "l1": "L1 SAE", "topk": "TopK SAE"}[m["method"]]
        label = "%s %dx" % (label, m["ratio"])
        if m["method"] == "ovica" and m.get("settings", {}).get("ica_max_steps"):
            label += ", %d steps" % m["steps"]
        if m["method"] != "ovica" and m.get("settings", {}).get("sae_epochs"):
            label += ", %d ep" % m["settings"]["sae_epochs"]
        again = sum(1 for x in seen if x[:2] == (m["method"], m["ratio"]))
        color = COLORS[m["method"]] if not again else LIGHT[m["method"]][min(again, 2) - 1]
        seen.add((m["method"], m["ratio"], m["key"]))
        out.append((label, color, m["ratio"] != first,
                    [(p["l0"], p["fvu"]) for p in m["frontier"]]))
        if m["method"] == "ovica" and all("refit_fvu" in p for p in m["frontier"]):
            out.append((label + " + LS refit", COLORS["refit"] if m["ratio"] == first else "#c9a3e6",
                        m["ratio"] != first, [(p["refit_l0"], p["refit_fvu"]) for p in m["frontier"]]))
    return out


def merge(dirs, out):
    """The results of several runs (of different parts, on the same data and
    settings) as one: methods and browse codes joined, the toy taken from
    the run that has it; the plot and the tables redone."""
    R, browse = None, {}
    for d in dirs:
        with open(os.path.join(d, "results.json")) as fh:
            r = json.load(fh)
        if R is None:
            R = r
            R["seconds_parts"] = []
        else:
            same = ("rows", "d", "train_rows", "browse_rows", "scale")
            assert all(r["data"][k] == R["data"][k] for k in same), "merge: runs on different data"
            R["methods"] += r["methods"]
            if "toy" in r:
                R["toy"] = r["toy"]
        R["seconds_parts"].append(r["seconds"])
        for m in r["methods"]:  # the runs may have used different numbers of held-out rows
            m["test_rows"] = r["data"]["test_rows"]
            m["settings"] = r["settings"]
        b = np.load(os.path.join(d, "browse.npz"))
        ren = {}
        have = set(m["key"] for m in R["methods"][: len(R["methods"]) - len(r["methods"])]) if r is not R else set()
        for m in r["methods"]:  # the same method twice (two step counts, two epoch counts): a new key
            if m["key"] in have:
                ren[m["key"]] = ("%s_s%d" % (m["key"], m.get("steps", 0)) if m["method"] == "ovica"
                                 else "%s_e%d" % (m["key"], r["settings"]["sae_epochs"]))
                m["key"] = ren[m["key"]]
        for k in b.files:
            base = k[:-6] if k.endswith("_proxy") else k
            browse[ren[base] + k[len(base):] if base in ren else k] = b[k]
        if not os.path.exists(os.path.join(out, "text.txt")):
            with open(os.path.join(d, "text.txt")) as src, open(os.path.join(out, "text.txt"), "w") as dst:
                dst.write(src.read())
    R["seconds"] = max(R["seconds_parts"])
    np.savez_compressed(os.path.join(out, "browse.npz"), **browse)
    frontier_svg(frontier_series(R), os.path.join(out, "frontier.svg"),
                 "Held-out FVU vs L0: %s" % ("tiny test run" if R["settings"]["tiny"] else
                                              "char model, residual stream"))
    with open(os.path.join(out, "results.json"), "w") as fh:
        json.dump(R, fh, indent=1)
    with open(os.path.join(out, "results.md"), "w") as fh:
        fh.write(tables(R))
    log("merged %s into %s" % (", ".join(dirs), out))
    return 0


def ordered(methods):
    """The library first, then the L1 and the TopK autoencoders; by ratio."""
    rank = {"ovica": 0, "l1": 1, "topk": 2}
    return sorted(methods, key=lambda m: (rank.get(m["method"], 9), m["ratio"]))


def interp_fvu(pts, l0):
    """FVU at mean L0 l0 on a frontier [(l0, fvu), ...], interpolated linearly
    in log L0 / log FVU between the two points around it; None outside the
    frontier's range (no extrapolation); a point within 1% of l0 is taken as is."""
    pts = sorted((a, b) for a, b in pts if a > 0 and b > 0)
    for x, y in pts:  # a point at that L0 (TopK's k): its own FVU
        if abs(x - l0) <= 0.01 * l0:
            return y
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= l0 <= x1:
            if x1 == x0:
                return min(y0, y1)
            t = (math.log(l0) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return math.exp((1 - t) * math.log(y0) + t * math.log(y1))
    return None


MATCHED_L0 = (4, 8, 16, 32)


def matched_table(R):
    """Held-out FVU at matched mean L0, every frontier (the refits included)."""
    rows = []
    for m in ordered(R["methods"]):
        rows.append((name_of(m), [(p["l0"], p["fvu"]) for p in m["frontier"]]))
        if all("refit_fvu" in p for p in m["frontier"]):
            rows.append((name_of(m) + (", MAP support + least-squares refit" if m["method"] == "ovica"
                                       else ", encoder support + least-squares refit"),
                         [(p["refit_l0"], p["refit_fvu"]) for p in m["frontier"]]))
    for m in ordered(R["methods"]):
        for e in m["frontier"]:
            if "map_frontier" in e:
                lv = "%s %g" % ("k" if m["method"] == "topk" else "lambda", e["level"])
                rows.append((name_of(m) + " " + lv + " decoder, libovica MAP codes",
                             [(p["l0"], p["fvu"]) for p in e["map_frontier"]]))
                rows.append((name_of(m) + " " + lv + " decoder, libovica MAP codes + least-squares refit",
                             [(p["refit_l0"], p["refit_fvu"]) for p in e["map_frontier"]]))
    L = ["", "Held-out FVU at matched mean L0 (log-log interpolation between a frontier's points; "
         "- outside its range):", "",
         "| frontier | " + " | ".join("L0 %d" % v for v in MATCHED_L0) + " |",
         "|---|" + "---|" * len(MATCHED_L0)]
    for name, pts in rows:
        v = [interp_fvu(pts, l0) for l0 in MATCHED_L0]
        L.append("| %s | %s |" % (name, " | ".join("-" if x is None else "%.3f" % x for x in v)))
    return L


def tables(R):
    L = ["| method | atoms | points (L0 : FVU) | dead at operating point | fit time (s) |",
         "|---|---|---|---|---|"]
    for m in ordered(R["methods"]):
        pts = ", ".join("%.1f : %.3f" % (p["l0"], p["fvu"]) for p in sorted(m["frontier"], key=lambda p: p["l0"]))
        L.append("| %s | %d | %s | %d of %d | %.0f%s |" % (
            name_of(m), m["atoms"], pts, m["dead"], m["atoms"], m["fit_seconds"],
            " (%d steps%s)" % (m["steps"], ", settled" if m.get("converged") else "")
            if m["method"] == "ovica" else " (%d runs)" % m["runs"]))
    refits = [m for m in ordered(R["methods"]) if all("refit_fvu" in p for p in m["frontier"])]
    if refits:
        L += ["", "The same held-out codes refitted by least squares on their support (the "
              "MAP or encoder support; coefficients kept >= 0 for non-negative codes):", "",
              "| method | points (L0 : FVU) |", "|---|---|"]
        for m in refits:
            pts = ", ".join("%.1f : %.3f" % (p["refit_l0"], p["refit_fvu"])
                            for p in sorted(m["frontier"], key=lambda p: p["refit_l0"]))
            L.append("| %s, %s + least-squares refit | %s |" % (
                name_of(m), "MAP support" if m["method"] == "ovica" else "encoder support", pts))
    L += matched_table(R)
    L += ["", "| method | operating point L0 | FVU | features judged | proxy quartiles (25/50/75%) | "
          "share >= 0.9 | bigram median |", "|---|---|---|---|---|---|---|"]
    for m in ordered(R["methods"]):
        p, q = m["proxy"], m["proxy"]["quantiles"]
        L.append("| %s | %.1f | %.3f | %d of %d | %.2f / %.2f / %.2f | %.2f | %.2f |" % (
            name_of(m), m["operating_point"]["l0"], m["operating_point"]["fvu"],
            p["judged"], p["features"], q[1], q[2], q[3], p["frac_ge_0_9"], p["bigram_median"]))
    if "toy" in R:
        t = R["toy"]
        L += ["", "Toy model: %d features in %d hidden units (sparsity %.2f), %d represented; "
              "recovered = matched atom at cos >= %.2f." % (t["features"], t["hidden"], t["sparsity"],
                                                              t["represented"], t["cos"]),
              "", "| method | recovered | median angle (deg) | time (s) |", "|---|---|---|---|"]
        for m in t["methods"]:
            L.append("| %s | %d of %d (%.0f%%) | %.2f | %.1f |" % (
                m["method"], m["recovered"], t["represented"], 100 * m["frac"], m["median_angle"], m["seconds"]))
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
