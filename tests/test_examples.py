"""The examples run, and what they print holds: examples/rotations.py on a
small pose set (the first user's case, scaled down)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, *args):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_rotations_example_spreads_poses():
    out = run_example("rotations.py", "--poses", "1500", "--keep", "40", "--batch", "32", "--batches", "20")
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\s+(random subset|Poisson \(so3\))\s+\S+(?: ms)?\s+([\d.]+)d\s+([\d.]+)d\s+([\d.]+)d", line)
        if m:
            rows[m.group(1)] = [float(v) for v in m.groups()[1:]]
    assert set(rows) == {"random subset", "Poisson (so3)"}, out
    rnd, poi = rows["random subset"], rows["Poisson (so3)"]
    assert poi[0] > 3 * rnd[0]  # smallest angle between two picked poses
    assert poi[2] < rnd[2]  # 99th percentile of the gap to the nearest picked pose
    mins = dict(re.findall(r"(random batches|PoissonBatchSampler)\s+mean smallest angle in a batch\s+([\d.]+)d", out))
    assert set(mins) == {"random batches", "PoissonBatchSampler"}, out
    assert float(mins["PoissonBatchSampler"]) > 3 * float(mins["random batches"])
