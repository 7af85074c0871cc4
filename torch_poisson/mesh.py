"""Poisson disk points on the surface of a triangle mesh.

Area-weighted uniform candidates on the triangles, then weighted sample
elimination (Yuksel 2015) with the surface treated as a 2-D domain of the
mesh's area, as Open3D's ``sample_points_poisson_disk`` and cyCodeBase do it.
"""
import math
from typing import NamedTuple, Optional

import torch

from .ops import _check_int, sample_elimination

_VERTEX_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
# The elimination options a mesh leaves to the caller; the mesh fixes the
# domain (dim=2, volume=its area, euclidean distances in 3-D, its own radius).
_OPTIONS = ("alpha", "beta", "gamma", "weight_limiting", "progressive")


class MeshSample(NamedTuple):
    """Points on a mesh: ``points[i]`` lies on triangle ``faces[face_index[i]]``
    at barycentric coordinates ``barycentric[i]``."""

    points: torch.Tensor       # (n, 3), the vertices' dtype
    face_index: torch.Tensor   # (n,) int64
    barycentric: torch.Tensor  # (n, 3), the vertices' dtype; rows sum to 1


def poisson_disk_mesh(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    n: int,
    *,
    oversample: int = 8,
    generator: Optional[torch.Generator] = None,
    **options,
) -> MeshSample:
    """``n`` well-spread (Poisson disk) points on the surface of a triangle mesh.

    Draws ``oversample * n`` uniform candidates on the surface (a triangle
    with probability proportional to its area, a point inside it by the
    square-root barycentric map ``(1 - sqrt(r1), sqrt(r1) (1 - r2),
    sqrt(r1) r2)``), then keeps ``n`` of them with :func:`sample_elimination`
    using ``dim=2`` and the surface area as the ``volume``. Distances are
    euclidean in 3-D (chords, not geodesics), as in Open3D and cyCodeBase:
    two sides of a sheet thinner than the spacing repel each other.
    Zero-area triangles are never drawn. Candidates and elimination are
    computed in float64 on the CPU (any input dtype is up-cast exactly);
    the result is returned in the vertices' dtype on their device.

    Args:
        vertices: (V, 3) float16, bfloat16, float32 or float64 tensor, finite.
        faces: (F, 3) integer tensor of vertex indices in [0, V).
        n: the number of points, >= 1.
        oversample: candidates per kept point, >= 1 (Yuksel recommends ~8;
            1 keeps every candidate: a uniformly random surface sample).
        generator: a CPU ``torch.Generator`` for the candidates; default
            torch's global one (``torch.manual_seed`` reproduces the result).
        **options: passed to :func:`sample_elimination`: ``alpha``, ``beta``,
            ``gamma``, ``weight_limiting``, ``progressive`` (every prefix of
            the result well spread: levels of detail).

    Returns:
        ``MeshSample(points, face_index, barycentric)``: points (n, 3), face
        indices (n,) int64 into ``faces``, barycentric coordinates (n, 3)
        with ``points[i] = sum_k barycentric[i, k] * vertices[faces[face_index[i], k]]``.
        Ascending candidate order, or progressive order.

    Example:
        >>> vertices = torch.tensor([[0., 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
        >>> faces = torch.tensor([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
        >>> s = poisson_disk_mesh(vertices, faces, 500)
        >>> s.points.shape, s.face_index.shape, s.barycentric.shape
        (torch.Size([500, 3]), torch.Size([500]), torch.Size([500, 3]))
        >>> normals = torch.nn.functional.normalize(vertices, dim=1)  # any per-vertex attribute
        >>> at_points = (s.barycentric[:, :, None] * normals[faces[s.face_index]]).sum(1)  # (500, 3)
    """
    _check_mesh(vertices, faces)
    n = _check_int(n, "n", 1)
    oversample = _check_int(oversample, "oversample", 1)
    if generator is not None and (not isinstance(generator, torch.Generator) or generator.device.type != "cpu"):
        got = generator.device if isinstance(generator, torch.Generator) else type(generator).__name__
        raise TypeError(f"generator must be a CPU torch.Generator (candidates are drawn on the CPU), got {got}")
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(
            f"poisson_disk_mesh passes only {', '.join(_OPTIONS)} to sample_elimination (the mesh fixes "
            f"the domain), got {', '.join(f'{k}={options[k]!r}' for k in unknown)}"
        )

    corners = vertices.detach().to("cpu", torch.float64)[faces.detach().to("cpu", torch.int64)]  # (F, 3, 3)
    area = 0.5 * torch.linalg.vector_norm(
        torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), dim=1)
    total = float(area.sum())
    if not math.isfinite(total):
        raise ValueError(f"the mesh's area overflows float64, got vertices up to "
                         f"{float(vertices.detach().abs().max())} in magnitude: scale them down")
    if not total > 0:
        raise ValueError(f"the mesh must have a positive area, got all {faces.shape[0]} faces of zero area "
                         "(degenerate)")

    # area-weighted faces by inverse CDF over the positive-area faces only, so
    # a degenerate face cannot be drawn even at a rounding edge
    live = (area > 0).nonzero().flatten()
    cdf = area[live].cumsum(0)
    m = n * oversample
    u = torch.rand(m, 3, generator=generator, dtype=torch.float64)
    pick = torch.searchsorted(cdf, u[:, 0] * cdf[-1], right=True).clamp_(max=live.numel() - 1)
    face_index = live[pick]
    s = u[:, 1].sqrt()
    bary = torch.stack([1.0 - s, s * (1.0 - u[:, 2]), s * u[:, 2]], dim=1)
    cand = (bary[:, :, None] * corners[face_index]).sum(1)

    keep = sample_elimination(cand, n, dim=2, volume=total, **options)
    device, dtype = vertices.device, vertices.dtype
    return MeshSample(cand[keep].to(device, dtype), face_index[keep].to(device), bary[keep].to(device, dtype))


def _check_mesh(vertices, faces):
    """A non-empty triangle mesh with finite vertices and in-range indices."""
    for name, t in (("vertices", vertices), ("faces", faces)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a tensor of shape (*, 3), got {type(t).__name__}")
        if t.dim() != 2 or t.shape[1] != 3 or t.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty tensor of shape ({name[0].upper()}, 3), "
                             f"got shape {tuple(t.shape)}")
    if vertices.dtype not in _VERTEX_DTYPES:
        raise TypeError(f"vertices must be float16, bfloat16, float32 or float64, got {vertices.dtype}")
    if faces.is_floating_point() or faces.is_complex() or faces.dtype == torch.bool:
        raise TypeError(f"faces must be an integer tensor of vertex indices, got {faces.dtype}")
    bad = (~torch.isfinite(vertices.detach()).all(1)).nonzero()
    if bad.numel():
        i = int(bad[0])
        raise ValueError(f"vertices must be finite, got vertices[{i}]={vertices[i].tolist()}")
    v = vertices.shape[0]
    bad = ((faces < 0) | (faces >= v)).any(1).nonzero()
    if bad.numel():
        j = int(bad[0])
        raise ValueError(f"faces must index vertices in [0, {v}), got faces[{j}]={faces[j].tolist()}")
