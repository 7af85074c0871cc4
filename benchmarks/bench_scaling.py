"""Speed and memory of torch_poisson's sample elimination as the input grows.

Prints one table: uniform float32 points in [0, 1)^d, periodic, M = 8 n, for
2D M = 100k .. 10M, 3D 1M, progressive 2D 1M, and 2D 1M on 1 and 2 threads.
Each case runs in a fresh subprocess so its peak RSS (resource.ru_maxrss) is
its own; "peak RSS" includes Python, torch and the input tensor, "+RSS" is the
growth during the call. Times are the best of --reps runs.

    python benchmarks/bench_scaling.py            # everything (10M takes a while)
    python benchmarks/bench_scaling.py --max-m 1000000
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_case(m, d, threads, progressive, reps):
    import torch

    from torch_poisson.ops import sample_elimination

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(m, d, generator=g)
    bounds = ([0.0] * d, [1.0] * d)
    n = m // 8
    before = _rss_mb()
    best = float("inf")
    idx = None
    for _ in range(reps):
        t0 = time.perf_counter()
        idx = sample_elimination(x, n, bounds=bounds, periodic=True, progressive=progressive)
        best = min(best, time.perf_counter() - t0)
    assert idx.numel() == n
    return {"seconds": best, "rss_mb": _rss_mb(), "rss_growth_mb": _rss_mb() - before}


CASES = [
    # (label, M, d, threads, progressive)
    ("2D", 100_000, 2, 2, False),
    ("2D", 300_000, 2, 2, False),
    ("2D", 1_000_000, 2, 2, False),
    ("2D", 3_000_000, 2, 2, False),
    ("2D", 10_000_000, 2, 2, False),
    ("3D", 1_000_000, 3, 2, False),
    ("2D progressive", 1_000_000, 2, 2, True),
    ("2D 1 thread", 1_000_000, 2, 1, False),
    ("2D 1 thread", 100_000, 2, 1, False),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-m", type=int, default=10_000_000, help="skip cases with more points")
    ap.add_argument("--reps", type=int, default=3, help="runs per case (best is kept); 1 for M >= 3M")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        m, d, threads, prog = json.loads(args.case)
        reps = args.reps if m < 3_000_000 else 1
        print(json.dumps(run_case(m, d, threads, prog, reps)))
        return
    rows = []
    print(f"{'case':<16} {'M':>10} {'n':>9} {'thr':>3} {'seconds':>9} {'ns/point':>9} "
          f"{'peak RSS MB':>11} {'+RSS MB':>8}")
    for label, m, d, threads, prog in CASES:
        if m > args.max_m:
            continue
        cmd = [sys.executable, os.path.abspath(__file__), "--reps", str(args.reps),
               "--case", json.dumps([m, d, threads, prog])]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{label:<16} {m:>10} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((label, m, d, threads, prog, r))
        print(f"{label:<16} {m:>10} {m // 8:>9} {threads:>3} {r['seconds']:>9.3f} "
              f"{r['seconds'] * 1e9 / m:>9.1f} {r['rss_mb']:>11.0f} {r['rss_growth_mb']:>8.0f}",
              flush=True)
    by = {(lab, m, t): r for lab, m, d, t, p, r in rows}
    one, two = by.get(("2D 1 thread", 1_000_000, 1)), by.get(("2D", 1_000_000, 2))
    if one and two:
        print(f"2D 1M: 2 threads are {one['seconds'] / two['seconds']:.2f}x faster than 1")
    prog = by.get(("2D progressive", 1_000_000, 2))
    if prog and two:
        print(f"2D 1M: progressive takes {prog['seconds'] / two['seconds']:.2f}x the plain run")


if __name__ == "__main__":
    main()
