"""Quadratic traps (tests/traps.py) finish with a valid result or a clear
"too dense" error, in a child process whose address space is capped at what
torch maps plus 1 GiB: a quadratic allocation would fail there (and the test
with it) instead of meeting the OOM killer; a hang fails on the timeout."""
import json
import os
import subprocess
import sys

import pytest
import torch

import torch_poisson
from traps import CASES

HERE = os.path.dirname(os.path.abspath(__file__))


def run_child(name):
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "traps.py"), name],
        capture_output=True, text=True, timeout=600, cwd=HERE,
    )
    assert proc.returncode == 0, f"child exited with {proc.returncode}:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_trap_is_bounded(name):
    expect = CASES[name][1]
    r = run_child(name)
    if expect == "ok":
        assert r["outcome"] == "ok", r
        assert r["valid"], r
    else:
        assert r["outcome"] == "RuntimeError", r
        msg = r["message"]
        assert "too dense" in msg and "radius=" in msg and "limit" in msg, msg


def test_too_dense_is_refused_before_the_work():
    # the same refusal at a small size: the budget, not the size, decides
    x = torch.rand(5000, 2, dtype=torch.float64)
    torch_poisson.sample_elimination(x, 10, radius=10.0)  # 2.5e7 pairs: done
    x = torch.full((70_000, 2), 0.25, dtype=torch.float64)  # 4.9e9 pairs > 4e9
    with pytest.raises(RuntimeError, match="too dense"):
        torch_poisson.sample_elimination(x, 10, bounds=([0, 0], [1, 1]))


def test_identical_points_keep_n_distinct():
    x = torch.full((50_000, 3), -7.0, dtype=torch.float64)
    idx = torch_poisson.sample_elimination(x, 123)
    assert idx.unique().numel() == 123
    assert bool((idx[1:] > idx[:-1]).all())
