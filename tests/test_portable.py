"""TORCH_POISSON_PORTABLE=1 keeps a process on the core's portable kernels
(what a CPU without AVX-512 runs): the golden indices are the same there,
and a value that is neither on nor off is refused by name."""
import json
import os
import subprocess
import sys

import pytest

import torch_poisson._engine as engine

HERE = os.path.dirname(os.path.abspath(__file__))

CHECK_GOLDEN = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import cases
import torch_poisson._engine as engine
with open(cases.GOLDEN) as f:
    recorded = json.load(f)
differ = [name for name in sorted(cases.CASES) if cases.run(name) != recorded[name]]
print(json.dumps({"path": engine.cpu_path(), "cases": len(cases.CASES), "differ": differ}))
"""


def _run(code, value, *args):
    env = dict(os.environ, TORCH_POISSON_PORTABLE=value)
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_default_path_is_reported():
    assert engine.cpu_path() in ("avx512", "portable")


def test_golden_indices_on_the_portable_kernels():
    r = _run(CHECK_GOLDEN, "1", os.path.join(HERE, "golden"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["path"] == "portable"
    assert out["cases"] >= 50
    assert out["differ"] == []


@pytest.mark.parametrize("value", ["0", "off", ""])
def test_off_values_keep_the_default_path(value):
    r = _run("import torch_poisson._engine as e; print(e.cpu_path())", value)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == engine.cpu_path()


def test_bad_value_is_refused_by_name():
    code = ("import torch, torch_poisson as tp\n"
            "try:\n    tp.sample_elimination(torch.rand(50, 2), 5)\n"
            "except RuntimeError as e:\n    print(e)\n")
    r = _run(code, "maybe")
    assert r.returncode == 0, r.stderr
    assert "TORCH_POISSON_PORTABLE" in r.stdout and '"maybe"' in r.stdout
    r = _run("import torch_poisson._engine as e; e.cpu_path()", "maybe")
    assert r.returncode != 0 and 'TORCH_POISSON_PORTABLE="maybe"' in r.stderr
