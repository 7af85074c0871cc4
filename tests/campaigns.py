"""Random differential campaigns, run by hand for as long as you like (not
collected by pytest; the suite's own sweeps use fixed seeds).

    python tests/campaigns.py oracle SECONDS [SEED]    # operator vs tests/oracle.py
    python tests/campaigns.py batched SECONDS [SEED]   # padded batches vs item by item

``oracle`` draws configurations (metric, 1-5 dimensions, uniform, clustered,
lattice, duplicate, float32-valued, collinear or Gaussian points, n from 1 to
M, bounds, periodic, radius, alpha, beta, gamma, weight limiting, progressive,
kept points, sometimes points scaled by 2^+-600 or 2^+-900 for the operator
only) and
compares the operator's indices with the naive oracle's; it prints every
difference (with the kept-set agreement, or the share of progressive
positions that agree) and every refusal. ``batched`` draws padded batches
(B, M, lengths, n per item, sometimes above an item's length, dtype, metric,
options) and checks that each row equals the call on that item alone. Both
end with a line of counts.

docs/algorithm.md ("Exactness") explains the differences they can find:
alpha above 8 in progressive order, the circle with alpha 1, and exact ties
on sphere lattices.
"""
import os
import random
import sys
import time

import numpy as np
import torch

import torch_poisson as tp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402


def _points(R, m, d):
    rng = np.random.default_rng(R.randrange(1 << 30))
    kind = R.choice(["uniform", "uniform", "cluster", "lattice", "dups", "f32", "line", "gauss"])
    if kind == "uniform":
        x = rng.random((m, d))
    elif kind == "cluster":
        c = rng.random((R.randint(1, 5), d))
        x = c[rng.integers(0, len(c), m)] + rng.normal(0, R.choice([1e-3, 1e-2, 0.05]), (m, d))
    elif kind == "lattice":
        s = max(2, int(round(m ** (1 / d))))
        x = rng.integers(0, s, (m, d)).astype(float) / s
    elif kind == "dups":
        base = rng.random((max(1, m // R.randint(2, 10)), d))
        x = base[rng.integers(0, len(base), m)]
    elif kind == "f32":
        x = rng.random((m, d)).astype(np.float32).astype(np.float64) * R.choice([1.0, 1e3, 1e-3])
    elif kind == "line":
        x = np.outer(rng.random(m), rng.normal(size=d)) + rng.normal(size=d)
    else:
        x = rng.normal(size=(m, d))
    return kind, x


def _campaign(seconds, seed, threads, case):
    """Runs case(R) until the time is up; each returns "identical",
    "different" or "refused" (and prints what was not identical)."""
    torch.set_num_threads(threads)
    R = random.Random(seed)
    counts = dict(runs=0, identical=0, different=0, refused=0)
    deadline = time.time() + seconds
    while time.time() < deadline:
        counts["runs"] += 1
        counts[case(R)] += 1
    print(counts, flush=True)


def oracle_case(R):
    metric = R.choice(["euclidean"] * 6 + ["so3", "sphere"])
    m = R.choice([R.randint(2, 60), R.randint(60, 400), R.randint(400, 1200)])
    d = 4 if metric == "so3" else R.randint(2, 5) if metric == "sphere" else R.randint(1, 5)
    kind, x = _points(R, m, d)
    n = R.choice([1, R.randint(1, m), max(1, m // 8), max(1, m // 40), m])
    kw = {}
    if R.random() < 0.3:
        kw["progressive"] = True
    if R.random() < 0.2:
        kw["alpha"] = R.choice([1.0, 2.0, 3.0, 16.0, 2.5, 8.0])
    if R.random() < 0.2:
        kw["beta"] = R.choice([0.0, 0.3, 1.0])
    if R.random() < 0.2:
        kw["gamma"] = R.choice([0.0, 0.5, 3.0])
    if R.random() < 0.15:
        kw["weight_limiting"] = False
    if R.random() < 0.3:
        # points that must stay: a random set, or the first ones (which a
        # "cluster" draw packs close together), some listed twice
        k = R.randint(1, n)
        keep = R.sample(range(m), k) if R.random() < 0.5 else list(range(k))
        kw["keep"] = keep + R.sample(keep, R.randint(0, k))
    if metric == "euclidean" and R.random() < 0.3:
        lo, hi = x.min(0) - R.choice([0.0, 0.1]), x.max(0) + R.choice([1e-9, 0.1])
        kw["bounds"] = (lo.tolist(), hi.tolist())
        kw["periodic"] = R.random() < 0.6
    elif metric == "euclidean" and R.random() < 0.1:
        kw["radius"] = R.choice([0.01, 0.1, 0.3])
    # far from unit size (squared distances would leave the doubles' range):
    # the operator gets the points, bounds and radius times a power of two,
    # the oracle the points as drawn (the core rescales exactly)
    far = 2.0 ** R.choice([600, 900, -600, -900]) if metric == "euclidean" and R.random() < 0.15 else 1.0
    fkw = dict(kw)
    if "bounds" in fkw:
        fkw["bounds"] = tuple([v * far for v in b] for b in fkw["bounds"])
    if "radius" in fkw:
        fkw["radius"] = fkw["radius"] * far
    label = f"{metric} {kind} M={m} d={d} n={n} {kw}" + (f" scaled by {far:g}" if far != 1.0 else "")
    try:
        got = tp.sample_elimination(torch.from_numpy(x * far), n, metric=metric, **fkw).tolist()
    except (ValueError, RuntimeError, MemoryError) as e:
        print("refused:", label, "->", str(e)[:160], flush=True)
        return "refused"
    okw = dict(kw)
    if "bounds" in okw:
        okw["bounds"] = tuple(np.asarray(b, float) for b in okw["bounds"])
    if metric == "so3":
        okw.update(distances=oracle.so3_distances, dim=3, volume=oracle.SO3_VOLUME)
    elif metric == "sphere":
        okw.update(distances=oracle.sphere_distances, dim=d - 1, volume=oracle.sphere_area(d))
    want = oracle.eliminate(x, n, **okw)
    if got == list(want):
        return "identical"
    if kw.get("progressive"):
        how = "same set" if sorted(got) == sorted(want) else "OTHER SET"
        how += ", %.3f of the positions agree" % (sum(a == b for a, b in zip(got, want)) / n)
    else:
        how = "kept-set agreement %.3f" % oracle.agreement(want, got)
    print("different:", label, "->", how, flush=True)
    return "different"


def batched_case(R):
    metric = R.choice(["euclidean"] * 4 + ["so3", "sphere"])
    d = 4 if metric == "so3" else R.randint(2, 4) if metric == "sphere" else R.randint(1, 4)
    B = R.randint(1, 8)
    M = R.choice([R.randint(1, 30), R.randint(30, 700), R.randint(700, 3000)])
    dtype = R.choice([torch.float32, torch.float64])
    if metric == "euclidean":
        x = torch.rand(B, M, d, dtype=dtype) * R.choice([1.0, 1e3, 1e-3])
    else:
        x = torch.randn(B, M, d, dtype=dtype)
    if R.random() < 0.2:
        x = x.round(decimals=1)  # ties, duplicates (and zero-length rows)
    lengths = torch.tensor([R.randint(0, M) for _ in range(B)]) if R.random() < 0.6 else None
    L = lengths.tolist() if lengths is not None else [M] * B
    # n up to each item's length, or (pytorch3d's convention) up to M: an
    # item shorter than its n keeps all its points
    short = R.random() < 0.3
    if R.random() < 0.5:
        n = torch.tensor([R.randint(0, M if short else k) for k in L])
        ns = n.tolist()
    else:
        n = R.randint(0, M) if short else R.randint(1, min(L)) if min(L) > 0 else 0
        ns = [n] * B
    keep = [min(k, length) for k, length in zip(ns, L)]
    kw = {"metric": metric}
    if R.random() < 0.3:
        kw["progressive"] = True
    if R.random() < 0.2:
        kw["alpha"] = R.choice([2.0, 8.0, 3.5])
    if R.random() < 0.2:
        kw["weight_limiting"] = False
    if metric == "euclidean" and R.random() < 0.2:
        kw["radius"] = "auto"
    if metric == "euclidean" and R.random() < 0.15:
        kw["bounds"] = ([-1e-9] * d, [1e3 + 1] * d)
    if R.random() < 0.1:
        kw["dim"] = R.randint(1, 3)
    label = f"{metric} B={B} M={M} d={d} lengths={L} n={ns} {kw} {dtype}"
    try:
        out = tp.sample_elimination(x, n, lengths=lengths, **kw)
    except (ValueError, RuntimeError) as e:
        # right when an item alone is refused too, or holds a bad row
        # while asking for no points (every row within lengths is checked)
        alone = []
        for b in range(B):
            if L[b] == 0:
                continue
            try:
                tp.sample_elimination(x[b, :L[b]], max(keep[b], 1), **kw)
            except (ValueError, RuntimeError):
                alone.append(b)
        print("refused:" if alone else "REFUSED, BUT EVERY ITEM RUNS ALONE:", label, "->",
              str(e)[:160], flush=True)
        return "refused" if alone else "different"
    same = out.shape == (B, max(ns))
    for b in range(B):
        if keep[b] == 0:
            same = same and bool((out[b] == -1).all())
            continue
        want = tp.sample_elimination(x[b, :L[b]], keep[b], **kw)
        same = same and torch.equal(out[b, :keep[b]], want) and bool((out[b, keep[b]:] == -1).all())
    if not same:
        print("different:", label, flush=True)
    return "identical" if same else "different"


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("oracle", "batched"):
        sys.exit(__doc__)
    threads, case = (1, oracle_case) if sys.argv[1] == "oracle" else (2, batched_case)
    _campaign(float(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0, threads, case)
