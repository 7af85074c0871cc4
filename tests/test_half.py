"""float16 and bfloat16 points: accepted by every entry point (the functional
API, both operators, the fake kernels, the samplers, the quality measures)
and computed in float64, so the result is index for index that of the same
points up-cast. Rounding to half precision makes many coordinates equal, so
these cases are full of exact ties and duplicates too."""
import numpy as np
import pytest
import torch

import torch_poisson as tp
from torch_poisson import PoissonBatchSampler, PoissonSampler

HALF = [torch.float16, torch.bfloat16]
REFUSED = [torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64]
NAMES = {torch.int64: "int64", torch.int32: "int32", torch.uint8: "uint8", torch.bool: "bool",
         torch.complex64: "complex64"}


def gen(seed):
    return torch.Generator().manual_seed(seed)


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=gen(seed), dtype=torch.float64)


def quats(m, seed=0):
    q = torch.randn(m, 4, generator=gen(seed), dtype=torch.float64)
    return q / q.norm(dim=1, keepdim=True)


def up_casts(x):
    """The same values as float32 and float64 (both exact)."""
    return x.float(), x.double()


# (points in float64, n, options): the single call's cases
SINGLE = [
    ("2d", lambda: rand(3000, 2, seed=1), 300, {}),
    ("3d-progressive", lambda: rand(2000, 3, seed=2), 250, {"progressive": True}),
    ("periodic", lambda: rand(2500, 2, seed=3), 200, {"bounds": ([0, 0], [1, 1]), "periodic": True}),
    ("auto-radius", lambda: rand(2000, 2, seed=4) * torch.tensor([1.0, 0.01], dtype=torch.float64), 150,
     {"radius": "auto"}),
    ("so3", lambda: quats(1500, seed=5), 120, {"metric": "so3"}),
    ("so3-progressive", lambda: quats(1500, seed=6), 120, {"metric": "so3", "progressive": True}),
    ("sphere", lambda: torch.randn(1500, 3, generator=gen(7), dtype=torch.float64), 100, {"metric": "sphere"}),
    ("4d-no-limiting", lambda: rand(1500, 4, seed=8) * 100, 100, {"weight_limiting": False}),
]


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("name,make,n,kw", SINGLE, ids=[c[0] for c in SINGLE])
def test_single_call_equals_the_up_cast_call(dtype, name, make, n, kw):
    x = make().to(dtype)
    got = tp.sample_elimination(x, n, **kw)
    assert got.dtype == torch.int64 and got.shape == (n,)
    assert len(set(got.tolist())) == n and 0 <= int(got.min()) and int(got.max()) < x.shape[0]
    for up in up_casts(x):
        assert got.tolist() == tp.sample_elimination(up, n, **kw).tolist(), (name, up.dtype)


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_rounding_changes_the_points_and_the_answer_follows_them(dtype):
    """Half precision is not ignored: points that differ only below its
    precision become duplicates, and the result is the up-cast call's, which
    here differs from the call on the unrounded float64 points."""
    x = rand(4000, 2, seed=11)
    h = x.to(dtype)
    assert h.double().unique(dim=0).shape[0] < x.shape[0]  # rounding made duplicates
    got = tp.sample_elimination(h, 500).tolist()
    assert got == tp.sample_elimination(h.double(), 500).tolist()
    assert got != tp.sample_elimination(x, 500).tolist()


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_operators_take_half_points_directly(dtype):
    x = rand(1200, 2, seed=12).to(dtype)
    single = torch.ops.torch_poisson.sample_elimination
    assert torch.equal(single(x, 100), single(x.float(), 100))
    assert torch.equal(single(x, 100, None, None, False, 8.0, 0.65, 1.5, True, True),
                       single(x.double(), 100, None, None, False, 8.0, 0.65, 1.5, True, True))
    p = rand(3, 400, 2, seed=13).to(dtype)
    lengths, n = torch.tensor([400, 150, 37]), torch.tensor([40, 60, 37])
    batched = torch.ops.torch_poisson.sample_elimination_batched
    assert torch.equal(batched(p, lengths, n, -1), batched(p.float(), lengths, n, -1))
    assert torch.equal(batched(p, None, n, 60), batched(p.double(), None, n, 60))


BATCHED = [
    ("euclidean", lambda: rand(4, 500, 2, seed=14), {}),
    ("progressive", lambda: rand(4, 500, 3, seed=15), {"progressive": True}),
    ("periodic", lambda: rand(4, 500, 2, seed=16), {"bounds": ([0, 0], [1, 1]), "periodic": True}),
    ("so3", lambda: quats(2000, seed=17).reshape(4, 500, 4), {"metric": "so3"}),
    ("so3-progressive", lambda: quats(2000, seed=18).reshape(4, 500, 4), {"metric": "so3", "progressive": True}),
]


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("name,make,kw", BATCHED, ids=[c[0] for c in BATCHED])
def test_ragged_batch_equals_the_up_cast_batch(dtype, name, make, kw):
    p = make().to(dtype)
    lengths = torch.tensor([500, 230, 61, 0])
    n = torch.tensor([50, 80, 61, 10])  # item 2 keeps all its points, item 3 is empty
    got = tp.sample_elimination(p, n, lengths=lengths, **kw)
    assert got.shape == (4, 80)
    assert (got[3] == -1).all() and sorted(got[2].tolist()[:61]) == list(range(61))
    for up in up_casts(p):
        assert torch.equal(got, tp.sample_elimination(up, n, lengths=lengths, **kw)), (name, up.dtype)
    # and each row is the single call on the item's own half points
    assert got[0].tolist()[:50] == tp.sample_elimination(p[0], 50, **kw).tolist()
    assert got[1].tolist() == tp.sample_elimination(p[1, :230], 80, **kw).tolist()


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_estimate_radius_and_quality_measures_take_half_points(dtype):
    x = rand(3000, 2, seed=19).to(dtype)
    assert tp.estimate_radius(x, 300) == tp.estimate_radius(x.double(), 300)
    idx = tp.sample_elimination(x, 300)
    kept = x[idx]
    assert tp.min_distance(kept) == tp.min_distance(kept.double())
    rho = tp.relative_radius(kept, bounds=([0, 0], [1, 1]))
    assert rho == tp.relative_radius(kept.double(), bounds=([0, 0], [1, 1]))
    assert rho > 0.5  # well spread, as for float32 points (random subsets: about 0.01)


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("metric,dim", [("euclidean", 2), ("so3", None), ("sphere", 3)])
def test_poisson_disk_returns_half_points(dtype, metric, dim):
    """The candidates are drawn and eliminated in float64; the output is
    rounded to the dtype asked for at the end."""
    kw = {"metric": metric} if dim is None else {"metric": metric, "dim": dim}
    got = tp.poisson_disk(200, generator=gen(20), dtype=dtype, **kw)
    ref = tp.poisson_disk(200, generator=gen(20), dtype=torch.float64, **kw)
    assert got.dtype == dtype and torch.equal(got, ref.to(dtype))


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_torch_compile_with_half_points(dtype):
    """The fake kernels take half points: fullgraph compiles of the single
    and the batched call equal the eager calls."""
    torch._dynamo.reset()
    x = rand(800, 2, seed=21).to(dtype)
    single = torch.compile(lambda p: tp.sample_elimination(p, 80), fullgraph=True)
    assert torch.equal(single(x), tp.sample_elimination(x.float(), 80))
    gather = torch.compile(lambda p: p[tp.sample_elimination(p, 80)].float().sum(0), fullgraph=True)
    assert torch.equal(gather(x), x[tp.sample_elimination(x.float(), 80)].float().sum(0))
    p = rand(3, 300, 2, seed=22).to(dtype)
    n = torch.tensor([30, 7, 19])
    batched = torch.compile(lambda q, k: tp.sample_elimination(q, k), fullgraph=True)
    assert torch.equal(batched(p, n), tp.sample_elimination(p.double(), n))


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_opcheck_with_half_points(dtype):
    x = rand(300, 2, seed=23).to(dtype)
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination.default, (x, 30))
    q = quats(300, seed=24).to(dtype)
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination.default, (q, 30), {"metric": "so3"})
    p = rand(3, 200, 2, seed=25).to(dtype)
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination_batched.default,
                          (p, torch.tensor([200, 90, 0]), torch.tensor([20, 20, 5]), 20))
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination_batched.default,
                          (p, None, torch.tensor([20, 3, 11]), -1), {"progressive": True})


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_samplers_take_half_features_as_the_up_cast_features(dtype):
    f = rand(6000, 2, seed=26).to(dtype)
    for up in up_casts(f):
        assert list(PoissonSampler(f, 300, seed=3)) == list(PoissonSampler(up, 300, seed=3))
        assert list(PoissonSampler(f, 300, seed=3, shuffle=False, radius="auto")) == \
            list(PoissonSampler(up, 300, seed=3, shuffle=False, radius="auto"))
        assert list(PoissonBatchSampler(f, 64, num_batches=4, seed=3)) == \
            list(PoissonBatchSampler(up, 64, num_batches=4, seed=3))
    s = PoissonSampler(f, 300, seed=3)
    # the subset is the elimination of the epoch's pool of the half features
    keep = list(s)
    assert len(keep) == len(set(keep)) == 300


def test_samplers_take_a_float16_numpy_array():
    f = rand(5000, 3, seed=27).half()
    a = f.numpy()
    assert a.dtype == np.float16
    assert list(PoissonBatchSampler(a, 50, num_batches=3, seed=4)) == \
        list(PoissonBatchSampler(f.double(), 50, num_batches=3, seed=4))
    assert list(PoissonSampler(a, 200, seed=4)) == list(PoissonSampler(f.float(), 200, seed=4))


@pytest.mark.parametrize("dtype", REFUSED, ids=str)
def test_other_dtypes_are_refused_naming_the_dtype(dtype):
    x = (rand(50, 2, seed=28) * 10).to(dtype)
    with pytest.raises(TypeError, match=f"points must be float16, bfloat16, float32 or float64, got torch.{NAMES[dtype]}"):
        tp.sample_elimination(x, 5)
    # a padded batch's dtype is the batched operator's check
    with pytest.raises(RuntimeError, match=f"sample_elimination_batched: points must be .* got {NAMES[dtype]}"):
        tp.sample_elimination(x[None].expand(2, 50, 2), 5)
    with pytest.raises(RuntimeError, match=f"sample_elimination: points must be float16, bfloat16, float32 or float64, got {NAMES[dtype]}"):
        torch.ops.torch_poisson.sample_elimination(x, 5)
    with pytest.raises(RuntimeError, match=f"sample_elimination_batched: points must be .* got {NAMES[dtype]}"):
        torch.ops.torch_poisson.sample_elimination_batched(x[None], None, torch.tensor([5]), 5)
    with pytest.raises(TypeError, match=f"features must be floating point .* got torch.{NAMES[dtype]}"):
        PoissonSampler(x, 5)
    with pytest.raises(TypeError, match=f"features must be floating point .* got torch.{NAMES[dtype]}"):
        PoissonBatchSampler(x, 5)


def test_poisson_disk_refuses_other_dtypes():
    with pytest.raises(TypeError, match="dtype must be torch.float16, torch.bfloat16, torch.float32 or torch.float64, got torch.int32"):
        tp.poisson_disk(10, dtype=torch.int32)
