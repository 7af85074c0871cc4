"""python -m torch_poisson info prints the facts of this installation: each
line is checked against what this process (or the installed metadata) says."""
import importlib.metadata
import os
import platform
import re
import subprocess
import sys

import torch

import torch_poisson


def _info(tmp_path, **env):
    # run from an empty folder: the child imports the same installed package as this process
    out = subprocess.run([sys.executable, "-m", "torch_poisson", "info"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env={**os.environ, **env}, check=True)
    return dict(re.match(r"([^:]+):\s+(.*)$", line).groups() for line in out.stdout.splitlines())


def test_info_reports_this_installation(tmp_path):
    info = _info(tmp_path)
    assert info["torch_poisson"] == torch_poisson.__version__
    assert info["torch_poisson"] == importlib.metadata.version("torch_poisson")  # one version number
    assert info["location"] == os.path.dirname(os.path.abspath(torch_poisson.__file__))
    assert info["torch running"] == torch.__version__
    assert info["python"].startswith(f"{platform.python_version()} ({platform.python_implementation()}, ")
    assert info["platform"] == platform.platform()


def test_info_built_against_a_supported_torch(tmp_path):
    """The build records its torch; it is at least the minimum the metadata declares."""
    built = _info(tmp_path)["torch built against"]
    version = re.match(r"(\d+)\.(\d+)\.(\d+)", built)
    assert version, built
    minimum = [r for r in importlib.metadata.requires("torch_poisson") if re.match(r"torch\s*>=", r)]
    assert len(minimum) == 1, minimum
    floor = tuple(int(x) for x in re.search(r">=\s*([\d.]+)", minimum[0]).group(1).split("."))
    assert tuple(int(x) for x in version.groups())[:len(floor)] >= floor, (built, minimum)


def test_info_thread_count_is_torchs(tmp_path):
    """The count torch.get_num_threads() gives in a fresh process, which OMP_NUM_THREADS sets."""
    assert _info(tmp_path, OMP_NUM_THREADS="1")["threads"] == "1"
    default = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path, check=True)
    assert _info(tmp_path)["threads"] == default.stdout.strip()


def test_info_cpu_kernels(tmp_path):
    """The kernels the core runs here, and TORCH_POISSON_PORTABLE=1 switching them to the portable ones."""
    from torch_poisson import _engine

    assert _info(tmp_path)["cpu kernels"] == _engine.cpu_path()
    assert _info(tmp_path, TORCH_POISSON_PORTABLE="1")["cpu kernels"] == "portable (TORCH_POISSON_PORTABLE)"
