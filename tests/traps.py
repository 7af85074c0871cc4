"""Quadratic traps: inputs where (nearly) every point neighbours every other.

Shared by tests/test_traps.py (each case in a child process whose address
space is capped, so a quadratic allocation fails instead of meeting the OOM
killer) and benchmarks/bench_traps.py (a table of times and memory).

The bound these inputs meet (see docs/reliability.md): the core counts the
candidate pairs its grid implies before it allocates anything beyond O(M d)
and refuses with "too dense" above max_pair_work (4e9 by default), so the
neighbour work per elimination level is at most 4e9 distance tests for the
weights and as many for the updates; working memory is O(M d) whatever the
radius (pds_workspace_bytes), and the shim refuses a request whose working
memory exceeds the machine's available memory before converting the input.

CASES maps a name to (make, expect): make() returns (points, n, kwargs) and
expect is "ok" (n distinct valid indices) or "too dense" (a RuntimeError
saying so and naming radius= as the way out).
"""
import json
import os
import resource
import sys
import time

import torch

M = 200_000


def _gen():
    return torch.Generator().manual_seed(6)


def identical():
    return torch.full((M, 2), 0.5, dtype=torch.float64), 1000, {}


def identical_in_unit_square():
    return torch.full((M, 2), 0.5, dtype=torch.float64), 1000, {"bounds": ([0, 0], [1, 1])}


def radius_above_domain():
    return torch.rand(M, 2, generator=_gen(), dtype=torch.float64), 1000, {"radius": 10.0}


def radius_above_domain_small():
    # below the budget: all M^2 = 1e8 pairs are done, in bounded time
    return torch.rand(10_000, 2, generator=_gen(), dtype=torch.float64), 1000, {"radius": 10.0}


def line():
    x = torch.zeros(M, 2, dtype=torch.float64)
    x[:, 0] = torch.rand(M, generator=_gen(), dtype=torch.float64)
    return x, 1000, {}


def line_in_unit_square():
    x, n, _ = line()
    return x, 100, {"bounds": ([0, 0], [1, 1])}


def half_duplicated():
    x = torch.rand(M, 2, generator=_gen(), dtype=torch.float64)
    x[M // 2:] = x[: M // 2]
    return x, 1000, {}


def half_one_point():
    x = torch.rand(M, 2, generator=_gen(), dtype=torch.float64)
    x[M // 2:] = x[0]
    return x, 1000, {}


def isotropic_200d():
    # no structure: in 200-D every point is about as far from every other
    # (sqrt(400) apart, give or take 7%), so d_max covers all 4e8 candidate
    # pairs of 200 coordinates, each counted 25 (a pair of d > 8 coordinates
    # counts d / 8, since its distance reads them all): refused at once
    return torch.randn(20_000, 200, generator=_gen(), dtype=torch.float64), 2000, {}


def isotropic_200d_auto():
    x, n, _ = isotropic_200d()
    return x, n, {"radius": "auto"}


CASES = {
    "identical": (identical, "ok"),
    "identical_in_unit_square": (identical_in_unit_square, "too dense"),
    "radius_above_domain": (radius_above_domain, "too dense"),
    "radius_above_domain_small": (radius_above_domain_small, "ok"),
    "line": (line, "ok"),
    "line_in_unit_square": (line_in_unit_square, "too dense"),
    "half_duplicated": (half_duplicated, "ok"),
    "half_one_point": (half_one_point, "too dense"),
    "isotropic_200d": (isotropic_200d, "too dense"),
    "isotropic_200d_auto": (isotropic_200d_auto, "too dense"),
}

# address space the child may add to what torch itself maps (the inputs and
# the core's O(M d) working memory fit in a small fraction of this)
HEADROOM = 1 << 30


def cap_address_space(headroom=HEADROOM):
    """Caps this process's address space at its current size plus headroom."""
    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + headroom, size + headroom))


def run(name):
    """Runs one case; returns a dict: outcome, message, seconds, valid, peak RSS."""
    import torch_poisson

    make, _ = CASES[name]
    x, n, kw = make()
    t = time.perf_counter()
    out = {"name": name, "m": x.shape[0], "n": n}
    try:
        idx = torch_poisson.sample_elimination(x, n, **kw)
        out["outcome"] = "ok"
        out["valid"] = bool(
            idx.shape == (n,) and idx.dtype == torch.int64 and idx.unique().numel() == n
            and int(idx.min()) >= 0 and int(idx.max()) < x.shape[0]
        )
    except Exception as e:  # noqa: BLE001 - reported to the parent
        out["outcome"] = type(e).__name__
        out["message"] = str(e)
    out["seconds"] = time.perf_counter() - t
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


if __name__ == "__main__":
    cap_address_space()
    print(json.dumps(run(sys.argv[1])))
    sys.stdout.flush()
    os._exit(0)
