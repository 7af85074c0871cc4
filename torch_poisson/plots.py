"""Pictures for the demo and the README (matplotlib, imported lazily).

>>> from torch_poisson.plots import sphere_directions_figure
>>> fig = sphere_directions_figure(600, path="sphere.png")   # random vs Poisson
"""
from typing import Optional

import torch

from .ops import poisson_disk
from .quality import min_distance


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
