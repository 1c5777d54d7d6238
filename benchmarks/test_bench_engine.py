"""Timing-and-energy engine throughput (group "engine"): events per second on a contended SPMD log.

The log (tests/engine_logs.bench_log) runs, on every tile of a Corsair-sized device (8 chiplets of
16x16 tiles, all-to-all per 4-chiplet package, bridged), per superstep: two DIMC_MVMs, two vector ops
and a 256-byte SEND to a neighbour, with a hotspot (every 16th tile sends to its chiplet's tile 0)
and D2D traffic; every 64th superstep adds weight loads and DRAM reads. The target is >= 5 M events/s
at 10 M events; each benchmark records events_per_s and the process's peak RSS in extra_info.
Measured figures and what bounds them: docs/engine.md section 10 (2.2-2.7 M events/s on the 2-core VM
with two threads; the engine's results do not depend on the thread count).

The baseline (same group, same log) is one NumPy pass that sorts the log by (superstep, tile):
a floor for "touch every record once". The 10 M size runs only when benchmarks are timed; the
--benchmark-disable smoke run uses the small size.
"""
import pathlib
import resource
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from engine_logs import bench_log, corsair_params  # noqa: E402

from chipemu.emulator.engine.core import simulate  # noqa: E402

SIZES = {"200k": 200_000, "10M": 10_000_000}
_logs = {}


def _log(size):
    if size not in _logs:
        _logs.clear()                                        # keep one log alive at a time
        _logs[size] = bench_log(corsair_params(), SIZES[size])
    return _logs[size]


def _skip_big_when_disabled(request, size):
    if size == "10M" and request.config.getoption("benchmark_disable", False):
        pytest.skip("10 M events only when benchmarks are timed (the smoke run uses 200k)")


def _record(benchmark, n, seconds):
    benchmark.extra_info.update(
        n_events=n, seconds_best=round(seconds, 4), events_per_s=round(n / seconds),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


@pytest.mark.parametrize("size", list(SIZES))
def test_engine_simulate(benchmark, request, size):
    _skip_big_when_disabled(request, size)
    log, params = _log(size), corsair_params()
    benchmark.group = f"engine: simulate {size} events"
    benchmark.extra_info.update(label="engine", baseline="numpy")
    best = [float("inf")]

    def once():
        t = time.perf_counter()
        r = simulate(log, params, reuse=False)      # time the engine, not the reuse cache
        best[0] = min(best[0], time.perf_counter() - t)
        return r

    rounds = 3 if size == "10M" else 5
    r = benchmark.pedantic(once, rounds=rounds, warmup_rounds=0, iterations=1)
    _record(benchmark, len(log), best[0])
    assert r.makespan_cycles > 0 and sum(r.energy_by_tile.values()) == r.energy_fj
    assert int(r.energy_fj_event.sum()) + r.energy_by_component["static"] == r.energy_fj


@pytest.mark.parametrize("size", list(SIZES))
def test_engine_baseline_numpy_sort(benchmark, request, size):
    _skip_big_when_disabled(request, size)
    ev = _log(size).events
    benchmark.group = f"engine: simulate {size} events"
    benchmark.extra_info.update(label="numpy", baseline="numpy")
    order = benchmark.pedantic(np.lexsort, args=((ev["tile"], ev["step"]),), rounds=3, iterations=1)
    assert len(order) == len(ev)
