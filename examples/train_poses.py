"""Does a Poisson batch help training on rotations? Pose regression on crowded poses.

Task: recover a rotation from what a camera sees. A fixed, asymmetric 3-D
object (32 points, drawn once with a fixed seed, axes scaled 1 : 0.6 : 0.35)
is rotated by q and projected orthographically. The camera sees 32 unlabelled
dots: the input is their (x, y) in image order (sorted by x), 64 numbers, so
the model must also learn which dot is which. (With labelled points the first
two rows of the rotation are a linear function of the input, and any batches
teach that everywhere.) An MLP (64 -> 256 -> 256 -> 6, ReLU) maps the input
to a rotation in the continuous 6-D representation (Zhou et al., CVPR 2019:
two columns, Gram-Schmidt), trained with the geodesic loss (the rotation
angle between prediction and truth) by Adam, lr 1e-3, cosine decay to 0.

Protocol (fixed before the first comparison):
- Data, per seed s: 20,000 training poses from examples/rotations.py's
  mixture (70% within ~15 degrees of four canonical views, 30% uniform), and
  10,000 uniform (Haar) test poses, both from a generator seeded 1000 + s.
  Test poses are reported all together, "near" (within 30 degrees of a
  canonical view) and "far" (more than 60 degrees from all four).
- Arms, each from the same initialisation (torch.manual_seed(s)), for the
  same number of optimiser steps (6,000) with batches of 128:
    random          BatchSampler(RandomSampler), uniform over the items
    Poisson p=8     PoissonBatchSampler(metric="so3", pool_factor=8)
    Poisson p=2     PoissonBatchSampler(metric="so3", pool_factor=2)
    PoissonSampler  PoissonSampler(metric="so3"): each epoch a fresh
                    well-spread 5,000 of a random pool of 10,000, in random
                    batches of 128
  and a reference outside the fixed protocol, added after seeing its
  results to test what decides them:
    random, Haar data  random batches over 20,000 uniform training poses
                       (generator seeded 2000 + s): coverage in the data
                       rather than in the batches
- Seeds 0-4.
- Metrics: the geodesic error in degrees on the test poses: median and
  90th percentile (all / near / far), the fraction of all test poses under
  10 degrees; each as mean +- standard deviation over the seeds. Wall time
  per epoch: the training loop's time (sampler included, evaluation
  excluded) per 156 steps, one pass over 20,000 items.
- Learning curve: the far test poses' median error every 300 steps, mean
  over seeds, one line per arm, saved as a PNG (--plot).

--quick: seeds 0-1 and 1,500 steps (the same table). CPU only; torch runs on
one thread (the Poisson samplers add their own). The full run takes about
17 minutes on two busy cores, --quick about 2.

    python examples/train_poses.py [--quick] [--plot docs/train_poses.png]
"""
import argparse
import math
import time

import torch
from torch import nn
from torch.utils.data import BatchSampler, RandomSampler

from rotations import angles_deg, haar, pose_dataset
from torch_poisson import PoissonBatchSampler, PoissonSampler

NEAR_DEG, FAR_DEG = 30.0, 60.0  # test poses within NEAR_DEG of a view / beyond FAR_DEG of all
HAAR_DATA = "random, Haar data"
ARMS = ("random", "Poisson p=8", "Poisson p=2", "PoissonSampler", HAAR_DATA)


def make_object(k=32):
    """The camera's object: k points, asymmetric (no rotation maps it onto itself)."""
    g = torch.Generator().manual_seed(7)
    p = torch.randn(k, 3, generator=g) * torch.tensor([1.0, 0.6, 0.35])
    return p - p.mean(0)


def quat_to_matrix(q):
    """(n, 4) unit quaternions (w, x, y, z) -> (n, 3, 3) rotation matrices."""
    w, x, y, z = q.unbind(1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=1).reshape(-1, 3, 3)


def project(rot, obj):
    """What the camera sees: the rotated points' (x, y) sorted by x, (n, 2k)."""
    xy = (rot @ obj.T)[:, :2, :]
    order = xy[:, 0, :].argsort(dim=1).unsqueeze(1).expand_as(xy)
    return torch.gather(xy, 2, order).reshape(len(rot), -1)


def six_d_to_matrix(v):
    """Zhou et al.'s 6-D representation -> rotation matrix (columns b1, b2, b3)."""
    b1 = nn.functional.normalize(v[:, :3], dim=1)
    b2 = nn.functional.normalize(v[:, 3:] - (b1 * v[:, 3:]).sum(1, keepdim=True) * b1, dim=1)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=1)], dim=2)


def geodesic(a, b):
    """Rotation angle (radians) between matching rotation matrices."""
    cos = ((a * b).sum((1, 2)) - 1) / 2
    return torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))


def make_model(inputs, hidden):
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 6))


@torch.no_grad()
def errors_deg(model, x, rot):
    return torch.rad2deg(geodesic(six_d_to_matrix(model(x)), rot))


def make_batches(arm, q, batch, seed):
    """The arm's batch sampler: an iterable of index lists, with set_epoch where it has one."""
    n = len(q)
    if arm in ("random", HAAR_DATA):
        return BatchSampler(RandomSampler(range(n), generator=torch.Generator().manual_seed(seed)), batch, True)
    if arm.startswith("Poisson p="):
        return PoissonBatchSampler(q, batch, pool_factor=int(arm[len("Poisson p="):]), seed=seed, metric="so3")
    sampler = PoissonSampler(q, n // 4, pool_size=n // 2, seed=seed, metric="so3")
    return _EpochBatches(sampler, batch)


class _EpochBatches(BatchSampler):
    """Batches over the sampler's (shuffled) epoch subset; set_epoch goes to the sampler."""

    def __init__(self, sampler, batch):
        super().__init__(sampler, batch, drop_last=True)

    def set_epoch(self, epoch):
        self.sampler.set_epoch(epoch)


def train(arm, data, steps, batch, hidden, seed, curve_every):
    """Train one arm; returns (model, seconds in the training loop, [(step, far median)])."""
    train_set = "haar_" if arm == HAAR_DATA else ""
    q, x, rot = (data[train_set + k] for k in ("q", "x", "rot"))
    test_x, test_rot, far = (data[k] for k in ("test_x", "test_rot", "far"))
    batches = make_batches(arm, q, batch, seed)
    torch.manual_seed(seed)
    model = make_model(x.shape[1], hidden)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    curve, done, epoch, spent = [], 0, 0, 0.0
    t = time.perf_counter()
    while done < steps:
        if hasattr(batches, "set_epoch"):
            batches.set_epoch(epoch)
        for idx in batches:
            idx = torch.as_tensor(idx)
            loss = geodesic(six_d_to_matrix(model(x[idx])), rot[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            done += 1
            if done % curve_every == 0 or done == steps:
                spent += time.perf_counter() - t
                curve.append((done, errors_deg(model, test_x[far], test_rot[far]).median().item()))
                t = time.perf_counter()
            if done == steps:
                break
        epoch += 1
    return model, spent, curve


def make_data(seed, n_train, n_test, obj):
    g = torch.Generator().manual_seed(1000 + seed)
    views = haar(4, g)
    q = pose_dataset(n_train, g, views)
    test_q = haar(n_test, g)
    to_view = angles_deg(test_q, views).min(1).values
    haar_q = haar(n_train, torch.Generator().manual_seed(2000 + seed))
    rot, test_rot, haar_rot = (quat_to_matrix(v).float() for v in (q, test_q, haar_q))
    return dict(q=q, x=project(rot, obj), rot=rot, test_x=project(test_rot, obj), test_rot=test_rot,
                near=to_view <= NEAR_DEG, far=to_view > FAR_DEG,
                haar_q=haar_q, haar_x=project(haar_rot, obj), haar_rot=haar_rot)


def summary(err, near, far):
    """One run's metrics: median and 90th percentile (all, near, far), share under 10 degrees."""
    out = []
    for qtl in (0.5, 0.9):
        out += [torch.quantile(e, qtl).item() for e in (err, err[near], err[far])]
    return out + [(err < 10).float().mean().item()]


def mean_sd(values):
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, sd


COLUMNS = ("median all", "median near", "median far", "p90 all", "p90 near", "p90 far", "< 10 deg", "s / epoch")
DIGITS = (1, 1, 1, 1, 1, 1, 3, 2)


def print_table(results):
    print("| arm | " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for arm in ARMS:
        cells = []
        for j in range(len(COLUMNS)):
            m, sd = mean_sd([r[j] for r in results[arm]])
            cells.append(f"{m:.{DIGITS[j]}f} +- {sd:.{DIGITS[j]}f}")
        print(f"| {arm} | " + " | ".join(cells) + " |")


def plot(curves, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=90)
    for arm in ARMS:
        runs = curves[arm]
        steps = [s for s, _ in runs[0]]
        mean = [sum(r[i][1] for r in runs) / len(runs) for i in range(len(steps))]
        ax.plot(steps, mean, label=arm)
    ax.set_xlabel("optimiser steps")
    ax.set_ylabel("median error, far poses (deg)")
    ax.set_title(title, fontsize=9)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="seeds 0-1 and 1,500 steps")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0-4 (0-1 with --quick)")
    p.add_argument("--steps", type=int, default=None, help="default 6000 (1500 with --quick)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--train", type=int, default=20_000, help="training poses")
    p.add_argument("--test", type=int, default=10_000, help="uniform test poses")
    p.add_argument("--plot", default="train_poses.png", help="where the learning-curve PNG goes")
    a = p.parse_args()
    seeds = a.seeds if a.seeds is not None else ([0, 1] if a.quick else [0, 1, 2, 3, 4])
    steps = a.steps if a.steps is not None else (1500 if a.quick else 6000)
    for name, v, lo in (("--steps", steps, 1), ("--batch-size", a.batch_size, 1), ("--hidden", a.hidden, 1),
                        ("--test", a.test, 1000)):  # 1,000 uniform poses hold ~30 near ones
        if v < lo:
            p.error(f"{name} must be >= {lo} (got {v})")
    if a.train < 4 * a.batch_size:
        p.error(f"--train must be >= 4 * --batch-size = {4 * a.batch_size} (got {a.train})")
    torch.set_num_threads(1)

    obj = make_object()
    epoch_steps = a.train // a.batch_size
    curve_every = max(1, steps // 20)
    results = {arm: [] for arm in ARMS}
    curves = {arm: [] for arm in ARMS}
    t0 = time.perf_counter()
    for seed in seeds:
        data = make_data(seed, a.train, a.test, obj)
        test_x, test_rot, near, far = (data[k] for k in ("test_x", "test_rot", "near", "far"))
        for arm in ARMS:
            model, spent, curve = train(arm, data, steps, a.batch_size, a.hidden, seed, curve_every)
            row = summary(errors_deg(model, test_x, test_rot), near, far) + [spent * epoch_steps / steps]
            results[arm].append(row)
            curves[arm].append(curve)
            print(f"seed {seed} {arm:<17} median {row[0]:6.2f} deg (near {row[1]:6.2f}, far {row[2]:6.2f}), "
                  f"< 10 deg {row[6]:.3f}, {spent:.1f} s", flush=True)
    print()
    print(f"{len(seeds)} seed(s), {steps} steps of batch {a.batch_size}, MLP hidden {a.hidden}, "
          f"{a.train} training poses, {a.test} uniform test poses "
          f"({int(near.sum())} near, {int(far.sum())} far for the last seed), {time.perf_counter() - t0:.0f} s")
    print_table(results)
    plot(curves, a.plot, f"{len(seeds)} seeds, {steps} steps of {a.batch_size}; far = more than "
                         f"{FAR_DEG:.0f} deg from every canonical view")
    print(f"learning curves: {a.plot}")


if __name__ == "__main__":
    main()
