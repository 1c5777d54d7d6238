"""matmul speed (group "end2end"): the emulator's wall time against NumPy in the same run.

- functional MXINT8 matmul on corsair, C and Numba backends, vs NumPy float32 `a @ b` of the same
  shape (targets at 2048^3: C <= 3x, Numba <= 6x NumPy's time; the summary prints NumPy's time
  over ours, so 0.33x is the C target).
- the fixed cost of a 64^3 call (target <= 20 ms), against NumPy float32 512^3.
- timing mode 8192^3 on corsair under both network models (docs/engine.md section 4; target
  <= 1 s wall, <= 10x NumPy float32 2048^3 `a @ b` timed in the same group) with the fraction of
  peak.
- peak memory of a functional 4096^3 run, in a fresh process, against the bytes of the inputs,
  the output and the quantized weights (target <= 3x).
The large sizes run only when benchmarks are timed; the --benchmark-disable smoke run uses 256^3.
"""
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from chipemu.kernels.matmul.api import matmul

SIZES = {"256": 256, "2048": 2048}


def _skip_big(request, big):
    if big and request.config.getoption("benchmark_disable", False):
        pytest.skip("large sizes only when benchmarks are timed")


def _data(n):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, n), dtype=np.float32),
            rng.standard_normal((n, n), dtype=np.float32))


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("label", ["c", "numba", "numpy", "c-message", "numba-message"])
def test_matmul_functional(benchmark, request, size, label):
    n = SIZES[size]
    _skip_big(request, n > 256)
    a, b = _data(n)
    benchmark.group = f"end2end: matmul mxint8 {n}^3 functional, corsair"
    benchmark.extra_info.update(label=label, baseline="numpy")
    if label == "numpy":
        out = benchmark.pedantic(np.matmul, args=(a, b), rounds=5, iterations=1, warmup_rounds=1)
        assert out.shape == (n, n)
        return
    backend, _, network = label.partition("-")
    matmul(a[:64, :64], b[:64, :64], backend=backend)          # compile / load caches
    r = benchmark.pedantic(matmul, args=(a, b), rounds=3, iterations=1,
                           kwargs={"backend": backend, "network": network or "packet"})
    benchmark.extra_info.update(cycles=r.cycles, compute_cycles=r.phases["compute"]["cycles"],
                                events=len(r.events.events))
    assert np.abs(r.output - a @ b).max() <= 0.02 * np.abs(a @ b).max()


@pytest.mark.parametrize("network", ["numpy", "packet", "message"])
@pytest.mark.parametrize("n", [1024, 8192])
def test_matmul_timing_mode(benchmark, request, n, network):
    _skip_big(request, n > 1024)
    benchmark.group = f"end2end: matmul mxint8 {n}^3 timing, corsair"
    benchmark.extra_info.update(label=network, baseline="numpy")
    if network == "numpy":                      # the yardstick: float32 2048^3 a @ b
        a, b = _data(2048)
        benchmark.pedantic(np.matmul, args=(a, b), rounds=5, iterations=1, warmup_rounds=1)
        return
    t = time.perf_counter()
    r = benchmark.pedantic(matmul, args=((n, n), (n, n)),
                           kwargs={"mode": "timing", "network": network}, rounds=1, iterations=1)
    benchmark.extra_info.update(wall_s=round(time.perf_counter() - t, 2),
                                events=len(r.events.events),
                                fraction_of_peak=round(r.metrics["fraction_of_peak"], 4),
                                compute_cycles=r.phases["compute"]["cycles"])
    assert r.metrics["fraction_of_peak"] > 0


@pytest.mark.parametrize("label", ["numpy", "packet", "message"])
def test_matmul_small_call_fixed_cost(benchmark, label):
    # the fixed cost of a small call (plan, launches, gather, engine): target <= 20 ms; the
    # yardstick is NumPy float32 512^3 in the same group
    benchmark.group = "end2end: matmul mxint8 64^3 functional (fixed cost), corsair"
    benchmark.extra_info.update(label=label, baseline="numpy")
    if label == "numpy":
        a, b = _data(512)
        benchmark.pedantic(np.matmul, args=(a, b), rounds=20, iterations=1, warmup_rounds=2)
        return
    a, b = _data(64)
    matmul(a, b)                                               # load caches
    r = benchmark.pedantic(matmul, args=(a, b), kwargs={"network": label}, rounds=20,
                           iterations=1, warmup_rounds=1)
    assert r.output.shape == (64, 64)


_PEAK = """
import json, resource, numpy as np
from chipemu.kernels.matmul.api import matmul
n = {n}
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
r = matmul(a, b)
q = r.plan["kb"] * r.plan["nb"] * r.plan["block_bytes"]
print(json.dumps(dict(peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      data=a.nbytes + b.nbytes + r.output.nbytes + q)))
"""


@pytest.mark.parametrize("n", [512, 4096])
def test_matmul_peak_memory(benchmark, request, n):
    _skip_big(request, n > 512)
    benchmark.group = f"end2end: matmul mxint8 {n}^3 functional peak memory"
    benchmark.extra_info.update(label="memory")

    def run():
        out = subprocess.run([sys.executable, "-c", _PEAK.format(n=n)], check=True,
                             capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    m = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(peak_rss_mb=round(m["peak"] / 2**20),
                                data_mb=round(m["data"] / 2**20),
                                peak_over_data=round(m["peak"] / m["data"], 2))
    assert m["peak"] > 0
