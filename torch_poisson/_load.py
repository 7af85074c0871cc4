"""Finds and loads the compiled operator library next to this file."""
import glob
import os

import torch

_HERE = os.path.dirname(os.path.abspath(__file__))


def load_ops_library():
    """Loads ``torch_poisson/_ops*.so`` into torch.ops (once)."""
    if hasattr(torch.ops, "torch_poisson") and hasattr(torch.ops.torch_poisson, "sample_elimination"):
        return
    found = sorted(glob.glob(os.path.join(_HERE, "_ops*.so")))
    if not found:
        raise ImportError(
            "torch_poisson's compiled operator library (_ops*.so) was not found in "
            f"{_HERE}: build it with `pip install --no-build-isolation -e .`"
        )
    torch.ops.load_library(found[0])
