"""Padded batches: (B, M, d) points, optional lengths, n an int or a (B,)
tensor -> (B, max n) indices padded with -1; row b equals the unbatched call."""
import pytest
import torch

import torch_poisson as tp


def gen(seed):
    return torch.Generator().manual_seed(seed)


def per_item(points, n, lengths, **kw):
    """The batch row by row: item b keeps min(n[b], lengths[b]) points; the
    width is the largest n asked for."""
    rows, asked = [], []
    for b in range(points.shape[0]):
        nb = int(n[b]) if isinstance(n, torch.Tensor) else n
        asked.append(nb)
        nb = min(nb, int(lengths[b]))
        if nb == 0:
            rows.append([])
            continue
        rows.append(tp.sample_elimination(points[b, : int(lengths[b])], nb, **kw).tolist())
    width = max(asked)
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


def test_items_shorter_than_n_keep_all_their_points():
    """pytorch3d's convention for a ragged batch: an item of fewer than n
    points keeps them all (in its own order: the unbatched call with n equal
    to its length), the rest of its row -1; the width is the n asked for."""
    points = torch.rand(5, 300, 2, generator=gen(7), dtype=torch.float64)
    lengths = torch.tensor([300, 12, 0, 40, 1])
    got = tp.sample_elimination(points, 40, lengths=lengths)
    assert got.shape == (5, 40)
    assert torch.equal(got, per_item(points, 40, lengths))
    assert torch.equal(got[1, :12], torch.arange(12)) and (got[1, 12:] == -1).all()
    assert (got[2] == -1).all()
    assert torch.equal(got[4], torch.tensor([0] + [-1] * 39))
    # progressive order: the short item's points are ordered, not ascending
    prog = tp.sample_elimination(points, 40, lengths=lengths, progressive=True)
    assert torch.equal(prog, per_item(points, 40, lengths, progressive=True))
    assert sorted(prog[1, :12].tolist()) == list(range(12))
    # a tensor n: each item clamped to its length, the width the largest n asked
    n = torch.tensor([10, 50, 3, 40, 2])
    got = tp.sample_elimination(points, n, lengths=lengths)
    assert got.shape == (5, 50)
    assert torch.equal(got, per_item(points, n, lengths))
    # the operator itself does the same
    op = torch.ops.torch_poisson.sample_elimination_batched.default
    assert torch.equal(op(points, lengths, n, -1), got)


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
    # n may pass an item's length (that item keeps all its points), not M
    with pytest.raises(ValueError, match=r"n\[1\] must be in \[0, M=100\], got 101"):
        tp.sample_elimination(points, torch.tensor([5, 101, 50]), lengths=torch.tensor([100, 100, 10]))
    with pytest.raises(ValueError, match=r"n\[1\] must be in \[0, M=100\], got -1"):
        tp.sample_elimination(points, torch.tensor([5, -1, 5]))
    with pytest.raises(ValueError, match=r"n must be in \[0, 100\], got n=101"):
        tp.sample_elimination(points, 101, lengths=torch.tensor([100, 100, 10]))
    with pytest.raises(ValueError, match="integer"):
        tp.sample_elimination(points, torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="lengths is only for batched"):
        tp.sample_elimination(points[0], 5, lengths=torch.tensor([3]))
    # the operator checks too, naming the item
    op = torch.ops.torch_poisson.sample_elimination_batched.default
    with pytest.raises(RuntimeError, match=r"n\[1\] must be in \[0, M=100\], got 200"):
        op(points, None, torch.tensor([1, 200, 3]), -1)
    with pytest.raises(RuntimeError, match=r"n\[2\] must be in \[0, M=100\], got -3"):
        op(points, torch.tensor([5, 5, 5]), torch.tensor([1, 2, -3]), -1)
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
