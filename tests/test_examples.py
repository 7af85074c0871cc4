"""The examples and the demo run, and what they print holds:
examples/rotations.py on a small pose set, examples/train_coverage.py and
examples/train_poses.py scaled down, python -m torch_poisson demo."""
import math
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


def test_train_coverage_example_puts_the_sparse_region_into_batches():
    """The training example runs (scaled down) and its Poisson batches hold
    several times more items from the sparse region than random batches."""
    out = run_example("train_coverage.py", "--steps", "150", "--items", "4000", "--seeds", "0")
    far = re.search(r"items far from the cluster per batch: random ([\d.]+), Poisson ([\d.]+)", out)
    assert far, out
    assert float(far.group(2)) > 4 * float(far.group(1))
    table = re.findall(r"\| (random|Poisson) \| ([\d.]+) \| ([\d.]+) \|", out)
    assert [r[0] for r in table] == ["random", "Poisson"], out
    assert all(float(v) > 0 for r in table for v in r[1:])


def test_demo_runs_and_writes_its_figures(tmp_path):
    """python -m torch_poisson demo: the table (Poisson rho far above the
    random subset's) and both PNGs, where it says."""
    png = tmp_path / "demo.png"
    out = subprocess.run([sys.executable, "-m", "torch_poisson", "demo", "--out", str(png), "--n", "200"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    rho = dict(re.findall(r"(random subset|Poisson subset)\s+[\d.]+\s+([\d.]+)", out.stdout))
    assert float(rho["Poisson subset"]) > 0.6 > 0.1 > float(rho["random subset"]), out.stdout
    assert png.exists() and (tmp_path / "demo_sphere.png").exists()
    assert str(png) in out.stdout
    bad = subprocess.run([sys.executable, "-m", "torch_poisson", "demo", "--n", "0"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 2 and "--n must be >= 1" in bad.stderr


def test_train_poses_example_prints_its_table_and_plot(tmp_path):
    """examples/train_poses.py --quick, scaled down further (fewer steps, a
    smaller MLP and data set): every arm's row with every column as a finite
    mean +- spread over the two seeds, and the learning-curve PNG."""
    png = tmp_path / "curves.png"
    out = run_example("train_poses.py", "--quick", "--steps", "60", "--hidden", "32", "--train", "2000",
                      "--test", "1000", "--plot", str(png))
    lines = [line for line in out.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["arm", "median all", "median near", "median far", "p90 all", "p90 near", "p90 far",
                      "< 10 deg", "s / epoch"], out
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert [r[0] for r in rows] == ["random", "Poisson p=8", "Poisson p=2", "PoissonSampler",
                                 "random, Haar data"], out
    for r in rows:
        assert len(r) == len(header), r
        for cell in r[1:]:
            m = re.fullmatch(r"([-\d.]+) \+- ([\d.]+)", cell)
            assert m and all(math.isfinite(float(v)) for v in m.groups()), r
        errors = [float(c.split()[0]) for c in r[1:7]]
        assert all(0 <= e <= 180 for e in errors), r  # rotation angles in degrees
        assert 0 <= float(r[7].split()[0]) <= 1 and float(r[8].split()[0]) >= 0, r
    assert "2 seed(s), 60 steps" in out
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_poses.py"), "--steps", "0"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 2 and "--steps must be >= 1 (got 0)" in bad.stderr
