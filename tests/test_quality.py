"""torch_poisson.quality: the measures take sample_elimination's domain
arguments with its defaults, so a result measured with the defaults is
measured in the geometry it was made in."""
import itertools
import math

import pytest
import torch

import torch_poisson as tp
from torch_poisson import quality


def _uniform(m, d, seed, dtype=torch.float64):
    return torch.rand(m, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _naive_min_distance(x, lo=None, hi=None):
    """All pairs; toroidal over [lo, hi] when given."""
    best = math.inf
    rows = x.tolist()
    for a, b in itertools.combinations(rows, 2):
        s = 0.0
        for k, (u, v) in enumerate(zip(a, b)):
            t = abs(u - v)
            if lo is not None:
                p = hi[k] - lo[k]
                t = min(t % p, p - t % p)
            s += t * t
        best = min(best, math.sqrt(s))
    return best


def test_package_exports_the_quality_module_functions():
    assert tp.relative_radius is quality.relative_radius
    assert tp.min_distance is quality.min_distance
    assert tp.max_radius is quality.max_radius


def test_default_measurement_of_a_default_result_is_the_non_periodic_one():
    x = _uniform(100_000, 2, 0)
    idx = tp.sample_elimination(x, 12_500)  # defaults: bounding box, not periodic
    y = x[idx]
    default = tp.relative_radius(y)
    assert default == tp.relative_radius(y, periodic=False)
    box = torch.stack([y.amin(0), y.amax(0)])
    assert default == tp.relative_radius(y, bounds=box, periodic=False)
    # the well-spread value sample elimination gives in 2-D (~0.73)
    assert default > 0.65, default
    # measured on the torus instead, pairs across the box's edges are close:
    # not the geometry this result was made in
    torus = tp.relative_radius(y, bounds=([0, 0], [1, 1]), periodic=True)
    assert torus < 0.3 < default, (torus, default)


def test_periodic_with_bounds_measures_toroidally():
    x = _uniform(16_000, 2, 1)
    unit = ([0.0, 0.0], [1.0, 1.0])
    y = x[tp.sample_elimination(x, 2_000, bounds=unit, periodic=True)]
    rho = tp.relative_radius(y, bounds=unit, periodic=True)
    assert rho > 0.65, rho
    # the toroidal minimum distance over 2 r_max of the unit square
    want = tp.min_distance(y, bounds=unit, periodic=True) / (2 * tp.max_radius(2000, 1.0, 2))
    assert rho == pytest.approx(want, rel=1e-12)
    # a pair across the edge is close on the torus, far apart without it
    edge = torch.tensor([[0.05, 0.5], [0.95, 0.5]], dtype=torch.float64)
    assert tp.min_distance(edge, bounds=unit, periodic=True) == pytest.approx(0.1)
    assert tp.min_distance(edge) == pytest.approx(0.9)


@pytest.mark.parametrize("periodic", [False, True])
def test_min_distance_agrees_with_all_pairs_on_a_box_not_at_the_origin(periodic):
    lo, hi = [-1.0, 2.0, 0.0], [2.0, 2.5, 0.25]
    g = torch.Generator().manual_seed(2)
    x = torch.rand(150, 3, generator=g, dtype=torch.float64) * (torch.tensor(hi) - torch.tensor(lo)) + torch.tensor(lo)
    got = tp.min_distance(x, bounds=(lo, hi), periodic=periodic)
    want = _naive_min_distance(x, lo, hi) if periodic else _naive_min_distance(x)
    assert got == pytest.approx(want, rel=1e-12)
    # the box's volume and dimension give r_max
    rho = tp.relative_radius(x, bounds=(lo, hi), periodic=periodic)
    assert rho == pytest.approx(want / (2 * tp.max_radius(150, 3 * 0.5 * 0.25, 3)), rel=1e-12)


def test_default_bounds_span_only_the_axes_the_points_span():
    # points on a line in 3-D: a 1-D domain, as sample_elimination reads it
    t = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    line = torch.stack([t, torch.full_like(t, 0.5), torch.zeros_like(t)], dim=1)
    assert tp.relative_radius(line) == pytest.approx(0.1 / (2 * tp.max_radius(11, 1.0, 1)))


def test_quality_arguments_are_checked_as_sample_elimination_checks_them():
    y = _uniform(50, 2, 3)
    with pytest.raises(ValueError, match="periodic=True needs explicit bounds"):
        tp.relative_radius(y, periodic=True)
    with pytest.raises(ValueError, match=r"bounds must have shape \(2, d\) = \(2, 2\)"):
        tp.relative_radius(y, bounds=([0, 0, 0], [1, 1, 1]))
    with pytest.raises(TypeError, match="periodic='yes'"):
        tp.min_distance(y, periodic="yes")
    q = torch.randn(50, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="bounds and periodic"):
        tp.relative_radius(q, metric="so3", bounds=([-1] * 4, [1] * 4))
    with pytest.raises(ValueError, match="metric"):
        tp.min_distance(q, metric="hyperbolic")
