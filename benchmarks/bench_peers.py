"""torch_poisson next to what a user would pick instead, on the same points.

Uniform 2D float32 candidates in [0, 1)^2; every method is asked for n = M/8
points (scipy's qmc.PoissonDisk draws its own). Prints seconds, the count
returned vs asked, and rho = (smallest distance among the returned points) /
(2 r_max of that many points), measured without wrap-around for everyone.
Each peer runs only when it is installed; install them into a benchmark
environment, not as dependencies of the package:

    pip install scipy open3d fpsample point-cloud-utils   # open3d needs libusb-1.0-0

A peer whose 100k run predicts more than --limit seconds at 1M (by its own
scaling: x100 for farthest-point and the O(M n) methods, x10 otherwise) is
skipped at 1M and marked so in the table.
"""
import argparse
import math
import time

import numpy as np
import torch

from torch_poisson.ops import sample_elimination
from torch_poisson.quality import max_radius, min_distance


def rho(points):
    p = torch.as_tensor(np.asarray(points, dtype=np.float64)[:, :2])
    if p.shape[0] < 2:
        return float("nan")
    return min_distance(p) / (2.0 * max_radius(p.shape[0], 1.0, 2))


def ours(x, n):
    t = torch.from_numpy(x)
    t0 = time.perf_counter()
    idx = sample_elimination(t, n, bounds=([0.0, 0.0], [1.0, 1.0]), periodic=True)
    return time.perf_counter() - t0, x[idx.numpy()]


def ours_open(x, n):
    t = torch.from_numpy(x)
    t0 = time.perf_counter()
    idx = sample_elimination(t, n)
    return time.perf_counter() - t0, x[idx.numpy()]


def scipy_poisson(x, n):
    from scipy.stats import qmc

    # radius: the distance a well-spread set of n points keeps (rho ~ 0.75)
    r = 0.75 * 2.0 * max_radius(n, 1.0, 2)
    eng = qmc.PoissonDisk(d=2, radius=r, seed=1)
    t0 = time.perf_counter()
    pts = eng.random(n)
    return time.perf_counter() - t0, pts


def _o3d_cloud(x):
    import open3d as o3d

    xyz = np.zeros((x.shape[0], 3))
    xyz[:, :2] = x
    return o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz))


def open3d_poisson(x, n):
    import open3d as o3d

    square = o3d.geometry.TriangleMesh(
        o3d.utility.Vector3dVector(np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)),
        o3d.utility.Vector3iVector(np.array([[0, 1, 2], [0, 2, 3]], np.int32)),
    )
    pcl = _o3d_cloud(x)
    t0 = time.perf_counter()
    out = square.sample_points_poisson_disk(number_of_points=n, pcl=pcl)
    return time.perf_counter() - t0, np.asarray(out.points)[:, :2]


def open3d_fps(x, n):
    pcl = _o3d_cloud(x)
    t0 = time.perf_counter()
    out = pcl.farthest_point_down_sample(n)
    return time.perf_counter() - t0, np.asarray(out.points)[:, :2]


def fpsample_kdline(x, n):
    import fpsample

    pts = np.ascontiguousarray(x, dtype=np.float32)
    t0 = time.perf_counter()
    idx = fpsample.bucket_fps_kdline_sampling(pts, n, h=7)
    return time.perf_counter() - t0, x[np.asarray(idx)]


def pcu_poisson(x, n):
    import point_cloud_utils as pcu

    v = np.zeros((x.shape[0], 3))
    v[:, :2] = x
    t0 = time.perf_counter()
    idx = pcu.downsample_point_cloud_poisson_disk(v, -1.0, target_num_samples=n, random_seed=1)
    return time.perf_counter() - t0, x[np.asarray(idx)]


# (name, function, module needed, growth of its time from 100k to 1M)
PEERS = [
    ("torch_poisson (periodic)", ours, None, 10),
    ("torch_poisson (bounding box)", ours_open, None, 10),
    ("scipy qmc.PoissonDisk", scipy_poisson, "scipy", 10),
    ("open3d sample_points_poisson_disk", open3d_poisson, "open3d", 30),
    ("open3d farthest_point_down_sample", open3d_fps, "open3d", 100),
    ("fpsample bucket_fps_kdline", fpsample_kdline, "fpsample", 15),
    ("point-cloud-utils poisson", pcu_poisson, "point_cloud_utils", 10),
]


def installed(mod):
    if mod is None:
        return True
    try:
        __import__(mod)
        return True
    except Exception:  # an import error of any kind means: not usable here
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated M values")
    ap.add_argument("--limit", type=float, default=60.0, help="skip a peer predicted slower (s)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"{'method':<36} {'M':>9} {'asked':>7} {'returned':>8} {'seconds':>9} {'rho':>6}")
    first = {}
    for m in sizes:
        n = m // 8
        x = np.random.default_rng(1).random((m, 2), dtype=np.float32).astype(np.float64)
        for name, fn, mod, growth in PEERS:
            if not installed(mod):
                print(f"{name:<36} {m:>9} {n:>7}   (not installed)")
                continue
            if name in first and m > first[name][0]:
                m0, t0 = first[name]
                guess = t0 * growth * (m / m0) / 10.0
                if guess > args.limit:
                    print(f"{name:<36} {m:>9} {n:>7}   skipped: about {guess:.0f} s predicted")
                    continue
            try:
                sec, pts = fn(x, n)
            except Exception as e:  # report a failing peer, keep the table going
                print(f"{name:<36} {m:>9} {n:>7}   failed: {type(e).__name__}: {e}")
                continue
            first.setdefault(name, (m, sec))
            print(f"{name:<36} {m:>9} {n:>7} {len(pts):>8} {sec:>9.3f} {rho(pts):>6.3f}", flush=True)


if __name__ == "__main__":
    main()
