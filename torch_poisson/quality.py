"""How well spread a point set is: max_radius, min_distance, relative_radius.

The euclidean measures take ``bounds=`` and ``periodic=`` with
:func:`torch_poisson.sample_elimination`'s defaults (the points' bounding box,
not periodic), so a result measured with the defaults is measured in the
geometry it was made in; pass the same ``bounds`` and ``periodic=True`` for a
toroidal (tileable) result.
"""
import math
from typing import Optional

import torch

from .ops import _INT64_MAX, _MAX_DIM, BoundsLike, _as_bounds, _check_bool, _check_int, _check_metric, _check_real

__all__ = ["max_radius", "min_distance", "relative_radius"]


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
    volume = _check_real(volume, "volume", positive=True)
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
    b = _as_bounds(bounds, d)
    _check_metric(metric, d, b, periodic)
    if periodic and b is None:
        raise ValueError("periodic=True needs explicit bounds (the period of each axis), got bounds=None")
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
