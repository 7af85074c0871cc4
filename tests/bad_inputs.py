"""Bad inputs and the entry points they are tried through (shared by
tests/test_bad_input.py, in process and in a child process).

Each case is (id, make_points, n, kwargs, words): calling an entry point with
make_points(), n and kwargs must raise ValueError, TypeError or RuntimeError
(MemoryError for a request larger than the machine) whose message contains
every word of ``words`` (the argument's name and the value given),
case-insensitively. To cover a new entry point, add a function
(points, n, **kwargs) to ENTRY_POINTS.
"""
import math
import re

import torch

import torch_poisson


def _rand(*shape, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    return torch.rand(*shape, generator=g, dtype=dtype)


def _with(value, at=(3, 1), shape=(10, 2)):
    def make():
        x = _rand(*shape)
        x[at] = value
        return x

    return make


def _unit(d=2):
    return torch.tensor([[0.0] * d, [1.0] * d], dtype=torch.float64)


CASES = [
    ("points-1d", lambda: _rand(10), 2, {}, ["points", "1-D"]),
    ("points-4d", lambda: _rand(2, 3, 4, 2), 2, {}, ["points", "4-D"]),
    ("points-0d", lambda: torch.tensor(1.0), 1, {}, ["points", "0-D"]),
    ("points-int64", lambda: torch.ones(10, 2, dtype=torch.int64), 2, {}, ["points", "int64"]),
    ("points-int32", lambda: torch.ones(10, 2, dtype=torch.int32), 2, {}, ["points", "int32"]),
    ("points-bool", lambda: torch.ones(10, 2, dtype=torch.bool), 2, {}, ["points", "bool"]),
    ("points-complex", lambda: torch.ones(10, 2, dtype=torch.complex64), 2, {}, ["points", "complex64"]),
    ("points-nan", _with(math.nan), 2, {}, ["points[3, 1]", "nan"]),
    ("points-inf", _with(math.inf), 2, {}, ["points[3, 1]", "inf"]),
    ("points-neg-inf", _with(-math.inf, at=(0, 0)), 2, {}, ["points[0, 0]", "-inf"]),
    ("points-empty", lambda: torch.empty(0, 2, dtype=torch.float64), 1, {}, ["points", "0, 2"]),
    ("points-no-coords", lambda: torch.empty(5, 0, dtype=torch.float64), 1, {}, ["points", "5, 0"]),
    ("n-zero", lambda: _rand(10, 2), 0, {}, ["n", "n=0"]),
    ("n-negative", lambda: _rand(10, 2), -3, {}, ["n", "n=-3"]),
    ("n-above-m", lambda: _rand(10, 2), 11, {}, ["n", "n=11", "10"]),
    ("n-huge", lambda: _rand(10, 2), 2**62, {}, ["n", str(2**62)]),
    ("bounds-shape", lambda: _rand(10, 2), 2, {"bounds": torch.zeros(2, 3)}, ["bounds", "2, 3"]),
    ("bounds-shape-3x2", lambda: _rand(10, 2), 2, {"bounds": torch.zeros(3, 2)}, ["bounds", "3, 2"]),
    ("bounds-lo-above-hi", lambda: _rand(10, 2), 2,
     {"bounds": torch.tensor([[0.0, 1.0], [1.0, 0.5]])}, ["bounds", "axis 1", "lo=1", "hi=0.5"]),
    ("bounds-lo-equals-hi", lambda: _rand(10, 2), 2,
     {"bounds": torch.tensor([[0.0, 0.0], [1.0, 0.0]])}, ["bounds", "axis 1", "lo=0", "hi=0"]),
    ("bounds-nan", lambda: _rand(10, 2), 2,
     {"bounds": torch.tensor([[0.0, math.nan], [1.0, 1.0]])}, ["bounds", "nan"]),
    ("bounds-bool", lambda: _rand(10, 2), 2, {"bounds": torch.ones(2, 2, dtype=torch.bool)}, ["bounds", "bool"]),
    ("periodic-outside-bounds", _with(1.5), 2, {"bounds": _unit(), "periodic": True},
     ["points[3, 1]", "1.5", "bounds"]),
    ("periodic-below-bounds", _with(-0.25, at=(7, 0)), 2, {"bounds": _unit(), "periodic": True},
     ["points[7, 0]", "-0.25", "bounds"]),
    ("periodic-without-bounds", lambda: _rand(10, 2), 2, {"periodic": True}, ["periodic", "bounds"]),
    ("radius-zero", lambda: _rand(10, 2), 2, {"radius": 0.0}, ["radius", "0"]),
    ("radius-negative", lambda: _rand(10, 2), 2, {"radius": -1.0}, ["radius", "-1"]),
    ("radius-nan", lambda: _rand(10, 2), 2, {"radius": math.nan}, ["radius", "nan"]),
    ("radius-inf", lambda: _rand(10, 2), 2, {"radius": math.inf}, ["radius", "inf"]),
    ("radius-huge", lambda: _rand(10, 2), 2, {"radius": 1e308}, ["radius", "1e+308"]),  # d_max overflows
    ("alpha-zero", lambda: _rand(10, 2), 2, {"alpha": 0.0}, ["alpha", "0"]),
    ("alpha-negative", lambda: _rand(10, 2), 2, {"alpha": -2.0}, ["alpha", "-2"]),
    ("alpha-nan", lambda: _rand(10, 2), 2, {"alpha": math.nan}, ["alpha", "nan"]),
    ("alpha-inf", lambda: _rand(10, 2), 2, {"alpha": math.inf}, ["alpha", "inf"]),
    ("beta-negative", lambda: _rand(10, 2), 2, {"beta": -0.5}, ["beta", "-0.5"]),
    ("beta-nan", lambda: _rand(10, 2), 2, {"beta": math.nan}, ["beta", "nan"]),
    ("gamma-negative", lambda: _rand(10, 2), 2, {"gamma": -1.5}, ["gamma", "-1.5"]),
    ("gamma-inf", lambda: _rand(10, 2), 2, {"gamma": math.inf}, ["gamma", "inf"]),
    # too large for this machine: a stride-0 view costs nothing, the request is refused before any copy
    ("memory", lambda: torch.zeros(1, 3, dtype=torch.float64).expand(2_000_000_000, 3), 10, {},
     ["memory", "2000000000, 3"]),
]

_OP_DEFAULTS = dict(bounds=None, radius=None, periodic=False, alpha=8.0, beta=0.65, gamma=1.5,
                    weight_limiting=True, progressive=False)


def _python(points, n, **kw):
    return torch_poisson.sample_elimination(points, n, **kw)


def _op(points, n, **kw):
    """torch.ops.torch_poisson.sample_elimination with every argument positional."""
    args = dict(_OP_DEFAULTS, **kw)
    return torch.ops.torch_poisson.sample_elimination(points, n, *args.values())


def _batched(points, n, **kw):
    """The padded batched form: a (M, d) case as a batch of one, (1, M, d)."""
    if isinstance(points, torch.Tensor) and points.dim() == 2:
        points = points[None]
    return torch_poisson.sample_elimination(points, n, **kw)


def _sampler(points, n, **kw):
    return list(torch_poisson.PoissonSampler(points, n, **kw))


def _batch_sampler(points, n, **kw):
    return list(torch_poisson.PoissonBatchSampler(points, n, **kw))


ENTRY_POINTS = {"python": _python, "op": _op, "batched": _batched, "sampler": _sampler,
                "batch_sampler": _batch_sampler}

# The samplers name the points "features" (a bad value by its row) and n
# "num_samples" or "batch_size".
_NAMES = {"sampler": "num_samples", "batch_sampler": "batch_size"}


def words_for(entry, words):
    if entry not in _NAMES:
        return words
    out = []
    for w in words:
        w = re.sub(r"^points\[(\d+), \d+\]$", r"features[\1]", w).replace("points", "features")
        w = _NAMES[entry] if w == "n" else re.sub(r"^n=", _NAMES[entry] + "=", w)
        out.append(w)
    return out

# Cases that are not errors through an entry point, by design: in a batch an
# item may keep n = 0 (a row of -1), and an item of no points keeps n = 0.
VALID_THROUGH = {"batched": {"n-zero", "points-empty"}}


def cases_for(entry):
    return [c for c in CASES if c[0] not in VALID_THROUGH.get(entry, set())]

EXPECTED = (ValueError, TypeError, RuntimeError, MemoryError)


def check(entry, case):
    """Runs one case; returns None when it raised as it should, else what went wrong."""
    name, make_points, n, kwargs, words = case
    words = words_for(entry, words)
    try:
        result = ENTRY_POINTS[entry](make_points(), n, **kwargs)
    except EXPECTED as e:
        msg = str(e).lower()
        missing = [w for w in words if w.lower() not in msg]
        if missing:
            return f"{entry}/{name}: message lacks {missing}: {type(e).__name__}: {e}"
        return None
    except Exception as e:  # noqa: BLE001 - any other type is a failure
        return f"{entry}/{name}: raised {type(e).__name__} (want ValueError/TypeError/RuntimeError): {e}"
    return f"{entry}/{name}: returned {result!r} instead of raising"


if __name__ == "__main__":
    # Child-process mode: run every case of one entry point, print the
    # failures, exit 0 only when all raised as they should.
    import sys

    entry = sys.argv[1]
    cases = cases_for(entry)
    problems = [p for p in (check(entry, c) for c in cases) if p]
    for p in problems:
        print(p)
    print(f"{entry}: {len(cases)} cases, {len(problems)} problems")
    sys.exit(1 if problems else 0)
