"""A deliberately naive reference of weighted sample elimination (Yuksel 2015).

Brute force in float64 numpy: all pairwise distances, weights summed exactly
(math.fsum), argmax with a linear scan. No grid, no heap, no fixed point. It is the oracle
the fast operator is checked against; keep it obvious rather than fast
(M up to a few thousand).

Ties: among equal weights the smallest input index is removed first (numpy's
argmax over the negated-index order below), as documented for the operator.
"""
import math

import numpy as np


def max_radius(dim, volume, n):
    a = volume / n
    if dim == 2:
        return math.sqrt(a / (2.0 * math.sqrt(3.0)))
    if dim == 3:
        return (a / (4.0 * math.sqrt(2.0))) ** (1.0 / 3.0)
    unit_ball = math.pi ** (dim / 2.0) / math.gamma(dim / 2.0 + 1.0)
    return (a / unit_ball) ** (1.0 / dim)


def power(t, alpha):
    """t ** alpha, elementwise. Integer alpha in [1, 64]: exponentiation by
    squaring (c = 1; b = t; per bit of alpha from the lowest: if set c *= b;
    b *= b), plain IEEE multiplications whose bits are the same on every CPU
    (numpy's `**` has SIMD kernels that differ from libm in the last bit on
    some CPUs); the C core does the same. Otherwise libm's pow (math.pow)."""
    t = np.asarray(t, dtype=np.float64)
    if float(alpha).is_integer() and 1 <= alpha <= 64:
        e, c, b = int(alpha), np.ones_like(t), t.copy()
        while True:
            if e & 1:
                c = c * b
            e >>= 1
            if not e:
                return c
            b = b * b
    return np.array([math.pow(v, alpha) for v in t.tolist()])


def euclidean_distances(x, period=None):
    """(M, M) distance matrix; toroidal (minimum image) with a per-axis period."""
    total = np.zeros((x.shape[0], x.shape[0]))
    for k in range(x.shape[1]):
        diff = np.abs(x[:, None, k] - x[None, :, k])
        if period is not None:
            diff = np.minimum(diff, period[k] - diff)
        total += diff * diff
    return np.sqrt(total)


def _unit_rows(x):
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norm == 0):
        raise ValueError("zero-length row")
    return x / norm


def _chords(u):
    """(|a - b|, |a + b|) for every pair of rows."""
    minus = np.sqrt(np.maximum(0.0, ((u[:, None, :] - u[None, :, :]) ** 2).sum(-1)))
    plus = np.sqrt(np.maximum(0.0, ((u[:, None, :] + u[None, :, :]) ** 2).sum(-1)))
    return minus, plus


def sphere_distances(x):
    """(M, M) great-circle angles between the directions of the rows of x
    (normalised here): 2 atan2(|a - b|, |a + b|), accurate near 0 and pi."""
    minus, plus = _chords(_unit_rows(x))
    return 2.0 * np.arctan2(minus, plus)


def so3_distances(x):
    """(M, M) rotation angles between the quaternions in the rows of x
    (normalised here; q and -q are one rotation): 2 acos(|q1.q2|), computed
    as 4 atan2(min(|q1 - q2|, |q1 + q2|), max(...))."""
    minus, plus = _chords(_unit_rows(x))
    return 4.0 * np.arctan2(np.minimum(minus, plus), np.maximum(minus, plus))


SO3_VOLUME = 8.0 * math.pi ** 2


def sphere_area(k):
    """Area of the unit sphere S^(k-1) in R^k."""
    return 2.0 * math.pi ** (k / 2.0) / math.gamma(k / 2.0)


def domain(x, bounds=None):
    """(dim, volume): the bounds' box, else the bounding box over spanned axes."""
    if bounds is not None:
        lo, hi = np.asarray(bounds[0], float), np.asarray(bounds[1], float)
        return x.shape[1], float(np.prod(hi - lo))
    ext = x.max(0) - x.min(0)
    spanned = ext[ext > 0]
    if spanned.size == 0:
        return 0, 0.0
    return int(spanned.size), float(np.prod(spanned))


def _eliminate_level(dist, ids, n, d_max, d_min, alpha, keep=frozenset()):
    """Eliminates the rows of the distance matrix `dist` down to n.
    Returns (kept ids in row order, removed ids in removal order).
    Rows whose id is in `keep` are never removed (the heaviest point not
    kept goes), but their contributions stay in their neighbours' weights.

    A weight is always the correctly rounded sum (math.fsum) of the live
    neighbours' contributions, recomputed whenever a neighbour goes: points
    whose weights tie in exact arithmetic tie here too, and the tie rule
    (smaller input index first) decides, as in the operator."""
    m = dist.shape[0]
    w = np.zeros_like(dist)
    near = dist < d_max
    np.fill_diagonal(near, False)
    base = 1.0 - np.maximum(dist[near], d_min) / d_max
    w[near] = power(base, alpha)
    alive = np.ones(m, bool)
    removable = np.array([i not in keep for i in ids], bool)
    weight = np.array([math.fsum(w[i]) for i in range(m)])
    removed = []
    order = np.argsort(ids, kind="stable")  # rank rows by input index for ties
    for _ in range(m - n):
        cand = np.where((alive & removable)[order], weight[order], -np.inf)
        r = order[int(np.argmax(cand))]  # first maximum = smallest input index
        alive[r] = False
        removed.append(ids[r])
        for j in np.nonzero(w[r] > 0)[0]:
            weight[j] = math.fsum(w[j][alive])
    kept = [ids[i] for i in range(m) if alive[i]]
    return kept, removed


def eliminate(points, n, *, bounds=None, radius=None, periodic=False, alpha=8.0, beta=0.65,
              gamma=1.5, weight_limiting=True, progressive=False, dim=None, volume=None,
              distances=None, keep=()):
    """Indices of the n points weighted sample elimination keeps.

    ``keep``: indices of points never removed (at most n distinct). In
    progressive order they are kept through every halving level: with kept
    points the levels halve until they alone remain (none below their count),
    so they lead the order, ascending.

    ``distances(x) -> (M, M)`` replaces the euclidean metric (``dim`` and
    ``volume`` then say the domain's dimension and volume). Returns a list:
    ascending, or in progressive order.
    """
    x = np.asarray(points, dtype=np.float64)
    m = x.shape[0]
    if distances is None:
        period = None
        if periodic:
            period = np.asarray(bounds[1], float) - np.asarray(bounds[0], float)
        distances = lambda y: euclidean_distances(y, period)  # noqa: E731
        dom_dim, dom_vol = domain(x, bounds)
    else:
        dom_dim, dom_vol = None, None
    dim = dim if dim is not None else dom_dim
    volume = volume if volume is not None else dom_vol
    if radius is None:
        r_max = max_radius(dim, volume, n) if (dim and volume) else 0.0
    else:
        r_max = radius
    d_max = 2.0 * r_max
    d_min = d_max * (1.0 - (n / m) ** gamma) * beta if weight_limiting else 0.0

    ids = np.arange(m)
    keep = frozenset(int(i) for i in keep)
    assert len(keep) <= n and all(0 <= i < m for i in keep)
    kept, _ = _eliminate_level(distances(x), ids, n, d_max, d_min, alpha, keep)
    if not progressive:
        return sorted(kept)
    out = [None] * n
    size = n
    grow = 2.0 ** (1.0 / dim) if dim and dim >= 1 else 1.0
    cur = list(kept)
    while (size > len(keep)) if keep else (size >= 3):
        half = max(size // 2, len(keep))
        d_max *= grow
        sub = np.asarray(cur)
        kept, removed = _eliminate_level(distances(x[sub]), sub, half, d_max, d_min, alpha, keep)
        for t, r in enumerate(removed):
            out[size - 1 - t] = int(r)
        cur = kept
        size = half
    out[:size] = [int(c) for c in sorted(cur)]
    return out


def agreement(a, b):
    """Fraction of the indices of a that are also in b."""
    a, b = set(int(i) for i in a), set(int(i) for i in b)
    return len(a & b) / max(1, len(a))
