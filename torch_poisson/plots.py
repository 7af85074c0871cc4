"""Pictures for the demo and the README (matplotlib, imported lazily).

>>> from torch_poisson.plots import sphere_directions_figure, spectra_figure
>>> fig = sphere_directions_figure(600, path="sphere.png")   # random vs Poisson
>>> fig = spectra_figure([("random", torch.rand(2000, 2)), ("Poisson", poisson_disk(2000))], path="spectra.png")
"""
from typing import Optional, Sequence, Tuple

import torch

from .ops import BoundsLike, _checked_bounds, poisson_disk
from .quality import _periodogram, _unit_box, min_distance, spectrum


def spectra_figure(sets: Sequence[Tuple[str, torch.Tensor]], *, bounds: BoundsLike = ([0.0, 0.0], [1.0, 1.0]),
                   bins: Optional[int] = None, title: Optional[str] = None, path: Optional[str] = None):
    """One column per 2-D point set: the points, their periodogram (the
    power at each integer frequency f, |f_k| <= bins, origin at the centre,
    log grey scale: a blue noise set shows a dark disk ringed by a bright
    annulus, a random set even noise) and the radially averaged power of
    :func:`torch_poisson.spectrum` with its random level 1.

    Args:
        sets: (title, points (n, 2)) pairs, one per column.
        bounds: the box the points lie in, as :func:`torch_poisson.spectrum`
            takes it (None: each set's bounding box); default the unit square.
        bins: the largest |f| shown; default spectrum's for the first set.
        title: the figure's title, if any.
        path: if given, the figure is saved there (PNG, SVG, ... by suffix).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(3, len(sets), figsize=(4.6 * len(sets), 10.8), squeeze=False,
                             gridspec_kw={"height_ratios": [5, 5, 2.6]})
    for col, (label, pts) in enumerate(sets):
        p = pts.detach().to("cpu", torch.float64)
        if p.dim() != 2 or p.shape[1] != 2:
            raise ValueError(f"spectra_figure: each set must be 2-D points (n, 2), got {label!r} of shape "
                             f"{tuple(p.shape)}")
        s = spectrum(p, bounds=bounds, bins=bins)
        bins = s.frequency.numel()  # the first set's default for every column
        ax = axes[0, col]
        ax.scatter(p[:, 0].numpy(), p[:, 1].numpy(), s=2, c="black", linewidths=0)
        b = _checked_bounds(bounds, 2)
        b = torch.stack([p.amin(0), p.amax(0)]) if b is None else b
        ax.set_xlim(b[0, 0].item(), b[1, 0].item())
        ax.set_ylim(b[0, 1].item(), b[1, 1].item())
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(label)

        image = torch.full((2 * bins + 1, 2 * bins + 1), float("nan"), dtype=torch.float64)
        for f, power in _periodogram(_unit_box(p, bounds), bins):
            i = f.long()
            image[bins + i[:, 1], bins + i[:, 0]] = power
            image[bins - i[:, 1], bins - i[:, 0]] = power  # P(-f) = P(f)
        ax = axes[1, col]
        ax.imshow(image.numpy(), cmap=plt.get_cmap("gray", 8), norm=LogNorm(vmin=1e-2, vmax=1e1), origin="lower",
                  extent=(-bins - 0.5, bins + 0.5, -bins - 0.5, bins + 0.5), interpolation="nearest")
        ax.set_title("periodogram P(f)", fontsize=10)
        ax.set_xlabel("f_x")
        ax.set_ylabel("f_y")

        ax = axes[2, col]
        ax.axhline(1.0, color="0.6", lw=1, ls="--")
        ax.plot(s.frequency.numpy(), s.power.numpy(), color="tab:blue", lw=1.2)
        ax.set_xlim(0, bins)
        ax.set_ylim(0, 3)
        ax.set_xlabel("|f|")
        ax.set_ylabel("radial power")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=80)
    return fig


def sphere_directions_figure(n: int = 600, *, seed: int = 0, path: Optional[str] = None):
    """Side by side: ``n`` uniformly random directions on the unit sphere S^2
    and ``n`` Poisson disk directions (``poisson_disk(n, 3, metric="sphere")``),
    each drawn as the visible hemisphere of a globe with its smallest angle
    between two points in the title.

    Args:
        n: directions per panel, >= 2.
        seed: seeds both panels' generators (reproducible pictures).
        path: if given, the figure is saved there (PNG, SVG, ... by suffix).

    Returns:
        the matplotlib Figure.

    Example:
        >>> fig = sphere_directions_figure(600, path="directions.png")
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    g = torch.Generator().manual_seed(seed)
    random = torch.randn(n, 3, generator=g, dtype=torch.float64)
    random = random / random.norm(dim=1, keepdim=True)
    blue = poisson_disk(n, 3, metric="sphere", generator=torch.Generator().manual_seed(seed),
                        dtype=torch.float64)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.6))
    for ax, pts, name in ((axes[0], random, "random"), (axes[1], blue, "Poisson disk (sphere metric)")):
        front = pts[:, 2] >= 0  # the hemisphere facing the viewer, orthographic view
        ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, color="0.6", lw=1))
        ax.scatter(pts[front, 0], pts[front, 1], s=7, color="tab:blue")
        ax.scatter(pts[~front, 0], pts[~front, 1], s=4, color="0.85", zorder=0)
        angle = min_distance(pts, metric="sphere")
        ax.set_title(f"{name}\n{n} directions, closest pair {angle * 180 / torch.pi:.2f} deg")
        ax.set_aspect("equal")
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
        ax.axis("off")
    fig.tight_layout()
    fig.subplots_adjust(top=0.86)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
