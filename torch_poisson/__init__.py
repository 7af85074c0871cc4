"""torch_poisson: well-spread (Poisson disk, blue-noise) subsets of point sets.

Weighted sample elimination (Yuksel 2015) in a C core, exposed as the torch
operator ``torch.ops.torch_poisson.sample_elimination`` and as Python
functions:

>>> import torch, torch_poisson
>>> pts = torch.rand(10_000, 2)
>>> idx = torch_poisson.sample_elimination(pts, 1_250)   # (1250,) int64, ascending
>>> xy = torch_poisson.poisson_disk(500, dim=2)            # (500, 2) blue noise in [0, 1)^2
"""
from ._load import load_ops_library

load_ops_library()

from .ops import estimate_radius, poisson_disk, sample_elimination  # noqa: E402
from .quality import Spectrum, covering_radius, max_radius, min_distance, relative_radius, spectrum  # noqa: E402

__all__ = [
    "sample_elimination", "poisson_disk", "max_radius", "relative_radius", "min_distance", "estimate_radius",
    "spectrum", "Spectrum", "covering_radius",
]
__version__ = "0.1.0"

from .samplers import PoissonBatchSampler, PoissonSampler  # noqa: E402

__all__ += ["PoissonSampler", "PoissonBatchSampler"]

from .mesh import poisson_disk_mesh  # noqa: E402

__all__ += ["poisson_disk_mesh"]
