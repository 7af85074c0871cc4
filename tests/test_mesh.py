"""poisson_disk_mesh: points on the triangles they name, exact counts, seeded,
area-weighted uniform candidates, spacing far above a random surface
sample's, degenerate faces never drawn, every bad input refused by name."""
import doctest
import math

import pytest
import torch

import torch_poisson
import torch_poisson.mesh
from torch_poisson import poisson_disk_mesh


def icosphere(level):
    """The unit icosahedron, each triangle split into four `level` times, new
    vertices pushed onto the unit sphere: 20 * 4**level faces."""
    t = (1 + math.sqrt(5)) / 2
    v = torch.tensor([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                      [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], dtype=torch.float64)
    f = torch.tensor([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
                      [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
                      [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]])
    v = v / v.norm(dim=1, keepdim=True)
    for _ in range(level):
        edges = torch.cat([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]).sort(dim=1).values
        uniq, inv = torch.unique(edges, dim=0, return_inverse=True)
        mid = v[uniq].mean(1)
        ab, bc, ca = inv.view(3, -1) + v.shape[0]  # each face's edge midpoints
        v = torch.cat([v, mid / mid.norm(dim=1, keepdim=True)])
        a, b, c = f.unbind(1)
        f = torch.cat([torch.stack(x, 1) for x in ((a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca))])
    return v, f


def cube():
    """The cube [-0.5, 0.5]^3 as 12 triangles (vertex 4x + 2y + z)."""
    v = torch.tensor([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], dtype=torch.float64)
    f = torch.tensor([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return v, f


def areas(v, f):
    c = v.double()[f]
    return 0.5 * torch.linalg.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]).norm(dim=1)


def seeded(seed):
    return torch.Generator().manual_seed(seed)


def rho(points, v, f):
    """Smallest distance among the points over 2 r_max for their count on the
    mesh's area (dim=2): 3-D euclidean distances, as the elimination uses."""
    return torch_poisson.relative_radius(points, periodic=False, volume=float(areas(v, f).sum()), dim=2)


def assert_on_faces(s, v, f, tol):
    """Each point is its barycentric combination of its face's corners, the
    barycentrics are inside the triangle, the point on the face's plane."""
    corners = v.double()[f[s.face_index]]
    b, p = s.barycentric.double(), s.points.double()
    assert (b >= 0).all() and (b <= 1).all()
    assert torch.allclose(b.sum(1), torch.ones(len(b), dtype=torch.float64), rtol=0, atol=tol)
    assert torch.allclose((b[:, :, None] * corners).sum(1), p, rtol=0, atol=tol)
    normal = torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normal = normal / normal.norm(dim=1, keepdim=True)
    assert ((p - corners[:, 0]) * normal).sum(1).abs().max() <= tol


@pytest.mark.parametrize("mesh", [icosphere(3), cube()], ids=["icosphere", "cube"])
@pytest.mark.parametrize("n", [1, 7, 1000])
def test_points_on_their_faces_and_counts_exact(mesh, n):
    v, f = mesh
    s = poisson_disk_mesh(v, f, n, generator=seeded(n))
    assert s.points.shape == (n, 3) and s.face_index.shape == (n,) and s.barycentric.shape == (n, 3)
    assert s.points.dtype == s.barycentric.dtype == torch.float64 and s.face_index.dtype == torch.int64
    assert ((s.face_index >= 0) & (s.face_index < len(f))).all()
    assert_on_faces(s, v, f, 1e-12)
    assert len(torch.unique(s.points, dim=0)) == n


def test_points_on_the_sphere_mesh_and_the_cube_surface():
    v, f = icosphere(3)
    r = poisson_disk_mesh(v, f, 1000, generator=seeded(0)).points.norm(dim=1)
    c = v[f]
    plane_distance = (torch.linalg.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]) * c[:, 0]).sum(1) \
        / torch.linalg.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]).norm(dim=1)
    assert r.max() <= 1 + 1e-12 and r.min() >= plane_distance.min() - 1e-12  # between the faces and the sphere
    v, f = cube()
    p = poisson_disk_mesh(v, f, 1000, generator=seeded(0)).points
    assert (p.abs() <= 0.5).all() and torch.allclose(p.abs().amax(1), torch.full((1000,), 0.5, dtype=torch.float64))


@pytest.mark.parametrize("mesh", [icosphere(3), cube()], ids=["icosphere", "cube"])
def test_spacing_far_above_a_random_surface_sample(mesh):
    """oversample=1 keeps every candidate: a uniformly random surface sample.
    Measured for n=1000, seeds 0-4: Poisson 0.726-0.729 on the icosphere,
    0.715-0.728 on the cube; random 0.010-0.030 and 0.013-0.032."""
    v, f = mesh
    for seed in range(3):
        poisson = rho(poisson_disk_mesh(v, f, 1000, generator=seeded(seed)).points, v, f)
        random = rho(poisson_disk_mesh(v, f, 1000, oversample=1, generator=seeded(seed)).points, v, f)
        assert poisson > 0.65 and random < 0.1 and poisson > 5 * random, (poisson, random)


def test_candidates_are_area_weighted_and_uniform_in_each_triangle():
    """oversample=1: face counts follow the areas (within 5 sigma), and in a
    triangle P(b0 > t) = (1 - t)^2, b1 and b2 alike (uniform density)."""
    v = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 3], [5, 0, 0], [0, 2, 2]], dtype=torch.float64)
    f = torch.tensor([[0, 1, 2], [0, 1, 3], [0, 4, 2], [1, 2, 5], [3, 4, 5]])
    m = 200_000
    s = poisson_disk_mesh(v, f, m, oversample=1, generator=seeded(1))
    p = areas(v, f) / areas(v, f).sum()
    counts = torch.bincount(s.face_index, minlength=len(f)).double()
    assert ((counts - m * p).abs() <= 5 * (m * p * (1 - p)).sqrt()).all(), (counts, m * p)
    for t in (0.2, 0.5, 0.8):
        want = (1 - t) ** 2
        sigma = math.sqrt(want * (1 - want) / m)
        for k in range(3):
            assert abs((s.barycentric[:, k] > t).double().mean().item() - want) <= 5 * sigma


def test_seeded_calls_reproduce_and_seeds_differ():
    v, f = icosphere(2)
    a, b = (poisson_disk_mesh(v, f, 300, generator=seeded(5)) for _ in range(2))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    c = poisson_disk_mesh(v, f, 300, generator=seeded(6))
    assert not torch.equal(a.points, c.points)
    torch.manual_seed(3)
    d = poisson_disk_mesh(v, f, 300)
    torch.manual_seed(3)
    assert torch.equal(d.points, poisson_disk_mesh(v, f, 300).points)


def test_degenerate_faces_are_never_drawn():
    """A repeated index, collinear corners and coincident corners: zero area."""
    v, f = cube()
    v = torch.cat([v, torch.tensor([[0.0, 0, 0], [1, 1, 1], [2, 2, 2], [0, 0, 0]], dtype=torch.float64)])
    degenerate = torch.tensor([[0, 0, 1], [8, 9, 10], [8, 11, 9], [3, 3, 3]])
    f = torch.cat([degenerate[:2], f[:6], degenerate[2:], f[6:]])
    assert (areas(v, f)[[0, 1, 8, 9]] == 0).all()
    for oversample in (1, 8):
        s = poisson_disk_mesh(v, f, 20_000, oversample=oversample, generator=seeded(oversample))
        assert not torch.isin(s.face_index, torch.tensor([0, 1, 8, 9])).any()
        assert len(torch.unique(s.face_index)) == 12  # every real face drawn
        assert_on_faces(s, v, f, 1e-12)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_vertex_dtypes(dtype):
    """Computed in float64 from the exactly up-cast vertices (the cube's are
    exact in every dtype): the same faces and, rounded, the same points."""
    v, f = cube()
    ref = poisson_disk_mesh(v, f, 200, generator=seeded(2))
    s = poisson_disk_mesh(v.to(dtype), f.to(torch.int32), 200, generator=seeded(2))
    assert s.points.dtype == s.barycentric.dtype == dtype and s.face_index.dtype == torch.int64
    assert torch.equal(s.face_index, ref.face_index)
    assert torch.equal(s.points, ref.points.to(dtype)) and torch.equal(s.barycentric, ref.barycentric.to(dtype))
    assert_on_faces(s, v, f, 4 * torch.finfo(dtype).eps)


def test_progressive_passes_through():
    """progressive=True orders the same set so that a prefix is well spread.
    Measured (n=1000, seeds 0-4, first 250): 0.63-0.65 progressive, 0.36-0.37
    in candidate order."""
    v, f = icosphere(3)
    plain = poisson_disk_mesh(v, f, 1000, generator=seeded(0))
    prog = poisson_disk_mesh(v, f, 1000, generator=seeded(0), progressive=True)
    order = prog.points[:, 0].argsort()
    assert torch.equal(prog.points[order], plain.points[plain.points[:, 0].argsort()])
    assert rho(prog.points[:250], v, f) > 0.55 > 0.45 > rho(plain.points[:250], v, f)
    assert_on_faces(prog, v, f, 1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_result_on_the_vertices_device():
    v, f = cube()
    ref = poisson_disk_mesh(v, f, 100, generator=seeded(0))
    s = poisson_disk_mesh(v.cuda(), f.cuda(), 100, generator=seeded(0))
    assert all(x.device.type == "cuda" for x in s)
    assert all(torch.equal(x.cpu(), y) for x, y in zip(s, ref))


def test_docstring_example_runs():
    assert doctest.testmod(torch_poisson.mesh, extraglobs={"torch": torch}).failed == 0


V, F = cube()
BAD = [
    # (vertices, faces, n, keywords, exception, message pattern)
    ("no vertices", torch.empty(0, 3), F, 10, {}, ValueError, r"vertices must be a non-empty .* got shape \(0, 3\)"),
    ("no faces", V, torch.empty(0, 3, dtype=torch.int64), 10, {}, ValueError, r"faces .* got shape \(0, 3\)"),
    ("2-D vertices", V[:, :2], F, 10, {}, ValueError, r"vertices .* shape \(V, 3\), got shape \(8, 2\)"),
    ("quads", V, torch.zeros(4, 4, dtype=torch.int64), 10, {}, ValueError, r"faces .* shape \(F, 3\), got shape \(4, 4\)"),
    ("flat faces", V, F.flatten(), 10, {}, ValueError, r"faces .* got shape \(36,\)"),
    ("list vertices", V.tolist(), F, 10, {}, TypeError, r"vertices must be a tensor .* got list"),
    ("int vertices", V.long(), F, 10, {}, TypeError, r"vertices must be float16, .* got torch.int64"),
    ("float faces", V, F.double(), 10, {}, TypeError, r"faces must be an integer tensor .* got torch.float64"),
    ("bool faces", V, F > 3, 10, {}, TypeError, r"faces must be an integer tensor .* got torch.bool"),
    ("index V", V, torch.cat([F, torch.tensor([[1, 8, 2]])]), 10, {}, ValueError,
     r"faces must index vertices in \[0, 8\), got faces\[12\]=\[1, 8, 2\]"),
    ("negative index", V, torch.cat([torch.tensor([[0, -1, 2]]), F]), 10, {}, ValueError, r"got faces\[0\]=\[0, -1, 2\]"),
    ("nan vertex", torch.cat([V, torch.tensor([[0.0, math.nan, 0]], dtype=torch.float64)]), F, 10, {}, ValueError,
     r"vertices must be finite, got vertices\[8\]=\[0.0, nan, 0.0\]"),
    ("inf vertex", torch.cat([torch.tensor([[math.inf, 0, 0]], dtype=torch.float64), V]), F, 10, {}, ValueError,
     r"vertices\[0\]=\[inf, 0.0, 0.0\]"),
    ("zero area", V, torch.tensor([[0, 0, 1], [2, 2, 2]]), 10, {}, ValueError, r"positive area, got all 2 faces of zero area"),
    ("area overflow", V * 1e300, F, 10, {}, ValueError, r"area overflows float64, got vertices up to 5e\+299"),
    ("n 0", V, F, 0, {}, ValueError, r"n must be >= 1, got n=0"),
    ("n negative", V, F, -3, {}, ValueError, r"n must be >= 1, got n=-3"),
    ("n float", V, F, 2.5, {}, TypeError, r"n must be an int, got 2.5"),
    ("n bool", V, F, True, {}, TypeError, r"n must be an int, got True"),
    ("oversample 0", V, F, 10, {"oversample": 0}, ValueError, r"oversample must be >= 1, got oversample=0"),
    ("oversample float", V, F, 10, {"oversample": 8.0}, TypeError, r"oversample must be an int, got 8.0"),
    ("generator", V, F, 10, {"generator": 7}, TypeError, r"generator must be a CPU torch.Generator .* got int"),
    ("domain option", V, F, 10, {"bounds": ([0, 0, 0], [1, 1, 1]), "dim": 3}, TypeError,
     r"passes only alpha, beta, gamma, weight_limiting, progressive .* got bounds=\(\[0, 0, 0\], \[1, 1, 1\]\), dim=3"),
    ("alpha", V, F, 10, {"alpha": -1.0}, ValueError, r"alpha must be finite and > 0, got alpha=-1"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_names_the_argument_and_value(case):
    _, v, f, n, kw, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        poisson_disk_mesh(v, f, n, **kw)
