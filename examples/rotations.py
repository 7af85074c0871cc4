"""Well-spread rotations for pose-estimation training.

A pose data set rarely covers SO(3) evenly: objects are photographed mostly
upright, from a few favourite viewpoints. Here 8,000 synthetic poses (unit
quaternions) are drawn from a mixture: 70% near four canonical views, 30%
uniform (Haar). Two questions a pose-estimation user asks:

1. "Give me 200 of them, evenly spread" (8000 -> 200, the pose-learning
   problem this library was built for): sample_elimination(q, 200, metric="so3")
   against a random 200. Printed: the time, the smallest rotation angle
   between two picked poses, and how far (in degrees) a random rotation can
   be from the nearest picked pose (mean and 99th percentile of 20,000
   uniform probes): lower is better coverage.
2. "Make every training batch cover the rotations": PoissonBatchSampler with
   metric="so3" in a DataLoader against torch's random BatchSampler, the
   mean over batches of each batch's smallest pairwise angle.

Angles are rotation angles, 2 acos(|q1 . q2|) (q and -q are one rotation).
CPU only, a few seconds.

    python examples/rotations.py [--poses 8000] [--keep 200] [--batch 64]
"""
import argparse
import math
import time

import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

from torch_poisson import PoissonBatchSampler, sample_elimination


def haar(n, g):
    """n uniformly distributed unit quaternions (normalised Gaussians)."""
    q = torch.randn(n, 4, generator=g, dtype=torch.float64)
    return q / q.norm(dim=1, keepdim=True)


def near(center, n, spread, g):
    """n unit quaternions within a few times `spread` radians of `center`."""
    axis = torch.randn(n, 3, generator=g, dtype=torch.float64)
    axis = axis / axis.norm(dim=1, keepdim=True)
    angle = spread * torch.randn(n, 1, generator=g, dtype=torch.float64).abs()
    d = torch.cat([torch.cos(angle / 2), torch.sin(angle / 2) * axis], dim=1)  # small rotations
    w1, v1 = d[:, :1], d[:, 1:]
    w2, v2 = center[0], center[1:]
    w = w1 * w2 - (v1 * v2).sum(1, keepdim=True)
    v = w1 * v2 + w2 * v1 + torch.cross(v1, v2.expand_as(v1), dim=1)
    return torch.cat([w, v], dim=1)  # the product d * center


def pose_dataset(n, g, views=None):
    """n poses: 70% near the four canonical `views` (default: drawn from g), 30% uniform."""
    if views is None:
        views = haar(4, g)
    n_views = int(0.7 * n)
    parts = [near(views[k], n_views // 4 + (k < n_views % 4), 0.25, g) for k in range(4)]
    parts.append(haar(n - n_views, g))
    q = torch.cat(parts)
    return q[torch.randperm(n, generator=g)]


def angles_deg(a, b):
    """(len(a), len(b)) rotation angles in degrees."""
    dot = (a @ b.T).abs().clamp(max=1.0)
    return torch.rad2deg(2 * torch.acos(dot))


def min_angle(q):
    a = angles_deg(q, q)
    a.fill_diagonal_(float("inf"))
    return a.min().item()


def coverage(picked, probes):
    """(mean, 99th percentile) of each probe's angle to the nearest picked pose."""
    nearest = angles_deg(probes, picked).min(dim=1).values
    return nearest.mean().item(), torch.quantile(nearest, 0.99).item()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--poses", type=int, default=8000)
    p.add_argument("--keep", type=int, default=200)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--batches", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    g = torch.Generator().manual_seed(a.seed)
    q = pose_dataset(a.poses, g)
    probes = haar(20_000, g)

    print(f"{a.poses} poses: 70% near 4 canonical views, 30% uniform; keep {a.keep}")
    sample_elimination(q, a.keep, metric="so3")  # warm-up
    t = time.perf_counter()
    idx = sample_elimination(q, a.keep, metric="so3")
    ms = 1e3 * (time.perf_counter() - t)
    rnd = torch.randperm(a.poses, generator=g)[: a.keep]
    print(f"  {'':<22} {'time':>9} {'min angle':>10} {'gap mean':>9} {'gap 99%':>8}")
    for name, sel, tm in (("random subset", rnd, "-"), ("Poisson (so3)", idx, f"{ms:.1f} ms")):
        cm, c99 = coverage(q[sel], probes)
        print(f"  {name:<22} {tm:>9} {min_angle(q[sel]):>9.1f}d {cm:>8.1f}d {c99:>7.1f}d")

    print(f"\nbatches of {a.batch} from the {a.poses} poses, {a.batches} batches each")
    ds = TensorDataset(q)
    poisson = PoissonBatchSampler(q, a.batch, pool_factor=8, num_batches=a.batches, seed=a.seed, metric="so3")
    plain = BatchSampler(RandomSampler(ds, num_samples=a.batch * a.batches,
                                       generator=torch.Generator().manual_seed(a.seed)), a.batch, drop_last=True)
    for name, sampler in (("random batches", plain), ("PoissonBatchSampler", poisson)):
        t = time.perf_counter()
        mins = [min_angle(batch) for (batch,) in DataLoader(ds, batch_sampler=sampler)]
        dt = time.perf_counter() - t
        print(f"  {name:<22} mean smallest angle in a batch {sum(mins) / len(mins):5.1f}d "
              f"(worst batch {min(mins):4.1f}d), {len(mins) / dt:6.0f} batches/s with the check")
    # a rotation's angle to itself is 0 and to its negation too: q ~ -q
    assert math.isclose(angles_deg(q[:1], -q[:1]).item(), 0.0, abs_tol=1e-3)


if __name__ == "__main__":
    main()
