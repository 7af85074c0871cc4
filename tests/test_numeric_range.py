"""Coordinates far from unit size: the same selection as the same points at
the origin / at unit scale, or a clear error -- never an arbitrary subset.

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


@pytest.mark.parametrize("scale,word", [(1e200, "overflow"), (1e-170, "underflow"), (1e-300, "underflow")])
def test_out_of_range_scale_is_a_clear_error(scale, word):
    x = unit_points() * scale
    with pytest.raises(RuntimeError, match=word) as e:
        select(x)
    assert "rescale" in str(e.value) or "volume=" in str(e.value)


def test_out_of_range_radius_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"radius=1e\+300"):
        select(unit_points(), radius=1e300)
    with pytest.raises(RuntimeError, match=r"radius=1e-300"):
        select(unit_points(), radius=1e-300)


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
