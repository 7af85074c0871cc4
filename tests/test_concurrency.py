"""The operator called from 8 Python threads at once, on different inputs,
gives exactly the serial results (the core keeps no state between calls)."""
import threading

import pytest
import torch

import torch_poisson

THREADS = 8


def make_inputs():
    """Different sizes, dimensions, dtypes and options per thread."""
    g = torch.Generator().manual_seed(2015)
    unit = lambda d: ([0.0] * d, [1.0] * d)  # noqa: E731
    jobs = []
    for i in range(THREADS):
        d = 1 + i % 3
        m = 3000 + 1000 * i
        x = torch.rand(m, d, generator=g, dtype=torch.float64 if i % 2 else torch.float32)
        kw = {}
        if i % 4 == 1:
            kw = {"bounds": unit(d), "periodic": True}
        if i % 4 == 2:
            kw = {"progressive": True}
        if i % 4 == 3:
            kw = {"radius": 0.02 * d, "alpha": 5.5, "weight_limiting": False}
        jobs.append((x, m // 8, kw))
    return jobs


@pytest.mark.parametrize("entry", ["python", "op"])
@pytest.mark.parametrize("intra_threads", [1, 2])
def test_threads_match_serial(entry, intra_threads):
    jobs = make_inputs()

    def call(x, n, kw):
        if entry == "python":
            return torch_poisson.sample_elimination(x, n, **kw)
        b = kw.get("bounds")
        b = torch.tensor(b, dtype=torch.float64) if b is not None else None
        return torch.ops.torch_poisson.sample_elimination(
            x, n, b, kw.get("radius"), kw.get("periodic", False), kw.get("alpha", 8.0), 0.65, 1.5,
            kw.get("weight_limiting", True), kw.get("progressive", False))

    old = torch.get_num_threads()
    torch.set_num_threads(intra_threads)
    try:
        serial = [call(*job) for job in jobs]
        for rounds in range(3):
            results = [None] * THREADS
            errors = []
            start = threading.Barrier(THREADS)

            def worker(i):
                try:
                    start.wait()
                    results[i] = call(*jobs[i])
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append((i, repr(e)))

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            assert not any(t.is_alive() for t in threads), "a thread hung"
            assert not errors, errors
            for i in range(THREADS):
                assert torch.equal(results[i], serial[i]), f"thread {i}, round {rounds}"
    finally:
        torch.set_num_threads(old)
