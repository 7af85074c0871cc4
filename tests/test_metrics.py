"""Metrics so3 and sphere, dim=/volume= overrides, radius="auto" and real data
that does not fill its bounding box. Checked against the naive oracle."""
import math

import numpy as np
import pytest
import torch

import torch_poisson as tp

from oracle import SO3_VOLUME, agreement, eliminate, so3_distances, sphere_area, sphere_distances

cKDTree = pytest.importorskip("scipy.spatial").cKDTree


def gen(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ oracle --


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [40, 100, 300])
def test_so3_matches_oracle(seed, n):
    q = torch.randn(800, 4, generator=gen(seed), dtype=torch.float64)
    got = tp.sample_elimination(q, n, metric="so3").tolist()
    want = eliminate(q.numpy(), n, distances=so3_distances, dim=3, volume=SO3_VOLUME)
    assert agreement(got, want) >= 0.99


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_sphere_matches_oracle(seed, k):
    v = torch.randn(800, k, generator=gen(seed), dtype=torch.float64)
    got = tp.sample_elimination(v, 120, metric="sphere").tolist()
    want = eliminate(v.numpy(), 120, distances=sphere_distances, dim=k - 1, volume=sphere_area(k))
    assert agreement(got, want) >= 0.99


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_reach_beyond_pi_matches_oracle(n):
    """Few points: d_max exceeds pi and every pair is a neighbour."""
    q = torch.randn(60, 4, generator=gen(n), dtype=torch.float64)
    got = tp.sample_elimination(q, n, metric="so3", progressive=True).tolist()
    want = eliminate(q.numpy(), n, distances=so3_distances, dim=3, volume=SO3_VOLUME, progressive=True)
    assert got == want
    v = torch.randn(60, 3, generator=gen(n), dtype=torch.float64)
    got = tp.sample_elimination(v, n, metric="sphere", progressive=True).tolist()
    want = eliminate(v.numpy(), n, distances=sphere_distances, dim=2, volume=sphere_area(3), progressive=True)
    assert got == want


def test_so3_progressive_matches_oracle():
    q = torch.randn(800, 4, generator=gen(5), dtype=torch.float64)
    got = tp.sample_elimination(q, 100, metric="so3", progressive=True).tolist()
    want = eliminate(q.numpy(), 100, distances=so3_distances, dim=3, volume=SO3_VOLUME, progressive=True)
    assert agreement(got, want) >= 0.99
    assert agreement(got[:25], want[:25]) >= 0.96


def test_so3_rim_matches_oracle():
    """Rotations by nearly pi: w ~ 0, where q and -q of one rotation lie on
    opposite sides of any hemisphere (the reference's approximation fails)."""
    q = torch.randn(1000, 4, generator=gen(7), dtype=torch.float64)
    q[:, 0] *= 0.05
    got = tp.sample_elimination(q, 150, metric="so3").tolist()
    want = eliminate(q.numpy(), 150, distances=so3_distances, dim=3, volume=SO3_VOLUME)
    assert agreement(got, want) >= 0.99
    # the data is near the 2-D set of half turns: radius="auto" fits it
    r, _ = tp.estimate_radius(q, 150, metric="so3")
    got = tp.sample_elimination(q, 150, metric="so3", radius="auto").tolist()
    want = eliminate(q.numpy(), 150, distances=so3_distances, dim=3, volume=SO3_VOLUME, radius=r)
    assert agreement(got, want) >= 0.99
    # the hemisphere approximation (euclidean on q with w >= 0) keeps close pairs
    hemi = torch.where(q[:, :1] < 0, -q, q)
    hemi = hemi / hemi.norm(dim=1, keepdim=True)
    wrong = tp.sample_elimination(hemi, 150, radius="auto").tolist()
    ours = tp.min_distance(q[got], metric="so3")
    theirs = tp.min_distance(q[wrong], metric="so3")
    assert ours > 2.0 * theirs, (ours, theirs)


def _pose_clusters(m, views, sd, seed):
    g = gen(seed)
    q = views[torch.randint(0, views.shape[0], (m,), generator=g)]
    return q + sd * torch.randn(m, 4, generator=g, dtype=torch.float64)


def test_so3_tight_clusters_sparse_grid_matches_oracle():
    """Tight pose clusters, two of them on the rim (w = 0: q and -q both
    occur): the radius is tiny against the projected ball, so the grid keeps
    only occupied cells, and the search around -q starts from a full cell
    index. Same kept set as the oracle."""
    views = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0.6, 0.8, 0], [0.5, 0.5, 0.5, 0.5]],
                         dtype=torch.float64)
    q = _pose_clusters(1200, views, 0.003, 3)
    q[::2, 0] *= -1  # rim poses on both sides
    for n in (60, 150):
        r, _ = tp.estimate_radius(q, n, metric="so3")
        got = tp.sample_elimination(q, n, metric="so3", radius="auto").tolist()
        want = eliminate(q.numpy(), n, distances=so3_distances, dim=3, volume=SO3_VOLUME, radius=r)
        assert agreement(got, want) >= 0.99, n


def test_tight_clusters_in_a_large_domain_are_not_refused():
    """Clusters far smaller than their bounding box, with radius="auto": a
    point has tens of true neighbours. Cells as fine as d_max (a sparse
    grid), not clamped to the dense grid's count per axis, which made them
    ten times wider and refused these as too dense."""
    g = gen(11)
    centres = torch.rand(20, 2, generator=g, dtype=torch.float64) * 1e4
    x = centres[torch.randint(0, 20, (200_000,), generator=g)]
    x = x + 1e-3 * torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    idx = tp.sample_elimination(x, 25_000, radius="auto")
    assert idx.unique().numel() == 25_000
    rand = torch.randperm(200_000, generator=g)[:25_000]
    assert tp.min_distance(x[idx]) > 20 * tp.min_distance(x[rand])
    # rotations: four views, poses within ~0.3 degrees of them
    views = torch.randn(4, 4, generator=g, dtype=torch.float64)
    q = _pose_clusters(100_000, views / views.norm(dim=1, keepdim=True), 0.002, 12)
    idx = tp.sample_elimination(q, 12_500, metric="so3", radius="auto")
    assert idx.unique().numel() == 12_500
    rand = torch.randperm(100_000, generator=g)[:12_500]
    assert tp.min_distance(q[idx], metric="so3") > 20 * tp.min_distance(q[rand], metric="so3")


def test_so3_near_duplicates_across_the_rim():
    """q and -(q + tiny) are one rotation even where w ~ 0: the result equals
    the oracle's and does not change when the twins' signs flip."""
    g = gen(11)
    base = torch.randn(200, 4, generator=g, dtype=torch.float64)
    base[:, 0] = 1e-9 * torch.randn(200, generator=g, dtype=torch.float64)
    twin = -(base + 1e-7 * torch.randn(200, 4, generator=g, dtype=torch.float64))
    q = torch.cat([base, twin])
    for n in (100, 200):
        got = tp.sample_elimination(q, n, metric="so3")
        want = eliminate(q.numpy(), n, distances=so3_distances, dim=3, volume=SO3_VOLUME)
        assert agreement(got.tolist(), want) >= 0.99
        flipped = torch.cat([base, -twin])
        assert torch.equal(tp.sample_elimination(flipped, n, metric="so3"), got)


# -------------------------------------------------------------- invariance --


def test_so3_sign_and_length_invariance():
    g = gen(3)
    q = torch.randn(2000, 4, generator=g, dtype=torch.float64)
    ref = tp.sample_elimination(q, 250, metric="so3")
    sign = torch.where(torch.rand(2000, 1, generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    assert torch.equal(tp.sample_elimination(q * sign, 250, metric="so3"), ref)
    scale = 10.0 ** (4 * torch.rand(2000, 1, generator=g, dtype=torch.float64) - 2)
    got = tp.sample_elimination(q * sign * scale, 250, metric="so3")
    assert agreement(got.tolist(), ref.tolist()) >= 0.99


def test_sphere_length_invariance():
    g = gen(4)
    v = torch.randn(2000, 3, generator=g, dtype=torch.float64)
    ref = tp.sample_elimination(v, 250, metric="sphere")
    assert torch.equal(tp.sample_elimination(v * 4.0, 250, metric="sphere"), ref)
    scale = 10.0 ** (4 * torch.rand(2000, 1, generator=g, dtype=torch.float64) - 2)
    got = tp.sample_elimination(v * scale, 250, metric="sphere")
    assert agreement(got.tolist(), ref.tolist()) >= 0.99


# ------------------------------------------------------------------ errors --


@pytest.mark.parametrize("metric,d", [("so3", 4), ("sphere", 3)])
def test_zero_rows_are_an_error(metric, d):
    x = torch.randn(50, d)
    x[7] = 0.0
    with pytest.raises(ValueError, match=r"points\[7\] has zero length"):
        tp.sample_elimination(x, 10, metric=metric)
    # the operator itself (no Python checks) says the same
    with pytest.raises(RuntimeError, match=r"points\[7\] has zero length"):
        torch.ops.torch_poisson.sample_elimination.default(
            x, 10, None, None, False, 8.0, 0.65, 1.5, True, False, metric, None, None, False)
    b = torch.randn(2, 50, d)
    b[1, 9] = 0.0
    with pytest.raises(ValueError, match=r"batch item 1: .*points\[9\] has zero length"):
        tp.sample_elimination(b, 10, metric=metric)
    b[1, 9] = 1.0
    b[1, 40:] = 0.0  # padding beyond lengths is never read
    out = tp.sample_elimination(b, 10, metric=metric, lengths=torch.tensor([50, 40]))
    assert out.shape == (2, 10)


def test_metric_argument_errors():
    q = torch.randn(100, 4)
    with pytest.raises(ValueError, match="metric"):
        tp.sample_elimination(q, 10, metric="hyperbolic")
    with pytest.raises(RuntimeError, match="hyperbolic"):
        torch.ops.torch_poisson.sample_elimination.default(
            q, 10, None, None, False, 8.0, 0.65, 1.5, True, False, "hyperbolic", None, None, False)
    with pytest.raises(ValueError, match="d=3"):
        tp.sample_elimination(q[:, :3], 10, metric="so3")
    with pytest.raises(ValueError, match="d=1"):
        tp.sample_elimination(q[:, :1], 10, metric="sphere")
    with pytest.raises(ValueError, match="bounds and periodic"):
        tp.sample_elimination(q, 10, metric="so3", bounds=([-1] * 4, [1] * 4))
    with pytest.raises(ValueError, match="bounds and periodic"):
        tp.sample_elimination(q, 10, metric="sphere", bounds=([-1] * 4, [1] * 4), periodic=True)
    with pytest.raises(ValueError, match="radius"):
        tp.sample_elimination(q, 10, radius="big")
    with pytest.raises(ValueError, match="dim"):
        tp.sample_elimination(q, 10, dim=0)
    with pytest.raises(ValueError, match="volume"):
        tp.sample_elimination(q, 10, volume=-1.0)
    with pytest.raises(ValueError, match="bounds and periodic"):
        tp.poisson_disk(10, metric="so3", periodic=True)


# ------------------------------------------------------------ generation --


def test_poisson_disk_rotations_and_directions():
    torch.manual_seed(0)
    rot = tp.poisson_disk(200, metric="so3", dtype=torch.float64)
    assert rot.shape == (200, 4)
    assert torch.allclose(rot.norm(dim=1), torch.ones(200, dtype=torch.float64))
    torch.manual_seed(0)
    assert torch.equal(tp.poisson_disk(200, metric="so3", dtype=torch.float64), rot)
    assert torch.equal(tp.poisson_disk(200, metric="so3", generator=gen(1)),
                       tp.poisson_disk(200, metric="so3", generator=gen(1)))
    random = torch.randn(200, 4, generator=gen(2), dtype=torch.float64)
    assert tp.relative_radius(rot, metric="so3") > 0.6
    assert tp.relative_radius(random, metric="so3") < 0.3
    dirs = tp.poisson_disk(500, dim=3, metric="sphere", generator=gen(3))
    assert dirs.shape == (500, 3)
    assert torch.allclose(dirs.norm(dim=1), torch.ones(500))
    assert tp.relative_radius(dirs, metric="sphere") > 0.6
    assert tp.relative_radius(torch.randn(500, 3, generator=gen(4)), metric="sphere") < 0.1


def test_poisson_disk_spread_in_four_and_more_dimensions():
    """From 4 dimensions on poisson_disk eliminates without weight limiting
    (its d_min lies past the reachable spacing, and the sets would be no
    better than random): toroidal 4-D/5-D sets and directions on S^4 are well
    spread, and weight_limiting=True still gives the paper's algorithm."""
    for d in (4, 5):
        x = tp.poisson_disk(500, dim=d, generator=gen(d), dtype=torch.float64)
        rand = torch.rand(500, d, generator=gen(10 + d), dtype=torch.float64)
        unit = dict(bounds=([0.0] * d, [1.0] * d), periodic=True)  # poisson_disk's torus
        assert tp.relative_radius(x, **unit) > 0.45 > 0.3 > tp.relative_radius(rand, **unit)
        limited = tp.poisson_disk(500, dim=d, generator=gen(d), dtype=torch.float64, weight_limiting=True)
        assert tp.relative_radius(limited, **unit) < 0.3  # documented: why it is off here
    dirs = tp.poisson_disk(500, dim=5, metric="sphere", generator=gen(7))
    assert tp.relative_radius(dirs, metric="sphere") > 0.45
    # 2-D and 3-D keep the paper's default
    assert torch.equal(tp.poisson_disk(300, dim=2, generator=gen(8)),
                       tp.poisson_disk(300, dim=2, generator=gen(8), weight_limiting=True))


# ------------------------------------------------- dim / volume / "auto" --


def surface(m, g):
    s = torch.randn(m, 3, generator=g, dtype=torch.float64)
    return s / s.norm(dim=1, keepdim=True)


def clusters(m, g):
    centers = torch.rand(20, 3, generator=g, dtype=torch.float64) * 10
    pick = torch.randint(0, 20, (m,), generator=g)
    return centers[pick] + 0.05 * torch.randn(m, 3, generator=g, dtype=torch.float64)


def embeddings(m, g):
    basis = torch.linalg.qr(torch.randn(64, 3, generator=g, dtype=torch.float64))[0]
    latent = torch.rand(m, 3, generator=g, dtype=torch.float64)
    return latent @ basis.T + 1e-3 * torch.randn(m, 64, generator=g, dtype=torch.float64)


REAL = {"sphere surface": surface, "clusters": clusters, "64-d subspace": embeddings}


def test_dim_volume_override_matches_oracle():
    x = surface(1000, gen(8))
    got = tp.sample_elimination(x, 150, dim=2, volume=4 * math.pi).tolist()
    want = eliminate(x.numpy(), 150, dim=2, volume=4 * math.pi)
    assert agreement(got, want) >= 0.99
    # the bounding box (3-D, volume 8) gives a different, larger radius
    assert agreement(tp.sample_elimination(x, 150).tolist(), want) < 0.95


def test_auto_radius_matches_formula_on_uniform_data():
    for d in (2, 3):
        x = torch.rand(20000, d, generator=gen(d), dtype=torch.float64)
        r, D = tp.estimate_radius(x, 2500)
        assert D == d
        assert abs(r / tp.max_radius(2500, 1.0, d) - 1.0) < 0.1
    q = torch.randn(20000, 4, generator=gen(9), dtype=torch.float64)
    r, D = tp.estimate_radius(q, 2500, metric="so3")
    assert D == 3 and abs(r / tp.max_radius(2500, SO3_VOLUME, 3) - 1.0) < 0.1


def brute_force_radius(x, n, metric="euclidean", period=None):
    """estimate_radius as documented, by sorting every distance: the k-th and
    2k-th nearest (k = M/n) of 256 evenly spaced query rows, their medians,
    D from their ratio, r_max = r_k (k / (k - 1/3))^(1/D) times the packing
    factor of D."""
    x = x.numpy()
    m, d = x.shape
    k = max(1, min(m - 1, int(math.floor(m / n + 0.5))))
    k2 = min(2 * k, m - 1)
    queries = min(m, 256)
    rk, r2k = [], []
    angles = so3_distances(x) if metric == "so3" else None
    for q in range(queries):
        i = int((q + 0.5) * m / queries)
        if metric == "so3":
            dist = angles[i]
        else:
            diff = np.abs(x - x[i])
            if period is not None:  # toroidal
                diff = np.minimum(diff, period - diff)
            dist = np.sqrt((diff ** 2).sum(1))
        dist = np.sort(np.delete(dist, i))
        rk.append(dist[k - 1])
        r2k.append(dist[k2 - 1])
    rk, r2k = float(np.median(rk)), float(np.median(r2k))
    ck, c2k = k - 1 / 3, k2 - 1 / 3
    D = 3 if metric == "so3" else min(d, max(1, int(math.floor(math.log(c2k / ck) / math.log(r2k / rk) + 0.5))))
    ball = math.pi ** (D / 2) / math.gamma(D / 2 + 1)
    return rk * (m / n / ck) ** (1 / D) * tp.max_radius(1, 1.0, D) * ball ** (1 / D), D


@pytest.mark.parametrize("m,d,n,metric", [
    (2048, 2, 256, "euclidean"),   # k = 8: the small-rank path (a sorted array of the smallest)
    (3000, 3, 1000, "euclidean"),  # k = 3
    (3000, 2, 40, "euclidean"),    # k = 75, 2k = 150: quickselect over all
    (1500, 4, 100, "so3"),
])
def test_auto_radius_is_the_documented_estimate(m, d, n, metric):
    g = gen(m + d)
    x = torch.randn(m, d, generator=g, dtype=torch.float64)
    x[: m // 3] *= 0.05  # uneven: a dense core
    if metric == "so3":
        x = x / x.norm(dim=1, keepdim=True)
    r, D = tp.estimate_radius(x, n, metric=metric)
    want, want_D = brute_force_radius(x, n, metric)
    assert D == want_D
    assert r == pytest.approx(want, rel=1e-9)


def test_auto_radius_estimate_is_toroidal_when_periodic():
    # two lines hugging the unit square's left and right edges, their points
    # interleaved: half of each point's nearest are across the edge, so a
    # non-toroidal estimate comes out about twice as large
    i = torch.arange(2048, dtype=torch.float64)
    x = torch.stack([torch.where(i % 2 == 0, 1e-4, 1 - 1e-4), (i + 0.25 * torch.rand(2048, generator=gen(31),
                     dtype=torch.float64)) / 2048], dim=1)
    bounds = ([0.0, 0.0], [1.0, 1.0])
    got = tp.sample_elimination(x, 256, radius="auto", bounds=bounds, periodic=True)
    want_r, _ = brute_force_radius(x, 256, period=np.array([1.0, 1.0]))
    assert torch.equal(got, tp.sample_elimination(x, 256, radius=want_r, bounds=bounds, periodic=True))
    plain_r, _ = brute_force_radius(x, 256)
    assert plain_r > 1.5 * want_r  # the case tells the two apart


def test_auto_radius_is_the_explicit_radius():
    x = clusters(1200, gen(12))
    r, _ = tp.estimate_radius(x, 150)
    assert torch.equal(tp.sample_elimination(x, 150, radius="auto"), tp.sample_elimination(x, 150, radius=r))
    want = eliminate(x.numpy(), 150, radius=r)
    assert agreement(tp.sample_elimination(x, 150, radius="auto").tolist(), want) >= 0.99


def neighbours_per_point(x, r_max):
    """Mean number of other points within d_max = 2 r_max: the work per point."""
    tree = cKDTree(x)
    return (tree.count_neighbors(tree, 2.0 * r_max) - len(x)) / len(x)


@pytest.mark.parametrize("name", list(REAL))
def test_real_data_well_spread_in_linear_work(name):
    g = gen(13)
    x = REAL[name](8000, g)
    n = 1000
    idx = tp.sample_elimination(x, n, radius="auto")
    assert idx.shape == (n,) and len(set(idx.tolist())) == n
    rnd = torch.randperm(8000, generator=g)[:n]
    ours, random = tp.min_distance(x[idx]), tp.min_distance(x[rnd])
    assert ours > 4.0 * random, (ours, random)
    # the work: neighbours per point within d_max stays bounded as M doubles,
    # (linear total work) and is a small multiple of M/n
    r, _ = tp.estimate_radius(x, n)
    x2 = REAL[name](16000, g)
    r2, _ = tp.estimate_radius(x2, 2 * n)
    per, per2 = neighbours_per_point(x.numpy(), r), neighbours_per_point(x2.numpy(), r2)
    assert per < 40 * (8000 / n) and per2 < 1.3 * per, (per, per2)


def test_default_radius_is_quadratic_on_clusters():
    """Why radius="auto" exists: the bounding box makes every point of a
    cluster a neighbour of every other."""
    x = clusters(16000, gen(13))
    box = (x.max(0).values - x.min(0).values).prod().item()
    per_box = neighbours_per_point(x.numpy(), tp.max_radius(2000, box, 3))
    per_auto = neighbours_per_point(x.numpy(), tp.estimate_radius(x, 2000)[0])
    assert per_box > 10 * per_auto


def test_sphere_directions_figure(tmp_path):
    pytest.importorskip("matplotlib")
    from torch_poisson.plots import sphere_directions_figure

    out = tmp_path / "directions.png"
    fig = sphere_directions_figure(300, path=str(out))
    assert out.stat().st_size > 10_000
    titles = [ax.get_title() for ax in fig.axes]
    assert "random" in titles[0] and "Poisson" in titles[1]


def test_thread_count_does_not_change_the_result():
    g = gen(21)
    cases = [
        (torch.randn(20000, 4, generator=g, dtype=torch.float64), {"metric": "so3"}),
        (torch.randn(20000, 3, generator=g, dtype=torch.float64), {"metric": "sphere"}),
        (embeddings(20000, g), {"radius": "auto"}),
        (clusters(20000, g), {"radius": "auto"}),
    ]
    before = torch.get_num_threads()
    try:
        for x, kw in cases:
            torch.set_num_threads(1)
            one = tp.sample_elimination(x, 2500, **kw)
            torch.set_num_threads(max(2, before))
            assert torch.equal(tp.sample_elimination(x, 2500, **kw), one)
    finally:
        torch.set_num_threads(before)
