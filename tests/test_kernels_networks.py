"""The engine's network model chosen per run, and docs/engine.md's accuracy table (the rows of
the small cases are recomputed here; kernels/networks.py runs them)."""
import re
from pathlib import Path

import pytest

from chipemu.emulator.errors import ConfigError
from chipemu.kernels import matmul, microbench
from chipemu.kernels.networks import SMALL, compare, row_markdown

DOC = Path(__file__).parents[1] / "docs" / "engine.md"


def _documented():
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| (.+?) \| (\w+) \| ", line)
        if m and m.group(1) in SMALL:
            rows[(m.group(1), m.group(2))] = line.split("  <!--")[0].rstrip()
    return rows


@pytest.mark.parametrize("preset", ["tiny", "ring8", "corsair"])
def test_small_cases_match_the_documented_table(preset):
    documented = _documented()
    for name, case in SMALL.items():
        row = compare(case, preset)
        assert row.dynamic_energy_equal is not False, (name, preset)
        assert row_markdown(row) == documented[(name, preset)], (name, preset)


def test_microbenchmarks_agree_within_one_percent_everywhere():
    for preset in ("tiny", "ring8", "corsair"):
        for name in microbench.MICROBENCHMARKS:
            row = compare(SMALL[name], preset)
            assert row.within_target, (name, preset, row.deviation)


def test_the_keyword_sets_the_model_and_a_bad_one_is_named():
    r = matmul((64, 64), (64, 64), device="tiny", mode="timing", network="message")
    assert r.device.engine.network == "message"
    assert r.timing.makespan_cycles > 0
    assert matmul((64, 64), (64, 64), device="tiny", mode="timing").device.engine.network == "packet"
    with pytest.raises(ConfigError, match="engine.network"):
        matmul((64, 64), (64, 64), device="tiny", mode="timing", network="fluid")


def test_progress_reports_supersteps_then_timing_and_is_quiet_by_default(capsys):
    seen = []
    r = matmul((256, 256), (256, 256), device="tiny", mode="timing", progress=seen.append)
    launches = [p for p in seen if p.phase != "timing"]
    assert [p.supersteps for p in launches] == sorted(p.supersteps for p in launches)
    assert {p.phase for p in launches} >= {"load", "compute"}
    assert launches[-1].events == len(r.events.events)
    last = seen[-1]
    assert last.phase == "timing" and last.events_timed == last.events == len(r.events.events)
    matmul((256, 256), (256, 256), device="tiny", mode="timing")
    assert capsys.readouterr() == ("", "")
    with pytest.raises(ConfigError, match="progress"):
        matmul((64, 64), (64, 64), device="tiny", mode="timing", progress="bar")


def test_message_model_twins_and_modes_agree():
    # timing is a function of the log: C and Numba, functional and timing give the same figures
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((96, 200), dtype=np.float32)
    b = rng.standard_normal((200, 130), dtype=np.float32)
    runs = [matmul(a, b, device="tiny", backend="c", network="message"),
            matmul(a, b, device="tiny", backend="numba", network="message"),
            matmul(a.shape, b.shape, device="tiny", mode="timing", network="message")]
    first = runs[0]
    assert np.array_equal(first.output, runs[1].output)
    for r in runs[1:]:
        assert np.array_equal(r.events.events, first.events.events)
        assert np.array_equal(r.timing.end_cycles, first.timing.end_cycles)
        assert r.timing.energy_fj == first.timing.energy_fj


def test_a_failing_progress_callback_stops_the_run_cleanly():
    calls = []

    def boom(p):
        calls.append(p)
        if p.phase == "timing":
            raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        matmul((2048, 2048), (2048, 2048), device="corsair", mode="timing", progress=boom)
    assert calls and calls[-1].phase == "timing"
    # the machine is usable afterwards: a normal run gives the usual figures
    assert matmul((64, 64), (64, 64), device="tiny", mode="timing").cycles > 0
