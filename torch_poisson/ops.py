"""The functional API: sample_elimination, poisson_disk, and quality measures.

Thin wrappers over ``torch.ops.torch_poisson.sample_elimination`` (the C core
behind LibTorch's stable ABI) plus its fake kernel, so ``torch.compile`` and
``torch.library.opcheck`` work.
"""
import math
import numbers
from typing import Optional, Sequence, Tuple, Union

import torch

BoundsLike = Union[torch.Tensor, Tuple[Sequence[float], Sequence[float]], None]

_FLOAT_DTYPES = (torch.float32, torch.float64)


# ----------------------------------------------------------------- checks --


def _check_points(points, name="points"):
    if not isinstance(points, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (M, d), got {type(points).__name__}")
    if points.dim() != 2:
        raise ValueError(
            f"{name} must be a 2-D tensor of shape (M, d), got {points.dim()}-D with shape "
            f"{tuple(points.shape)}"
        )
    if points.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {points.dtype}")
    if points.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one point, got shape {tuple(points.shape)}")
    if points.shape[1] == 0:
        raise ValueError(f"{name} must have at least one coordinate, got shape {tuple(points.shape)}")


def _check_int(value, name, lo, hi=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an int, got {value!r}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be in {rng}, got {name}={value}")
    return value


def _check_real(value, name, *, positive=False, nonnegative=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {name}={value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {name}={value}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {name}={value}")
    return value


def _as_bounds(bounds: BoundsLike, d: int) -> Optional[torch.Tensor]:
    """(2, d) float64 CPU tensor from a tensor or a (lo, hi) pair."""
    if bounds is None:
        return None
    if isinstance(bounds, torch.Tensor):
        b = bounds
    else:
        try:
            lo, hi = bounds
            b = torch.stack(
                [torch.as_tensor(lo, dtype=torch.float64).reshape(-1), torch.as_tensor(hi, dtype=torch.float64).reshape(-1)]
            )
        except (TypeError, ValueError, RuntimeError) as e:
            raise ValueError(
                f"bounds must be a (2, d) tensor or a (lo, hi) pair of length-d sequences, got {bounds!r}"
            ) from e
    if b.is_complex() or b.dtype == torch.bool:
        raise TypeError(f"bounds must be real, got dtype {b.dtype}")
    b = b.detach().to(device="cpu", dtype=torch.float64)
    if b.dim() == 1 and b.numel() == 2 and d == 1:
        b = b.reshape(2, 1)
    if tuple(b.shape) != (2, d):
        raise ValueError(f"bounds must have shape (2, d) = (2, {d}), got {tuple(b.shape)}")
    if not torch.isfinite(b).all():
        raise ValueError(f"bounds must be finite, got {b.tolist()}")
    bad = (b[0] >= b[1]).nonzero().flatten().tolist()
    if bad:
        k = bad[0]
        raise ValueError(
            f"bounds must have lo < hi on every axis: axis {k} has lo={b[0, k].item()}, hi={b[1, k].item()}"
        )
    return b


# --------------------------------------------------------------- operator --


def sample_elimination(
    points: torch.Tensor,
    n: int,
    *,
    bounds: BoundsLike = None,
    radius: Optional[float] = None,
    periodic: bool = False,
    alpha: float = 8.0,
    beta: float = 0.65,
    gamma: float = 1.5,
    weight_limiting: bool = True,
    progressive: bool = False,
) -> torch.Tensor:
    """Indices of ``n`` well-spread (Poisson disk) points out of ``points``.

    Weighted sample elimination (Yuksel 2015): every point is weighted by its
    neighbours within ``d_max = 2 * r_max``; the heaviest is removed and its
    neighbours' weights updated until ``n`` remain. Exact and deterministic:
    the same input gives the same indices for any thread count. Ties between
    equal weights remove the smaller input index first.

    Args:
        points: (M, d) float32 or float64 tensor, any strides, any d >= 1.
            A CUDA tensor is computed on the CPU and the result returned on its
            device. ``requires_grad`` inputs are fine (indices have no grad).
        n: how many to keep, 1 <= n <= M (n == M keeps all).
        bounds: the domain, a (2, d) tensor ``[lo, hi]`` or a ``(lo, hi)`` pair
            of length-d sequences. Default: the points' bounding box (over the
            axes they span, so points on a line count as 1-D). Used for r_max
            and, with ``periodic``, as the period.
        radius: r_max; default from the domain volume V and n: 2D
            sqrt(V / (2 sqrt(3) n)), 3D cbrt(V / (4 sqrt(2) n)), otherwise
            (V / (n V_d))^(1/d) with V_d the unit d-ball's volume.
        periodic: toroidal (minimum image) distances over ``bounds`` (needed),
            so the result tiles seamlessly.
        alpha, beta, gamma: weight function (1 - max(dist, d_min)/d_max)^alpha
            with weight limiting d_min = d_max (1 - (n/M)^gamma) beta.
        weight_limiting: use d_min (default True); off means d_min = 0.
        progressive: order the result so that every prefix is well spread.

    Returns:
        (n,) int64 indices into ``points``: ascending, or in progressive order.

    Example:
        >>> pts = torch.rand(100_000, 2)
        >>> idx = sample_elimination(pts, 12_500, bounds=([0, 0], [1, 1]), periodic=True)
        >>> blue = pts[idx]                                  # (12500, 2)
    """
    _check_points(points)
    m, d = points.shape
    n = _check_int(n, "n", 1, m)
    b = _as_bounds(bounds, d)
    if radius is not None:
        radius = _check_real(radius, "radius", positive=True)
    alpha = _check_real(alpha, "alpha", positive=True)
    beta = _check_real(beta, "beta", nonnegative=True)
    gamma = _check_real(gamma, "gamma", nonnegative=True)
    if periodic and b is None:
        raise ValueError("periodic=True needs explicit bounds (the period of each axis), got bounds=None")
    return torch.ops.torch_poisson.sample_elimination.default(
        points, n, b, radius, bool(periodic), alpha, beta, gamma, bool(weight_limiting), bool(progressive)
    )


@torch.library.register_fake("torch_poisson::sample_elimination")
def _sample_elimination_fake(
    points, n, bounds=None, radius=None, periodic=False, alpha=8.0, beta=0.65, gamma=1.5,
    weight_limiting=True, progressive=False,
):
    torch._check(points.dim() == 2, lambda: f"points must be 2-D, got {points.dim()}-D")
    torch._check(points.dtype in _FLOAT_DTYPES, lambda: f"points must be float32 or float64, got {points.dtype}")
    torch._check(1 <= n, lambda: f"n must be >= 1, got {n}")
    torch._check(n <= points.shape[0], lambda: f"n must be <= M, got n={n}")
    return points.new_empty((n,), dtype=torch.int64)


# ------------------------------------------------------------- generation --


def poisson_disk(
    n: int,
    dim: int = 2,
    *,
    bounds: BoundsLike = None,
    oversample: int = 8,
    periodic: bool = True,
    generator: Optional[torch.Generator] = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` blue-noise points in a box: uniform candidates, then elimination.

    Draws ``oversample * n`` uniform candidates with torch's RNG (so
    ``torch.manual_seed`` or ``generator`` reproduce the result) and keeps
    ``n`` of them with :func:`sample_elimination`.

    Args:
        n: number of points, >= 1.
        dim: dimension, >= 1.
        bounds: the box, (2, dim) tensor or (lo, hi) pair; default [0, 1)^dim.
        oversample: candidates per kept point, >= 1 (Yuksel recommends ~8).
        periodic: eliminate with toroidal distances (tileable output).
        generator: a torch.Generator for the candidates.
        dtype: float32 or float64 output.

    Returns:
        (n, dim) tensor of points inside ``bounds``.

    Example:
        >>> torch.manual_seed(0)
        >>> xy = poisson_disk(1000, dim=2)                  # (1000, 2) in [0, 1)^2
    """
    n = _check_int(n, "n", 1)
    dim = _check_int(dim, "dim", 1)
    oversample = _check_int(oversample, "oversample", 1)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    b = _as_bounds(bounds, dim)
    if b is None:
        b = torch.tensor([[0.0] * dim, [1.0] * dim], dtype=torch.float64)
    cand = torch.rand(n * oversample, dim, generator=generator, dtype=torch.float64)
    cand = b[0] + cand * (b[1] - b[0])
    idx = sample_elimination(cand, n, bounds=b, periodic=periodic)
    return cand[idx].to(dtype)


# ---------------------------------------------------------------- quality --


def max_radius(n: int, volume: float = 1.0, dim: int = 2) -> float:
    """r_max: the largest Poisson disk radius of ``n`` points in a domain of
    the given volume and dimension (Yuksel 2015, as used by the operator)."""
    n = _check_int(n, "n", 1)
    dim = _check_int(dim, "dim", 1)
    volume = _check_real(volume, "volume", positive=True)
    a = volume / n
    if dim == 2:
        return math.sqrt(a / (2.0 * math.sqrt(3.0)))
    if dim == 3:
        return (a / (4.0 * math.sqrt(2.0))) ** (1.0 / 3.0)
    unit_ball = math.pi ** (dim / 2.0) / math.gamma(dim / 2.0 + 1.0)
    return (a / unit_ball) ** (1.0 / dim)


def min_distance(points: torch.Tensor, period: Optional[torch.Tensor] = None) -> float:
    """Smallest distance between two rows of ``points`` (toroidal with a
    per-axis ``period``). Uses scipy's k-d tree when available."""
    x = points.detach().to("cpu", torch.float64)
    if x.shape[0] < 2:
        return math.inf
    try:
        from scipy.spatial import cKDTree

        xs = x.numpy()
        box = None
        if period is not None:
            p = torch.as_tensor(period, dtype=torch.float64).numpy()
            xs = xs % p
            box = p
        dist, _ = cKDTree(xs, boxsize=box).query(xs, k=2)
        return float(dist[:, 1].min())
    except ImportError:
        best = math.inf
        for s in range(0, x.shape[0], 2048):
            diff = (x[s : s + 2048, None, :] - x[None, :, :]).abs()
            if period is not None:
                p = torch.as_tensor(period, dtype=torch.float64)
                diff = torch.minimum(diff, p - diff)
            dd = diff.pow(2).sum(-1).sqrt()
            rows = torch.arange(s, min(s + 2048, x.shape[0]))
            dd[rows - s, rows] = math.inf
            best = min(best, dd.min().item())
        return best


def relative_radius(points: torch.Tensor, *, volume: float = 1.0, periodic: bool = True) -> float:
    """rho = (smallest distance among ``points``) / (2 r_max), the quality
    measure of Poisson disk sets (about 0.72 for sample elimination in 2D, 0.01
    for a random subset). ``periodic`` measures toroidally on [0, 1)^d."""
    n, d = points.shape
    period = torch.ones(d, dtype=torch.float64) if periodic else None
    return min_distance(points, period) / (2.0 * max_radius(n, volume, d))
