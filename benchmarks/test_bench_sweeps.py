"""Sweep speed (group "sweep"): one local worker process against two, and a repeat from the
cache, on the same sweep in the same run (the summary prints one worker's time over each).

The sweep: a decode GEMV (16 x 2048 x 2048) and a 512^3 GEMM on corsair over NoC link width x
weight format (8 points), timing mode. Timed runs only: the --benchmark-disable smoke run uses
tiny and 4 points. Worker processes start fresh interpreters (spawn), counted in the times.
"""
import pytest

import chipemu

CASES = [{"kernel": "matmul", "m": 16, "k": 2048, "n": 2048},
         {"kernel": "matmul", "m": 512, "k": 512, "n": 512}]
GRID = {"chiplet.noc.link_bytes_per_cycle": [32, 64], "weight_fmt": ["mxint8", "mxint4"]}


def _args(request):
    if request.config.getoption("benchmark_disable", False):
        return dict(cases=[{"kernel": "matmul", "m": 16, "k": 256, "n": 256}],
                    grid={"weight_fmt": ["mxint8", "mxint4"]}, device="tiny")
    return dict(cases=CASES, grid=GRID, device="corsair")


@pytest.mark.parametrize("label", ["1 worker", "2 workers", "cached"])
def test_sweep_workers(benchmark, request, label, tmp_path):
    benchmark.group = "sweep: 8 matmul points on corsair, timing mode"
    benchmark.extra_info.update(label=label, baseline="1 worker")
    kw = _args(request)
    if label == "cached":
        db = tmp_path / "c.sqlite"
        chipemu.sweep(**kw, executor="serial", cache=db)
        df = benchmark(chipemu.sweep, **kw, executor="local", workers=2, cache=db)
    else:
        df = benchmark(chipemu.sweep, **kw, executor="local",
                       workers=1 if label == "1 worker" else 2, cache=False)
    assert (df["status"] == "ok").all()
