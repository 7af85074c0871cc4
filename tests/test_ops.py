"""The operator and the functional API against the naive oracle, plus
exact counts, determinism, quality, dispatcher integration and bad input."""
import itertools
import math
import os
import threading
import time

import numpy as np
import pytest
import torch

import torch_poisson
from torch_poisson import poisson_disk, relative_radius, sample_elimination

import oracle


def sample_inputs():
    """Every configuration the operator is checked on: (name, points, n, kwargs)."""
    cases = []
    rng = np.random.default_rng(1234)
    for d in (1, 2, 3, 5):
        for periodic in (False, True):
            for weight_limiting in (True, False):
                for dtype in (torch.float32, torch.float64):
                    m = 1200 if d != 5 else 640
                    x = torch.from_numpy(rng.random((m, d))).to(dtype)
                    kw = dict(weight_limiting=weight_limiting)
                    if periodic:
                        kw.update(bounds=([0.0] * d, [1.0] * d), periodic=True)
                    name = f"d{d}-{'per' if periodic else 'box'}-{'wl' if weight_limiting else 'nowl'}-{str(dtype)[6:]}"
                    cases.append((name, x, m // 8, kw))
    x = torch.from_numpy(rng.random((1500, 2)))
    cases.append(("radius", x, 100, dict(radius=0.03)))
    cases.append(("radius-per", x, 300, dict(radius=0.02, bounds=([0, 0], [1, 1]), periodic=True)))
    cases.append(("params", x, 200, dict(alpha=4.5, beta=0.3, gamma=2.0)))
    cases.append(("scaled-box", x * torch.tensor([3.0, 0.5]) + 7, 200, {}))
    cases.append(("progressive", x, 300, dict(progressive=True, bounds=([0, 0], [1, 1]), periodic=True)))
    cases.append(("progressive-box", torch.from_numpy(rng.random((1000, 3))), 160, dict(progressive=True)))
    cases.append(("n-equals-m", x[:50], 50, {}))
    cases.append(("n-one", x[:200], 1, {}))
    return cases


CASES = sample_inputs()


def _oracle(points, n, kw):
    okw = dict(kw)
    if "bounds" in okw:
        okw["bounds"] = tuple(np.asarray(b, float) for b in okw["bounds"])
    return oracle.eliminate(points.double().numpy(), n, **okw)


@pytest.mark.parametrize("name,points,n,kw", CASES, ids=[c[0] for c in CASES])
def test_agrees_with_oracle(name, points, n, kw):
    got = sample_elimination(points, n, **kw)
    assert got.dtype == torch.int64 and got.shape == (n,)
    want = _oracle(points, n, kw)
    if kw.get("progressive"):
        # same set, and the same order on at least 99% of the positions
        assert sorted(got.tolist()) == sorted(want)
        same = sum(int(a == b) for a, b in zip(got.tolist(), want))
        assert same >= 0.99 * n, f"{name}: progressive order matches at {same}/{n} positions"
    else:
        assert oracle.agreement(want, got.tolist()) >= 0.99, name
        assert torch.all(got[1:] > got[:-1]), "indices must be ascending and distinct"


@pytest.mark.parametrize("name,points,n,kw", CASES[:8], ids=[c[0] for c in CASES[:8]])
def test_through_dispatcher_same_as_function(name, points, n, kw):
    b = kw.get("bounds")
    bt = None if b is None else torch.tensor(b, dtype=torch.float64)
    direct = torch.ops.torch_poisson.sample_elimination(
        points, n, bt, None, kw.get("periodic", False), 8.0, 0.65, 1.5, kw.get("weight_limiting", True), False
    )
    assert torch.equal(direct, sample_elimination(points, n, **kw))


def test_exact_count_and_deterministic():
    torch.manual_seed(0)
    # tiny n makes d_max span the domain (every pair interacts: M^2 work), so
    # those run on fewer points
    for m, ns in ((2000, (1, 2, 3, 7)), (20000, (2500, 19999, 20000))):
        pts = torch.rand(m, 2)
        for n in ns:
            a = sample_elimination(pts, n)
            b = sample_elimination(pts, n)
            assert a.shape == (n,) and torch.equal(a, b)
            assert a.unique().numel() == n and int(a.min()) >= 0 and int(a.max()) < m


def test_deterministic_across_thread_counts():
    torch.manual_seed(1)
    pts = torch.rand(60000, 2)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = sample_elimination(pts, 7500, bounds=([0, 0], [1, 1]), periodic=True)
        torch.set_num_threads(2)
        two = sample_elimination(pts, 7500, bounds=([0, 0], [1, 1]), periodic=True)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, two)


def test_tie_rule_smaller_index_removed_first():
    # four points at the corners of a square: all weights tie; the two
    # smaller indices go first, so 2 and 3 survive.
    pts = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    idx = sample_elimination(pts, 2, radius=2.0)
    assert idx.tolist() == [2, 3]


@pytest.mark.parametrize("d,floor", [(2, 0.70), (3, 0.65)])
def test_quality_relative_radius(d, floor):
    torch.manual_seed(7)
    n = 2000
    pts = torch.rand(8 * n, d, dtype=torch.float64)
    idx = sample_elimination(pts, n, bounds=([0.0] * d, [1.0] * d), periodic=True)
    unit = ([0.0] * d, [1.0] * d)
    rho = relative_radius(pts[idx], bounds=unit, periodic=True)
    rnd = relative_radius(pts[torch.randperm(8 * n)[:n]], bounds=unit, periodic=True)
    assert rho >= floor, f"rho={rho:.4f}"
    assert rho > 10 * rnd, f"poisson rho={rho:.4f} vs random {rnd:.4f}"


def test_progressive_prefixes_are_spread():
    torch.manual_seed(3)
    pts = torch.rand(16000, 2, dtype=torch.float64)
    idx = sample_elimination(pts, 2000, bounds=([0, 0], [1, 1]), periodic=True, progressive=True)
    assert sorted(idx.tolist()) == sample_elimination(pts, 2000, bounds=([0, 0], [1, 1]), periodic=True).tolist()
    for k in (250, 500, 1000):
        rho = relative_radius(pts[idx[:k]], bounds=([0, 0], [1, 1]), periodic=True)
        assert rho > 0.5, f"prefix {k}: rho={rho:.3f}"


def test_noncontiguous_and_requires_grad():
    torch.manual_seed(5)
    base = torch.rand(3000, 4, dtype=torch.float64)
    view = base[:, ::2]  # non-contiguous (3000, 2)
    assert not view.is_contiguous()
    want = sample_elimination(view.contiguous(), 300)
    assert torch.equal(sample_elimination(view, 300), want)
    assert torch.equal(sample_elimination(view.t().contiguous().t(), 300), want)
    g = view.clone().requires_grad_(True)
    assert torch.equal(sample_elimination(g, 300), want)


def test_float32_equals_float64_of_same_values():
    torch.manual_seed(6)
    p32 = torch.rand(5000, 2)
    assert torch.equal(sample_elimination(p32, 600), sample_elimination(p32.double(), 600))


def test_degenerate_inputs_return_exact_count():
    same = torch.full((500, 2), 0.3)
    assert sample_elimination(same, 40).unique().numel() == 40
    line = torch.stack([torch.rand(800), torch.full((800,), 2.0)], 1)  # flat: spans one axis
    idx = sample_elimination(line, 80)
    assert idx.unique().numel() == 80
    # a flat input is treated as 1-D along the axis it spans: same as the 1-D call
    assert torch.equal(idx, sample_elimination(line[:, :1], 80))


def test_poisson_disk_reproducible_and_spread():
    a = poisson_disk(1000, dim=2, generator=torch.Generator().manual_seed(11))
    b = poisson_disk(1000, dim=2, generator=torch.Generator().manual_seed(11))
    c = poisson_disk(1000, dim=2, generator=torch.Generator().manual_seed(12))
    assert a.shape == (1000, 2) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert relative_radius(a.double(), bounds=([0, 0], [1, 1]), periodic=True) > 0.65
    torch.manual_seed(4)
    d = poisson_disk(300, dim=3, bounds=([0, 0, 0], [2, 1, 1]), dtype=torch.float64)
    torch.manual_seed(4)
    assert torch.equal(d, poisson_disk(300, dim=3, bounds=([0, 0, 0], [2, 1, 1]), dtype=torch.float64))
    assert d.dtype == torch.float64 and float(d[:, 0].max()) > 1.0 and float(d.max()) < 2.0


_CTRL_C_CHILD = """
import signal
# Python's own handler, whatever this process inherited (a job started in the
# background of a non-interactive shell, as CI may be, ignores SIGINT)
signal.signal(signal.SIGINT, signal.default_int_handler)
import time, torch, torch_poisson as tp
x = torch.rand(100_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
for name, call in (("plain", lambda: tp.sample_elimination(x, 20)),
                   ("batched", lambda: tp.sample_elimination(x[None], 20))):
    print("start", name, flush=True)
    t = time.perf_counter()
    try:
        call()
        print("finished", name, flush=True)
    except KeyboardInterrupt as e:
        print("interrupted", name, round(time.perf_counter() - t, 2), e.__context__ is None, flush=True)
import signal
print("handler", signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
print("after", tuple(tp.sample_elimination(torch.rand(20_000, 2), 2500).shape), flush=True)
# another thread's call (a sampler's prefetch) is not the main thread's to stop
import threading
box, done = [], threading.Event()
def work():
    box.append(tp.sample_elimination(x, 100))
    done.set()
threading.Thread(target=work).start()
print("start thread", flush=True)
try:
    while not done.is_set():
        time.sleep(0.02)
    print("done first", flush=True)
except KeyboardInterrupt:
    print("main interrupted", flush=True)
done.wait()
print("thread result", tuple(box[0].shape), flush=True)
"""


def test_ctrl_c_interrupts_a_long_call():
    """SIGINT stops a long elimination (a 1-D problem of ~1e9 pairs, tens of
    seconds) within moments, as KeyboardInterrupt (no operator error chained
    to it); Python's handler is back afterwards and later calls run. A call
    on another thread runs to its end (Ctrl-C is the main thread's)."""
    import signal
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", _CTRL_C_CHILD], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        for name in ("plain", "batched"):
            assert p.stdout.readline().split() == ["start", name]
            time.sleep(1.5)
            p.send_signal(signal.SIGINT)
            line = p.stdout.readline().split()
            assert line[:2] == ["interrupted", name], line
            assert float(line[2]) < 10.0 and line[3] == "True", line
        assert p.stdout.readline().split() == ["handler", "True"]
        assert p.stdout.readline().strip() == "after (2500,)"
        assert p.stdout.readline().strip() == "start thread"
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        assert p.stdout.readline().strip() == "main interrupted"
        assert p.stdout.readline().strip() == "thread result (100,)"
        assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        p.kill()


def test_elimination_releases_the_gil():
    torch.manual_seed(8)
    pts = torch.rand(400_000, 2)
    done = threading.Event()
    ticks = 0

    def work():
        sample_elimination(pts, 50_000)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    start = time.perf_counter()
    while not done.is_set():
        ticks += 1
    elapsed = time.perf_counter() - start
    t.join()
    # with the GIL held by the op this loop would barely run (a few switch
    # intervals of 5 ms); released, it spins freely the whole time
    assert ticks > 100_000 or elapsed < 0.02, f"{ticks} iterations in {elapsed:.3f} s"


# ------------------------------------------------------------ dispatcher --


def test_operator_library_links_only_the_stable_abi():
    """The operators' library imports torch only through LibTorch's stable C
    shim (aoti_torch_* / torch_* functions), no C++ symbol of libtorch or c10:
    one build loads on later torch releases. (nm from binutils.)"""
    import glob
    import shutil
    import subprocess

    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    lib = glob.glob(os.path.join(os.path.dirname(torch_poisson.__file__), "_ops*.so"))
    assert len(lib) == 1, lib
    out = subprocess.run([nm, "-D", "--undefined-only", lib[0]], capture_output=True, text=True, check=True)
    names = [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]
    torch_side = [v for v in names if v.startswith(("aoti_torch_", "torch_"))]
    assert len(torch_side) > 20, names
    # C++ symbols may only be the standard library's (versioned @GLIBCXX / @CXXABI, std::, or
    # operator new/delete, which a sanitizer build takes unversioned from the sanitizer)
    foreign = [v for v in names if v.startswith("_Z") and "@GLIBCXX" not in v and "@CXXABI" not in v
               and not v.startswith(("_ZNSt", "_ZNKSt", "_ZSt", "_Znw", "_Zna", "_Zdl", "_Zda"))]
    assert not foreign, foreign
    assert not any("c10" in v or "at6Tensor" in v or "torch3jit" in v for v in names), names


def test_opcheck():
    torch.manual_seed(9)
    for pts, n, b, per in [
        (torch.rand(500, 2), 60, None, False),
        (torch.rand(400, 3, dtype=torch.float64), 50, torch.tensor([[0.0] * 3, [1.0] * 3], dtype=torch.float64), True),
        (torch.rand(300, 2, requires_grad=True), 30, None, False),
    ]:
        torch.library.opcheck(
            torch.ops.torch_poisson.sample_elimination.default,
            (pts, n, b, None, per, 8.0, 0.65, 1.5, True, False),
        )


def test_torch_compile_fullgraph():
    def f(x):
        idx = sample_elimination(x, 100)
        return x[idx].sum(0)

    torch.manual_seed(10)
    x = torch.rand(800, 2)
    compiled_inductor = torch.compile(f, fullgraph=True)
    assert torch.allclose(compiled_inductor(x), f(x))


def test_torch_compile_symbolic_options_and_tensor_n():
    """dynamic=True (symbolic shapes and floats), a float option that changes
    between calls (recompiled with a symbolic float), and n as a 0-d tensor
    (data under compile): each equals the eager call."""
    x = torch.rand(300, 2, generator=torch.Generator().manual_seed(4))
    dyn = torch.compile(lambda p: sample_elimination(p, 40), fullgraph=True, dynamic=True)
    assert torch.equal(dyn(x), sample_elimination(x, 40))
    assert torch.equal(dyn(x[:200]), sample_elimination(x[:200], 40))
    by_radius = torch.compile(lambda p, r: sample_elimination(p, 40, radius=r), fullgraph=True)
    for r in (0.05, 0.08, 0.11):
        assert torch.equal(by_radius(x, r), sample_elimination(x, 40, radius=r))
    by_alpha = torch.compile(lambda p, a: sample_elimination(p, 40, alpha=a), fullgraph=True)
    for a in (8.0, 6.0):
        assert torch.equal(by_alpha(x, a), sample_elimination(x, 40, alpha=a))
    by_n = torch.compile(lambda p, n: sample_elimination(p, n), fullgraph=True)
    for n in (5, 17):
        assert torch.equal(by_n(x, torch.tensor(n)), sample_elimination(x, n))


def test_estimate_radius_in_many_dimensions_is_finite():
    """The packing factor of D > 3 is 1: computed as a product, the unit
    ball's volume would underflow (D ~ 400 on) and the estimate be NaN."""
    x = torch.rand(100, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    r700, D = torch_poisson.estimate_radius(x, 10, dim=700)
    r5, _ = torch_poisson.estimate_radius(x, 10, dim=5)
    assert D == 700 and math.isfinite(r700) and r700 > 0
    # r_ball = r_k (k / (k - 1/3))^(1/D): the same r_k, other powers
    k = 10
    assert r700 / r5 == pytest.approx((k / (k - 1 / 3)) ** (1 / 700 - 1 / 5), rel=1e-12)
    wide = torch.rand(500, 2000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    r, D = torch_poisson.estimate_radius(wide, 50)
    assert math.isfinite(r) and r > 0 and D > 100
    assert sample_elimination(x, 10, radius="auto", dim=700).shape == (10,)


# ------------------------------------------------------------- bad input --

GOOD = torch.rand(100, 2)

BAD = [
    ("points 1-D", lambda: sample_elimination(torch.rand(10), 2), (ValueError,), "2-D"),
    ("points 3-D", lambda: sample_elimination(torch.rand(2, 10, 2, 2), 2), (ValueError,), "shape"),
    ("int dtype", lambda: sample_elimination(torch.arange(20).reshape(10, 2), 2), (TypeError,), "int64"),
    ("bool dtype", lambda: sample_elimination(torch.ones(10, 2, dtype=torch.bool), 2), (TypeError,), "bool"),
    ("complex dtype", lambda: sample_elimination(torch.ones(10, 2, dtype=torch.complex64), 2), (TypeError,), "complex64"),
    ("not a tensor", lambda: sample_elimination([[0.0, 1.0]], 1), (TypeError,), "list"),
    ("nan", lambda: sample_elimination(torch.tensor([[0.0, 0.0], [float("nan"), 1.0], [1.0, 1.0]]), 2), (RuntimeError, ValueError), "points[1, 0]"),
    ("inf", lambda: sample_elimination(torch.tensor([[0.0, 0.0], [1.0, float("inf")]]), 1), (RuntimeError, ValueError), "inf"),
    ("empty", lambda: sample_elimination(torch.zeros(0, 2), 1), (ValueError,), "shape [0, 2]"),
    ("n zero", lambda: sample_elimination(GOOD, 0), (ValueError,), "n=0"),
    ("n negative", lambda: sample_elimination(GOOD, -3), (ValueError,), "n=-3"),
    ("n too big", lambda: sample_elimination(GOOD, 101), (ValueError,), "n=101"),
    ("n float", lambda: sample_elimination(GOOD, 2.5), (TypeError,), "2.5"),
    ("bounds shape", lambda: sample_elimination(GOOD, 5, bounds=torch.zeros(3, 2)), (ValueError,), "(3, 2)"),
    ("bounds pair length", lambda: sample_elimination(GOOD, 5, bounds=([0, 0, 0], [1, 1, 1])), (ValueError,), "(2, 3)"),
    ("bounds lo>=hi", lambda: sample_elimination(GOOD, 5, bounds=([0, 1], [1, 1])), (ValueError,), "axis 1"),
    ("outside periodic bounds", lambda: sample_elimination(GOOD * 2, 5, bounds=([0, 0], [1, 1]), periodic=True), (RuntimeError, ValueError), "outside"),
    ("periodic without bounds", lambda: sample_elimination(GOOD, 5, periodic=True), (ValueError,), "needs explicit bounds (the period of each axis), got none"),
    ("radius zero", lambda: sample_elimination(GOOD, 5, radius=0.0), (ValueError,), "radius=0"),
    ("radius negative", lambda: sample_elimination(GOOD, 5, radius=-1.0), (ValueError,), "radius=-1"),
    ("radius nan", lambda: sample_elimination(GOOD, 5, radius=float("nan")), (ValueError,), "radius=nan"),
    ("radius inf", lambda: sample_elimination(GOOD, 5, radius=float("inf")), (ValueError,), "radius=inf"),
    ("alpha zero", lambda: sample_elimination(GOOD, 5, alpha=0.0), (ValueError,), "alpha=0"),
    ("alpha negative", lambda: sample_elimination(GOOD, 5, alpha=-2.0), (ValueError,), "alpha=-2"),
    ("beta negative", lambda: sample_elimination(GOOD, 5, beta=-0.1), (ValueError,), "beta=-0.1"),
    ("gamma negative", lambda: sample_elimination(GOOD, 5, gamma=-1.0), (ValueError,), "gamma=-1"),
    # beta > 1 can put d_min past d_max: every weight 0, the last n indices came back
    ("beta above 1", lambda: sample_elimination(GOOD, 25, beta=1.2), (ValueError,), "beta=1.2"),
    ("points 4-D", lambda: sample_elimination(torch.rand(2, 2, 2, 2), 1), (ValueError,), "(B, M, d)"),
    ("periodic a string", lambda: sample_elimination(GOOD, 5, bounds=([0, 0], [1, 1]), periodic="no"), (TypeError,), "periodic='no'"),
    ("weight_limiting a string", lambda: sample_elimination(GOOD, 5, weight_limiting="False"), (TypeError,), "weight_limiting='False'"),
    ("progressive a number", lambda: sample_elimination(GOOD, 5, progressive=2), (TypeError,), "progressive=2"),
    ("n a bool tensor", lambda: sample_elimination(GOOD, torch.tensor(True)), (TypeError,), "tensor(True)"),
    ("dim too large", lambda: sample_elimination(GOOD, 5, dim=10 ** 7), (ValueError,), "[1, 1000000], got dim=10000000"),
    ("relative_radius 1-D", lambda: relative_radius(torch.rand(5)), (ValueError,), "shape (5,)"),
    ("relative_radius empty", lambda: relative_radius(torch.rand(0, 2)), (ValueError,), "shape (0, 2)"),
    # refusals end with their advice, whole (not cut at a fixed length)
    ("few of many", lambda: sample_elimination(torch.rand(100_000, 2), 10), (RuntimeError,),
     "eliminate a random pool of about 8 n points (as PoissonSampler's pool_size does)"),
    ("too dense", lambda: sample_elimination(torch.cat([torch.full((70_000, 2), 0.5), torch.rand(1000, 2)]), 2000),
     (RuntimeError,), 'pass radius="auto" or a smaller radius=, or set volume=/dim='),
]


@pytest.mark.parametrize("name,call,exc,needle", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_clear_error(name, call, exc, needle):
    with pytest.raises(exc) as info:
        call()
    assert needle in str(info.value), f"{name}: message {str(info.value)!r} lacks {needle!r}"


OP_BAD = [
    ("op int dtype", (torch.arange(20).reshape(10, 2), 2), "int64"),
    ("op 1-D", (torch.rand(10), 2), "2-D"),
    ("op n too big", (GOOD, 500), "n=500"),
    ("op nan", (torch.tensor([[0.0, 0.0], [float("nan"), 1.0]]), 1), "points[1, 0]"),
    ("op empty", (torch.zeros(0, 2), 1), "at least one point"),
    ("op bounds shape", (GOOD, 5, torch.zeros(2, 3)), "[2, 3]"),
    ("op alpha", (GOOD, 5, None, None, False, -1.0), "alpha"),
    ("op radius", (GOOD, 5, None, -0.5), "radius"),
    ("op periodic no bounds", (GOOD, 5, None, None, True), "bounds"),
    # float16 and bfloat16 are accepted (tests/test_half.py); other dtypes are refused by name
    ("op complex64", (GOOD.to(torch.complex64), 5), "complex64"),
    ("op bool", (GOOD > 0.5, 5), "bool"),
    ("op beta", (GOOD, 5, None, None, False, 8.0, 1.5), "beta must be in [0, 1]"),
    # float32 0.1 is above float64 0.1: the message shows both to the last digit
    ("op periodic float32 edge", (torch.tensor([[0.0], [0.05], [0.1]]), 2, torch.tensor([[0.0], [0.1]], dtype=torch.float64), None, True),
     "0.10000000149011612 is outside [0, 0.10000000000000001]"),
]


@pytest.mark.parametrize("name,args,needle", OP_BAD, ids=[b[0] for b in OP_BAD])
def test_bad_input_through_the_dispatcher(name, args, needle):
    with pytest.raises(RuntimeError) as info:
        torch.ops.torch_poisson.sample_elimination(*args)
    assert needle in str(info.value)


def test_max_radius_formulas():
    assert math.isclose(torch_poisson.max_radius(100, 1.0, 2), math.sqrt(0.01 / (2 * math.sqrt(3))))
    assert math.isclose(torch_poisson.max_radius(100, 1.0, 3), (0.01 / (4 * math.sqrt(2))) ** (1 / 3))
    assert math.isclose(torch_poisson.max_radius(100, 1.0, 1), 1 / 200)


@pytest.mark.parametrize("copies", [1, 2, 5])  # d = 4, 6, 12 (d > 8: the frame's early exit too)
def test_lattice_in_more_dimensions_keeps_its_ties(copies):
    """Exact ties stay ties when d > 3, where the grid follows the points'
    principal axes: a 2-D lattice padded with zero coordinates has the same
    distances, so the same indices as in 2-D and as the oracle; the lattice's
    coordinates repeated (a, a, ..., b, b, ...) against the oracle too.
    Distances measured on a rotated copy would turn such ties into 1-ulp
    differences; they are measured on the points as given."""
    for seed in range(12):
        g = torch.Generator().manual_seed(seed)
        a = torch.randint(0, 6, (40,), generator=g).double()
        b = torch.randint(0, 6, (40,), generator=g).double()
        flat = torch.stack([a, b], 1)
        padded = torch.cat([flat, torch.zeros(40, 2 * copies, dtype=torch.float64)], 1)
        repeated = torch.stack([a] * (copies + 1) + [b] * (copies + 1), 1)
        for n in (8, 13, 20):
            for progressive in (False, True):
                kw = dict(progressive=progressive)
                want = sample_elimination(flat, n, **kw).tolist()
                assert sample_elimination(padded, n, **kw).tolist() == want, (seed, n, kw)
                assert want == _oracle(padded, n, kw), (seed, n, kw)
                kw["radius"] = 1.5
                got = sample_elimination(repeated, n, **kw).tolist()
                assert got == _oracle(repeated, n, kw), (seed, n, kw)


def _lattice_near_d_max(d, periodic, h, seed):
    """A lattice of spacing h (= d_max below) whose extent is a whole number
    of h, and a copy nudged by 1-3 ulps per coordinate: pairs a few ulps
    inside and outside d_max, across cell boundaries."""
    rng = np.random.default_rng(seed)
    k = 6 if d < 3 else 4
    base = rng.integers(0, k, (60, d)).astype(np.float64) * h + (0.0 if periodic else 0.37)
    nudged = base.copy()
    for _ in range(int(rng.integers(1, 4))):
        nudged = np.nextafter(nudged, np.where(rng.random(nudged.shape) < 0.5, -np.inf, np.inf))
    kw = dict(radius=h / 2)  # d_max = h
    if periodic:
        kw.update(bounds=([-h / 2] * d, [k * h - h / 2] * d), periodic=True)
    return torch.from_numpy(np.concatenate([base, nudged])), kw


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_neighbours_a_few_ulps_inside_d_max_across_cells(d, periodic, alpha):
    """Every pair the oracle counts is found, also a few ulps inside d_max
    and where the cells' side is a whole fraction of the extent (cells are
    at least d_max (1 + 2^-10) wide, and a cell index rounds by at most
    2^-13 of a cell, so no such pair falls outside the grid's reach).
    alpha 1 and 2 keep such pairs' contributions (1e-16, 1e-32 of the
    largest) above the fixed point's resolution (see the next test)."""
    for h in (0.1, 0.2, 0.3, 1.1, 0.07):
        x, kw = _lattice_near_d_max(d, periodic, h, 7 + d + 10 * periodic)
        kw["alpha"] = alpha
        for n in (7, 30, 90):
            assert sample_elimination(x, n, **kw).tolist() == _oracle(x, n, kw), (h, n)


def test_contributions_below_the_fixed_point_resolution_count_as_zero():
    """The documented limit of "exact": a contribution below 2^-s (about
    1e-37 of the largest possible weight) is zero in the fixed point. With
    alpha 8, pairs a few ulps inside d_max contribute ~1e-128; the float64
    oracle keeps them and, where they are all a point has, ranks otherwise
    tied points by them (30 of these 90 cases differ). The oracle with
    those contributions set to zero agrees on every case."""
    power = oracle.power
    flush = lambda t, a: np.where(power(t, a) < 1e-30, 0.0, power(t, a))  # noqa: E731
    differ = 0
    for d, periodic in itertools.product((1, 2, 3), (False, True)):
        for h in (0.1, 0.2, 0.3, 1.1, 0.07):
            x, kw = _lattice_near_d_max(d, periodic, h, 7 + d + 10 * periodic)
            for n in (7, 30, 90):
                got = sample_elimination(x, n, **kw).tolist()
                differ += got != _oracle(x, n, kw)
                oracle.power = flush
                try:
                    assert got == _oracle(x, n, kw), (d, periodic, h, n)
                finally:
                    oracle.power = power
    assert differ > 0  # the inputs do reach below the resolution


def test_large_alpha_progressive_levels_reach_the_resolution():
    """The same limit, reached by random input: with alpha 16 the later
    progressive levels rank points whose weights the fixed point cannot
    resolve as float64 does. A level's survivors lie near d_max apart, so
    their contributions ((1 - d/d_max)^16, about 1e-14 down to 1e-40) sit
    near or below the resolution, which the largest possible contribution
    (about 1 here: d_min is tiny when n is close to M) sets. The kept set,
    the first level's, is the oracle's; the order can differ. With the
    default alpha 8 the same inputs agree position by position."""
    rng = np.random.default_rng(5)
    differ = 0
    for _ in range(6):
        x = torch.from_numpy(rng.random((242, 5)))
        for alpha in (8.0, 16.0):
            kw = dict(progressive=True, radius=0.1, alpha=alpha)
            got = sample_elimination(x, 237, **kw).tolist()
            want = _oracle(x, 237, kw)
            assert sorted(got) == sorted(want), alpha
            if alpha == 8.0:
                assert got == want
            else:
                differ += got != want
    assert differ > 0  # the inputs do reach below the resolution


def test_random_sweep_matches_oracle_exactly():
    """Random configurations, a third of them on a lattice (exact duplicates
    and exactly tied weights), progressive ones position by position."""
    rng = np.random.default_rng(42)
    for t in range(24):
        d = int(rng.choice([1, 2, 3, 4]))
        m = int(rng.integers(100, 700))
        n = int(rng.integers(1, m + 1)) if t % 3 == 0 else max(1, m // int(rng.choice([2, 4, 8, 16])))
        periodic, wl, prog = (bool(v) for v in rng.integers(0, 2, 3))
        x = rng.random((m, d))
        if t % 3 == 1:
            x = np.round(x * 20) / 20
        kw = dict(weight_limiting=wl, progressive=prog)
        if periodic:
            kw.update(bounds=([0.0] * d, [1.0] * d), periodic=True)
        got = sample_elimination(torch.from_numpy(x), n, **kw).tolist()
        want = _oracle(torch.from_numpy(x), n, kw)
        assert got == want, f"case {t}: d={d} M={m} n={n} {kw}"
