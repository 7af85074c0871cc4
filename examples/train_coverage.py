"""Does a Poisson batch help training? A small regression on very uneven data.

Synthetic 2D data set: 95% of the items sit in one dense Gaussian cluster, 5%
are spread uniformly over the unit square (the sparse region). The target is
smooth inside the cluster and has extra structure outside it (the sparse
region is where the function differs). The same MLP is trained twice from the
same initialisation for the same number of steps and batch size:

  random   torch's BatchSampler(RandomSampler) (uniform over items)
  Poisson  PoissonBatchSampler(features=positions, pool_factor=8)

and the test loss (MSE) is printed on fresh dense-cluster and sparse-region
points, for a few seeds. CPU only, well under a minute.

    python examples/train_coverage.py [--steps 1200] [--seeds 0 1] [--radius auto]
"""
import argparse
import time

import torch
from torch import nn
from torch.utils.data import BatchSampler, RandomSampler

from torch_poisson import PoissonBatchSampler

CENTER = torch.tensor([0.3, 0.35])


def sample_points(n_dense, n_sparse, g):
    dense = CENTER + 0.06 * torch.randn(n_dense, 2, generator=g)
    sparse = torch.rand(n_sparse, 2, generator=g)
    return dense.clamp(0, 1), sparse


def target(x):
    base = torch.sin(3 * x[:, 0]) + torch.cos(2 * x[:, 1])
    far = ((x - CENTER).norm(dim=1) - 0.15).clamp(min=0)  # 0 in the cluster
    detail = torch.sin(9 * x[:, 0]) * torch.cos(7 * x[:, 1])
    return (base + 4 * far.clamp(max=0.25) * detail / 0.25).unsqueeze(1)


def make_model():
    return nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))


def train(x, y, batches, steps, seed):
    torch.manual_seed(seed)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    done = 0
    epoch = 0
    while done < steps:
        if hasattr(batches, "set_epoch"):
            batches.set_epoch(epoch)
        for idx in batches:
            idx = torch.as_tensor(idx)
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
        epoch += 1
    return model


@torch.no_grad()
def mse(model, x):
    return nn.functional.mse_loss(model(x), target(x)).item()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--radius", default=None,
                   help='r_max for the Poisson batches: a number, or "auto" (estimated from each pool, with a core '
                        "that has it); default: from the pool's bounding box")
    a = p.parse_args()
    torch.set_num_threads(1)

    n_sparse = a.items // 20
    rows = []
    t0 = time.perf_counter()
    for seed in a.seeds:
        g = torch.Generator().manual_seed(1000 + seed)
        dense, sparse = sample_points(a.items - n_sparse, n_sparse, g)
        x = torch.cat([dense, sparse])
        y = target(x)
        test_dense, test_sparse = sample_points(5000, 5000, g)
        test_sparse = test_sparse[(test_sparse - CENTER).norm(dim=1) > 0.25]  # really outside the cluster
        random_batches = BatchSampler(
            RandomSampler(range(len(x)), generator=torch.Generator().manual_seed(seed)), a.batch_size, drop_last=True
        )
        radius = a.radius if a.radius in (None, "auto") else float(a.radius)
        poisson_batches = PoissonBatchSampler(x, a.batch_size, pool_factor=8, seed=seed, radius=radius)
        for name, batches in (("random", random_batches), ("Poisson", poisson_batches)):
            t = time.perf_counter()
            model = train(x, y, batches, a.steps, seed)
            rows.append((seed, name, mse(model, test_dense), mse(model, test_sparse)))
            print(f"seed {seed} {name:<8} dense MSE {rows[-1][2]:.5f}  sparse MSE {rows[-1][3]:.5f}  "
                  f"({time.perf_counter() - t:.1f} s)", flush=True)
        # share of sparse-region items the two samplers put in a batch
        far = ((x - CENTER).norm(dim=1) > 0.25).float()
        share_p = sum(far[torch.as_tensor(b)].mean().item() for b in poisson_batches) / len(poisson_batches)
        print(f"seed {seed} items far from the cluster per batch: random {far.mean().item():.3f}, "
              f"Poisson {share_p:.3f}", flush=True)

    print()
    print(f"{len(a.seeds)} seed(s), {a.steps} steps of batch {a.batch_size}, {a.items} items "
          f"({n_sparse} sparse), {time.perf_counter() - t0:.1f} s")
    print("| batches | dense MSE (mean over seeds) | sparse MSE (mean over seeds) |")
    print("|---|---:|---:|")
    for name in ("random", "Poisson"):
        d = [r[2] for r in rows if r[1] == name]
        s = [r[3] for r in rows if r[1] == name]
        print(f"| {name} | {sum(d) / len(d):.5f} | {sum(s) / len(s):.5f} |")


if __name__ == "__main__":
    main()
