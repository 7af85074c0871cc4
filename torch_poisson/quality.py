"""How well spread a point set is: max_radius, min_distance, relative_radius,
covering_radius, and its power spectrum.

The euclidean measures take ``bounds=`` and ``periodic=`` with
:func:`torch_poisson.sample_elimination`'s defaults (the points' bounding box,
not periodic), so a result measured with the defaults is measured in the
geometry it was made in; pass the same ``bounds`` and ``periodic=True`` for a
toroidal (tileable) result.
"""
import math
from typing import NamedTuple, Optional

import torch

from .ops import (_INT64_MAX, _MAX_DIM, BoundsLike, _as_bounds, _check_bool, _check_int, _check_options,
                  _check_real, _checked_bounds)

__all__ = ["max_radius", "min_distance", "relative_radius", "spectrum", "Spectrum", "covering_radius"]


def max_radius(n: int, volume: float = 1.0, dim: int = 2) -> float:
    """r_max: the largest Poisson disk radius of ``n`` points in a domain of
    the given volume and dimension (Yuksel 2015), the operator's own
    (pds_max_radius): 2-D sqrt(V / (2 sqrt(3) n)), 3-D cbrt(V / (4 sqrt(2) n)),
    otherwise (V / (n V_D))^(1/D) with V_D the unit D-ball's volume.

    Example:
        >>> round(max_radius(100, 1.0, 1), 6)   # 100 points on [0, 1]
        0.005
    """
    n = _check_int(n, "n", 1, _INT64_MAX)
    dim = _check_int(dim, "dim", 1, _MAX_DIM)
    volume = _check_real(volume, "volume")
    _check_options(1, dim=dim, volume=volume)
    return torch.ops.torch_poisson.max_radius.default(n, volume, dim)


def _check_shape(points, fn):
    if not isinstance(points, torch.Tensor) or points.dim() != 2 or points.shape[0] == 0 or points.shape[1] == 0:
        got = f"shape {tuple(points.shape)}" if isinstance(points, torch.Tensor) else type(points).__name__
        raise ValueError(f"{fn}: points must be a tensor of shape (n, d) with n, d >= 1, got {got}")
    return points.detach().to("cpu", torch.float64)


def _period(bounds, periodic, d, metric) -> Optional[torch.Tensor]:
    """The (2, d) box of a toroidal measure, or None; bounds and periodic as
    sample_elimination takes them."""
    periodic = _check_bool(periodic, "periodic")
    b = _checked_bounds(bounds, d, periodic=periodic, metric=metric)
    return b if periodic else None


def _min_distance(x: torch.Tensor, box: Optional[torch.Tensor], metric: str) -> float:
    """min_distance on float64 CPU rows, box a (2, d) period or None."""
    if x.shape[0] < 2:
        return math.inf
    if metric in ("so3", "sphere"):
        u = x / x.norm(dim=1, keepdim=True)
        if metric == "so3":  # the nearer of p and -p
            chord = min(_min_distance(torch.cat([u, -u]), None, "euclidean"), math.sqrt(2.0))
            return 4.0 * math.asin(min(1.0, chord / 2.0))
        return 2.0 * math.asin(min(1.0, _min_distance(u, None, "euclidean") / 2.0))
    period = None
    if box is not None:
        period = box[1] - box[0]
        x = torch.remainder(x - box[0], period)
    try:
        from scipy.spatial import cKDTree

        xs = x.numpy()
        dist, _ = cKDTree(xs, boxsize=None if period is None else period.numpy()).query(xs, k=2)
        return float(dist[:, 1].min())
    except ImportError:
        best = math.inf
        for s in range(0, x.shape[0], 2048):
            diff = (x[s : s + 2048, None, :] - x[None, :, :]).abs()
            if period is not None:
                diff = torch.minimum(diff, period - diff)
            dd = diff.pow(2).sum(-1).sqrt()
            rows = torch.arange(s, min(s + 2048, x.shape[0]))
            dd[rows - s, rows] = math.inf
            best = min(best, dd.min().item())
        return best


def min_distance(points: torch.Tensor, *, bounds: BoundsLike = None, periodic: bool = False,
                 metric: str = "euclidean") -> float:
    """Smallest distance between two rows of ``points`` (n, d): euclidean
    (toroidal over ``bounds`` with ``periodic=True``), or the angle for
    ``metric="so3"`` (rows are quaternions) and ``"sphere"`` (rows are
    directions). Uses scipy's k-d tree when available. ``inf`` for one row.

    Args:
        points: (n, d) tensor.
        bounds, periodic: as :func:`torch_poisson.sample_elimination` takes
            them: ``periodic=True`` measures on the torus of ``bounds``
            (needed). Euclidean only.
        metric: "euclidean", "so3" or "sphere".

    Example:
        >>> min_distance(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
        5.0
        >>> min_distance(torch.tensor([[0.1], [0.9]]), bounds=([0.0], [1.0]), periodic=True)  # across the edge
        0.2
    """
    x = _check_shape(points, "min_distance")
    return _min_distance(x, _period(bounds, periodic, x.shape[1], metric), metric)


def relative_radius(points: torch.Tensor, *, bounds: BoundsLike = None, periodic: bool = False,
                    volume: Optional[float] = None, metric: str = "euclidean", dim: Optional[int] = None) -> float:
    """rho = (smallest distance among ``points``) / (2 r_max), the quality
    measure of Poisson disk sets (about 0.72 for sample elimination in 2D, 0.01
    for a random subset).

    Args:
        points: (n, d) tensor.
        bounds, periodic: the domain, with sample_elimination's defaults:
            ``bounds`` a (2, d) tensor or ``(lo, hi)`` pair, default the
            points' bounding box (over the axes they span); ``periodic=True``
            measures toroidally over ``bounds`` (needed), as for a result of
            ``sample_elimination(..., bounds=b, periodic=True)`` or
            :func:`torch_poisson.poisson_disk` (``bounds=([0] * d, [1] * d)``
            by default). Euclidean only.
        volume, dim: override the domain's volume and dimension for r_max;
            default the box's (euclidean), 8 pi^2 and 3 (so3), the area of
            S^(d-1) and d - 1 (sphere).
        metric: "euclidean", "so3" (rows are quaternions) or "sphere".

    Example:
        >>> x = torch.rand(100_000, 2)
        >>> relative_radius(x[sample_elimination(x, 12_500)]) > 0.6
        True
        >>> unit = ([0.0, 0.0], [1.0, 1.0])
        >>> relative_radius(poisson_disk(1000), bounds=unit, periodic=True) > 0.6
        True
        >>> relative_radius(poisson_disk(500, metric="so3"), metric="so3") > 0.5
        True
    """
    x = _check_shape(points, "relative_radius")
    n, d = x.shape
    box = _period(bounds, periodic, d, metric)
    if metric == "so3":
        vol, dm = 8.0 * math.pi ** 2, 3
    elif metric == "sphere":
        vol, dm = 2.0 * math.pi ** (d / 2.0) / math.gamma(d / 2.0), d - 1
    else:
        b = box if box is not None else _as_bounds(bounds, d)
        if b is None:  # the points' bounding box, over the axes they span
            b = torch.stack([x.amin(0), x.amax(0)])
        extent = b[1] - b[0]
        spanned = extent[extent > 0]
        vol, dm = float(spanned.prod()), int(spanned.numel())
    vol = vol if volume is None else volume
    dm = dm if dim is None else dim
    dist = _min_distance(x, box, metric)
    if dist == 0.0 or dm == 0:
        return 0.0  # coincident points (or all one point)
    return dist / (2.0 * max_radius(n, vol, dm))


def _check_finite(x: torch.Tensor, fn: str) -> None:
    bad = (~torch.isfinite(x)).any(1).nonzero().flatten()
    if bad.numel():
        i = int(bad[0])
        raise ValueError(f"{fn}: points must be finite, got points[{i}] = {x[i].tolist()}")


def _check_nonzero(x: torch.Tensor, fn: str) -> None:
    """so3/sphere rows are normalised: a zero row has no direction."""
    zero = (x.abs().amax(1) == 0).nonzero().flatten()
    if zero.numel():
        raise ValueError(f"{fn}: metric so3/sphere needs nonzero rows, got points[{int(zero[0])}] = 0")


_SPECTRUM_DIMS = (1, 2, 3)
_CHUNK_BYTES = 1 << 25  # 32 MiB: the largest temporary of one chunk in spectrum
_COVER_CHUNK_BYTES = 1 << 18  # covering_radius's distance block: cache-sized, 10x faster than 32 MiB blocks


class Spectrum(NamedTuple):
    """The radially averaged power spectrum of a point set (see :func:`spectrum`)."""

    frequency: torch.Tensor  # (B,) float64: the bins' radii |f| = 1, 2, ..., B
    power: torch.Tensor  # (B,) float64: mean periodogram over the bin; about 1 for uniform random points
    anisotropy: torch.Tensor  # (B,) float64: dB; about 0 for uniform random points, NaN for a 1-frequency bin


def _unit_box(x: torch.Tensor, bounds: BoundsLike) -> torch.Tensor:
    """Rows of x mapped to the unit box [0, 1)^d by ``bounds`` (default the
    rows' bounding box), taken modulo 1."""
    d = x.shape[1]
    b = _checked_bounds(bounds, d)
    if b is None:
        b = torch.stack([x.amin(0), x.amax(0)])
        flat = (b[1] <= b[0]).nonzero().flatten()
        if flat.numel():
            k = int(flat[0])
            raise ValueError(f"spectrum: the points do not span axis {k} (all at {b[0, k].item()}); "
                             f"pass bounds=(lo, hi) for the box they lie in, got bounds=None")
    return torch.remainder((x - b[0]) / (b[1] - b[0]), 1.0)


def _periodogram(u: torch.Tensor, fmax: int):
    """Yields (f, P) in chunks: the integer frequencies f (k, d) with
    0 < |f| < fmax + 1/2, one of each pair f, -f (P(-f) = P(f) for real
    points), and their periodogram P(f) = |sum_j exp(-2 pi i f . u_j)|^2 / n,
    u (n, d) in the unit box. exp(-2 pi i f . u) is the product over axes of
    exp(-2 pi i f_k u_k), so for a chunk of first-axis frequencies and a chunk
    of points the per-axis factors are multiplied out up to the last axis,
    which one matmul contracts with the points; chunks keep each temporary
    under _CHUNK_BYTES."""
    n, d = u.shape
    full = torch.arange(-fmax, fmax + 1, dtype=torch.float64)
    first = torch.arange(0, fmax + 1, dtype=torch.float64)  # f_1 >= 0: the half of the lattice computed
    width = full.numel()
    inner = width ** (d - 1)  # frequencies per first-axis value
    c = max(1, _CHUNK_BYTES // (16 * inner))  # first-axis values per chunk
    m = max(1, _CHUNK_BYTES // (16 * (c * max(1, inner // width) + d * width)))  # points per chunk
    grids = torch.meshgrid(*([full] * (d - 1)), indexing="ij") if d > 1 else ()
    rest = torch.stack([g.reshape(-1) for g in grids], 1) if d > 1 else torch.zeros(1, 0, dtype=torch.float64)

    def factor(v, freqs):  # exp(-2 pi i f v), (points, freqs); the phase reduced modulo 1 first
        phase = torch.remainder(v[:, None] * freqs[None, :], 1.0)
        return torch.polar(torch.ones_like(phase), -2.0 * math.pi * phase)

    for s in range(0, fmax + 1, c):
        f1 = first[s : s + c]
        sums = torch.zeros(f1.numel() * inner, dtype=torch.complex128)
        for j in range(0, n, m):
            v = u[j : j + m]
            a = factor(v[:, 0], f1)  # (points, c)
            for k in range(1, d - 1):
                a = (a[:, :, None] * factor(v[:, k], full)[:, None, :]).reshape(v.shape[0], -1)
            sums += (a.T @ factor(v[:, d - 1], full)).reshape(-1) if d > 1 else a.sum(0)
        f = torch.cat([f1.repeat_interleave(rest.shape[0])[:, None], rest.repeat(f1.numel(), 1)], 1)
        nz = f != 0
        lead = f.gather(1, nz.to(torch.int8).argmax(1, keepdim=True)).flatten()  # first nonzero coordinate
        keep = (lead > 0) & (f.pow(2).sum(1) < (fmax + 0.5) ** 2)
        yield f[keep], (sums.real.pow(2) + sums.imag.pow(2))[keep] / n


def spectrum(points: torch.Tensor, *, bounds: BoundsLike = None, bins: Optional[int] = None) -> Spectrum:
    """The radially averaged power spectrum of a point set, the blue-noise
    literature's test of a sample set (Lagae & Dutre 2008; Heck, Schloemer &
    Deussen 2013).

    The points are mapped to the unit box [0, 1)^d by ``bounds`` (modulo the
    box: the periodogram sees it as a torus). The periodogram
    P(f) = |sum_j exp(-2 pi i f . x_j)|^2 / n over the box's integer
    frequencies f != 0 is averaged over unit-width annuli: bin k (k = 1 .. B)
    holds the f with k - 1/2 <= |f| < k + 1/2. Uniformly random points have
    E[P(f)] = 1 at every such f, so their curve is flat at about 1; a blue
    noise (Poisson disk) set has power far below 1 at low |f| (the dark ring
    around the origin) and a peak above 1 near its mean spacing's frequency,
    about n^(1/d).

    The anisotropy of bin k is 10 log10(s_k^2 / P_k^2) dB, s_k^2 the sample
    variance of P over the bin's frequencies (one of each pair f, -f), P_k
    their mean (Lagae & Dutre's definition). The periodogram of a random set
    is exponentially distributed, variance = mean^2, so an isotropic set gives
    about 0 dB in one periodogram; a direction-dependent (e.g. lattice) set
    gives far more. In 1-D each bin holds one frequency: NaN.

    Args:
        points: (n, d) tensor, d = 1, 2 or 3 (computed in float64 on the CPU).
        bounds: the box, a (2, d) tensor or ``(lo, hi)`` pair, as
            :func:`torch_poisson.sample_elimination` takes it; default the
            points' bounding box. Pass the box a set was made in (e.g.
            ``([0, 0], [1, 1])`` for :func:`torch_poisson.poisson_disk`).
        bins: B, the number of unit-width bins, which is also the largest
            |f| (an int >= 1). Default ceil(2 n^(1/d)): about twice the
            frequency of the mean spacing, past a Poisson set's peak.

    Cost: about n (B + 1) (2B + 1)^(d - 1) complex multiply-adds, in chunks of
    about 32 MiB of temporaries (at least the (2B + 1)^(d - 1) sums of one
    first-axis frequency): 2,000 2-D points to |f| <= 64 take about
    25 ms on one CPU core, 100,000 about 1.3 s; 2,000 3-D points to the
    default |f| <= 26 about 0.3 s.

    Returns:
        Spectrum(frequency, power, anisotropy), three (B,) float64 tensors.

    Example:
        >>> s = spectrum(torch.rand(2000, 2), bounds=([0, 0], [1, 1]), bins=64)
        >>> 0.9 < s.power.mean().item() < 1.1          # random: flat at 1
        True
        >>> s = spectrum(poisson_disk(2000), bounds=([0, 0], [1, 1]), bins=64)
        >>> s.power[:20].mean().item() < 0.2           # Poisson: no power at low |f|
        True
    """
    x = _check_shape(points, "spectrum")
    n, d = x.shape
    if d not in _SPECTRUM_DIMS:
        raise ValueError(f"spectrum: points must have d = 1, 2 or 3 coordinates, got shape {tuple(x.shape)}")
    _check_finite(x, "spectrum")
    if bins is None:
        bins = math.ceil(2.0 * n ** (1.0 / d))
    bins = _check_int(bins, "bins", 1, _INT64_MAX)
    u = _unit_box(x, bounds)
    total = torch.zeros(bins + 1, dtype=torch.float64)
    square = torch.zeros(bins + 1, dtype=torch.float64)
    count = torch.zeros(bins + 1, dtype=torch.float64)
    for f, p in _periodogram(u, bins):
        k = torch.floor(f.pow(2).sum(1).sqrt() + 0.5).long()  # the annulus of |f|
        total.index_add_(0, k, p)
        square.index_add_(0, k, p * p)
        count.index_add_(0, k, torch.ones_like(p))
    total, square, count = total[1:], square[1:], count[1:]
    power = total / count
    var = (square - count * power * power).clamp_(min=0.0) / (count - 1)  # NaN where count == 1
    anisotropy = 10.0 * torch.log10(var / (power * power))
    return Spectrum(torch.arange(1, bins + 1, dtype=torch.float64), power, anisotropy)


def _as_subset(subset, n: int) -> torch.Tensor:
    """Indices into n rows: a 1-D integer tensor or a sequence of ints, each in [-n, n)."""
    try:
        idx = subset if isinstance(subset, torch.Tensor) else torch.as_tensor(subset)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"covering_radius: subset must be indices (a 1-D integer tensor or sequence), "
                        f"got {subset!r}") from e
    if idx.numel() == 0:
        raise ValueError("covering_radius: subset must hold at least one index, got an empty subset")
    if idx.dtype == torch.bool or idx.is_floating_point() or idx.is_complex() or idx.dim() != 1:
        raise TypeError(f"covering_radius: subset must be indices (a 1-D integer tensor or sequence), "
                        f"got dtype {idx.dtype}, shape {tuple(idx.shape)}")
    idx = idx.detach().to("cpu", torch.int64)
    out = ((idx < -n) | (idx >= n)).nonzero().flatten()
    if out.numel():
        raise ValueError(f"covering_radius: subset indices must be in [-{n}, {n}) for {n} points, "
                         f"got subset[{int(out[0])}] = {int(idx[out[0]])}")
    return idx


def _farthest_nearest(x: torch.Tensor, y: torch.Tensor, period: Optional[torch.Tensor]) -> float:
    """max over rows of x of the euclidean distance to the nearest row of y
    (toroidal with the (d,) period), exact: squared differences summed axis
    by axis over chunks of x."""
    rows = max(1, _COVER_CHUNK_BYTES // (8 * 3 * y.shape[0]))
    worst = 0.0
    for s in range(0, x.shape[0], rows):
        xs = x[s : s + rows]
        dd = torch.zeros(xs.shape[0], y.shape[0], dtype=torch.float64)
        for k in range(x.shape[1]):
            diff = (xs[:, k, None] - y[None, :, k]).abs_()
            if period is not None:
                diff = torch.minimum(diff, period[k] - diff)
            dd += diff * diff
        worst = max(worst, dd.amin(1).max().item())
    return math.sqrt(worst)


def covering_radius(points: torch.Tensor, subset, *, bounds: BoundsLike = None, periodic: bool = False,
                    metric: str = "euclidean") -> float:
    """How far a point of ``points`` can be from its nearest point of the
    subset: max over i of min over j in ``subset`` of dist(points[i],
    points[j]), the coverage a kept subset (e.g. a training set) gives the
    data. Smaller is better; 0 when the subset is every point.

    Exact (float64, every pair compared, in cache-sized chunks): about n m d
    operations for a subset of m of n points; 16,000 2-D points and a subset
    of 2,000 take about 0.3 s.

    Args:
        points: (n, d) tensor.
        subset: indices of the kept rows, a 1-D integer tensor or sequence
            (what :func:`torch_poisson.sample_elimination` returns).
        bounds, periodic: as for :func:`relative_radius`: ``periodic=True``
            measures toroidally over ``bounds`` (needed). Euclidean only.
        metric: "euclidean", "so3" (rows are quaternions; the result is a
            rotation angle in radians) or "sphere" (rows are directions; the
            angle in radians).

    Example:
        >>> x = torch.rand(16_000, 2)
        >>> idx = sample_elimination(x, 2_000)
        >>> covering_radius(x, idx) < covering_radius(x, torch.randperm(16_000)[:2_000])
        True
    """
    x = _check_shape(points, "covering_radius")
    n, d = x.shape
    _check_finite(x, "covering_radius")
    box = _period(bounds, periodic, d, metric)
    idx = _as_subset(subset, n)
    if metric in ("so3", "sphere"):
        _check_nonzero(x, "covering_radius")
        x = x / x.norm(dim=1, keepdim=True)
        y = x[idx]
        if metric == "so3":  # the nearer of q and -q
            chord = min(_farthest_nearest(x, torch.cat([y, -y]), None), math.sqrt(2.0))
            return 4.0 * math.asin(min(1.0, chord / 2.0))
        return 2.0 * math.asin(min(1.0, _farthest_nearest(x, y, None) / 2.0))
    period = None
    if box is not None:
        period = box[1] - box[0]
        x = torch.remainder(x - box[0], period)
    return _farthest_nearest(x, x[idx], period)
