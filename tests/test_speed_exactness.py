"""The fast core gives the sequential algorithm's answer: identical to the
naive oracle (tests/oracle.py) on random inputs, and identical for any number
of threads (torch.set_num_threads), progressive order included."""
import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

from torch_poisson.ops import sample_elimination  # noqa: E402


def _points(m, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(m, d, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("weight_limiting", [False, True])
@pytest.mark.parametrize("progressive", [False, True])
def test_matches_oracle(d, periodic, weight_limiting, progressive):
    m = {1: 600, 2: 900, 3: 900}[d]
    n = m // 8
    x = _points(m, d, seed=100 * d + 10 * periodic + 2 * weight_limiting + progressive)
    bounds = ([0.0] * d, [1.0] * d) if periodic else None
    got = sample_elimination(x, n, bounds=bounds, periodic=periodic,
                             weight_limiting=weight_limiting, progressive=progressive)
    want = oracle.eliminate(x.numpy(), n, bounds=bounds, periodic=periodic,
                            weight_limiting=weight_limiting, progressive=progressive)
    assert got.tolist() == [int(i) for i in want]


def test_matches_oracle_on_ties():
    # every point twice: a point and its copy have exactly equal weights, so
    # the smaller input index goes first, here and in the oracle
    half = _points(450, 2, seed=5)
    x = torch.cat([half, half])
    bounds = ([0.0, 0.0], [1.0, 1.0])
    for progressive in (False, True):
        got = sample_elimination(x, 100, bounds=bounds, periodic=True, progressive=progressive)
        want = oracle.eliminate(x.numpy(), 100, bounds=bounds, periodic=True, progressive=progressive)
        assert got.tolist() == [int(i) for i in want]


def test_lattice_same_for_any_thread_count():
    # a lattice: weights tie in exact arithmetic and nearly tie in floating
    # point; the fixed-point weights and the index rule decide, identically
    # for every thread count
    side = 300
    ij = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2)
    x = torch.tensor(ij / side, dtype=torch.float32)
    before = torch.get_num_threads()
    try:
        out = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            out.append(sample_elimination(x, x.shape[0] // 7, bounds=([0, 0], [1, 1]), periodic=True,
                                          progressive=True))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(out[0], out[1])


@pytest.mark.parametrize("d,m", [(2, 200_000), (3, 60_000), (1, 50_000)])
@pytest.mark.parametrize("progressive", [False, True])
def test_same_for_any_thread_count(d, m, progressive):
    x = _points(m, d, seed=7 + d).float()
    bounds = ([0.0] * d, [1.0] * d)
    before = torch.get_num_threads()
    try:
        out = []
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            out.append(sample_elimination(x, m // 8, bounds=bounds, periodic=True,
                                          progressive=progressive))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(out[0], out[1])
    assert torch.equal(out[0], out[2])
    assert out[0].numel() == m // 8
    assert out[0].unique().numel() == m // 8
