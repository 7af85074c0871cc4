"""python -m torch_poisson demo | info

demo: random subset vs Poisson subset, side by side.

Draws 16,000 uniform candidates in the unit square, keeps 2,000 of them twice
(a random subset, and torch_poisson's Poisson disk subset), prints a table
(time, relative radius rho, mean nearest-neighbour distance, covering radius
of the candidates, low-frequency power) and writes a PNG with the two subsets
side by side and their spectra under them. Then the same for rotations (8,000 random
unit quaternions -> 200, the SO(3) metric) and directions on the sphere, with
a second PNG of random vs Poisson directions.

info: the facts a bug report needs (package version, the torch it was built
against and the one it runs with, Python, threads, platform).
"""
import argparse
import os
import platform
import sys
import time

import torch


def _nearest_neighbour_distances(points):
    """Toroidal nearest-neighbour distance of every row (unit box)."""
    from scipy.spatial import cKDTree

    x = points.double().numpy() % 1.0
    dist, _ = cKDTree(x, boxsize=1.0).query(x, k=2)
    return dist[:, 1]


def demo(out, n=2000, oversample=8, seed=0):
    import torch_poisson

    gen = torch.Generator().manual_seed(seed)
    cand = torch.rand(n * oversample, 2, generator=gen)

    t0 = time.perf_counter()
    rand_idx = torch.randperm(cand.shape[0], generator=gen)[:n]
    t_rand = time.perf_counter() - t0

    def poisson():
        return torch_poisson.sample_elimination(cand, n, bounds=([0, 0], [1, 1]), periodic=True)

    poisson()  # warm-up: the first call also starts torch's thread pool
    t0 = time.perf_counter()
    pois_idx = poisson()
    t_pois = time.perf_counter() - t0

    rows = []
    unit = ([0, 0], [1, 1])
    low_bins = max(1, round(0.45 * n ** 0.5))  # |f| under half a Poisson set's peak (near 1.1 sqrt(n))
    for name, idx, t in (("random subset", rand_idx, t_rand), ("Poisson subset", pois_idx, t_pois)):
        pts = cand[idx]
        nn = _nearest_neighbour_distances(pts)
        rho = torch_poisson.relative_radius(pts.double(), bounds=unit, periodic=True)
        cover = torch_poisson.covering_radius(cand.double(), idx, bounds=unit, periodic=True)
        low = torch_poisson.spectrum(pts.double(), bounds=unit).power[:low_bins].mean().item()
        rows.append((name, t, rho, float(nn.mean()), cover, low, pts))

    print(f"torch_poisson demo: {n} of {cand.shape[0]} uniform points in [0, 1)^2 (seed {seed})")
    print(f"{'subset':<16} {'time [ms]':>10} {'rho':>8} {'mean NN dist':>14} {'covering r':>11} {'low-f power':>12}")
    for name, t, rho, nn, cover, low, _ in rows:
        print(f"{name:<16} {t * 1e3:>10.2f} {rho:>8.3f} {nn:>14.5f} {cover:>11.5f} {low:>12.3f}")
    print("rho = smallest distance / (2 r_max): ~0.72 is excellent blue noise, ~0.01 is clumpy")
    print(f"covering r = distance of the farthest candidate from the subset; low-f power = mean radial power "
          f"over |f| <= {low_bins}: ~1 for random, far below for blue noise")

    from torch_poisson.plots import spectra_figure

    fig = spectra_figure([(f"{name}\nrho = {rho:.3f}, covering r = {cover:.4f}", pts)
                          for name, t, rho, nn, cover, low, pts in rows],
                         title=f"{n} of {cand.shape[0]} uniform points", path=out)
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"wrote {os.path.abspath(out)}")
    _rotations_and_directions(out, seed)
    return rows


def _rotations_and_directions(out, seed):
    """Rotations (8000 -> 200) and sphere directions."""
    import math

    import torch_poisson
    from torch_poisson.plots import sphere_directions_figure

    gen = torch.Generator().manual_seed(seed)
    print()
    print(f"{'subset':<26} {'time [ms]':>10} {'closest pair':>14}")
    for metric, m, n, unit in (("so3", 8000, 200, "deg rotation"), ("sphere", 16000, 2000, "deg")):
        cand = torch.randn(m, 4 if metric == "so3" else 3, generator=gen, dtype=torch.float64)
        torch_poisson.sample_elimination(cand, n, metric=metric)  # warm-up
        t0 = time.perf_counter()
        idx = torch_poisson.sample_elimination(cand, n, metric=metric)
        t = time.perf_counter() - t0
        rnd = torch.randperm(m, generator=gen)[:n]
        for name, sub, tt in (("random", rnd, 0.0), ("Poisson", idx, t)):
            ang = torch_poisson.min_distance(cand[sub], metric=metric) * 180 / math.pi
            label = f"{metric} {m}->{n} {name}"
            print(f"{label:<26} {tt * 1e3:>10.2f} {ang:>8.2f} {unit}")
    root, _ = os.path.splitext(out)
    sphere_png = root + "_sphere.png"
    sphere_directions_figure(600, seed=seed, path=sphere_png)
    print(f"wrote {os.path.abspath(sphere_png)}")


def _cpu_kernels():
    """Which of the core's kernels this process runs, and whether TORCH_POISSON_PORTABLE chose them."""
    from torch_poisson import _engine

    path = _engine.cpu_path()
    forced = " (TORCH_POISSON_PORTABLE)" if path == "portable" and os.environ.get("TORCH_POISSON_PORTABLE") else ""
    return path + forced


def info_lines():
    """(name, value) pairs describing this installation, as `info` prints them."""
    import torch_poisson

    try:
        from torch_poisson._build_info import TORCH_VERSION as built_against
    except ImportError:  # the extension was built by CMake directly, not through setup.py
        built_against = "unknown (built outside setup.py)"
    return [
        ("torch_poisson", torch_poisson.__version__),
        ("location", os.path.dirname(os.path.abspath(torch_poisson.__file__))),
        ("torch built against", built_against),
        ("torch running", torch.__version__),
        ("python", f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})"),
        ("threads", str(torch.get_num_threads())),
        ("cpu kernels", _cpu_kernels()),
        ("platform", platform.platform()),
    ]


def info():
    lines = info_lines()
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name + ':':<{width + 2}}{value}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m torch_poisson", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    d = sub.add_parser("demo", help="random vs Poisson subset: table and PNG")
    d.add_argument("--out", default="torch_poisson_demo.png", help="PNG path (default: %(default)s)")
    d.add_argument("--n", type=int, default=2000, help="points to keep (default: %(default)s)")
    d.add_argument("--seed", type=int, default=0)
    sub.add_parser("info", help="versions, threads and platform: paste this into a bug report")
    args = parser.parse_args(argv)
    if args.command == "info":
        info()
        return 0
    if args.command != "demo":
        parser.print_help()
        return 2
    if args.n < 1:
        parser.error(f"--n must be >= 1, got --n {args.n}")
    demo(args.out, n=args.n, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
