"""DataLoader samplers whose subsets and batches are well spread (Poisson disk).

``PoissonSampler`` draws, every epoch, a Poisson subset of ``num_samples``
items (eliminated from a random candidate pool with
:func:`torch_poisson.sample_elimination`); ``PoissonBatchSampler`` makes every
batch itself a Poisson subset of a fresh random pool of ``pool_factor *
batch_size`` candidates, computed ahead by native threads
(``torch_poisson._engine``). "Well spread" is measured in ``features``, one
row per dataset item.

Both follow ``DistributedSampler``'s conventions (``set_epoch``, seed + epoch
decide everything, ``num_replicas``/``rank`` from ``torch.distributed``) and
torchdata's ``StatefulDataLoader`` protocol (``state_dict`` /
``load_state_dict`` resume mid-epoch).

>>> from torch.utils.data import DataLoader
>>> feats = torch.rand(100_000, 2)
>>> loader = DataLoader(ds, batch_sampler=PoissonBatchSampler(feats, 256, seed=0))
>>> for epoch in range(3):
...     loader.batch_sampler.set_epoch(epoch)
...     for batch in loader: ...
"""
import atexit
import inspect
import math
import os
import threading
import weakref
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch

from . import ops as _ops
from .ops import _INT64_MAX, _check_bool, _check_int

try:
    from . import _engine
except ImportError as _e:  # pragma: no cover - a build without pybind11
    _engine = None
    _ENGINE_ERROR = _e

__all__ = ["PoissonSampler", "PoissonBatchSampler"]

_MASK63 = (1 << 63) - 1
# the engine's (and draw_pool's) integer parameters: int64_t epoch, batch,
# num_batches and rank (_INT64_MAX); int prefetch
_INT32_MAX = (1 << 31) - 1


# ------------------------------------------------------------ fork safety --
# Native and Python helper threads must not be running when the process
# forks (a DataLoader starting its workers): the child would inherit locks
# held by threads that do not exist there. Every sampler registers here; the
# hooks stop their threads before fork() and let them restart lazily after.

_LIVE: "weakref.WeakSet" = weakref.WeakSet()


def _before_fork():
    for s in list(_LIVE):
        s._fork_pause()


def _after_fork():
    for s in list(_LIVE):
        s._fork_resume()


def _at_exit():
    # No helper thread may outlive the interpreter (torch's pools go first).
    for s in list(_LIVE):
        s._fork_pause()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)
atexit.register(_at_exit)


# ----------------------------------------------------------------- checks --


def _check_epoch(value, name="epoch"):
    """An epoch the engine takes (an int64)."""
    return _check_int(value, name, 0, _INT64_MAX)


def _check_features(features, dataset) -> torch.Tensor:
    """(N, d) CPU float tensor (float32 stays float32, the rest is float64), copied off the GPU."""
    if isinstance(features, np.ndarray):
        features = torch.from_numpy(features)
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"features must be a torch.Tensor or numpy array of shape (N, d), got {type(features).__name__}")
    if features.dim() != 2:
        raise ValueError(
            f"features must be 2-D of shape (N, d), got {features.dim()}-D with shape {tuple(features.shape)}"
        )
    if features.dtype not in _ops._FLOAT_DTYPES:
        raise TypeError(f"features must be floating point (float16, bfloat16, float32 or float64), got {features.dtype}")
    if features.shape[0] < 1 or features.shape[1] < 1:
        raise ValueError(f"features must hold at least one row and one column, got shape {tuple(features.shape)}")
    # our own copy (once, here; off the GPU too): later in-place edits of the
    # caller's tensor cannot change the batches
    dtype = features.dtype if features.dtype in (torch.float32, torch.float64) else torch.float64
    # this copy, and PoissonBatchSampler's float64 one for the engine: refused
    # before allocating when the machine cannot hold them (not the allocator's error)
    _ops._check_memory(features.numel() * (torch.finfo(dtype).bits // 8 + 8),
                       f"a sampler over features of shape {tuple(features.shape)}")
    f = features.detach().to(device="cpu", dtype=dtype, memory_format=torch.contiguous_format, copy=True)
    finite = torch.isfinite(f).all(dim=1)
    if not bool(finite.all()):
        bad = (~finite).nonzero().flatten()
        raise ValueError(
            f"features must be finite: {bad.numel()} row(s) hold NaN or Inf, the first is "
            f"features[{int(bad[0])}] = {f[int(bad[0])].tolist()}"
        )
    if dataset is not None:
        try:
            n = len(dataset)
        except TypeError as e:
            raise TypeError(f"dataset must have a length, got {type(dataset).__name__}") from e
        if n != f.shape[0]:
            raise ValueError(
                f"features must have one row per dataset item: len(dataset)={n} but features has "
                f"{f.shape[0]} rows"
            )
    return f


def _check_feature_rows(f: torch.Tensor, opts: "_ops._Options") -> None:
    """Rows the elimination would refuse, found once at construction (naming
    the dataset row) rather than mid-epoch when a random pool holds one
    (naming a pool index). Vectorised: a few passes over the features.

    so3/sphere normalise rows: a zero-length row is refused. With periodic
    bounds every coordinate must lie in [lo, hi], both ends included (the
    core's rule). Only checked where the options are otherwise consistent
    (the option checks report the rest)."""
    n, d = f.shape
    metric = opts.metric
    if (metric == "so3" and d == 4) or (metric == "sphere" and d >= 2):
        zero = f.abs().amax(dim=1) == 0
        if bool(zero.any()):
            bad = zero.nonzero().flatten()
            i = int(bad[0])
            raise ValueError(
                f"metric={metric!r} normalises every row to unit length: {bad.numel()} feature row(s) have "
                f"zero length, the first is features[{i}] (all {d} coordinates are 0)"
            )
    if metric == "euclidean" and opts.periodic and opts.bounds is not None:
        b = opts.bounds
        out = (f < b[0]) | (f > b[1])  # compared in float64, as the core does
        rows = out.any(dim=1)
        if bool(rows.any()):
            bad = rows.nonzero().flatten()
            i = int(bad[0])
            k = int(out[i].nonzero()[0])
            raise ValueError(
                f"with periodic=True every feature must lie inside bounds: {bad.numel()} row(s) lie outside, "
                f"the first is features[{i}] with features[{i}, {k}] = {f[i, k].item()} outside "
                f"[{b[0, k].item()}, {b[1, k].item()}] (bounds={b.tolist()})"
            )


def _replicas(num_replicas, rank):
    """num_replicas and rank, defaulting from torch.distributed when initialised."""
    dist_on = torch.distributed.is_available() and torch.distributed.is_initialized()
    if num_replicas is None:
        num_replicas = torch.distributed.get_world_size() if dist_on else 1
    if rank is None:
        rank = torch.distributed.get_rank() if dist_on else 0
    num_replicas = _check_int(num_replicas, "num_replicas", 1, _INT64_MAX)  # rank is an int64
    rank = _check_int(rank, "rank", 0)
    if rank >= num_replicas:
        raise ValueError(f"rank must be in [0, num_replicas - 1] = [0, {num_replicas - 1}], got rank={rank}")
    return num_replicas, rank


def _elimination_defaults() -> dict:
    """sample_elimination's options and their defaults (its signature is
    where they are written), less lengths and keep, which name rows of one
    call's points."""
    sig = inspect.signature(_ops.sample_elimination)
    return {p.name: p.default for p in sig.parameters.values()
            if p.kind == p.KEYWORD_ONLY and p.name not in ("lengths", "keep")}


def _check_options(options: dict, d: int, fixed=None):
    """The options as given (checked by name) with the sampler's ``fixed``
    ones added, and the same converted by sample_elimination's conversion,
    its defaults filled in: bad values fail at construction."""
    fixed = fixed or {}
    defaults = _elimination_defaults()
    allowed = set(defaults) - set(fixed)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"unknown elimination option(s) {', '.join(unknown)}: the options are {', '.join(sorted(allowed))}"
        )
    options = dict(options, **fixed)
    opts = _ops._options(d, **dict(defaults, **options))
    _ops._check_options(d, opts)
    return options, opts


def _epoch_seed(seed: int, epoch: int, salt: int) -> int:
    x = (seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & _MASK63
    x ^= x >> 31
    return x & _MASK63


def _check_state(state, kind, keys):
    """A state_dict saved by ``kind``, holding every key of ``keys``."""
    if not isinstance(state, dict):
        raise ValueError(f"state_dict must be a dict saved by {kind}.state_dict(), got {state!r}")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(
            f"state_dict is missing key(s) {', '.join(map(repr, missing))}: a {kind}.state_dict() holds "
            f"{', '.join(map(repr, keys))}, got keys {', '.join(map(repr, state))}"
        )
    if state["kind"] != kind:
        raise ValueError(f"state_dict must be a dict saved by {kind}.state_dict(), got {state!r}")
    return state


def _check_saved(state, name, mine):
    """A saved setting (when the state holds it) must be this sampler's."""
    if name in state and state[name] != mine:
        raise ValueError(
            f"state_dict was saved with {name}={state[name]!r}, this sampler has {name}={mine!r}: "
            f"its position is not this sampler's"
        )


# ---------------------------------------------------------- PoissonSampler --


def _epoch_subset(features, pool_size, num_samples, seed, epoch, shuffle, options) -> torch.Tensor:
    """PoissonSampler's global subset of one epoch: a pure function of its
    arguments (the pool from the engine's Floyd draw keyed on (seed, epoch))."""
    n = features.shape[0]
    pool = torch.from_numpy(_engine.draw_pool(n, pool_size, seed, epoch, 0, 0))
    keep = _ops.sample_elimination(features[pool], num_samples, **options)
    idx = pool[keep]
    if shuffle:
        g = torch.Generator().manual_seed(_epoch_seed(seed, epoch, 1))
        idx = idx[torch.randperm(idx.numel(), generator=g)]
    return idx


class _Slot:
    """One epoch's subset, computed by a daemon thread that holds no
    reference to the sampler (so deleting the sampler can join it)."""

    def __init__(self, job):
        self._value = None
        self._error = None
        self._thread = threading.Thread(target=self._run, args=job, name="PoissonSampler-prefetch", daemon=True)
        self._thread.start()

    def _run(self, *job):
        try:
            self._value = _epoch_subset(*job)
        except BaseException as e:  # re-raised by result()
            self._error = e

    def join(self):
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def result(self) -> torch.Tensor:
        self.join()
        if self._error is not None:
            raise self._error
        return self._value


class PoissonSampler(torch.utils.data.Sampler):
    """A fresh Poisson-distributed subset of ``num_samples`` items each epoch.

    Each epoch draws a random candidate pool of ``pool_size`` distinct items,
    eliminates it to exactly ``num_samples`` with
    :func:`torch_poisson.sample_elimination` (measured in ``features``) and
    yields those dataset indices: shuffled when ``shuffle``, else in
    progressive order (every prefix well spread). ``(seed, epoch)`` decide
    everything: every process computes the same subset. The next epoch's
    subset is computed in a background thread (the operator releases the GIL)
    while the current one is consumed.

    Distributed: every rank computes the same subset and takes a disjoint,
    equal-length shard (``rank::num_replicas`` after padding by repetition,
    or truncation with ``drop_last``), exactly like ``DistributedSampler``.

    Args:
        features: (N, d) float16, bfloat16, float32 or float64 tensor or
            array, one row per dataset item, copied once, here (to the CPU,
            float16/bfloat16 as float64): half precision features are
            sampled as the same features up-cast.
        num_samples: subset size, 1 <= num_samples <= N.
        pool_size: candidates per epoch, num_samples <= pool_size <= N;
            default min(8 * num_samples, N).
        seed: the run's seed (int).
        shuffle: yield the subset in random order (else progressive order).
        num_replicas, rank: the distributed group; default from
            ``torch.distributed`` when initialised, else 1 and 0.
        drop_last: drop the tail instead of padding so shards are equal.
        dataset: optional; when given, ``len(dataset)`` must equal N.
        **options: elimination options passed to ``sample_elimination``
            (bounds, radius, periodic, alpha, beta, gamma, weight_limiting,
            metric, ...), checked here.

    Example:
        >>> feats = torch.rand(50_000, 2)
        >>> sampler = PoissonSampler(feats, 5000, seed=0)
        >>> loader = DataLoader(ds, batch_size=64, sampler=sampler)
        >>> for epoch in range(3):
        ...     sampler.set_epoch(epoch)
        ...     for batch in loader: ...
    """

    def __init__(
        self,
        features,
        num_samples: int,
        *,
        pool_size: Optional[int] = None,
        seed: int = 0,
        shuffle: bool = True,
        num_replicas: Optional[int] = None,
        rank: Optional[int] = None,
        drop_last: bool = False,
        dataset=None,
        **options,
    ):
        self._features = _check_features(features, dataset)
        n = self._features.shape[0]
        self.num_samples = _check_int(num_samples, "num_samples", 1, n)
        if pool_size is None:
            pool_size = min(8 * self.num_samples, n)
        self.pool_size = _check_int(pool_size, "pool_size", self.num_samples, n)
        self.seed = _check_int(seed, "seed", 0, 2**64 - 1)
        self.shuffle = _check_bool(shuffle, "shuffle")
        self.drop_last = _check_bool(drop_last, "drop_last")
        self.num_replicas, self.rank = _replicas(num_replicas, rank)
        self.options, opts = _check_options(options, self._features.shape[1],
                                            fixed={"progressive": not self.shuffle})
        # Rows the elimination refuses fail here, named by their dataset row
        # (not mid-epoch, named by an index into a random pool).
        _check_feature_rows(self._features, opts)
        # Option values are checked by the operator itself, on 64 points
        # spread over the features' bounding box (not on the data's first
        # rows, which may legitimately coincide).
        lo, hi = self._features.amin(0), self._features.amax(0)
        u = torch.rand(64, lo.numel(), generator=torch.Generator().manual_seed(0), dtype=lo.dtype)
        trial = dict(self.options, progressive=False)
        sample_elimination_checked(torch.minimum(lo + u * (hi - lo), hi), 8, trial)
        if _engine is None:  # pragma: no cover
            raise ImportError(f"torch_poisson._engine is missing ({_ENGINE_ERROR}); rebuild the package")

        r = self.num_replicas
        if self.drop_last and self.num_samples % r != 0:
            self._per_rank = math.ceil((self.num_samples - r) / r)
        else:
            self._per_rank = math.ceil(self.num_samples / r)
        self._total = self._per_rank * r
        self.epoch = 0
        self._init_runtime()

    def _init_runtime(self):
        self._lock = threading.Lock()
        self._slots: Dict[int, "_Slot"] = {}  # epoch -> its subset, ready or being computed
        self._resume: Optional[int] = None
        self._yielded = 0
        self._token = 0
        _LIVE.add(self)
        self._prefetch(self.epoch)

    # -- the subset --------------------------------------------------------

    def subset(self, epoch: Optional[int] = None) -> torch.Tensor:
        """The global subset of an epoch (default the current one): a
        (num_samples,) int64 tensor of dataset indices, in yield order
        before sharding. A pure function of (seed, epoch)."""
        e = self.epoch if epoch is None else _check_epoch(epoch)
        self._prefetch(e)
        with self._lock:
            slot = self._slots[e]
        return slot.result()

    def _prefetch(self, epoch: int):
        """Starts computing an epoch's subset in a background thread."""
        with self._lock:
            if epoch in self._slots:
                return
            # keep memory bounded: the current epoch, the asked one, and the latest
            for e in [e for e in self._slots if e not in (self.epoch, epoch)]:
                self._slots.pop(e).join()
            job = (self._features, self.pool_size, self.num_samples, self.seed, epoch, self.shuffle, self.options)
            self._slots[epoch] = _Slot(job)

    def _wait(self):
        with self._lock:
            slots = list(self._slots.values())
        for slot in slots:
            slot.join()

    def _fork_pause(self):
        self._wait()  # the thread finishes; the child never sees it

    def _fork_resume(self):
        pass

    def __del__(self):
        slots = getattr(self, "_slots", None)
        for slot in list(slots.values()) if slots else ():
            slot.join()  # a deleted sampler leaves no thread behind

    # -- Sampler protocol ----------------------------------------------------

    def shard(self, epoch: Optional[int] = None) -> torch.Tensor:
        """This rank's indices of an epoch, as ``__iter__`` yields them."""
        idx = self.subset(epoch)
        if self._total > idx.numel():
            pad = self._total - idx.numel()
            reps = math.ceil(pad / idx.numel())
            idx = torch.cat([idx, idx.repeat(reps)[:pad]])
        else:
            idx = idx[: self._total]
        return idx[self.rank : self._total : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        start = self._resume or 0
        self._resume = None
        epoch = self.epoch
        mine = self.shard(epoch).tolist()
        if epoch < _INT64_MAX:
            self._prefetch(epoch + 1)
        self._token += 1
        self._yielded = start
        return self._iterate(mine, start, self._token, epoch)

    def _iterate(self, mine: List[int], start: int, token: int, epoch: int):
        for i in range(start, len(mine)):
            # the position is the current epoch's: not after set_epoch(another)
            if token == self._token and epoch == self.epoch:
                self._yielded = i + 1
            yield mine[i]

    def __len__(self) -> int:
        return self._per_rank

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch (as DistributedSampler): seed + epoch pick the subset.
        A position loaded by ``load_state_dict`` belongs to its epoch: setting
        another epoch starts that one from its beginning (the same epoch
        keeps the position)."""
        epoch = _check_epoch(epoch)
        if epoch != self.epoch:
            self._resume = None
            self._yielded = 0
        self.epoch = epoch
        self._prefetch(self.epoch)

    _STATE_KEYS = ("kind", "epoch", "yielded", "seed")

    def state_dict(self) -> dict:
        """Where the current epoch's iteration stands (StatefulDataLoader)."""
        return {
            "kind": "PoissonSampler", "epoch": self.epoch, "yielded": self._yielded, "seed": self.seed,
            "rank": self.rank, "num_replicas": self.num_replicas,
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume: the next ``iter()`` continues the saved epoch after the
        indices already yielded, exactly as an uninterrupted run would."""
        state = _check_state(state, "PoissonSampler", self._STATE_KEYS)
        # (rank and num_replicas: checked where the state holds them)
        for name, mine in (("seed", self.seed), ("rank", self.rank), ("num_replicas", self.num_replicas)):
            _check_saved(state, name, mine)
        self.set_epoch(_check_epoch(state["epoch"], "state_dict['epoch']"))
        self._resume = _check_int(state["yielded"], "state_dict['yielded']", 0, self._per_rank)
        self._yielded = self._resume

    def close(self) -> None:
        """Waits for the background computation (it never outlives the call)."""
        self._wait()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_slots")}

    def __setstate__(self, d):
        self.__dict__.update(d)
        resume, yielded = self._resume, self._yielded
        self._init_runtime()
        self._resume, self._yielded = resume, yielded


def sample_elimination_checked(points, n, options):
    """sample_elimination, with its RuntimeErrors from the core as ValueError."""
    try:
        return _ops.sample_elimination(points, n, **options)
    except RuntimeError as e:
        raise ValueError(str(e)) from e


# ----------------------------------------------------- PoissonBatchSampler --


class PoissonBatchSampler(torch.utils.data.Sampler):
    """Batches that are each a Poisson subset of a fresh random pool.

    Batch ``b`` of epoch ``e`` is a pure function of ``(seed, e, b, rank)``:
    ``pool_factor * batch_size`` distinct candidates drawn without replacement
    (Floyd's algorithm on a counter-based RNG; no permutation of the data
    set), eliminated to exactly ``batch_size`` well-spread items. Native
    threads (``torch_poisson._engine``, no GIL, no Python per point) compute
    up to ``prefetch`` batches ahead, several in parallel, and hand them out in
    order, so the result does not depend on the threads, the prefetch depth or
    the timing. Different ranks get different batches.

    Args:
        features: (N, d) float16, bfloat16, float32 or float64 tensor or
            array, one row per dataset item, copied once, here (to the CPU,
            float16/bfloat16 as float64): half precision features are
            sampled as the same features up-cast.
        batch_size: items per batch, 1 <= batch_size <= N.
        pool_factor: candidates per kept item (>= 1); the pool is
            min(pool_factor * batch_size, N).
        num_batches: batches per epoch and rank; default
            max(1, N // (batch_size * num_replicas)).
        seed: the run's seed (int).
        num_replicas, rank: the distributed group; default from
            ``torch.distributed`` when initialised, else 1 and 0.
        prefetch: batches computed ahead (>= 1); default 4 * num_threads.
        num_threads: native worker threads (>= 1); default min(2, cpus).
        dataset: optional; when given, ``len(dataset)`` must equal N.
        **options: elimination options (bounds, radius, periodic, alpha,
            beta, gamma, weight_limiting, progressive, metric, dim, volume),
            checked here by computing the first batch.

    Yields:
        lists of ``batch_size`` distinct dataset indices.

    Example:
        >>> feats = torch.rand(1_000_000, 2)
        >>> bs = PoissonBatchSampler(feats, 256, pool_factor=8, seed=0)
        >>> loader = DataLoader(ds, batch_sampler=bs, num_workers=4)
        >>> for epoch in range(3):
        ...     bs.set_epoch(epoch)
        ...     for batch in loader: ...
    """

    def __init__(
        self,
        features,
        batch_size: int,
        *,
        pool_factor: int = 8,
        num_batches: Optional[int] = None,
        seed: int = 0,
        num_replicas: Optional[int] = None,
        rank: Optional[int] = None,
        prefetch: Optional[int] = None,
        num_threads: Optional[int] = None,
        dataset=None,
        **options,
    ):
        if _engine is None:  # pragma: no cover
            raise ImportError(f"torch_poisson._engine is missing ({_ENGINE_ERROR}); rebuild the package")
        f = _check_features(features, dataset)
        n, d = f.shape
        self.batch_size = _check_int(batch_size, "batch_size", 1, n)
        self.pool_factor = _check_int(pool_factor, "pool_factor", 1)
        self.pool_size = min(self.pool_factor * self.batch_size, n)
        self.seed = _check_int(seed, "seed", 0, 2**64 - 1)
        self.num_replicas, self.rank = _replicas(num_replicas, rank)
        if num_batches is None:
            num_batches = max(1, n // (self.batch_size * self.num_replicas))
        self.num_batches = _check_int(num_batches, "num_batches", 1, _INT64_MAX)
        if num_threads is None:
            num_threads = min(2, os.cpu_count() or 1)
        self.num_threads = _check_int(num_threads, "num_threads", 1, 256)
        if prefetch is None:
            prefetch = 4 * self.num_threads
        self.prefetch = _check_int(prefetch, "prefetch", 1, _INT32_MAX)
        self.options, opts = _check_options(options, d)
        self._engine_args = self._engine_kwargs(opts)
        # Rows the elimination refuses fail here, named by their dataset row
        # (not mid-epoch, named by an index into a random pool).
        _check_feature_rows(f, opts)
        self._features = np.ascontiguousarray(f.numpy(), dtype=np.float64)  # f is already our copy
        self.epoch = 0
        self._init_runtime()
        # Bad option values fail here, not in the middle of an epoch.
        try:
            self._get_engine().compute(0, 0)
        except RuntimeError as e:
            raise ValueError(str(e)) from e

    @staticmethod
    def _engine_kwargs(o: "_ops._Options") -> dict:
        """The converted options as the engine takes them (pds_options: 0
        for a radius, volume or dim not given; the metric's number)."""
        return dict(
            alpha=o.alpha, beta=o.beta, gamma=o.gamma, weight_limiting=o.weight_limiting, progressive=o.progressive,
            periodic=o.periodic, bounds=None if o.bounds is None else o.bounds.numpy(),
            radius=0.0 if o.radius is None else o.radius, metric=_ops._METRICS.index(o.metric),
            volume=0.0 if o.volume is None else o.volume, dim=0 if o.dim is None else o.dim,
            auto_radius=o.auto_radius,
        )

    def _init_runtime(self):
        self._engine = None
        self._resume: Optional[int] = None
        self._yielded = 0
        self._token = 0
        _LIVE.add(self)

    def _get_engine(self):
        if self._engine is None:
            self._engine = _engine.Engine(
                self._features, self.batch_size, self.pool_size, self.num_batches, self.seed, self.rank,
                self.prefetch, self.num_threads, **self._engine_args,
            )
        return self._engine

    def batch(self, b: int, epoch: Optional[int] = None) -> List[int]:
        """Batch ``b`` of an epoch (default the current one), computed now."""
        b = _check_int(b, "b", 0, self.num_batches - 1)
        e = self.epoch if epoch is None else _check_epoch(epoch)
        return self._get_engine().compute(e, b).tolist()

    def __iter__(self) -> Iterator[List[int]]:
        start = self._resume or 0
        self._resume = None
        eng = self._get_engine()
        epoch = self.epoch
        eng.start(epoch, start)
        self._token += 1
        self._yielded = start
        return self._iterate(eng, start, self._token, epoch)

    def _iterate(self, eng, start: int, token: int, epoch: int):
        try:
            for b in range(start, self.num_batches):
                if token != self._token:
                    raise RuntimeError(
                        "this PoissonBatchSampler iterator was superseded by a newer iter() of the same sampler"
                    )
                try:
                    idx = eng.next()
                except RuntimeError as e:
                    raise RuntimeError(f"PoissonBatchSampler: batch {b} of epoch {epoch} failed: {e}") from e
                if epoch == self.epoch:  # the position is the current epoch's
                    self._yielded = b + 1
                yield idx.tolist()
        finally:
            if token == self._token:
                eng.stop()  # no idle threads between epochs or after the loader is gone

    def __len__(self) -> int:
        return self.num_batches

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch (as DistributedSampler): batch b of epoch e depends
        only on (seed, e, b, rank). A position loaded by ``load_state_dict``
        belongs to its epoch: setting another epoch starts that one from its
        first batch (the same epoch keeps the position)."""
        epoch = _check_epoch(epoch)
        if epoch != self.epoch:
            self._resume = None
            self._yielded = 0
        self.epoch = epoch

    _STATE_KEYS = ("kind", "epoch", "yielded", "seed", "rank")

    def state_dict(self) -> dict:
        """Where the current epoch's iteration stands (StatefulDataLoader)."""
        return {
            "kind": "PoissonBatchSampler", "epoch": self.epoch, "yielded": self._yielded,
            "seed": self.seed, "rank": self.rank,
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume: the next ``iter()`` continues the saved epoch after the
        batches already yielded, exactly as an uninterrupted run would."""
        state = _check_state(state, "PoissonBatchSampler", self._STATE_KEYS)
        # batch b of epoch e is a function of (seed, e, b, rank): num_replicas
        # only sets the default num_batches (and yielded is checked against it)
        for name, mine in (("seed", self.seed), ("rank", self.rank)):
            _check_saved(state, name, mine)
        self.set_epoch(_check_epoch(state["epoch"], "state_dict['epoch']"))
        self._resume = _check_int(state["yielded"], "state_dict['yielded']", 0, self.num_batches)
        self._yielded = self._resume

    @property
    def threads_running(self) -> int:
        """Native threads alive now (0 when idle)."""
        return 0 if self._engine is None else self._engine.threads_running

    def close(self) -> None:
        """Stops the native threads (they restart on the next iteration)."""
        if self._engine is not None:
            self._engine.stop()

    def _fork_pause(self):
        if self._engine is not None:
            self._engine.stop(pause=True)

    def _fork_resume(self):
        if self._engine is not None:
            self._engine.resume()

    def __del__(self):
        eng = getattr(self, "_engine", None)
        if eng is not None:
            eng.stop()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_engine"}

    def __setstate__(self, d):
        self.__dict__.update(d)
        resume, yielded = self._resume, self._yielded
        self._init_runtime()
        self._resume, self._yielded = resume, yielded
