"""Padded batches: (B, M, d) points, optional lengths, n an int or a (B,)
tensor -> (B, max n) indices padded with -1; row b equals the unbatched call."""
import pytest
import torch

import torch_poisson as tp


def gen(seed):
    return torch.Generator().manual_seed(seed)


def per_item(points, n, lengths, **kw):
    rows = []
    for b in range(points.shape[0]):
        nb = int(n[b]) if isinstance(n, torch.Tensor) else n
        if nb == 0:
            rows.append([])
            continue
        rows.append(tp.sample_elimination(points[b, : int(lengths[b])], nb, **kw).tolist())
    width = max(len(r) for r in rows)
    return torch.tensor([r + [-1] * (width - len(r)) for r in rows], dtype=torch.int64)


CASES = [
    ("euclidean", 2, {}),
    ("euclidean", 3, {"progressive": True}),
    ("euclidean", 2, {"radius": "auto"}),
    ("euclidean", 2, {"bounds": ([0, 0], [1, 1]), "periodic": True}),
    ("so3", 4, {}),
    ("sphere", 3, {"radius": "auto"}),
]


@pytest.mark.parametrize("metric,d,kw", CASES)
def test_batched_equals_per_item_calls(metric, d, kw):
    g = gen(0)
    points = torch.rand(6, 400, d, generator=g, dtype=torch.float64)
    if metric != "euclidean":
        points = points - 0.5
    lengths = torch.tensor([400, 7, 250, 399, 120, 0])
    n = torch.tensor([50, 3, 40, 1, 120, 0])
    got = tp.sample_elimination(points, n, lengths=lengths, metric=metric, **kw)
    assert got.dtype == torch.int64 and got.shape == (6, 120)
    assert torch.equal(got, per_item(points, n, lengths, metric=metric, **kw))
    assert (got[5] == -1).all() and (got[1, 3:] == -1).all()


def test_int_n_and_default_lengths():
    points = torch.rand(5, 300, 2, generator=gen(1))
    got = tp.sample_elimination(points, 40)
    assert got.shape == (5, 40)
    assert torch.equal(got, per_item(points, 40, [300] * 5))
    assert torch.equal(tp.sample_elimination(points, torch.full((5,), 40)), got)
    # float32 input and a strided view give the same rows
    wide = torch.rand(5, 300, 4, generator=gen(1))
    view = wide[:, :, ::2]
    assert torch.equal(tp.sample_elimination(view, 40), tp.sample_elimination(view.contiguous(), 40))


def test_thread_count_does_not_change_the_result():
    points = torch.rand(16, 500, 2, generator=gen(2), dtype=torch.float64)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = tp.sample_elimination(points, 60)
        torch.set_num_threads(max(2, before))
        many = tp.sample_elimination(points, 60)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, many)


def test_batched_errors():
    points = torch.rand(3, 100, 2)
    with pytest.raises(ValueError, match="lengths"):
        tp.sample_elimination(points, 5, lengths=torch.tensor([100, 100]))
    with pytest.raises(ValueError, match="lengths"):
        tp.sample_elimination(points, 5, lengths=torch.tensor([100, 101, 5]))
    with pytest.raises(ValueError, match=r"n\[b\]"):
        tp.sample_elimination(points, torch.tensor([5, 6, 50]), lengths=torch.tensor([100, 100, 10]))
    with pytest.raises(ValueError, match="n must be in"):
        tp.sample_elimination(points, 11, lengths=torch.tensor([100, 100, 10]))
    with pytest.raises(ValueError, match="integer"):
        tp.sample_elimination(points, torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="lengths is only for batched"):
        tp.sample_elimination(points[0], 5, lengths=torch.tensor([3]))
    # the operator checks too, naming the item
    op = torch.ops.torch_poisson.sample_elimination_batched.default
    with pytest.raises(RuntimeError, match=r"n\[1\] must be in \[0, lengths\[1\]=100\], got 200"):
        op(points, None, torch.tensor([1, 200, 3]), -1)
    with pytest.raises(RuntimeError, match="max_n=7"):
        op(points, None, torch.tensor([1, 2, 3]), 7)
    bad = torch.rand(2, 50, 2)
    bad[1, 3, 0] = float("nan")
    with pytest.raises(RuntimeError, match=r"batch item 1: .*points\[3, 0\]"):
        tp.sample_elimination(bad, 5)


def sample_inputs():
    g = gen(3)
    pts = torch.rand(4, 200, 2, generator=g)
    quats = torch.randn(3, 150, 4, generator=g, dtype=torch.float64)
    lengths = torch.tensor([200, 10, 150, 0])
    return [
        ((pts, lengths, torch.tensor([20, 5, 20, 0]), 20), {}),
        ((pts, lengths, torch.tensor([20, 5, 17, 0]), -1), {}),
        ((quats, None, torch.tensor([30, 10, 1]), -1), {"metric": "so3"}),
        ((pts, None, torch.tensor([8, 8, 8, 8]), 8), {"auto_radius": True, "progressive": True}),
    ]


@pytest.mark.parametrize("args,kwargs", sample_inputs())
def test_opcheck_batched(args, kwargs):
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination_batched.default, args, kwargs)


def test_opcheck_unbatched_with_metrics():
    q = torch.randn(300, 4, dtype=torch.float64, generator=gen(4))
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination.default, (q, 30),
                          {"metric": "so3", "dim": 3, "volume": 50.0})
    v = torch.randn(300, 3, generator=gen(5))
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination.default, (v, 30),
                          {"metric": "sphere", "auto_radius": True})


def test_torch_compile_batched():
    torch._dynamo.reset()

    def static(p):
        return tp.sample_elimination(p, 16)

    def dynamic(p, n):
        return tp.sample_elimination(p, n)

    p = torch.rand(4, 300, 2, generator=gen(6))
    n = torch.tensor([16, 3, 9, 16])
    got = torch.compile(static, fullgraph=True)(p)
    assert torch.equal(got, tp.sample_elimination(p, 16))
    got = torch.compile(dynamic, fullgraph=True)(p, n)
    assert torch.equal(got, tp.sample_elimination(p, n))
