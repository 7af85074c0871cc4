"""Coordinates far from unit size: the same selection as the same points at
the origin / at unit scale (the core rescales by a power of two where squared
distances would leave the doubles' range), or a clear error -- never an
arbitrary subset.

Why exact equality holds: a difference of two doubles within a factor two of
each other is exact (Sterbenz), so shifting points that share a large offset
leaves every coordinate difference, distance, bounding box and weight
bit-identical; float32 -> float64 is exact, so a float32 input shifted in
float64 is the same point set; scaling by a power of two is exact and commutes
with sqrt, so 2-D selections are scale invariant for such factors."""
import math

import pytest
import torch

import torch_poisson


def unit_points(m=4000, d=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(m, d, generator=g, dtype=torch.float64)


def select(x, n=500, **kw):
    return torch_poisson.sample_elimination(x, n, **kw)


@pytest.mark.parametrize("offset,spread", [(1e-30, 1e-31), (1e30, 1e29), (1e6, 1.0), (-1e30, 1e29)])
@pytest.mark.parametrize("progressive", [False, True])
def test_offset_equals_shifted_to_origin(offset, spread, progressive):
    x = offset + spread * unit_points()
    shifted = x - offset  # exact: every x is within a factor 2 of offset
    a = select(x, progressive=progressive)
    b = select(shifted, progressive=progressive)
    assert torch.equal(a, b)


@pytest.mark.parametrize("scale", [2.0**-100, 2.0**100, 2.0**-400, 2.0**400])
def test_power_of_two_scale_equals_unit_scale(scale):
    x = unit_points()
    assert torch.equal(select(x * scale), select(x))


def test_periodic_offset_equals_shifted():
    offset, spread = 1e30, 1e29
    x = offset + spread * unit_points()
    lo, hi = offset, offset + spread
    a = select(x, bounds=([lo, lo], [hi, hi]), periodic=True)
    b = select(x - offset, bounds=([0.0, 0.0], [hi - offset, hi - offset]), periodic=True)
    assert torch.equal(a, b)


@pytest.mark.parametrize("spread", [100.0, 0.01])
def test_float32_gps_like_offset(spread):
    """float32 at 1e6 + small spread (ulp 0.0625: many exact ties at spread
    0.01, a lattice at 100) == the same points shifted to the origin in float64."""
    g = torch.Generator().manual_seed(7)
    x32 = (1e6 + spread * torch.rand(20000, 2, generator=g, dtype=torch.float64)).to(torch.float32)
    shifted = x32.to(torch.float64) - 1e6
    a = select(x32, n=2000)
    b = select(shifted, n=2000)
    assert torch.equal(a, b)
    assert a.unique().numel() == 2000


@pytest.mark.parametrize("j", [600, 1000, -600, -1000])
@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_far_power_of_two_scale_equals_unit_scale(j, d):
    """Squared distances at 2^+-600 and beyond leave the doubles' range; the
    core scales such points by a power of two to unit size (exact), so the
    selection is the unit-scale one."""
    x = unit_points(m=2000, d=d)
    n = 250
    assert torch.equal(select(x * 2.0**j, n=n), select(x, n=n))
    assert torch.equal(select(x * 2.0**j, n=n, progressive=True), select(x, n=n, progressive=True))
    assert torch.equal(select(x * 2.0**j, n=n, radius="auto"), select(x, n=n, radius="auto"))


@pytest.mark.parametrize("scale", [1e200, 1e-170, 1e-300, 1e307])
def test_far_scales_equal_an_in_range_rescale(scale):
    """Any far scale (not a power of two): the same selection as the points
    brought into range by a power of two here (both are exact rescales)."""
    x = unit_points() * scale
    k = -math.frexp(scale)[1]
    assert torch.equal(select(x), select(x * 2.0**k))
    assert select(x).unique().numel() == 500


def test_far_scale_options_scale_with_the_points():
    """bounds, periodic, radius and volume given in the far units: the
    unit-scale call with them scaled the same way."""
    x, s = unit_points(), 2.0**700
    assert torch.equal(select(x * s, bounds=([0, 0], [s, s]), periodic=True),
                       select(x, bounds=([0, 0], [1, 1]), periodic=True))
    assert torch.equal(select(x * s, radius=0.02 * s), select(x, radius=0.02))
    assert torch.equal(select(x * 2.0**500, volume=2.0**1000), select(x, volume=1.0))
    r, dim = torch_poisson.estimate_radius(x * s, 500)
    r1, dim1 = torch_poisson.estimate_radius(x, 500)
    assert dim == dim1 and r == r1 * s


def test_far_radius_is_the_same_elimination():
    """A radius far from the points' scale is taken as given: 1e300 makes
    every point a neighbour of every other (equal weights under weight
    limiting: the smaller indices go first), 1e-300 none."""
    x = unit_points()
    assert torch.equal(select(x, radius=1e300), torch.arange(3500, 4000))
    assert torch.equal(select(x, radius=1e-300), torch.arange(3500, 4000))
    assert torch.equal(select(x, radius=1e300), select(x, radius=1e3))


def test_extents_far_apart_are_rescaled_twice():
    """A box 3e308 wide and 5 tall: scaled to unit width its volume is
    5e-308 and r_max 9e-155, where squared distances underflow; d_max is
    then brought near 1 by a second power of two (the width stays finite)."""
    x = torch.tensor([[-1.7e308, 0.0], [1.7e308, 1.0], [0.0, 5.0], [1e308, 2.5]], dtype=torch.float64)
    got = select(x, n=2)
    assert got.unique().numel() == 2
    assert torch.equal(got, select(x * 2.0**-1024, n=2))
    # a radius in the points' units works too (no box volume needed)
    assert select(x, n=2, radius=1e300).unique().numel() == 2


def test_angular_radius_out_of_range_is_a_clear_error():
    q = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(RuntimeError, match=r"radius=1e-200 .*metric=so3 distances are angles in radians"):
        select(q, n=5, metric="so3", radius=1e-200)
    with pytest.raises(RuntimeError, match=r"radius=1e\+200 .*metric=sphere"):
        select(q, n=5, metric="sphere", radius=1e200)


def test_coordinates_that_would_overflow_are_a_clear_error():
    """d_max from radius=1e-200 with points 1e300 apart: the power of two
    that brings d_max near 1 would overflow the coordinates."""
    x = torch.tensor([[0.0], [1e300], [5e299]], dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"radius=1e-200 .*would overflow"):
        select(x, n=2, radius=1e-200)


@pytest.mark.parametrize("d,spread", [(400, 1.0), (200, 0.01)])
def test_box_volume_beyond_doubles_uses_its_logarithm(d, spread):
    """A box in many dimensions has a volume out of the doubles' range (6^400
    overflows, 0.04^200 underflows) while r_max is an ordinary number: it is
    derived from the volume's logarithm, the same r_max as computed here."""
    g = torch.Generator().manual_seed(3)
    x = spread * torch.randn(300, d, generator=g, dtype=torch.float64)
    n = 30
    ext = x.max(0).values - x.min(0).values
    log_unit_ball = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)
    r = math.exp((ext.log().sum().item() - math.log(n) - log_unit_ball) / d)
    got = select(x, n=n)
    assert got.unique().numel() == n and bool((got[1:] > got[:-1]).all())
    assert torch.equal(got, select(x, n=n, radius=r))
