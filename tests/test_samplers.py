"""PoissonSampler and PoissonBatchSampler: counts, spread, determinism,
sharding, resume, DataLoader workers (fork/spawn/persistent), shutdown, errors."""
import gc
import multiprocessing
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

import torch_poisson
from torch_poisson import PoissonBatchSampler, PoissonSampler, relative_radius
from torch_poisson import _engine

N = 20_000


def make_features(n=N, d=2, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g, dtype=dtype)


FEATS = make_features()


class IndexDataset(Dataset):
    """Item i is i: a loader's batches are then the sampler's indices."""

    def __init__(self, n=N):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


def batches_of(loader):
    return [b.tolist() for b in loader]


def native_threads():
    return len(os.listdir("/proc/self/task"))


# ------------------------------------------------------------ the engine --


def test_draw_pool_distinct_sorted_and_keyed():
    a = _engine.draw_pool(N, 2048, 7, 3, 5, 1)
    assert len(a) == 2048 and len(set(a.tolist())) == 2048
    assert (np.diff(a) > 0).all() and a.min() >= 0 and a.max() < N
    assert (a == _engine.draw_pool(N, 2048, 7, 3, 5, 1)).all()
    for other in [(8, 3, 5, 1), (7, 4, 5, 1), (7, 3, 6, 1), (7, 3, 5, 0)]:
        assert not (a == _engine.draw_pool(N, 2048, *other)).all()
    assert _engine.draw_pool(10, 10, 0, 0, 0, 0).tolist() == list(range(10))
    # ascending also when the pool is nearly the whole range, or the range huge
    for n, k in [(2049, 2048), (3, 2), (2**62, 5000), (10**6, 1)]:
        b = _engine.draw_pool(n, k, 1, 2, 3, 0)
        assert len(b) == k and (np.diff(b) > 0).all() and b.min() >= 0 and b.max() < n


def test_draw_pool_is_uniform():
    # every index of [0, 50) is drawn 5 of 50 times on average: 20000 draws
    counts = np.zeros(50)
    for b in range(2000):
        counts[_engine.draw_pool(50, 5, 1, 0, b, 0)] += 1
    expected = 2000 * 5 / 50
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)
    # sparse pools (k <= n / 16: i.i.d. draws with repeats dropped, the
    # samplers' case) too, every index and every pair of neighbours alike
    counts, pairs = np.zeros(320), 0
    for b in range(3000):
        a = _engine.draw_pool(320, 20, 2, 0, b, 0)
        assert len(a) == 20 and (np.diff(a) > 0).all()
        counts[a] += 1
        pairs += int((np.diff(a) == 1).sum())
    expected = 3000 * 20 / 320
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)
    # adjacent indices both drawn: 319 pairs, each with chance (20/320)(19/319)
    want = 3000 * 319 * (20 / 320) * (19 / 319)
    assert abs(pairs - want) < 5 * np.sqrt(want)


def test_batch_is_the_elimination_of_its_pool():
    bs = PoissonBatchSampler(FEATS, 64, pool_factor=8, seed=3, num_batches=4, rank=0, num_replicas=1)
    bs.set_epoch(2)
    got = list(bs)
    for b, batch in enumerate(got):
        pool = torch.from_numpy(_engine.draw_pool(N, 512, 3, 2, b, 0))
        want = pool[torch_poisson.sample_elimination(FEATS[pool], 64)]
        assert batch == want.tolist()


# ----------------------------------------------------- counts and spread --


def test_batch_sampler_counts_and_distinct():
    bs = PoissonBatchSampler(FEATS, 128, seed=0)
    assert len(bs) == N // 128
    got = list(bs)
    assert len(got) == len(bs)
    for batch in got:
        assert len(batch) == 128 and len(set(batch)) == 128
        assert min(batch) >= 0 and max(batch) < N
    assert len(list(PoissonBatchSampler(FEATS, 100, num_batches=7))) == 7


def test_batch_relative_radius_far_above_random():
    bs = PoissonBatchSampler(FEATS, 128, seed=0, num_batches=20)
    g = torch.Generator().manual_seed(1)
    ours = [relative_radius(FEATS[b], periodic=False) for b in bs]
    rand = [relative_radius(FEATS[torch.randperm(N, generator=g)[:128]], periodic=False) for _ in range(20)]
    assert min(ours) > 0.5  # sample elimination reaches ~0.75 here
    assert min(ours) > 4 * max(rand)


def test_poisson_sampler_counts_distinct_and_spread():
    s = PoissonSampler(FEATS, 1500, seed=0)
    assert len(s) == 1500
    got = list(s)
    assert len(got) == 1500 and len(set(got)) == 1500
    assert relative_radius(FEATS[got], periodic=False) > 0.5
    g = torch.Generator().manual_seed(0)
    assert relative_radius(FEATS[torch.randperm(N, generator=g)[:1500]], periodic=False) < 0.1


def test_poisson_sampler_progressive_order_without_shuffle():
    s = PoissonSampler(FEATS, 1000, seed=0, shuffle=False)
    got = list(s)
    assert set(got) == set(PoissonSampler(FEATS, 1000, seed=0, shuffle=True))
    for k in (125, 250, 500):  # every prefix well spread
        assert relative_radius(FEATS[got[:k]], periodic=False) > 0.4


def test_poisson_sampler_computes_the_next_epoch_in_the_background():
    """iter() of epoch e starts epoch e + 1's subset on a background thread;
    set_epoch(e + 1) then finds it (the same subset a fresh sampler computes)."""
    s = PoissonSampler(FEATS, 500, seed=3)
    s.set_epoch(4)
    it = iter(s)
    assert 5 in s._slots  # started before epoch 4 is consumed
    s._slots[5].join()
    first = list(it)
    s.set_epoch(5)
    assert list(s) != first
    fresh = PoissonSampler(FEATS, 500, seed=3)
    fresh.set_epoch(5)
    assert torch.equal(s.subset(5), fresh.subset(5))


@pytest.mark.parametrize("metric", ["so3", "sphere"])
def test_poisson_sampler_with_a_metric(metric):
    """metric= passes through PoissonSampler: each epoch's subset is spread
    in that metric's own distance (angles), far above a random subset."""
    g = torch.Generator().manual_seed(9)
    q = torch.randn(4000, 4, generator=g, dtype=torch.float64)
    s = PoissonSampler(q, 100, seed=1, metric=metric)
    got = list(s)
    assert len(set(got)) == 100
    rand = torch.randperm(4000, generator=g)[:100]
    assert relative_radius(q[got], metric=metric) > 3 * relative_radius(q[rand], metric=metric)
    pool = torch.from_numpy(_engine.draw_pool(4000, s.pool_size, 1, 0, 0, 0))  # epoch 0's pool
    want = pool[torch_poisson.sample_elimination(q[pool], 100, metric=metric)]
    assert sorted(got) == sorted(want.tolist())


def test_coinciding_leading_rows_are_fine():
    f = FEATS.clone()
    f[:2000] = 0.5  # many identical items first (the option check must not trip on them)
    got = list(PoissonSampler(f, 300, seed=0))
    assert len(got) == len(set(got)) == 300


def test_float32_features_and_numpy_give_the_same_batches():
    f32 = make_features(dtype=torch.float32)
    a = list(PoissonBatchSampler(f32, 64, num_batches=5, seed=1))
    b = list(PoissonBatchSampler(f32.double(), 64, num_batches=5, seed=1))
    c = list(PoissonBatchSampler(f32.double().numpy(), 64, num_batches=5, seed=1))
    assert a == b == c
    assert list(PoissonSampler(f32, 300, seed=1)) == list(PoissonSampler(f32.numpy(), 300, seed=1))


def test_features_are_copied_at_construction():
    f = FEATS.clone()
    bs = PoissonBatchSampler(f, 64, num_batches=3, seed=1)
    s = PoissonSampler(f, 200, seed=1)
    ref_bs, ref_s = list(bs), list(s)
    f.mul_(0.0)  # the caller edits its tensor in place
    assert list(bs) == ref_bs and list(s) == ref_s
    s.set_epoch(1)  # computed after the edit: still from the original values
    assert relative_radius(FEATS[list(s)], periodic=False) > 0.5


# ------------------------------------------------------------ determinism --


def test_a_fast_consumer_gets_every_batch_in_order_whatever_the_group():
    # A consumer that never pauses waits on the workers, for a group of
    # prefetch - num_threads batches at a time (at most 16): groups of 1, a
    # last group cut by the epoch's end (24 = 4 x 5 + 4), one longer than
    # the epoch, and one past the cap must all hand over every batch, in order.
    ref = list(PoissonBatchSampler(FEATS, 64, seed=9, num_batches=24, prefetch=1, num_threads=1))
    assert len(ref) == 24
    for prefetch, threads in [(1, 3), (3, 1), (7, 2), (8, 2), (30, 2), (64, 3)]:
        bs = PoissonBatchSampler(FEATS, 64, seed=9, num_batches=24, prefetch=prefetch, num_threads=threads)
        for _ in range(2):  # a second epoch restarts the threads
            assert list(bs) == ref, (prefetch, threads)


def test_batches_do_not_depend_on_prefetch_threads_or_timing():
    ref = list(PoissonBatchSampler(FEATS, 128, seed=5, num_batches=24, prefetch=1, num_threads=1))
    for prefetch, threads in [(2, 2), (16, 3), (64, 4)]:
        bs = PoissonBatchSampler(FEATS, 128, seed=5, num_batches=24, prefetch=prefetch, num_threads=threads)
        got = []
        for i, batch in enumerate(bs):
            if i % 5 == 0:
                time.sleep(0.01)  # let the threads run ahead
            got.append(batch)
        assert got == ref
    bs = PoissonBatchSampler(FEATS, 128, seed=5, num_batches=24)
    assert [bs.batch(b) for b in range(24)] == ref


def test_batches_identical_across_processes():
    code = (
        "import torch, hashlib\n"
        "from torch_poisson import PoissonBatchSampler, PoissonSampler\n"
        f"g = torch.Generator().manual_seed(0); f = torch.rand({N}, 2, generator=g, dtype=torch.float64)\n"
        "bs = PoissonBatchSampler(f, 128, seed=5, num_batches=6); bs.set_epoch(3)\n"
        "s = PoissonSampler(f, 500, seed=5); s.set_epoch(3)\n"
        "print(hashlib.sha256(repr((list(bs), list(s))).encode()).hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    bs = PoissonBatchSampler(FEATS, 128, seed=5, num_batches=6)
    bs.set_epoch(3)
    s = PoissonSampler(FEATS, 500, seed=5)
    s.set_epoch(3)
    import hashlib

    assert out.stdout.strip() == hashlib.sha256(repr((list(bs), list(s))).encode()).hexdigest()


def test_epochs_and_seeds_differ_and_repeat():
    bs = PoissonBatchSampler(FEATS, 128, seed=0, num_batches=5)
    e0 = list(bs)
    assert list(bs) == e0  # no set_epoch: the same batches again
    bs.set_epoch(1)
    e1 = list(bs)
    assert all(a != b for a, b in zip(e0, e1))
    bs.set_epoch(0)
    assert list(bs) == e0
    assert list(PoissonBatchSampler(FEATS, 128, seed=1, num_batches=5)) != e0
    assert len({tuple(b) for b in e0}) == 5  # batches within an epoch differ

    s = PoissonSampler(FEATS, 800, seed=0)
    s0 = list(s)
    assert list(s) == s0  # "sample once per run" without set_epoch
    s.set_epoch(1)
    s1 = list(s)
    assert set(s1) != set(s0)
    assert len(set(s1) & set(s0)) < 400
    s.set_epoch(0)
    assert list(s) == s0


# ------------------------------------------------------------ distributed --


@pytest.mark.parametrize("num_samples,drop_last", [(900, False), (1000, False), (1000, True)])
def test_poisson_sampler_shards_disjoint_and_covering(num_samples, drop_last):
    R = 3
    ref = PoissonSampler(FEATS, num_samples, seed=2, num_replicas=1, rank=0)
    ref.set_epoch(4)
    subset = list(ref)
    shards = []
    for r in range(R):
        s = PoissonSampler(FEATS, num_samples, seed=2, num_replicas=R, rank=r, drop_last=drop_last)
        s.set_epoch(4)
        shards.append(list(s))
        assert len(shards[-1]) == len(s)
    assert len({len(x) for x in shards}) == 1  # equal length
    flat = [i for x in shards for i in x]
    if num_samples % R == 0 or drop_last:
        assert len(set(flat)) == len(flat)  # disjoint
    if drop_last:
        assert len(flat) == (num_samples // R) * R and set(flat) <= set(subset)
    else:
        assert set(flat) == set(subset)  # covering; padding repeats a few
        assert len(flat) == -(-num_samples // R) * R


def test_batch_sampler_ranks_get_different_batches():
    per_rank = [list(PoissonBatchSampler(FEATS, 128, seed=0, num_replicas=2, rank=r)) for r in range(2)]
    assert len(per_rank[0]) == len(per_rank[1]) == N // (128 * 2)
    assert all(a != b for a, b in zip(*per_rank))


def _ddp_worker(rank, world, port, out_dir):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        f = make_features()
        s = PoissonSampler(f, 1000, seed=9)  # num_replicas and rank from torch.distributed
        bs = PoissonBatchSampler(f, 128, seed=9, num_batches=3)
        s.set_epoch(1)
        bs.set_epoch(1)
        torch.save({"shard": list(s), "batches": list(bs), "R": s.num_replicas, "rank": bs.rank},
                   os.path.join(out_dir, f"{rank}.pt"))
        dist.barrier()
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_gloo_group_shards_disjoint_and_covering():
    with tempfile.TemporaryDirectory() as tmp:
        torch.multiprocessing.spawn(_ddp_worker, args=(2, free_port(), tmp), nprocs=2, join=True)
        got = [torch.load(os.path.join(tmp, f"{r}.pt")) for r in range(2)]
    assert [g["R"] for g in got] == [2, 2] and [g["rank"] for g in got] == [0, 1]
    ref = PoissonSampler(FEATS, 1000, seed=9, num_replicas=1, rank=0)
    ref.set_epoch(1)
    a, b = got[0]["shard"], got[1]["shard"]
    assert len(a) == len(b) == 500 and not set(a) & set(b) and set(a) | set(b) == set(ref)
    for r in range(2):
        sim = PoissonBatchSampler(FEATS, 128, seed=9, num_batches=3, num_replicas=2, rank=r)
        sim.set_epoch(1)
        assert got[r]["batches"] == list(sim)
    assert got[0]["batches"] != got[1]["batches"]


# ----------------------------------------------------------------- resume --


def test_own_state_dict_resume_equals_uninterrupted():
    full = PoissonBatchSampler(FEATS, 64, seed=4, num_batches=12)
    full.set_epoch(2)
    ref = list(full)
    bs = PoissonBatchSampler(FEATS, 64, seed=4, num_batches=12)
    bs.set_epoch(2)
    it = iter(bs)
    head = [next(it) for _ in range(5)]
    state = pickle.loads(pickle.dumps(bs.state_dict()))
    del it, bs
    again = PoissonBatchSampler(FEATS, 64, seed=4, num_batches=12)
    again.load_state_dict(state)
    assert head + list(again) == ref
    assert list(again) == ref  # the next iteration starts the epoch afresh

    s = PoissonSampler(FEATS, 300, seed=4)
    s.set_epoch(2)
    ref = list(s)
    it = iter(s)
    head = [next(it) for _ in range(77)]
    s2 = PoissonSampler(FEATS, 300, seed=4)
    s2.load_state_dict(s.state_dict())
    assert head + list(s2) == ref


# Tests that start DataLoader workers by fork() carry the mark `forks_workers`,
# which .ci/run's ASan stage leaves out (why: the comment there); they run in
# the plain stage, the README's test command.
FORKS_WORKERS = pytest.mark.forks_workers


@pytest.mark.parametrize("kind", ["batch", "sampler"])
@pytest.mark.parametrize("num_workers", [0, pytest.param(2, marks=FORKS_WORKERS)])
def test_stateful_dataloader_resume_equals_uninterrupted(kind, num_workers):
    from torchdata.stateful_dataloader import StatefulDataLoader

    def make():
        if kind == "batch":
            bs = PoissonBatchSampler(FEATS, 32, seed=6, num_batches=10)
            return StatefulDataLoader(IndexDataset(), batch_sampler=bs, num_workers=num_workers), bs
        s = PoissonSampler(FEATS, 320, seed=6)
        return StatefulDataLoader(IndexDataset(), batch_size=32, sampler=s, num_workers=num_workers), s

    loader, smp = make()
    smp.set_epoch(1)
    ref = batches_of(loader)
    assert len(ref) == 10

    loader, smp = make()
    smp.set_epoch(1)
    head, it = [], iter(loader)
    for _ in range(4):
        head.append(next(it).tolist())
    state = loader.state_dict()
    del it, loader, smp
    gc.collect()

    loader, smp = make()
    loader.load_state_dict(state)
    smp.set_epoch(1)  # as a training loop would; the saved epoch wins anyway
    assert head + batches_of(loader) == ref


@pytest.mark.parametrize("kind", ["batch", "sampler"])
def test_resume_position_belongs_to_its_epoch(kind):
    def make():
        if kind == "batch":
            return PoissonBatchSampler(FEATS, 32, seed=1, num_batches=10)
        return PoissonSampler(FEATS, 300, seed=1)

    ref = make()
    ref.set_epoch(3)
    ref3 = list(ref)
    ref.set_epoch(2)
    ref2 = list(ref)
    for head in (4, len(ref2)):  # saved mid-epoch 2, and at its end
        s = make()
        s.set_epoch(2)
        it = iter(s)
        got = [next(it) for _ in range(head)]
        state = s.state_dict()
        del it
        s2 = make()
        s2.load_state_dict(state)
        s2.set_epoch(3)  # another epoch: the saved position does not apply
        assert s2.state_dict()["yielded"] == 0
        assert list(s2) == ref3
        s3 = make()
        s3.load_state_dict(state)
        s3.set_epoch(2)  # the saved epoch: the position is kept
        assert got + list(s3) == ref2
    # an iterator of the previous epoch does not move the new epoch's position
    s = make()
    it = iter(s)
    next(it)
    s.set_epoch(5)
    next(it)
    assert s.state_dict()["epoch"] == 5 and s.state_dict()["yielded"] == 0


# ------------------------------------------------------------- DataLoader --


@pytest.mark.parametrize(
    "num_workers,ctx,persistent",
    [
        (0, None, False),
        pytest.param(1, "fork", False, marks=FORKS_WORKERS),
        pytest.param(2, "fork", True, marks=FORKS_WORKERS),
        pytest.param(4, "fork", False, marks=FORKS_WORKERS),
        (2, "spawn", True),
    ],
)
def test_dataloader_workers_give_the_sampler_batches(num_workers, ctx, persistent):
    bs = PoissonBatchSampler(FEATS, 64, seed=8, num_batches=12)
    s = PoissonSampler(FEATS, 640, seed=8)
    kw = {}
    if num_workers:
        kw = dict(multiprocessing_context=ctx, persistent_workers=persistent)
    loader = DataLoader(IndexDataset(), batch_sampler=bs, num_workers=num_workers, **kw)
    loader2 = DataLoader(IndexDataset(), batch_size=64, sampler=s, num_workers=num_workers, **kw)
    for epoch in (0, 1):
        bs.set_epoch(epoch)
        s.set_epoch(epoch)
        ref = [bs.batch(b) for b in range(12)]
        assert batches_of(loader) == ref
        sub = list(s)
        assert [i for b in batches_of(loader2) for i in b] == sub
    del loader, loader2


def test_fork_while_threads_run_does_not_deadlock():
    bs = PoissonBatchSampler(FEATS, 128, seed=0, num_batches=40, prefetch=32, num_threads=2)
    ref = [bs.batch(b) for b in range(40)]
    it = iter(bs)
    got = [next(it)]
    assert bs.threads_running == 2
    pid = os.fork()
    if pid == 0:  # child: no inherited threads; the samplers still work there
        code = 1
        try:  # (no torch op here: torch's own OpenMP pool is not fork-safe)
            ok = native_threads() == 1 and [bs.batch(b) for b in (5, 6)] == ref[5:7]
            bs.set_epoch(0)
            ok = ok and list(bs) == ref and bs.threads_running == 0
            code = 0 if ok else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.05)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    got += list(it)  # the parent's threads come back lazily
    assert got == ref


# --------------------------------------------------------------- shutdown --


@pytest.mark.parametrize("workers", [0, pytest.param(2, marks=FORKS_WORKERS)])
def test_no_thread_or_process_left_after_the_loader_is_deleted(workers):
    # warm up everything that starts threads of its own (torch's pools)
    list(PoissonBatchSampler(FEATS, 64, num_batches=2))
    list(PoissonSampler(FEATS, 100))
    gc.collect()
    py0, native0 = threading.active_count(), native_threads()

    bs = PoissonBatchSampler(FEATS, 64, seed=0, num_batches=30, prefetch=16)
    s = PoissonSampler(FEATS, 300, seed=0)
    loader = DataLoader(IndexDataset(), batch_sampler=bs, num_workers=workers)
    it = iter(loader)
    next(it)  # mid-epoch: the native threads are busy prefetching
    list(DataLoader(IndexDataset(), batch_size=50, sampler=s, num_workers=workers))
    del it, loader, bs, s
    gc.collect()
    deadline = time.monotonic() + 10  # worker processes are reaped asynchronously
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []
    # threads end asynchronously too (the loader's queue feeder threads);
    # none may be left beyond the baseline (a runtime's own thread, e.g.
    # under ASan, may end meanwhile)
    while (threading.active_count() > py0 or native_threads() > native0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= py0
    assert native_threads() <= native0

    bs = PoissonBatchSampler(FEATS, 64, num_batches=5)
    list(bs)
    assert bs.threads_running == 0  # a finished epoch leaves no idle thread
    it = iter(bs)
    next(it)
    assert bs.threads_running > 0
    del it
    gc.collect()
    assert bs.threads_running == 0  # an abandoned iterator stops them


def test_pickled_samplers_give_the_same_batches():
    bs = PoissonBatchSampler(FEATS, 64, seed=2, num_batches=4)
    s = PoissonSampler(FEATS, 200, seed=2)
    ref_bs, ref_s = list(bs), list(s)
    assert list(pickle.loads(pickle.dumps(bs))) == ref_bs
    assert list(pickle.loads(pickle.dumps(s))) == ref_s


# ---------------------------------------------------------- bad arguments --

BAD = [
    (PoissonSampler, (FEATS, 0), {}, ValueError, "num_samples"),
    (PoissonSampler, (FEATS, N + 1), {}, ValueError, "num_samples"),
    (PoissonSampler, (FEATS, 1.5), {}, TypeError, "num_samples"),
    (PoissonSampler, (FEATS, 100), {"pool_size": 50}, ValueError, "pool_size"),
    (PoissonSampler, (FEATS, 100), {"rank": 2, "num_replicas": 2}, ValueError, "rank"),
    (PoissonSampler, (FEATS, 100), {"num_replicas": 0}, ValueError, "num_replicas"),
    (PoissonSampler, (FEATS, 100), {"shuffle": "yes"}, TypeError, "shuffle"),
    (PoissonSampler, (FEATS, 100), {"seed": -1}, ValueError, "seed"),
    (PoissonSampler, (FEATS, 100), {"alpha": -1.0}, ValueError, "alpha"),
    (PoissonSampler, (FEATS, 100), {"colour": 1}, TypeError, "colour"),
    (PoissonSampler, (FEATS, 100), {"progressive": True}, TypeError, "progressive"),
    (PoissonSampler, (FEATS, 100), {"periodic": True}, ValueError, "periodic"),
    (PoissonSampler, (FEATS, 100), {"bounds": ([0, 0, 0], [1, 1, 1])}, ValueError, "bounds"),
    (PoissonSampler, (FEATS, 100), {"dataset": IndexDataset(N - 1)}, ValueError, "len\\(dataset\\)"),
    (PoissonSampler, (FEATS, 100), {"dim": 2**31}, ValueError, "dim must be in \\[1, 1000000\\]"),
    (PoissonSampler, (FEATS, 100), {"dim": 2**63}, ValueError, "dim must be in \\[1, 1000000\\]"),
    (PoissonSampler, (FEATS, 100), {"num_replicas": 2**64}, ValueError, "num_replicas"),
    (PoissonBatchSampler, (FEATS, 0), {}, ValueError, "batch_size"),
    (PoissonBatchSampler, (FEATS, N + 1), {}, ValueError, "batch_size"),
    (PoissonBatchSampler, (FEATS, 64), {"pool_factor": 0}, ValueError, "pool_factor"),
    (PoissonBatchSampler, (FEATS, 64), {"num_batches": 0}, ValueError, "num_batches"),
    (PoissonBatchSampler, (FEATS, 64), {"prefetch": 0}, ValueError, "prefetch"),
    (PoissonBatchSampler, (FEATS, 64), {"prefetch": 2**31}, ValueError, "prefetch must be in \\[1, 2147483647\\]"),
    (PoissonBatchSampler, (FEATS, 64), {"num_batches": 2**63}, ValueError, "num_batches must be in \\[1, 9223372036854775807\\]"),
    (PoissonBatchSampler, (FEATS, 64), {"dim": 2**31}, ValueError, "dim must be in \\[1, 1000000\\]"),
    (PoissonBatchSampler, (FEATS, 64), {"dim": 10**6 + 1}, ValueError, "dim must be in \\[1, 1000000\\]"),
    (PoissonBatchSampler, (FEATS, 64), {"num_replicas": 2**64, "rank": 2**63}, ValueError, "num_replicas"),
    (PoissonBatchSampler, (FEATS, 64), {"num_threads": 0}, ValueError, "num_threads"),
    (PoissonBatchSampler, (FEATS, 64), {"rank": 1}, ValueError, "rank"),
    (PoissonBatchSampler, (FEATS, 64), {"alpha": 0.0}, ValueError, "alpha"),
    (PoissonBatchSampler, (FEATS, 64), {"beta": float("nan")}, ValueError, "beta"),
    (PoissonBatchSampler, (FEATS, 64), {"radius": -1.0}, ValueError, "radius"),
    (PoissonBatchSampler, (FEATS, 64), {"periodic": True}, ValueError, "periodic"),
    (PoissonBatchSampler, (FEATS, 64), {"bounds": ([1, 0], [0, 1])}, ValueError, "bounds"),
    (PoissonBatchSampler, (FEATS, 64), {"metric": "manhattan"}, ValueError, "metric"),
    (PoissonBatchSampler, (FEATS, 64), {"colour": 1}, TypeError, "colour"),
    (PoissonBatchSampler, (FEATS, 64), {"dataset": IndexDataset(5)}, ValueError, "len\\(dataset\\)=5"),
    (PoissonBatchSampler, (FEATS[:, 0], 64), {}, ValueError, "2-D"),
    (PoissonBatchSampler, (FEATS[None], 64), {}, ValueError, "2-D"),
    (PoissonBatchSampler, (FEATS.long(), 64), {}, TypeError, "floating point"),
    (PoissonBatchSampler, ([[0.0, 1.0]], 1), {}, TypeError, "features"),
    (PoissonBatchSampler, (torch.empty(0, 2), 1), {}, ValueError, "features"),
]


@pytest.mark.parametrize("cls,args,kwargs,exc,match", BAD, ids=[f"{c.__name__}-{m}-{i}" for i, (c, _, _, _, m) in enumerate(BAD)])
def test_bad_arguments_raise_at_construction(cls, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cls(*args, **kwargs)


@pytest.mark.parametrize("cls,arg", [(PoissonSampler, 100), (PoissonBatchSampler, 64)])
def test_nan_features_rejected_naming_the_row(cls, arg):
    f = FEATS.clone()
    f[1234, 1] = float("nan")
    with pytest.raises(ValueError, match=r"features\[1234\]"):
        cls(f, arg)


def test_elimination_options_pass_through():
    b = ([0.0, 0.0], [1.0, 1.0])
    for kw in [dict(bounds=b, periodic=True), dict(radius=0.02), dict(alpha=4.0, beta=0.5, gamma=1.0),
               dict(weight_limiting=False), dict(progressive=True)]:
        bs = PoissonBatchSampler(FEATS, 64, seed=1, num_batches=2, **kw)
        pool = torch.from_numpy(_engine.draw_pool(N, 512, 1, 0, 1, 0))
        want = pool[torch_poisson.sample_elimination(FEATS[pool], 64, **kw)]
        assert list(bs)[1] == want.tolist()
    kw = dict(bounds=b, periodic=True, alpha=6.0)
    s = PoissonSampler(FEATS, 200, seed=1, shuffle=False, **kw)
    pool = torch.from_numpy(_engine.draw_pool(N, 1600, 1, 0, 0, 0))
    want = pool[torch_poisson.sample_elimination(FEATS[pool], 200, progressive=True, **kw)]
    assert list(s) == want.tolist()


def _pool_elimination(feats, n, kw, seed=1, batch=1, factor=8):
    pool = torch.from_numpy(_engine.draw_pool(feats.shape[0], factor * n, seed, 0, batch, 0))
    return pool[torch_poisson.sample_elimination(feats[pool], n, **kw)].tolist()


@pytest.mark.parametrize("kw,d", [(dict(radius="auto"), 2), (dict(metric="sphere"), 3), (dict(metric="so3"), 4)])
def test_newer_options_agree_with_the_operator_or_both_refuse(kw, d):
    # radius="auto" and the non-euclidean metrics come with a newer core and
    # operator: the engine must give the operator's batches, or refuse as it does
    f = make_features(d=d) - 0.5
    f = f / f.norm(dim=1, keepdim=True)
    try:
        bs = PoissonBatchSampler(f, 64, num_batches=2, seed=1, **kw)
    except ValueError as e:
        assert any(k in str(e) for k in kw)
        with pytest.raises((ValueError, TypeError, RuntimeError)):
            _pool_elimination(f, 64, kw)
        return
    assert list(bs)[1] == _pool_elimination(f, 64, kw)


def _zero_row_features(d, n=100, row=99):
    f = torch.randn(n, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    f[row] = 0.0
    return f


@pytest.mark.parametrize("cls,args,kwargs,match", [
    (PoissonSampler, (_zero_row_features(3), 5), dict(metric="sphere", pool_size=40),
     r"features\[99\].*zero length|zero length.*features\[99\]"),
    (PoissonSampler, (_zero_row_features(4), 5), dict(metric="so3", pool_size=40),
     r"metric='so3'.*features\[99\]"),
    (PoissonBatchSampler, (_zero_row_features(3), 5), dict(metric="sphere"), r"metric='sphere'.*features\[99\]"),
    (PoissonBatchSampler, (_zero_row_features(4), 5), dict(metric="so3"), r"metric='so3'.*features\[99\]"),
])
def test_zero_length_feature_rows_rejected_at_construction_naming_the_row(cls, args, kwargs, match):
    # a pool holds 40 of the 100 rows: unchecked, row 99 would fail only in an epoch
    # whose pool held it, named by its pool index
    with pytest.raises(ValueError, match=match):
        cls(*args, **kwargs)


@pytest.mark.parametrize("cls,arg", [(PoissonSampler, 100), (PoissonBatchSampler, 64)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_features_outside_periodic_bounds_rejected_naming_the_row(cls, arg, dtype):
    b = ([0.0, 0.0], [1.0, 1.0])
    f = make_features(dtype=dtype)
    f[123, 0] = 1.5
    f[5000, 1] = -0.25
    with pytest.raises(ValueError, match=r"periodic.*2 row\(s\).*features\[123, 0\] = 1\.5 outside \[0\.0, 1\.0\]"):
        cls(f, arg, bounds=b, periodic=True)
    # both ends of bounds are inside (the core's rule), and not periodic: no limit
    f = make_features(n=200, dtype=dtype)
    f[0], f[1], f[2] = torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0])
    s = cls(f, 20, bounds=b, periodic=True, **({"pool_size": 200} if cls is PoissonSampler else {"pool_factor": 10}))
    got = list(s)
    assert len(got) == (20 if cls is PoissonSampler else len(s))
    f[0, 0] = 1.5
    cls(f, 20, bounds=b)


def test_large_integers_raise_value_error_at_the_call():
    s = PoissonSampler(FEATS, 100, seed=0)
    with pytest.raises(ValueError, match=r"epoch must be in \[0, 9223372036854775807\], got epoch=9223372036854775808"):
        s.set_epoch(2**63)
    with pytest.raises(ValueError, match="epoch"):
        s.subset(2**63)
    assert s.epoch == 0
    s.set_epoch(2**63 - 1)  # the largest epoch works (no prefetch of the next)
    assert len(list(s)) == 100

    bs = PoissonBatchSampler(FEATS, 64, seed=0, num_batches=3)
    with pytest.raises(ValueError, match=r"epoch must be in \[0, 9223372036854775807\]"):
        bs.set_epoch(2**63)
    with pytest.raises(ValueError, match=r"epoch must be in \[0, 9223372036854775807\]"):
        bs.batch(0, 2**63)
    assert bs.epoch == 0
    bs.set_epoch(2**63 - 1)
    assert list(bs) == [bs.batch(b, 2**63 - 1) for b in range(3)]
    # the largest values the engine takes are accepted
    big = PoissonBatchSampler(FEATS, 64, seed=0, num_batches=2**63 - 1, prefetch=2**31 - 1)
    assert len(big) == 2**63 - 1 and len(big.batch(2**63 - 2, 2**63 - 1)) == 64


def test_load_state_dict_names_missing_keys_and_other_ranks():
    for s in (PoissonSampler(FEATS, 100, seed=1), PoissonBatchSampler(FEATS, 64, seed=1, num_batches=4)):
        kind = type(s).__name__
        for drop in ("yielded", "seed", "epoch"):
            state = {k: v for k, v in s.state_dict().items() if k != drop}
            with pytest.raises(ValueError, match=f"missing key\\(s\\) '{drop}'.*{kind}.*'epoch', 'yielded'"):
                s.load_state_dict(state)
        with pytest.raises(ValueError, match=f"missing key\\(s\\) 'kind'"):
            s.load_state_dict({})

    r0 = PoissonBatchSampler(FEATS, 64, seed=1, num_batches=4, num_replicas=2, rank=0)
    r1 = PoissonBatchSampler(FEATS, 64, seed=1, num_batches=4, num_replicas=2, rank=1)
    it = iter(r0)
    next(it)
    with pytest.raises(ValueError, match="saved with rank=0, this sampler has rank=1"):
        r1.load_state_dict(r0.state_dict())
    with pytest.raises(ValueError, match="saved with seed=1, this sampler has seed=2"):
        PoissonBatchSampler(FEATS, 64, seed=2, num_batches=4, num_replicas=2).load_state_dict(r0.state_dict())
    r0b = PoissonBatchSampler(FEATS, 64, seed=1, num_batches=4, num_replicas=2, rank=0)
    r0b.load_state_dict(r0.state_dict())
    assert len(list(r0b)) == 3

    p0 = PoissonSampler(FEATS, 100, seed=1, num_replicas=2, rank=0)
    for kw, match in [(dict(num_replicas=2, rank=1), "rank=0, this sampler has rank=1"),
                      (dict(num_replicas=4, rank=0), "num_replicas=2, this sampler has num_replicas=4")]:
        with pytest.raises(ValueError, match=match):
            PoissonSampler(FEATS, 100, seed=1, **kw).load_state_dict(p0.state_dict())
    # a state without rank and num_replicas (they are checked only when present) loads
    old = {k: v for k, v in p0.state_dict().items() if k not in ("rank", "num_replicas")}
    PoissonSampler(FEATS, 100, seed=1, num_replicas=2, rank=1).load_state_dict(old)
