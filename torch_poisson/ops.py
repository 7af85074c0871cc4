"""The functional API: sample_elimination, estimate_radius and poisson_disk.

Thin wrappers over ``torch.ops.torch_poisson.sample_elimination`` (the C core
behind LibTorch's stable ABI) plus its fake kernel, so ``torch.compile`` and
``torch.library.opcheck`` work.
"""
import numbers
import re
import signal
import threading
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import torch

BoundsLike = Union[torch.Tensor, Tuple[Sequence[float], Sequence[float]], None]

# The points' dtypes. The operator computes in float64, to which each of them
# converts exactly: float16/bfloat16 points give the indices of the same
# points up-cast (x.half() and x.half().float() are one call).
_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


# ----------------------------------------------------------------- checks --


def _check_points(points, name="points", batched=False):
    """batched: the caller also takes a padded batch (B, M, d) (named in the message)."""
    shapes = "2-D tensor of shape (M, d)" + (" or a 3-D padded batch (B, M, d)" if batched else "")
    if not isinstance(points, torch.Tensor):
        raise TypeError(f"{name} must be a {shapes}, got {type(points).__name__}")
    if points.dim() != 2:
        raise ValueError(f"{name} must be a {shapes}, got {points.dim()}-D with shape {tuple(points.shape)}")
    if points.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be float16, bfloat16, float32 or float64, got {points.dtype}")


def _check_int(value, name, lo=None, hi=None):
    """An int (or a one-element integer tensor) in [lo, hi]; the default range
    is the operators' int64."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if (isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point()
                and not value.is_complex() and value.dtype != torch.bool):
            value = int(value)
        else:
            raise TypeError(f"{name} must be an int, got {value!r}")
    value = int(value)
    lo = _INT64_MIN if lo is None else lo
    if value < lo or (hi is not None and value > hi):
        rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be {rng}, got {name}={value}")
    return value


def _check_real(value, name):
    """A real number as a float (its range is the C core's check)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _check_bool(value, name):
    """A flag: a bool (or numpy's), not a truthy string or number."""
    if isinstance(value, bool):
        return value
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {name}={value!r}")


def _as_bounds(bounds: BoundsLike, d: int) -> Optional[torch.Tensor]:
    """(2, d) float64 CPU tensor from a tensor or a (lo, hi) pair (its
    values are the C core's check: _check_options)."""
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
    return b


def _check_memory(need, what):
    """Refuses, before allocating, work that needs more memory than is available
    (a clear error instead of the out-of-memory killer). The figure is the
    operators' own (csrc/torch/memory.h: MemAvailable capped by a cgroup
    limit; 0 when unknown)."""
    avail = torch.ops.torch_poisson.available_memory.default()
    if avail and need > avail:
        raise MemoryError(
            f"{what} needs about {need >> 20} MiB of memory, more than the {avail >> 20} MiB "
            "this machine has available: ask for fewer points"
        )


# --------------------------------------------------------------- operator --

_METRICS = ("euclidean", "so3", "sphere")  # in pds_metric's order (the engine takes the number)
_INT64_MAX = (1 << 63) - 1  # the operators' int
_INT64_MIN = -(1 << 63)
_MAX_DIM = 1_000_000  # the largest dim= taken (the operator takes any that fits an int)


class ArgumentError(ValueError, RuntimeError):
    """A bad argument value, refused by the operator or the C core below it.
    A ValueError for the Python API's callers, and the RuntimeError the
    operator raises (torch.ops.torch_poisson.* called directly)."""


_INTERRUPTED = "interrupted (SIGINT, Ctrl-C)"  # the operators' message (csrc/torch/interrupt.h)
# the operators' form of a refused argument: "<op>: [batch item b: ]<status>: ..."
# with the core's status names (pds_status_name) for a bad value
_REFUSED = re.compile(r"\b[a-z_]+: (?:batch item \d+: )?(?:invalid argument|non-finite coordinate): ")


def _call(op, *args, interruptible=True, **kwargs):
    """Calls an operator: the one place the Python API does. A refused
    argument becomes ArgumentError (a ValueError), with the operator's
    message. With ``interruptible``, Ctrl-C stops the call on Python's main
    thread (SIGINT is the main thread's: a sampler's background thread is not
    stopped by it); when it did (csrc/torch/interrupt.h), raises SIGINT again
    now that it has returned, so that Python's handler runs as it would have
    (KeyboardInterrupt by default), instead of in the middle of handling the
    operator's error."""
    if torch.compiler.is_compiling():
        return op(*args, **kwargs)
    interruptible = interruptible and threading.current_thread() is threading.main_thread()
    try:
        return op(*args, interruptible=True, **kwargs) if interruptible else op(*args, **kwargs)
    except RuntimeError as e:
        message = str(e)
        if _REFUSED.search(message):
            raise ArgumentError(message) from None
        if not interruptible or _INTERRUPTED not in message:
            raise
        error = e
    signal.raise_signal(signal.SIGINT)
    raise error  # a handler that did not raise: the call still failed


def _check_radius(radius):
    """(radius or None, auto flag)."""
    if isinstance(radius, str):
        if radius != "auto":
            raise ValueError(f'radius must be a positive number, None or "auto", got radius={radius!r}')
        return None, True
    if radius is not None:
        radius = _check_real(radius, "radius")
    return radius, False


class _Options(NamedTuple):
    """sample_elimination's options as the operators take them, in their
    schema's order (after points and n)."""
    bounds: Optional[torch.Tensor]
    radius: Optional[float]
    periodic: bool
    alpha: float
    beta: float
    gamma: float
    weight_limiting: bool
    progressive: bool
    metric: str
    dim: Optional[int]
    volume: Optional[float]
    auto_radius: bool


def _options(d, *, bounds, radius, periodic, alpha, beta, gamma, weight_limiting, progressive, metric, dim,
             volume) -> _Options:
    """sample_elimination's options converted for the operators: the one
    conversion, shared by the plain and the batched call and both samplers
    (PoissonBatchSampler hands them to its engine). Their values are the C
    core's check (at the call, or _check_options)."""
    b = _as_bounds(bounds, d)
    radius, auto = _check_radius(radius)
    alpha = _check_real(alpha, "alpha")
    beta = _check_real(beta, "beta")
    gamma = _check_real(gamma, "gamma")
    periodic = _check_bool(periodic, "periodic")
    if dim is not None:
        dim = _check_int(dim, "dim", 1, _MAX_DIM)
    if volume is not None:
        volume = _check_real(volume, "volume")
    return _Options(b, radius, periodic, alpha, beta, gamma, _check_bool(weight_limiting, "weight_limiting"),
                    _check_bool(progressive, "progressive"), metric, dim, volume, auto)


def _check_options(d, opts: Optional[_Options] = None, **given):
    """The C core's check of converted options (``opts``, or only those
    ``given``, the rest at their defaults) for d-dimensional points
    (pds_check_options), for callers that check before a call (the samplers,
    at construction) or never make one (the quality measures)."""
    options = opts._asdict() if opts is not None else given
    _call(torch.ops.torch_poisson.check_options.default, d, interruptible=False, **options)


def _checked_bounds(bounds: BoundsLike, d: int, *, periodic=False, metric="euclidean") -> Optional[torch.Tensor]:
    """_as_bounds, its values (and periodic's and metric's rules) checked by the C core."""
    b = _as_bounds(bounds, d)
    _check_options(d, bounds=b, periodic=periodic, metric=metric)
    return b


def sample_elimination(
    points: torch.Tensor,
    n: Union[int, torch.Tensor],
    *,
    bounds: BoundsLike = None,
    radius: Union[float, str, None] = None,
    periodic: bool = False,
    alpha: float = 8.0,
    beta: float = 0.65,
    gamma: float = 1.5,
    weight_limiting: bool = True,
    progressive: bool = False,
    metric: str = "euclidean",
    dim: Optional[int] = None,
    volume: Optional[float] = None,
    lengths: Optional[torch.Tensor] = None,
    keep: Union[torch.Tensor, Sequence[int], None] = None,
) -> torch.Tensor:
    """Indices of ``n`` well-spread (Poisson disk) points out of ``points``.

    Weighted sample elimination (Yuksel 2015): every point is weighted by its
    neighbours within ``d_max = 2 * r_max``; the heaviest is removed and its
    neighbours' weights updated until ``n`` remain. Exact and deterministic:
    the same input gives the same indices for any thread count. Ties between
    equal weights remove the smaller input index first.

    Args:
        points: (M, d) float16, bfloat16, float32 or float64 tensor, any
            strides, any d >= 1; or a padded batch (B, M, d) (see ``lengths``).
            Computed in float64, to which every one of these converts exactly:
            half precision points give the indices of the same points up-cast.
            A CUDA tensor is computed on the CPU and the result returned on
            its device.
            ``requires_grad`` inputs are fine (indices have no grad).
        n: how many to keep, 1 <= n <= M (n == M keeps all). For a batch, an
            int or a (B,) integer tensor with 0 <= n[b] <= M; an item with
            fewer points (lengths[b] < n[b]) keeps all of them, its row
            padded with -1 (pytorch3d's convention).
        bounds: the domain, a (2, d) tensor ``[lo, hi]`` or a ``(lo, hi)`` pair
            of length-d sequences. Default: the points' bounding box (over the
            axes they span, so points on a line count as 1-D). Used for r_max
            and, with ``periodic``, as the period. Euclidean only.
        radius: r_max; default from the domain volume V and dimension D: 2D
            sqrt(V / (2 sqrt(3) n)), 3D cbrt(V / (4 sqrt(2) n)), otherwise
            (V / (n V_D))^(1/D) with V_D the unit D-ball's volume.
            ``"auto"`` estimates it from the points themselves, for data that
            does not fill its bounding box (surfaces, clusters, embeddings):
            the median, over 256 query points, of the distance to the
            (M/n)-th nearest point (a ball that holds M/n points), times the
            packing factor of D; D is ``dim``, the metric's, or estimated from
            how that distance grows from M/n to 2M/n neighbours. Cost
            O(256 M d).
        periodic: toroidal (minimum image) distances over ``bounds`` (needed),
            so the result tiles seamlessly. Euclidean only.
        alpha, beta, gamma: weight function (1 - max(dist, d_min)/d_max)^alpha
            with weight limiting d_min = d_max (1 - (n/M)^gamma) beta.
        weight_limiting: use d_min (default True); off means d_min = 0.
        progressive: order the result so that every prefix is well spread.
        metric: ``"euclidean"``; ``"so3"``: rows are quaternions (M, 4) of
            rotations, normalised internally, q and -q the same rotation,
            distance the rotation angle 2 acos(|q1.q2|) in radians, domain
            dimension 3 and volume 8 pi^2; ``"sphere"``: rows are directions
            (M, k), normalised internally, distance the great-circle angle,
            dimension k - 1, volume the area of S^(k-1).
        dim, volume: override the domain's dimension and volume used for r_max
            (e.g. ``dim=2, volume=4*pi`` for points on the unit sphere's
            surface given as 3-D points).
        lengths: for a batch, (B,) integer tensor of valid rows per item
            (default all M): item b is ``points[b, :lengths[b]]``.
        keep: points that are never eliminated: integer indices (a tensor or
            a sequence; repeated indices count once) or an (M,) boolean
            mask. They count toward ``n`` (at most ``n`` distinct ones), and
            their weights still push their neighbours out: each step removes
            the heaviest point not kept, the algorithm otherwise unchanged.
            With ``progressive``, they are kept through every halving level,
            so they come first (ascending) and every prefix of at least
            ``len(keep)`` points holds all of them. For a batch: a (B, K)
            integer tensor padded with -1, or a (B, M) boolean mask.

    Returns:
        (n,) int64 indices into ``points``: ascending, or in progressive order.
        For a batch: (B, max n) int64, row b the indices local to item b (the
        unbatched call on ``points[b, :lengths[b]]`` keeping
        ``min(n[b], lengths[b])``), padded with -1.

    Example:
        >>> pts = torch.rand(100_000, 2)
        >>> idx = sample_elimination(pts, 12_500, bounds=([0, 0], [1, 1]), periodic=True)
        >>> blue = pts[idx]                                  # (12500, 2)
        >>> q = torch.randn(8000, 4)                         # random rotations
        >>> rot = q[sample_elimination(q, 200, metric="so3")]  # (200, 4)
        >>> batch = torch.rand(16, 2048, 2)
        >>> sample_elimination(batch, 256).shape             # (16, 256)
        torch.Size([16, 256])
        >>> grown = torch.cat([pts, torch.rand(10_000, 2)])  # 10k new points
        >>> idx2 = sample_elimination(grown, 13_750, keep=idx)  # idx stays
        >>> bool(torch.isin(idx, idx2).all())
        True
    """
    keep = _as_keep(keep)
    if isinstance(points, torch.Tensor) and points.dim() == 3:
        return _sample_elimination_batched(
            points, n, lengths=lengths, bounds=bounds, radius=radius, periodic=periodic, alpha=alpha,
            beta=beta, gamma=gamma, weight_limiting=weight_limiting, progressive=progressive,
            metric=metric, dim=dim, volume=volume, keep=keep,
        )
    if lengths is not None:
        raise ValueError(f"lengths is only for batched (B, M, d) points, got points of shape {tuple(points.shape)}")
    _check_points(points, batched=True)
    m, d = points.shape
    if isinstance(n, torch.Tensor) and n.numel() == 1 and torch.compiler.is_compiling():
        # a tensor n is data under torch.compile: the batched operator takes
        # it as a tensor (its one row is this call's result; the operator
        # checks the value)
        if n.is_floating_point() or n.dtype == torch.bool:
            raise TypeError(f"n must be an int, got {n!r}")
        n1 = n.reshape(1).to(torch.int64)
        torch._check(n1[0].item() >= 1, lambda: "n must be >= 1")
        return _sample_elimination_batched(
            points[None], n1, lengths=None, bounds=bounds, radius=radius, periodic=periodic, alpha=alpha,
            beta=beta, gamma=gamma, weight_limiting=weight_limiting, progressive=progressive,
            metric=metric, dim=dim, volume=volume, keep=None if keep is None else keep[None],
        )[0]
    n = _check_int(n, "n", hi=_INT64_MAX)
    opts = _options(d, bounds=bounds, radius=radius, periodic=periodic, alpha=alpha, beta=beta, gamma=gamma,
                    weight_limiting=weight_limiting, progressive=progressive, metric=metric, dim=dim,
                    volume=volume)
    return _call(torch.ops.torch_poisson.sample_elimination.default, points, n, *opts, keep=keep)


def _as_keep(keep):
    """keep as the operators take it: None or a tensor (an empty sequence
    as int64; the operators check the dtype and shape, the core the values)."""
    if keep is None or isinstance(keep, torch.Tensor):
        return keep
    t = torch.as_tensor(keep)
    return t.to(torch.int64) if t.numel() == 0 else t


def _sample_elimination_batched(points, n, *, lengths, bounds, radius, periodic, alpha, beta, gamma,
                                 weight_limiting, progressive, metric, dim, volume, keep=None):
    B, m, d = points.shape  # its dtype, d >= 1, lengths' and n's shapes and values: the operator's checks
    if lengths is not None and not isinstance(lengths, torch.Tensor):
        raise ValueError(f"lengths must be a (B,) = ({B},) integer tensor, got {lengths!r}")
    if isinstance(n, torch.Tensor) and n.dim() == 1:
        n_t, max_n = n, -1
    else:
        n = _check_int(n, "n", 0, m)
        n_t, max_n = torch.full((B,), n, dtype=torch.int64), n
    opts = _options(d, bounds=bounds, radius=radius, periodic=periodic, alpha=alpha, beta=beta, gamma=gamma,
                    weight_limiting=weight_limiting, progressive=progressive, metric=metric, dim=dim,
                    volume=volume)
    return _call(torch.ops.torch_poisson.sample_elimination_batched.default,
                 points, lengths, n_t, max_n, *opts, keep=keep)


@torch.library.register_fake("torch_poisson::sample_elimination")
def _sample_elimination_fake(
    points, n, bounds=None, radius=None, periodic=False, alpha=8.0, beta=0.65, gamma=1.5,
    weight_limiting=True, progressive=False, metric="euclidean", dim=None, volume=None, auto_radius=False,
    interruptible=False, keep=None,
):
    torch._check(points.dim() == 2, lambda: f"points must be 2-D, got {points.dim()}-D")
    torch._check(points.dtype in _FLOAT_DTYPES, lambda: f"points must be float16, bfloat16, float32 or float64, got {points.dtype}")
    torch._check(1 <= n, lambda: f"n must be >= 1, got {n}")
    torch._check(n <= points.shape[0], lambda: f"n must be <= M, got n={n}")
    return points.new_empty((n,), dtype=torch.int64)


@torch.library.register_fake("torch_poisson::sample_elimination_batched")
def _sample_elimination_batched_fake(
    points, lengths, n, max_n=-1, bounds=None, radius=None, periodic=False, alpha=8.0, beta=0.65,
    gamma=1.5, weight_limiting=True, progressive=False, metric="euclidean", dim=None, volume=None,
    auto_radius=False, interruptible=False, keep=None,
):
    torch._check(points.dim() == 3, lambda: f"points must be 3-D, got {points.dim()}-D")
    torch._check(points.dtype in _FLOAT_DTYPES, lambda: f"points must be float16, bfloat16, float32 or float64, got {points.dtype}")
    torch._check(n.dim() == 1 and n.shape[0] == points.shape[0], lambda: f"n must have shape (B,), got {tuple(n.shape)}")
    if max_n >= 0:
        width = max_n
    else:
        width = torch.library.get_ctx().new_dynamic_size()  # the largest n[b]: data-dependent
    return points.new_empty((points.shape[0], width), dtype=torch.int64)


def estimate_radius(points: torch.Tensor, n: int, *, metric: str = "euclidean",
                    dim: Optional[int] = None) -> Tuple[float, int]:
    """The r_max and dimension D that ``radius="auto"`` uses for keeping
    ``n`` of ``points`` (see :func:`sample_elimination`).

    r_max is the median over 256 evenly spaced query rows of the distance to
    the k-th nearest row, k = M/n (a ball holding M/n points), times the
    packing factor of D; D is ``dim``, the metric's, or log 2 / log(r_2k / r_k).

    Args:
        points: (M, d) float tensor; quaternions for so3, directions for sphere.
        n: the number of points to keep, 1 <= n <= M.
        metric: "euclidean", "so3" or "sphere" (distances in radians).
        dim: the dimension, if known.

    Returns:
        (r_max, D).

    Example:
        >>> x = torch.randn(20_000, 3); x = x / x.norm(dim=1, keepdim=True)  # a surface
        >>> r, D = estimate_radius(x, 2_500)                                # D == 2
    """
    _check_points(points)
    n = _check_int(n, "n", hi=_INT64_MAX)
    if dim is not None:
        dim = _check_int(dim, "dim", 1, _MAX_DIM)
    r, D = _call(torch.ops.torch_poisson.estimate_radius.default, points, n, metric, dim,
                 interruptible=False).tolist()
    return r, int(D)


@torch.library.register_fake("torch_poisson::check_options")
def _check_options_fake(*args, **kwargs):
    return None


@torch.library.register_fake("torch_poisson::estimate_radius")
def _estimate_radius_fake(points, n, metric="euclidean", dim=None):
    return points.new_empty((2,), dtype=torch.float64)


# ------------------------------------------------------------- generation --


def poisson_disk(
    n: int,
    dim: int = 2,
    *,
    bounds: BoundsLike = None,
    oversample: int = 8,
    periodic: Optional[bool] = None,
    generator: Optional[torch.Generator] = None,
    dtype: torch.dtype = torch.float32,
    metric: str = "euclidean",
    weight_limiting: Optional[bool] = None,
) -> torch.Tensor:
    """``n`` blue-noise points: uniform candidates, then elimination.

    Draws ``oversample * n`` uniform candidates with torch's RNG (so
    ``torch.manual_seed`` or ``generator`` reproduce the result) and keeps
    ``n`` of them with :func:`sample_elimination`.

    Args:
        n: number of points, >= 1.
        dim: dimension, >= 1 (euclidean); the vectors' length k >= 2 for
            ``metric="sphere"`` (points on S^(k-1)); ignored for ``"so3"``.
        bounds: the box, (2, dim) tensor or (lo, hi) pair; default [0, 1)^dim.
            Euclidean only.
        oversample: candidates per kept point, >= 1 (Yuksel recommends ~8).
        periodic: eliminate with toroidal distances (tileable output); default
            True for euclidean. Not for so3/sphere.
        generator: a torch.Generator for the candidates.
        dtype: the output's dtype: float16, bfloat16, float32 or float64
            (candidates drawn and eliminated in float64, rounded at the end).
        metric: ``"euclidean"`` (points in a box), ``"so3"`` (well-spread
            rotations from uniform Haar candidates, returned as unit
            quaternions (w, x, y, z) with w >= 0) or ``"sphere"`` (well-spread
            directions, unit vectors).
        weight_limiting: passed to :func:`sample_elimination`; default on
            where the domain has at most 3 dimensions (euclidean dim <= 3,
            so3, sphere on S^1..S^3) and off above. From 4 dimensions on, the
            limit d_min = 0.62 d_max lies past the spacing that elimination
            from 8x candidates reaches (about 0.55 d_max), so every close pair
            weighs alike: toroidal 4-D and 5-D sets with it are no better
            spread than random ones (relative radius 0.01-0.09 against 0.55
            without it).

    Returns:
        (n, dim) points inside ``bounds``; (n, 4) unit quaternions for so3;
        (n, dim) unit vectors for sphere.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> xy = poisson_disk(1000, dim=2)                  # (1000, 2) in [0, 1)^2
        >>> rot = poisson_disk(200, metric="so3")           # (200, 4) rotations
        >>> dirs = poisson_disk(500, dim=3, metric="sphere")  # (500, 3) on S^2
    """
    n = _check_int(n, "n", 1)
    oversample = _check_int(oversample, "oversample", 1)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be torch.float16, torch.bfloat16, torch.float32 or torch.float64, got {dtype}")
    if metric in ("so3", "sphere"):
        k = 4 if metric == "so3" else _check_int(dim, "dim", 2)
        _checked_bounds(bounds, k, periodic=bool(periodic), metric=metric)
        _check_memory(n * oversample * (16 * k + 64), f"poisson_disk(n={n}, metric={metric!r}, oversample={oversample})")
        # normalised Gaussians are uniform on the sphere (Haar measure on SO(3) for k = 4)
        cand = torch.randn(n * oversample, k, generator=generator, dtype=torch.float64)
        cand = cand / cand.norm(dim=1, keepdim=True)
        if metric == "so3":
            cand = torch.where(cand[:, :1] < 0, -cand, cand)  # one of q, -q: w >= 0
        wl = (metric == "so3" or k <= 4) if weight_limiting is None else weight_limiting
        idx = sample_elimination(cand, n, metric=metric, weight_limiting=wl)
        return cand[idx].to(dtype)
    dim = _check_int(dim, "dim", 1)
    b = _checked_bounds(bounds, dim, metric=metric)
    if b is None:
        b = torch.tensor([[0.0] * dim, [1.0] * dim], dtype=torch.float64)
    m = n * oversample
    _check_memory(m * (16 * dim + 64), f"poisson_disk(n={n}, dim={dim}, oversample={oversample})")
    cand = torch.rand(m, dim, generator=generator, dtype=torch.float64)
    cand.mul_(b[1] - b[0]).add_(b[0])  # in place: no temporaries of the candidates' size
    wl = dim <= 3 if weight_limiting is None else weight_limiting
    idx = sample_elimination(cand, n, bounds=b, periodic=True if periodic is None else periodic,
                             weight_limiting=wl)
    return cand[idx].to(dtype)
