"""The crashes the fuzzer found in the C core (tests/fuzz/regressions/),
replayed through the Python API. Mishandled, these corrupt the heap (an
ASan heap-buffer-overflow) or hit undefined float-to-int conversions."""
import pytest
import torch

import torch_poisson


@pytest.mark.parametrize("m", [3, 4, 7, 50, 301])
def test_progressive_with_n_above_half_of_m(m):
    x = torch.rand(m, 2, generator=torch.Generator().manual_seed(m), dtype=torch.float64)
    for n in sorted({m, m - 1, m // 2 + 1}):
        plain = torch_poisson.sample_elimination(x, n)
        prog = torch_poisson.sample_elimination(x, n, progressive=True)
        assert torch.equal(prog.sort().values, plain), (m, n)


def test_grid_with_extent_far_beyond_d_max():
    # ext / d_max = 1e400 overflows to Inf: the grid's cell count must stay sane
    x = torch.tensor([[0.0, 0.0], [1e300, 0.0], [5e299, 0.0], [1.0, 0.0]], dtype=torch.float64)
    idx = torch_poisson.sample_elimination(x, 2, radius=1e-100)
    assert idx.unique().numel() == 2


def test_radius_whose_d_max_overflows():
    with pytest.raises(RuntimeError, match="radius=1.79769e\\+308"):
        torch_poisson.sample_elimination(torch.rand(10, 2), 3, radius=1.7976931348623157e308)
