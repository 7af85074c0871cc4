"""Speed, quality and memory of sample_elimination (run by hand; prints a table).

Each case runs in a fresh child process so its peak memory is its own:
uniform points in [0, 1)^d, periodic, float32, median of 3 runs.

    python benchmarks/bench_elimination.py            # the standard table
    python benchmarks/bench_elimination.py --quick    # skip the 1M cases
    python benchmarks/bench_elimination.py --threads 1
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = [
    ("2D 8000 -> 200", 2, 8000, 200),
    ("2D 100k -> 12.5k", 2, 100_000, 12_500),
    ("2D 1M -> 125k", 2, 1_000_000, 125_000),
    ("3D 100k -> 12.5k", 3, 100_000, 12_500),
    ("3D 1M -> 125k", 3, 1_000_000, 125_000),
]


def run_case(d, m, n, repeats, progressive):
    import torch

    import torch_poisson

    gen = torch.Generator().manual_seed(0)
    pts = torch.rand(m, d, generator=gen)
    bounds = ([0.0] * d, [1.0] * d)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        idx = torch_poisson.sample_elimination(pts, n, bounds=bounds, periodic=True, progressive=progressive)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rho = torch_poisson.relative_radius(pts[idx].double(), bounds=bounds, periodic=True)
    return dict(seconds=statistics.median(times), rho=rho, peak_mb=peak / 1024, extra_mb=(peak - base_rss) / 1024,
                threads=torch.get_num_threads())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 1M-point cases")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--progressive", action="store_true")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        d, m, n = (int(v) for v in args.case.split(","))
        print(json.dumps(run_case(d, m, n, args.repeats, args.progressive)))
        return
    print(f"{'case':<20} {'threads':>7} {'seconds':>9} {'ns/point':>9} {'rho':>6} {'peak MB':>8} {'extra MB':>9}")
    for name, d, m, n in CASES:
        if args.quick and m >= 1_000_000:
            continue
        cmd = [sys.executable, os.path.abspath(__file__), "--case", f"{d},{m},{n}", "--repeats", str(args.repeats)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.progressive:
            cmd.append("--progressive")
        r = json.loads(subprocess.check_output(cmd).decode().strip().splitlines()[-1])
        print(f"{name + (' prog' if args.progressive else ''):<20} {r['threads']:>7} {r['seconds']:>9.4f} "
              f"{r['seconds'] / m * 1e9:>9.1f} {r['rho']:>6.3f} {r['peak_mb']:>8.0f} {r['extra_mb']:>9.0f}")


if __name__ == "__main__":
    main()
