"""How fast are the samplers? Prints a table (no asserts: timings are noisy).

    python benchmarks/bench_loader.py            # 1M 2D items, batch 256, pool_factor 8
    python benchmarks/bench_loader.py --batches 3906 --threads 1 2

Rows:
  pool draw          pool_factor*batch_size distinct indices of 1M, ascending
  elimination        sample_elimination of one pool (2048 -> 256 points), 1 thread
  engine batch       one whole batch (draw + gather + eliminate), 1 thread
  PoissonBatchSampler alone   batches/s from iterating the sampler (goal >= 5000/s):
                     the median of --repeats epochs (their range in the notes)
  DataLoader epoch   an epoch with a simulated 2 ms training step, ours vs a plain
                     random BatchSampler (goal: ratio <= 1.05); "sleep" is a step
                     that frees the CPU (a GPU step), "busy" one that spins on it
"""
import argparse
import os
import sys
import time

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

import torch_poisson
from torch_poisson import PoissonBatchSampler, _engine


class Rows(Dataset):
    """Map-style dataset over a tensor, with a batched fetch (no per-item Python)."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, i):
        return self.x[i]

    def __getitems__(self, idx):
        return self.x[torch.as_tensor(idx)]


def identity(batch):
    return batch


def per_call(fn, repeat):
    fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def epoch_seconds(loader, step, mode):
    t = time.perf_counter()
    n = 0
    for _ in loader:
        n += 1
        if mode == "sleep":
            time.sleep(step)
        else:
            end = time.perf_counter() + step
            while time.perf_counter() < end:
                pass
    return time.perf_counter() - t, n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--pool-factor", type=int, default=8)
    p.add_argument("--batches", type=int, default=1500, help="batches per timed epoch (full epoch: 3906)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="native thread counts to time")
    p.add_argument("--step-ms", type=float, default=2.0)
    p.add_argument("--repeats", type=int, default=3, help="epochs timed for the sampler-alone rows")
    a = p.parse_args()

    torch.manual_seed(0)
    feats = torch.rand(a.items, 2, dtype=torch.float64)
    pool = a.pool_factor * a.batch_size
    rows = []

    def row(name, value, unit, goal=""):
        rows.append((name, value, unit, goal))
        print(f"  {name:<44} {value:>10.3f} {unit:<10} {goal}", flush=True)

    print(f"torch_poisson samplers: {a.items} items, d=2, batch {a.batch_size}, pool_factor {a.pool_factor}, "
          f"torch {torch.__version__}, {os.cpu_count()} cpus")
    torch.set_num_threads(1)
    row("pool draw (1M -> %d)" % pool, 1e3 * per_call(lambda: _engine.draw_pool(a.items, pool, 0, 0, 1, 0), 2000), "ms")
    cand = feats[torch.from_numpy(_engine.draw_pool(a.items, pool, 0, 0, 1, 0))]
    row(f"elimination {pool} -> {a.batch_size} (operator, 1 thread)",
        1e3 * per_call(lambda: torch_poisson.sample_elimination(cand, a.batch_size), 300), "ms", "goal < 0.2 ms")
    torch.set_num_threads(os.cpu_count() or 1)
    bs = PoissonBatchSampler(feats, a.batch_size, pool_factor=a.pool_factor, num_batches=a.batches, num_threads=1)
    b = [0]

    def one():
        bs.batch(b[0] % a.batches)
        b[0] += 1

    row("engine batch: draw + gather + eliminate", 1e3 * per_call(one, 300), "ms")

    for threads in a.threads:
        rates = []
        for _ in range(a.repeats):
            bs = PoissonBatchSampler(feats, a.batch_size, pool_factor=a.pool_factor, num_batches=a.batches,
                                     num_threads=threads)
            t = time.perf_counter()
            n = sum(1 for _ in bs)
            rates.append(n / (time.perf_counter() - t))
        rates.sort()
        row(f"PoissonBatchSampler alone, {threads} thread(s)", rates[len(rates) // 2], "batches/s",
            f"goal >= 5000/s (epochs {rates[0]:.0f}-{rates[-1]:.0f})")

    ds = Rows(feats)
    step = a.step_ms / 1e3
    for mode in ("sleep", "busy"):
        ours = PoissonBatchSampler(feats, a.batch_size, pool_factor=a.pool_factor, num_batches=a.batches)
        plain = BatchSampler(RandomSampler(ds, num_samples=a.batches * a.batch_size), a.batch_size, drop_last=True)
        t_plain, n1 = epoch_seconds(DataLoader(ds, batch_sampler=plain, collate_fn=identity), step, mode)
        t_ours, n2 = epoch_seconds(DataLoader(ds, batch_sampler=ours, collate_fn=identity), step, mode)
        assert n1 == n2 == a.batches, (n1, n2)
        row(f"DataLoader epoch, {a.step_ms:g} ms {mode} step, random", t_plain, "s")
        row(f"DataLoader epoch, {a.step_ms:g} ms {mode} step, Poisson", t_ours, "s")
        row(f"  ratio Poisson / random ({mode})", t_ours / t_plain, "x", "goal <= 1.05")

    print()
    print("| measure | value | unit | goal |")
    print("|---|---:|---|---|")
    for name, value, unit, goal in rows:
        print(f"| {name.strip()} | {value:.3f} | {unit} | {goal} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
