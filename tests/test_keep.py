"""sample_elimination(..., keep=): points that are never eliminated. The fast
code gives the naive oracle's indices (tests/oracle.py, which removes the
heaviest point not kept) index for index, progressive order included, for
any thread count; bad keep inputs are refused naming the argument and value."""
import os
import random
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

from torch_poisson.ops import sample_elimination  # noqa: E402


def _points(R, m, d, kind):
    rng = np.random.default_rng(R.randrange(1 << 30))
    if kind == "uniform":
        return rng.random((m, d))
    if kind == "lattice":  # exact ties everywhere (coordinates k / 2^j: differences exact)
        s = 2 ** max(1, int(round(np.log2(m ** (1 / d)))))
        return rng.integers(0, s, (m, d)).astype(float) / s
    if kind == "dups":  # every point several times
        base = rng.random((max(1, m // R.randint(2, 5)), d))
        return base[rng.integers(0, len(base), m)]
    # "packed": the first tenth in a tiny ball (kept below)
    x = rng.random((m, d))
    x[: m // 10] = 0.5 + 1e-3 * rng.random((m // 10, d))
    return x


def _case(R, threads):
    """One random configuration: the operator and the oracle with the same keep."""
    d = R.randint(1, 3)
    m = R.choice([R.randint(3, 60), R.randint(60, 400)])
    kind = R.choice(["uniform", "lattice", "dups", "packed"])
    x = _points(R, m, d, kind)
    n = R.randint(1, m)
    if kind == "packed" and m // 10 >= 1:
        pool = list(range(min(m // 10, n)))  # kept points packed close together
    else:
        pool = R.sample(range(m), R.randint(1, n))
    keep = R.sample(pool, R.randint(1, len(pool)))
    keep += R.sample(keep, R.randint(0, len(keep)))  # repeats count once
    kw = dict(progressive=R.random() < 0.4, weight_limiting=R.random() < 0.7)
    if R.random() < 0.4:
        kw["bounds"] = ([0.0] * d, [1.0] * d)
        kw["periodic"] = R.random() < 0.7
    as_mask = R.random() < 0.3
    if as_mask:
        k = torch.zeros(m, dtype=torch.bool)
        k[keep] = True
    else:
        k = torch.tensor(keep)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        got = sample_elimination(torch.from_numpy(x), n, keep=k, **kw).tolist()
    finally:
        torch.set_num_threads(before)
    want = [int(i) for i in oracle.eliminate(x, n, keep=keep, **kw)]
    return got, want, set(keep), kw


# the campaign: 160 random configurations, each on 1 and 2 threads
CASES = 80


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("block", range(2))
def test_matches_oracle_random(threads, block):
    R = random.Random(1000 * block + threads)
    identical = 0
    for _ in range(CASES // 2):
        got, want, keep, kw = _case(R, threads)
        assert keep <= set(got)
        if kw["progressive"]:
            # the kept points lead the order, ascending
            assert got[: len(keep)] == sorted(keep)
        assert got == want, (kw, len(keep))
        identical += 1
    assert identical == CASES // 2


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("weight_limiting", [False, True])
@pytest.mark.parametrize("progressive", [False, True])
def test_matches_oracle(d, periodic, weight_limiting, progressive):
    m = {1: 600, 2: 900, 3: 900}[d]
    n = m // 8
    g = torch.Generator().manual_seed(100 * d + 10 * periodic + 2 * weight_limiting + progressive)
    x = torch.rand(m, d, generator=g, dtype=torch.float64)
    keep = torch.randperm(m, generator=g)[: n // 3]
    bounds = ([0.0] * d, [1.0] * d) if periodic else None
    kw = dict(bounds=bounds, periodic=periodic, weight_limiting=weight_limiting, progressive=progressive)
    got = sample_elimination(x, n, keep=keep, **kw)
    want = oracle.eliminate(x.numpy(), n, keep=keep.tolist(), **kw)
    assert got.tolist() == [int(i) for i in want]
    # keeping changes the answer: the option is honoured, not ignored
    assert got.tolist() != sample_elimination(x, n, **kw).tolist()


def test_lattice_and_duplicates_match_oracle():
    side = 24
    ij = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2)
    lattice = ij / side
    g = torch.Generator().manual_seed(3)
    half = torch.rand(300, 2, generator=g, dtype=torch.float64).numpy()
    bounds = ([0.0, 0.0], [1.0, 1.0])
    for x, keep in ((lattice, list(range(0, side * side, 29))),
                    (np.concatenate([half, half]), [0, 300, 5, 305, 7])):  # a point and its copy
        for progressive in (False, True):
            kw = dict(bounds=bounds, periodic=True, progressive=progressive)
            got = sample_elimination(torch.from_numpy(x), 90, keep=keep, **kw)
            assert got.tolist() == [int(i) for i in oracle.eliminate(x, 90, keep=keep, **kw)]


def test_kept_points_weigh_on_their_neighbours():
    # a kept point's contributions stay: its neighbours are pushed out, as
    # they would be by any survivor (the oracle agrees, and so does keeping
    # the points a plain call keeps)
    g = torch.Generator().manual_seed(4)
    x = torch.rand(2000, 2, generator=g, dtype=torch.float64)
    plain = sample_elimination(x, 250)
    assert torch.equal(sample_elimination(x, 250, keep=plain), plain)
    assert torch.equal(sample_elimination(x, 250, keep=plain[:100]), plain)


def test_forms_of_keep_agree():
    g = torch.Generator().manual_seed(5)
    x = torch.rand(500, 2, generator=g)
    idx = torch.tensor([3, 17, 250, 499])
    mask = torch.zeros(500, dtype=torch.bool)
    mask[idx] = True
    ref = sample_elimination(x, 50, keep=idx)
    for k in (mask, idx.tolist(), idx.int(), idx.flip(0), torch.cat([idx, idx]), np.array([3, 17, 250, 499])):
        assert torch.equal(sample_elimination(x, 50, keep=k), ref)
    none = sample_elimination(x, 50)
    for k in ([], torch.zeros(500, dtype=torch.bool), torch.empty(0, dtype=torch.int64)):
        assert torch.equal(sample_elimination(x, 50, keep=k), none)
    # n == the kept count: exactly the kept points
    assert sample_elimination(x, 4, keep=idx).tolist() == idx.tolist()
    assert sample_elimination(x, 4, keep=idx, progressive=True).tolist() == idx.tolist()


def test_progressive_kept_lead_and_prefixes_spread():
    g = torch.Generator().manual_seed(6)
    x = torch.rand(4000, 2, generator=g, dtype=torch.float64)
    keep = torch.randperm(4000, generator=g)[:40].sort().values
    out = sample_elimination(x, 500, keep=keep, progressive=True)
    assert out[:40].tolist() == keep.tolist()
    assert sorted(out.tolist()) == sample_elimination(x, 500, keep=keep).tolist()
    small = x[:600]
    for k in (1, 2):  # one or two kept points: the levels go on until they alone remain
        o = sample_elimination(small, 70, keep=keep[:k] % 600, progressive=True)
        assert o[:k].tolist() == sorted((keep[:k] % 600).tolist())
        want = oracle.eliminate(small.numpy(), 70, keep=(keep[:k] % 600).tolist(), progressive=True)
        assert o.tolist() == [int(i) for i in want]


@pytest.mark.parametrize("progressive", [False, True])
def test_rounds_same_for_any_thread_count(progressive):
    # 200k -> 25k 2-D: with 2 threads the parallel rounds take most removals,
    # with 1 the sequential run all; a clustered kept set among them
    g = torch.Generator().manual_seed(8)
    x = torch.rand(200_000, 2, generator=g).float()
    x[:2000] = 0.25 + 0.01 * torch.rand(2000, 2, generator=g)
    keep = torch.cat([torch.arange(2000), torch.randperm(200_000, generator=g)[:10_000]])
    before = torch.get_num_threads()
    try:
        out = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            out.append(sample_elimination(x, 25_000, bounds=([0, 0], [1, 1]), periodic=True, keep=keep,
                                          progressive=progressive))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(out[0], out[1])
    assert torch.isin(keep, out[0]).all()
    assert out[0].unique().numel() == 25_000


def test_compile_and_fake():
    x = torch.rand(300, 2)
    keep = torch.tensor([1, 2, 3])
    f = torch.compile(lambda p, k: sample_elimination(p, 40, keep=k), fullgraph=True)
    assert torch.equal(f(x, keep), sample_elimination(x, 40, keep=keep))
    args = (x, 40, None, None, False, 8.0, 0.65, 1.5, True, False, "euclidean", None, None, False, False, keep)
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination.default, args)
    xb, kb = torch.rand(3, 300, 2), torch.tensor([[1, 2], [4, -1], [-1, -1]])
    fb = torch.compile(lambda p, k: sample_elimination(p, 40, keep=k), fullgraph=True)
    assert torch.equal(fb(xb, kb), sample_elimination(xb, 40, keep=kb))
    args = (xb, None, torch.full((3,), 40), 40, None, None, False, 8.0, 0.65, 1.5, True, False, "euclidean",
            None, None, False, False, kb)
    torch.library.opcheck(torch.ops.torch_poisson.sample_elimination_batched.default, args)


BAD = [
    (dict(keep=[500]), ["keep", "500", "M=500"]),
    (dict(keep=[-1]), ["keep", "-1"]),
    (dict(keep=torch.arange(51)), ["keep", "51", "n=50"]),
    (dict(keep=torch.ones(400, dtype=torch.bool)), ["keep", "[400]", "500"]),
    (dict(keep=torch.tensor([1.0, 2.0])), ["keep", "float32"]),
    (dict(keep=torch.tensor([[1, 2]])), ["keep", "[1, 2]"]),
    (dict(keep=[0.5]), ["keep", "float32"]),
]


@pytest.mark.parametrize("kwargs,words", BAD, ids=[str(b[1]) for b in BAD])
def test_bad_keep(kwargs, words):
    x = torch.rand(500, 2)
    with pytest.raises((ValueError, TypeError, RuntimeError)) as e:
        sample_elimination(x, 50, **kwargs)
    for w in words:
        assert w.lower() in str(e.value).lower(), (w, str(e.value))


def test_batched_rows_equal_single_calls():
    g = torch.Generator().manual_seed(9)
    B, M = 4, 300
    x = torch.rand(B, M, 2, generator=g, dtype=torch.float64)
    lengths = torch.tensor([300, 250, 40, 300])
    n = torch.tensor([30, 25, 60, 1])
    keeps = [[0, 5, 299], [249, 7, 7], [], [12]]
    K = max(len(k) for k in keeps)
    padded = torch.full((B, K), -1, dtype=torch.int64)
    mask = torch.zeros(B, M, dtype=torch.bool)
    for b, k in enumerate(keeps):
        padded[b, : len(k)] = torch.tensor(k, dtype=torch.int64)
        mask[b, k] = True
    for progressive in (False, True):
        for keep in (padded, mask):
            out = sample_elimination(x, n, lengths=lengths, keep=keep, progressive=progressive)
            for b in range(B):
                want = sample_elimination(x[b, : lengths[b]], min(int(n[b]), int(lengths[b])),
                                          keep=keeps[b], progressive=progressive)
                row = out[b][out[b] >= 0]
                assert torch.equal(row, want), (b, progressive)
                assert set(keeps[b]) <= set(row.tolist())


BAD_BATCHED = [
    (torch.tensor([[0], [300]]), ["batch item 1", "keep", "300"]),
    (torch.tensor([[0, 1, 2], [0, -1, -1]]), ["batch item 0", "keep", "n=2"]),
    (torch.zeros(3, 300, dtype=torch.bool), ["keep", "[3, 300]"]),
    (torch.zeros(2, 299, dtype=torch.bool), ["keep", "[2, 299]"]),
    (torch.tensor([0, 1]), ["keep", "[2]"]),
    (torch.tensor([[0.0], [1.0]]), ["keep", "float32"]),
]


@pytest.mark.parametrize("keep,words", BAD_BATCHED, ids=[str(b[1]) for b in BAD_BATCHED])
def test_bad_batched_keep(keep, words):
    x = torch.rand(2, 300, 2)
    with pytest.raises((ValueError, TypeError, RuntimeError)) as e:
        sample_elimination(x, 2, keep=keep)
    for w in words:
        assert w.lower() in str(e.value).lower(), (w, str(e.value))
