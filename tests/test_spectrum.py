"""spectrum and covering_radius (torch_poisson/quality.py): brute-force numpy
oracles on small sets, the measured properties of random, Poisson disk and
lattice sets, and clear errors for bad input.

Figures these tolerances come from (2,000 points in [0, 1)^2, 20 seeds):
a uniformly random set's power averaged over bins 1..64 lay in [0.958, 1.030]
and its anisotropy averaged over bins 5..64 in [-0.26, -0.01] dB; a Poisson
subset (16,000 -> 2,000, periodic) had mean power 0.079-0.090 over bins 1..20
(at most 0.155 in any of them) and its peak, 2.13-2.42, at |f| = 50-54
(sqrt(2000) = 44.7). Its covering radius of the 16,000 candidates was
0.0210-0.0221 against 0.0345-0.0386 for random subsets of the same size
(5 seeds)."""
import itertools
import math

import numpy as np
import pytest
import torch

from torch_poisson import Spectrum, covering_radius, poisson_disk, sample_elimination, spectrum

UNIT2 = ([0.0, 0.0], [1.0, 1.0])


def brute_spectrum(u, bins):
    """The definition, term by term in numpy: u (n, d) in [0, 1)^d."""
    n, d = u.shape
    by_bin = {}
    for f in itertools.product(range(-bins, bins + 1), repeat=d):
        nz = [c for c in f if c != 0]
        if not nz or nz[0] < 0:  # f = 0, or the -f of a pair already taken
            continue
        r = math.sqrt(sum(c * c for c in f))
        k = int(math.floor(r + 0.5))
        if k > bins:
            continue
        s = np.exp(-2j * np.pi * (u @ np.array(f, dtype=np.float64))).sum()
        by_bin.setdefault(k, []).append(abs(s) ** 2 / n)
    power = np.array([np.mean(by_bin[k]) for k in range(1, bins + 1)])
    var = np.array([np.var(by_bin[k], ddof=1) if len(by_bin[k]) > 1 else np.nan for k in range(1, bins + 1)])
    return power, 10 * np.log10(var / power**2)


@pytest.mark.parametrize("d,bins", [(1, 9), (2, 6), (3, 3)])
def test_spectrum_matches_brute_force(d, bins):
    g = torch.Generator().manual_seed(d)
    x = torch.rand(7, d, generator=g, dtype=torch.float64) * 3.0 - 1.0
    lo, hi = [-1.0] * d, [2.0] * d
    s = spectrum(x, bounds=(lo, hi), bins=bins)
    power, aniso = brute_spectrum(((x.numpy() + 1.0) / 3.0), bins)
    assert isinstance(s, Spectrum)
    assert s.frequency.tolist() == list(range(1, bins + 1))
    np.testing.assert_allclose(s.power.numpy(), power, rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.anisotropy.numpy(), aniso, rtol=0, atol=1e-9)  # NaN where NaN
    assert np.isnan(aniso).all() == (d == 1)


def test_spectrum_default_bounds_is_the_bounding_box_and_default_bins():
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 5 + 2
    box = (x.amin(0).tolist(), x.amax(0).tolist())
    a, b = spectrum(x), spectrum(x, bounds=box, bins=math.ceil(2 * 50**0.5))
    assert a.power.shape == (15,)
    assert torch.equal(a.power, b.power)


def test_random_set_is_flat_at_one():
    for seed in range(3):
        x = torch.rand(2000, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        s = spectrum(x, bounds=UNIT2, bins=64)
        assert abs(s.power.mean().item() - 1.0) < 0.1
        assert abs(s.anisotropy[4:].mean().item()) < 1.0  # dB: isotropic


def test_poisson_set_has_the_low_frequency_ring_and_a_peak():
    n = 2000
    for seed in range(2):
        cand = torch.rand(8 * n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        pts = cand[sample_elimination(cand, n, bounds=UNIT2, periodic=True)]
        s = spectrum(pts, bounds=UNIT2, bins=80)
        assert s.power[:20].mean().item() < 0.2
        assert s.power[:20].max().item() < 0.3
        peak = int(s.power.argmax()) + 1
        assert s.power.max().item() > 1.8
        assert 0.9 * math.sqrt(n) < peak < 1.4 * math.sqrt(n)
        assert abs(s.anisotropy[4:].mean().item()) < 1.5  # isotropic too


def test_lattice_gives_spikes_at_its_frequencies():
    m = 20
    g = (torch.arange(m, dtype=torch.float64) + 0.5) / m
    pts = torch.cartesian_prod(g, g)  # (400, 2), spacing 1/20
    s = spectrum(pts, bounds=UNIT2, bins=30)
    # P(f) = n where both coordinates of f are multiples of 20, else 0: in
    # bin 20 the two frequencies (20, 0), (0, 20) of the half lattice; in bin
    # 28 (|(20, +-20)| = 28.3) two more
    for k in (20, 28):
        f = torch.cartesian_prod(torch.arange(-30, 31), torch.arange(-30, 31))
        r = f.double().norm(dim=1)
        half = (f[:, 0] > 0) | ((f[:, 0] == 0) & (f[:, 1] > 0))
        count = int((half & (torch.floor(r + 0.5) == k)).sum())
        assert s.power[k - 1].item() == pytest.approx(2 * 400 / count, rel=1e-9)
        assert s.anisotropy[k - 1].item() > 10.0
    others = [k for k in range(1, 31) if k not in (20, 28)]
    assert s.power[[k - 1 for k in others]].max().item() < 1e-20


def test_poisson_disk_in_3d_has_low_power_at_low_frequency():
    pts = poisson_disk(1000, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    s = spectrum(pts, bounds=([0.0] * 3, [1.0] * 3), bins=12)
    rnd = spectrum(torch.rand(1000, 3, generator=torch.Generator().manual_seed(0)), bins=12)
    assert s.power[:5].mean().item() < 0.3 < 0.7 < rnd.power.mean().item()


@pytest.mark.parametrize("points,kwargs,err,words", [
    (torch.zeros(0, 2), {}, ValueError, "got shape (0, 2)"),
    ([[0.0, 1.0]], {}, ValueError, "got list"),
    (torch.tensor([[0.0, 0.0], [float("nan"), 1.0]]), {}, ValueError, "points[1]"),
    (torch.rand(5, 4), {}, ValueError, "d = 1, 2 or 3"),
    (torch.rand(5, 2), {"bounds": ([0.0], [1.0])}, ValueError, "bounds must have shape (2, d) = (2, 2)"),
    (torch.rand(5, 2), {"bounds": ([0.0, 1.0], [1.0, 1.0])}, ValueError, "axis 1 has lo=1, hi=1"),
    (torch.rand(5, 2), {"bins": 0}, ValueError, "bins=0"),
    (torch.rand(5, 2), {"bins": -3}, ValueError, "bins=-3"),
    (torch.rand(5, 2), {"bins": 2.5}, TypeError, "bins must be an int, got 2.5"),
    (torch.tensor([[0.5, 0.1], [0.5, 0.9]]), {}, ValueError, "do not span axis 0"),
])
def test_spectrum_bad_input(points, kwargs, err, words):
    with pytest.raises(err) as e:
        spectrum(points, **kwargs)
    assert words in str(e.value)


def brute_cover(x, sub, period=None):
    best = 0.0
    for p in x:
        diff = np.abs(sub - p)
        if period is not None:
            diff = np.minimum(diff, period - diff)
        best = max(best, np.sqrt((diff**2).sum(1)).min())
    return best


@pytest.mark.parametrize("d", [1, 2, 3])
def test_covering_radius_matches_brute_force(d):
    g = torch.Generator().manual_seed(10 + d)
    x = torch.rand(300, d, generator=g, dtype=torch.float64) * 2.0
    idx = torch.randperm(300, generator=g)[:17]
    assert covering_radius(x, idx) == brute_cover(x.numpy(), x[idx].numpy())
    box = ([0.0] * d, [2.0] * d)
    assert covering_radius(x, idx.tolist(), bounds=box, periodic=True) == brute_cover(
        x.numpy(), x[idx].numpy(), np.full(d, 2.0))


def test_covering_radius_is_zero_for_every_point_and_wraps_periodically():
    x = torch.rand(100, 2, generator=torch.Generator().manual_seed(3))
    assert covering_radius(x, torch.arange(100)) == 0.0
    y = torch.tensor([[0.05], [0.95]], dtype=torch.float64)
    assert covering_radius(y, [0]) == pytest.approx(0.9)
    assert covering_radius(y, [0], bounds=([0.0], [1.0]), periodic=True) == pytest.approx(0.1)
    assert covering_radius(y, [-1]) == pytest.approx(0.9)  # negative indices count from the end


def test_covering_radius_angles():
    g = torch.Generator().manual_seed(4)
    for metric, d in (("sphere", 3), ("so3", 4)):
        x = torch.randn(200, d, generator=g, dtype=torch.float64)
        idx = torch.randperm(200, generator=g)[:20]
        u = (x / x.norm(dim=1, keepdim=True)).numpy()
        dots = np.clip(u @ u[idx.numpy()].T, -1.0, 1.0)
        if metric == "so3":  # rotation angle 2 acos |q1 . q2|
            want = (2 * np.arccos(np.abs(dots))).min(1).max()
        else:
            want = np.arccos(dots).min(1).max()
        assert covering_radius(x, idx, metric=metric) == pytest.approx(want, abs=1e-9)


def test_poisson_subset_covers_better_than_random():
    for seed in range(2):
        g = torch.Generator().manual_seed(seed)
        cand = torch.rand(16000, 2, generator=g, dtype=torch.float64)
        pois = covering_radius(cand, sample_elimination(cand, 2000, bounds=UNIT2, periodic=True),
                               bounds=UNIT2, periodic=True)
        rnd = covering_radius(cand, torch.randperm(16000, generator=g)[:2000], bounds=UNIT2, periodic=True)
        assert pois < 0.025 < 0.03 < rnd
        assert rnd > 1.4 * pois


@pytest.mark.parametrize("subset,kwargs,err,words", [
    (torch.zeros(5, dtype=torch.bool), {}, TypeError, "dtype torch.bool"),
    (torch.tensor([0.0, 1.0]), {}, TypeError, "dtype torch.float32"),
    ([[0, 1]], {}, TypeError, "shape (1, 2)"),
    ([], {}, ValueError, "empty subset"),
    ([0, 5], {}, ValueError, "subset[1] = 5"),
    ([-6], {}, ValueError, "subset[0] = -6"),
    ("ab", {}, TypeError, "subset must be indices"),
    ([0], {"periodic": True}, ValueError, "periodic=True needs explicit bounds"),
    ([0], {"metric": "cosine"}, ValueError, 'metric="cosine"'),
])
def test_covering_radius_bad_input(subset, kwargs, err, words):
    x = torch.rand(5, 2)
    with pytest.raises(err) as e:
        covering_radius(x, subset, **kwargs)
    assert words in str(e.value)


def test_covering_radius_bad_points():
    with pytest.raises(ValueError, match=r"points\[2\]"):
        covering_radius(torch.tensor([[0.0], [1.0], [float("inf")]]), [0])
    with pytest.raises(ValueError, match=r"nonzero rows, got points\[1\] = 0"):
        covering_radius(torch.tensor([[1.0, 0, 0], [0, 0, 0]]), [0], metric="sphere")


@pytest.mark.parametrize("d,bins", [(1, 40), (2, 9), (3, 4)])
def test_spectrum_is_the_same_in_small_chunks(monkeypatch, d, bins):
    """Chunks of first-axis frequencies and of points (forced tiny here) only
    split the sums: the result agrees with the one-chunk computation."""
    import torch_poisson.quality as quality

    x = torch.rand(300, d, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    whole = spectrum(x, bins=bins)
    monkeypatch.setattr(quality, "_CHUNK_BYTES", 16 * (2 * bins + 1) ** (d - 1) * 3)
    parts = spectrum(x, bins=bins)
    torch.testing.assert_close(parts.power, whole.power, rtol=0, atol=1e-12)
    torch.testing.assert_close(parts.anisotropy, whole.anisotropy, rtol=0, atol=1e-9, equal_nan=True)
    monkeypatch.setattr(quality, "_COVER_CHUNK_BYTES", 1)  # one row per block
    idx = torch.arange(0, 300, 7)
    assert covering_radius(x, idx) == brute_cover(x.numpy(), x[idx].numpy())


def test_docstring_examples_hold():
    import doctest

    import torch_poisson.quality as quality

    torch.manual_seed(0)
    globs = {"torch": torch, "poisson_disk": poisson_disk, "sample_elimination": sample_elimination,
             "spectrum": spectrum, "covering_radius": covering_radius}
    for fn in (quality.spectrum, quality.covering_radius):
        runner = doctest.DocTestRunner()
        for test in doctest.DocTestFinder().find(fn, globs=globs):
            runner.run(test)
        assert runner.failures == 0 and runner.tries >= 2, fn.__name__


def test_spectra_figure_draws_each_set(tmp_path):
    from torch_poisson.plots import spectra_figure

    g = torch.Generator().manual_seed(0)
    sets = [("random", torch.rand(300, 2, generator=g)), ("Poisson", poisson_disk(300, generator=g))]
    fig = spectra_figure(sets, title="t", path=str(tmp_path / "s.png"))
    assert (tmp_path / "s.png").stat().st_size > 10_000
    bottom = [ax for ax in fig.axes if ax.get_xlabel() == "|f|"]
    assert len(bottom) == 2
    for ax, (_, pts) in zip(bottom, sets):  # the curves drawn are spectrum's
        want = spectrum(pts, bounds=UNIT2)
        np.testing.assert_allclose(ax.lines[-1].get_ydata(), want.power.numpy())


def test_spectra_figure_refuses_other_dimensions():
    from torch_poisson.plots import spectra_figure

    with pytest.raises(ValueError, match=r"2-D points \(n, 2\), got '3d' of shape \(10, 3\)"):
        spectra_figure([("3d", torch.rand(10, 3))])
