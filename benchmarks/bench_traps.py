"""Times the quadratic traps of tests/traps.py, each in a fresh child process
(address space capped as in the tests), and prints a table: outcome, seconds,
peak RSS. With --budget M, also times an all-pairs input of M points
(radius larger than the domain: M^2 candidate pairs, e.g. M=63000 for 3.97e9,
just under the default max_pair_work of 4e9), the slowest input the core
accepts at that size.

    python benchmarks/bench_traps.py [--budget 30000]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "tests")
sys.path.insert(0, TESTS)

from traps import CASES  # noqa: E402

BUDGET_CHILD = r"""
import json, resource, sys, time, torch, torch_poisson
sys.path.insert(0, {tests!r})
from traps import cap_address_space
cap_address_space()
m = {m}
x = torch.rand(m, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
t = time.perf_counter()
try:
    idx = torch_poisson.sample_elimination(x, 1000, radius=10.0)
    outcome = "ok"
except RuntimeError as e:
    outcome = "RuntimeError: " + str(e)[:60]
print(json.dumps(dict(name="all pairs, M=%d (%.3g pairs)" % (m, float(m) * m), m=m, n=1000,
                      outcome=outcome, seconds=time.perf_counter() - t,
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def child(args):
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=TESTS)
    if proc.returncode != 0:
        return {"name": args[-1], "outcome": f"child exited {proc.returncode}", "seconds": float("nan"),
                "peak_rss_mb": float("nan"), "m": 0, "n": 0}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=0, help="also time an all-pairs input of this many points")
    a = ap.parse_args()
    rows = [child([os.path.join(TESTS, "traps.py"), name]) for name in CASES]
    if a.budget:
        rows.append(child(["-c", BUDGET_CHILD.format(tests=TESTS, m=a.budget)]))
    print(f"{'case':34} {'M':>7} {'n':>5} {'outcome':14} {'seconds':>8} {'peak RSS MB':>11}")
    for r in rows:
        out = r["outcome"] if r["outcome"] != "RuntimeError" else "too dense"
        print(f"{r['name']:34} {r['m']:>7} {r['n']:>5} {out[:14]:14} {r['seconds']:>8.2f} {r['peak_rss_mb']:>11.0f}")


if __name__ == "__main__":
    main()
