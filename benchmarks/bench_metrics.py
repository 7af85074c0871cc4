"""Benchmarks of rotations, directions, padded batches, 64-d embeddings
and real data that does not fill its bounding box.

    python benchmarks/bench_metrics.py            # full sizes (about a minute)
    python benchmarks/bench_metrics.py --quick    # smaller sizes

Prints a Markdown table: the case, the time (best of --repeat runs after one
warm-up), the goal where the project sets one, and a quality figure: the
smallest distance among the kept points over that of a random subset of the
same size (in the points' own metric), or the relative radius rho.
"""
import argparse
import os
import sys
import math
import time

import torch

import torch_poisson as tp

# the real-data cases are the test suite's (tests/test_metrics.py)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from test_metrics import clusters, embeddings, surface  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from rotations import pose_dataset  # noqa: E402


def best_time(fn, repeat):
    fn()
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def versus_random(x, idx, g, metric="euclidean"):
    rnd = torch.randperm(x.shape[0], generator=g)[: idx.numel()]
    return tp.min_distance(x[idx], metric=metric) / tp.min_distance(x[rnd], metric=metric)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    big = 20_000 if args.quick else 100_000
    batch = 128 if args.quick else 1024
    g = torch.Generator().manual_seed(0)
    rows = []

    def row(case, seconds, goal, quality):
        rows.append((case, seconds, goal, quality))
        print(f"  {case}: {seconds * 1e3:.1f} ms", flush=True)

    # a baseline to compare machines and loads: the euclidean 2-D case
    x2 = torch.rand(big, 2, generator=g, dtype=torch.float64)
    t = best_time(lambda: tp.sample_elimination(x2, big // 8), args.repeat)
    row(f"baseline: 2-D {big} -> {big // 8}", t, "", "")

    # SO(3): 200 of 8000 rotations (the pose-learning case) and a large one
    q = torch.randn(8000, 4, generator=g, dtype=torch.float64)
    t = best_time(lambda: tp.sample_elimination(q, 200, metric="so3"), args.repeat)
    rho = tp.relative_radius(q[tp.sample_elimination(q, 200, metric="so3")], metric="so3")
    row("SO(3) 8000 -> 200", t, "<= 5 ms", f"rho {rho:.2f}")
    # the same on poses as a data set has them (examples/rotations.py: 70% near four views)
    # (a generator of its own, so that the other cases' draws do not depend on it)
    gp = torch.Generator().manual_seed(0)
    poses = pose_dataset(8000, gp)
    t = best_time(lambda: tp.sample_elimination(poses, 200, metric="so3"), args.repeat)
    idx = tp.sample_elimination(poses, 200, metric="so3")
    row("SO(3) 8000 -> 200, poses: 70% near 4 views", t, "",
        f"min angle x{versus_random(poses, idx, gp, 'so3'):.1f} random")
    Q = torch.randn(big, 4, generator=g, dtype=torch.float64)
    t = best_time(lambda: tp.sample_elimination(Q, big // 8, metric="so3"), args.repeat)
    rho = tp.relative_radius(Q[tp.sample_elimination(Q, big // 8, metric="so3")], metric="so3")
    row(f"SO(3) {big} -> {big // 8}", t, "(reference C++ 2.2 s)", f"rho {rho:.2f}")
    t = best_time(lambda: tp.poisson_disk(200, metric="so3", generator=torch.Generator().manual_seed(1)),
                  args.repeat)
    row("poisson_disk(200, metric='so3')", t, "", "")
    # sphere directions
    v = torch.randn(big, 3, generator=g, dtype=torch.float64)
    t = best_time(lambda: tp.sample_elimination(v, big // 8, metric="sphere"), args.repeat)
    rho = tp.relative_radius(v[tp.sample_elimination(v, big // 8, metric="sphere")], metric="sphere")
    row(f"S^2 {big} -> {big // 8}", t, "", f"rho {rho:.2f}")

    # padded batch
    b = torch.rand(batch, 2048, 2, generator=g)
    t = best_time(lambda: tp.sample_elimination(b, 256), args.repeat)
    row(f"padded batch {batch} x (2048 -> 256) 2D", t, "<= 0.3 s (B = 1024)", "")
    lengths = torch.randint(1024, 2049, (batch,), generator=g)
    t = best_time(lambda: tp.sample_elimination(b, 256, lengths=lengths), args.repeat)
    row(f"padded batch {batch} x (1024..2048 -> 256) 2D, lengths", t, "", "")

    # 64-d embeddings near a 3-d subspace
    e = embeddings(big, g)
    n = big // 8
    t_est = best_time(lambda: tp.estimate_radius(e, n), 1)
    r, D = tp.estimate_radius(e, n)
    t = best_time(lambda: tp.sample_elimination(e, n, radius="auto"), 1)
    idx = tp.sample_elimination(e, n, radius="auto")
    row(f"64-d {big} -> {n}, radius='auto' (estimate: {t_est * 1e3:.0f} ms, D={D})", t, "",
        f"min dist x{versus_random(e, idx, g):.1f} random")
    t = best_time(lambda: tp.sample_elimination(e, n, radius=r), 1)
    row(f"64-d {big} -> {n}, radius=r_auto given", t, "", "")
    try:
        if args.quick:  # refused at once: the budget counts a pair of 64 coordinates as 8
            raise RuntimeError("skipped with --quick")
        t = best_time(lambda: tp.sample_elimination(e, n), 1)
        row(f"64-d {big} -> {n}, default radius (bounding box)", t, "", "")
    except RuntimeError as err:
        words = str(err).split()
        about = words[words.index("about") + 1] if "about" in words else "?"
        note = "skipped with --quick" if args.quick else f"refused as too dense: ~{about} candidates per point"
        rows.append((f"64-d {big} -> {n}, default radius (bounding box)", math.nan, "", note))

    # real data that does not fill its bounding box, radius="auto"
    for name, make in (("sphere surface in 3D", surface), ("20 tight Gaussian clusters", clusters)):
        x = make(big, g)
        t = best_time(lambda: tp.sample_elimination(x, big // 8, radius="auto"), 1)
        idx = tp.sample_elimination(x, big // 8, radius="auto")
        row(f"{name} {big} -> {big // 8}, radius='auto'", t, "",
            f"min dist x{versus_random(x, idx, g):.1f} random")

    print()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print()
    print("| case | time | goal | quality |")
    print("|---|---:|---|---|")
    for case, seconds, goal, quality in rows:
        shown = "-" if math.isnan(seconds) else (f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s")
        print(f"| {case} | {shown} | {goal} | {quality} |")


if __name__ == "__main__":
    main()
