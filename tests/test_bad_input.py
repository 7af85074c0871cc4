"""Every bad input (tests/bad_inputs.py) through every entry point: in this
process, and in a child process so that a crash shows as a crash."""
import os
import subprocess
import sys

import pytest
import torch

import torch_poisson
from bad_inputs import ENTRY_POINTS, cases_for, check

HERE = os.path.dirname(os.path.abspath(__file__))

PAIRS = [(entry, case) for entry in sorted(ENTRY_POINTS) for case in cases_for(entry)]


@pytest.mark.parametrize("entry,case", PAIRS, ids=[f"{e}-{c[0]}" for e, c in PAIRS])
def test_bad_input_raises_naming_argument_and_value(entry, case):
    problem = check(entry, case)
    assert problem is None, problem


def test_batched_entry_allows_only_what_a_batch_allows():
    """The two cases that are valid in a batch give rows of -1, not errors."""
    x = torch.rand(10, 2, dtype=torch.float64)
    assert torch_poisson.sample_elimination(x[None], 0).shape == (1, 0)
    empty = torch.empty(1, 0, 2, dtype=torch.float64)
    assert torch_poisson.sample_elimination(empty, 0).shape == (1, 0)


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_bad_inputs_in_child_process(entry):
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "bad_inputs.py"), entry],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )
    # a negative return code is a signal: the child crashed
    assert proc.returncode == 0, (
        f"child exited with {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    )
    assert f"{len(cases_for(entry))} cases, 0 problems" in proc.stdout


POISSON_DISK_CASES = [
    ({"n": 0}, ValueError, ["n", "n=0"]),
    ({"n": 2.5}, TypeError, ["n", "2.5"]),
    ({"n": 10, "dim": 0}, ValueError, ["dim", "dim=0"]),
    ({"n": 10, "oversample": 0}, ValueError, ["oversample", "oversample=0"]),
    ({"n": 10, "dtype": torch.int64}, TypeError, ["dtype", "int64"]),
    ({"n": 10, "bounds": ([0, 0], [1, -1])}, ValueError, ["bounds", "axis 1"]),
    ({"n": 10, "bounds": ([0, 0, 0], [1, 1, 1])}, ValueError, ["bounds", "(2, 3)"]),
    # ~700 GiB of candidates: refused before drawing them, not an OOM kill
    ({"n": 10**9}, MemoryError, ["poisson_disk", "n=1000000000", "MiB"]),
]


@pytest.mark.parametrize("kwargs,exc,words", POISSON_DISK_CASES, ids=[str(c[0]) for c in POISSON_DISK_CASES])
def test_poisson_disk_bad_input(kwargs, exc, words):
    with pytest.raises(exc) as e:
        torch_poisson.poisson_disk(**kwargs)
    for w in words:
        assert w.lower() in str(e.value).lower(), (w, str(e.value))
