"""The fixed calls whose indices must never change silently.

Each case is a name and a function returning the indices (a nested list of
ints) of one call of the public API on points made here from fixed seeds.
`python tests/golden/cases.py --write` records them in `indices.json`;
`tests/test_golden.py` checks every case against that file. Re-record only
when a change of result is intended, and say why in the commit message.
"""
import json
import math
import os
import sys

import torch

import torch_poisson as tp

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "indices.json")


def _uniform(m, d, seed, dtype=torch.float64):
    return torch.rand(m, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _clustered(m, d, seed):
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(5, d, generator=g, dtype=torch.float64)
    which = torch.randint(0, 5, (m,), generator=g)
    return centres[which] + 0.03 * torch.randn(m, d, generator=g, dtype=torch.float64)


def _quaternions(m, seed):
    return torch.randn(m, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _unit(d):
    return ([0.0] * d, [1.0] * d)


def _indices(t):
    return t.tolist()


def _cases():
    c = {}
    for d, m in ((1, 1500), (2, 3000), (3, 3000), (4, 2000), (5, 1500)):
        x = _uniform(m, d, seed=10 + d)
        c[f"euclidean_{d}d"] = (lambda x=x, m=m: tp.sample_elimination(x, m // 8))
        c[f"euclidean_{d}d_periodic"] = (
            lambda x=x, m=m, d=d: tp.sample_elimination(x, m // 8, bounds=_unit(d), periodic=True))
        c[f"euclidean_{d}d_progressive"] = (lambda x=x, m=m: tp.sample_elimination(x, m // 8, progressive=True))
    x2 = _uniform(4000, 2, seed=21)
    c["2d_float32"] = lambda: tp.sample_elimination(x2.float(), 500)
    c["2d_no_weight_limiting"] = lambda: tp.sample_elimination(x2, 500, weight_limiting=False)
    c["2d_alpha_beta_gamma"] = lambda: tp.sample_elimination(x2, 500, alpha=12.0, beta=0.5, gamma=2.0)
    c["2d_alpha_fractional"] = lambda: tp.sample_elimination(x2, 500, alpha=7.5)
    c["2d_radius"] = lambda: tp.sample_elimination(x2, 500, radius=0.02)
    c["2d_radius_auto"] = lambda: tp.sample_elimination(x2, 500, radius="auto")
    c["2d_bounds_wider"] = lambda: tp.sample_elimination(x2, 500, bounds=([-0.5, -0.5], [1.5, 1.5]))
    c["2d_periodic_progressive"] = lambda: tp.sample_elimination(x2, 500, bounds=_unit(2), periodic=True,
                                                                 progressive=True)
    c["2d_n_equals_m"] = lambda: tp.sample_elimination(x2[:300], 300)
    c["2d_n_1"] = lambda: tp.sample_elimination(x2[:300], 1)
    dup = torch.cat([x2[:1000], x2[:1000]])
    c["2d_duplicates_ties"] = lambda: tp.sample_elimination(dup, 250, bounds=_unit(2), periodic=True)
    c["2d_duplicates_progressive"] = lambda: tp.sample_elimination(dup, 250, progressive=True)
    lattice = torch.stack(torch.meshgrid(torch.arange(40.0), torch.arange(40.0), indexing="ij"), -1)
    lattice = lattice.reshape(-1, 2).double() / 40
    c["2d_lattice_ties"] = lambda: tp.sample_elimination(lattice, 200, bounds=_unit(2), periodic=True)
    cl2 = _clustered(5000, 2, seed=22)
    c["2d_clustered"] = lambda: tp.sample_elimination(cl2, 600)
    c["2d_clustered_radius_auto"] = lambda: tp.sample_elimination(cl2, 600, radius="auto")
    c["2d_clustered_progressive"] = lambda: tp.sample_elimination(cl2, 600, progressive=True)
    cl3 = _clustered(5000, 3, seed=23)
    c["3d_clustered"] = lambda: tp.sample_elimination(cl3, 600)
    line = torch.cat([_uniform(2000, 1, seed=24), torch.full((2000, 1), 0.5, dtype=torch.float64)], 1)
    c["3d_points_on_a_line"] = lambda: tp.sample_elimination(torch.cat([line, line[:, :1]], 1), 200)
    g = torch.Generator().manual_seed(25)
    sph = torch.randn(3000, 3, generator=g, dtype=torch.float64)
    sph = sph / sph.norm(dim=1, keepdim=True)
    c["3d_surface_dim_volume"] = lambda: tp.sample_elimination(sph, 300, dim=2, volume=4 * math.pi)
    big = _uniform(3000, 2, seed=26) * 2.0 ** 600
    c["2d_scaled_2e600"] = lambda: tp.sample_elimination(big, 300)
    q = _quaternions(4000, seed=27)
    c["so3"] = lambda: tp.sample_elimination(q, 200, metric="so3")
    c["so3_progressive"] = lambda: tp.sample_elimination(q, 200, metric="so3", progressive=True)
    c["so3_radius_auto"] = lambda: tp.sample_elimination(q, 200, metric="so3", radius="auto")
    c["so3_8000_200"] = lambda: tp.sample_elimination(_quaternions(8000, seed=28), 200, metric="so3")
    c["sphere_s2"] = lambda: tp.sample_elimination(sph, 300, metric="sphere")
    c["sphere_s2_progressive"] = lambda: tp.sample_elimination(sph, 300, metric="sphere", progressive=True)
    c["sphere_s3"] = lambda: tp.sample_elimination(_quaternions(3000, seed=29), 200, metric="sphere")
    c["poisson_disk_2d"] = lambda: tp.poisson_disk(300, dim=2, generator=torch.Generator().manual_seed(30))
    batch = _uniform(4 * 1024, 2, seed=31).reshape(4, 1024, 2)
    c["batch_padded"] = lambda: tp.sample_elimination(batch, 128)
    c["batch_ragged_lengths"] = lambda: tp.sample_elimination(
        batch, torch.tensor([128, 64, 100, 32]), lengths=torch.tensor([1024, 500, 90, 700]))
    c["batch_progressive_periodic"] = lambda: tp.sample_elimination(
        batch, 128, bounds=_unit(2), periodic=True, progressive=True)
    qb = _quaternions(3 * 800, seed=32).reshape(3, 800, 4)
    c["batch_so3"] = lambda: tp.sample_elimination(qb, 50, metric="so3")
    feats = _uniform(20000, 2, seed=33)
    c["poisson_sampler_epochs_0_1"] = lambda: _sampler_epochs(
        tp.PoissonSampler(feats, 500, seed=7), 2)
    c["poisson_sampler_progressive"] = lambda: _sampler_epochs(
        tp.PoissonSampler(feats, 500, seed=7, shuffle=False), 2)
    c["batch_sampler_epochs_0_1"] = lambda: _batch_sampler_epochs(
        tp.PoissonBatchSampler(feats, 64, pool_factor=8, num_batches=3, seed=7), 2)
    c["batch_sampler_so3"] = lambda: _batch_sampler_epochs(
        tp.PoissonBatchSampler(_quaternions(5000, seed=34), 32, pool_factor=4, num_batches=2, seed=7,
                               metric="so3"), 2)
    c["batch_sampler_periodic_progressive"] = lambda: _batch_sampler_epochs(
        tp.PoissonBatchSampler(feats, 64, num_batches=2, seed=8, bounds=_unit(2), periodic=True,
                               progressive=True), 2)
    return c


def _sampler_epochs(s, epochs):
    out = []
    for e in range(epochs):
        s.set_epoch(e)
        out.append(list(s))
    s.close()
    return out


def _batch_sampler_epochs(s, epochs):
    out = []
    for e in range(epochs):
        s.set_epoch(e)
        out.append([list(b) for b in s])
    s.close()
    return out


CASES = _cases()


def run(name):
    r = CASES[name]()
    if isinstance(r, torch.Tensor):
        r = r.tolist()
    if isinstance(r, tuple):
        r = [v.tolist() for v in r]
    return r


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/golden/cases.py --write   (re-records indices.json)")
    data = {name: run(name) for name in CASES}
    with open(GOLDEN, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(data)} cases to {GOLDEN}")
