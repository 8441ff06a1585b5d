# %% [markdown]
# # Features in superposition, recovered by overcomplete ICA
#
# A "toy model of superposition" (Elhage et al., 2022): a ReLU autoencoder
# h = W x, x' = ReLU(W^T h + b) that has to pass F sparse non-negative
# features through d < F hidden units. Trained, it stores more features than
# it has dimensions, as nearly orthogonal directions: the columns of W.
#
# Its hidden activations h = W x are exactly the data overcomplete ICA
# models: a linear mixture, by an overcomplete basis W (d x F), of sparse
# non-negative sources. `ovica.OvercompleteICA` with the exponential prior
# learns a basis from the activations alone; this script matches the learned
# atoms to the model's own feature vectors and prints the angles.
#
#     make                                        # lib/libovica.so
#     /usr/bin/python3 examples/superposition.py [--quick] [--features F] [--hidden D]
#                                                 [--sparsity S] [--seed S]
#
# Needs numpy and PyTorch (Debian: python3-numpy, python3-torch); without
# torch it says so and exits 0.

# %%
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))  # the in-tree package
import ovica  # noqa: E402

try:
    import torch
except ImportError:
    print("superposition: skipped: PyTorch is not installed (Debian: apt-get install python3-torch)")
    sys.exit(0)

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true", help="a short run (a check that it works)")
ap.add_argument("--features", type=int, default=12)
ap.add_argument("--hidden", type=int, default=6)
ap.add_argument("--sparsity", type=float, default=0.92, help="probability that a feature is 0")
ap.add_argument("--seed", type=int, default=1)
args = ap.parse_args()
F, D, S = args.features, args.hidden, args.sparsity
TORCH_STEPS = 1500 if args.quick else 10000
N_ACT = 4000 if args.quick else 40000
ICA_STEPS = 100 if args.quick else 600
torch.manual_seed(args.seed)
torch.set_num_threads(1)
rng = np.random.default_rng(args.seed)
t0 = time.time()


def features(n):
    """n samples of F features: each 0 with probability S, else uniform on [0, 1]."""
    x = torch.rand(n, F)
    return x * (torch.rand(n, F) >= S)


# %% [markdown]
# ## The toy model
# Uniform importance of the features, Adam, batches of 1024 fresh samples.

# %%
W = torch.nn.Parameter(torch.randn(D, F) * (1.0 / D) ** 0.5)
b = torch.nn.Parameter(torch.zeros(F))
opt = torch.optim.Adam([W, b], lr=1e-2)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, TORCH_STEPS)
for step in range(TORCH_STEPS):
    x = features(1024)
    xr = torch.relu((x @ W.T) @ W + b)
    loss = ((x - xr) ** 2).sum(1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
Wn = W.detach().numpy().astype(np.float64)          # d x F, feature i in column i
norms = np.linalg.norm(Wn, axis=0)
kept = np.flatnonzero(norms > 0.5)                  # features the model represents
print("toy model: %d features in %d dimensions, sparsity %.2f; loss %.4f after %d steps"
      % (F, D, S, loss.item(), TORCH_STEPS))
print("feature norms |W_i|:", " ".join("%.2f" % v for v in norms))
print("%d of %d features represented (|W_i| > 0.5)" % (len(kept), F))
G = Wn.T @ Wn / np.outer(norms, norms)
off = np.abs(G[np.ix_(kept, kept)] - np.eye(len(kept)))
print("largest |cos| between represented features: %.3f (superposition: > 0 when F > d)"
      % off.max())

# %% [markdown]
# ## Hidden activations, and overcomplete ICA on them
# The activations of fresh inputs, h = W x (no noise is added: the model's
# own activations). Exponential prior, as many atoms as features.

# %%
with torch.no_grad():
    H = (features(N_ACT) @ W.T).numpy().astype(np.float64)
H_train, H_test = H[: N_ACT * 3 // 4], H[N_ACT * 3 // 4:]
ica = ovica.OvercompleteICA(n_components=F, prior="exponential", noise_sigma=0.01,
                            prior_scale=0.05, max_steps=ICA_STEPS, batch_size=2000,
                            random_state=args.seed)
ica.fit(H_train)
A = ica.components_.T                               # d x F, atom j in column j
print("overcomplete ICA: %d atoms for %d-dimensional activations, %d steps; held-out "
      "log-likelihood %.3f nats/sample" % (F, D, ICA_STEPS, ica.score(H_test)))

# %% [markdown]
# ## Matching the atoms to the model's features
# Each represented feature W_i is matched to one atom (Hungarian assignment
# on the signed cosine: the features are non-negative, so -a is another
# direction); the table gives the angle between them.

# %%
assign, ang = ovica.match_atoms(A, Wn[:, kept], use_sign=True)
print("\n%8s %8s %8s %10s" % ("feature", "|W_i|", "atom", "angle"))
for r, i in enumerate(kept):
    print("%8d %8.2f %8d %9.2f deg" % (i, norms[i], assign[r], ang[r]))
unmatched = sorted(set(range(F)) - set(int(a) for a in assign if a >= 0))
if unmatched:
    print("atoms matched to no represented feature:", unmatched)
print("features within 5 deg: %d/%d; median angle %.2f deg; max %.2f deg (%.0f s)"
      % (int((ang < 5).sum()), len(kept), float(np.median(ang)), float(ang.max()),
         time.time() - t0))
