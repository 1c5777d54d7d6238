"""Benchmark helpers: print each benchmark's speed as a ratio to its same-run baseline.

A benchmark opts in by setting extra_info["baseline"] (the name of its baseline within the same
group: a NumPy reference of the same shape) and optionally extra_info["bytes"] (input bytes, for
GB/s). Ratios need timed runs; with --benchmark-disable nothing is printed.
"""
import pathlib
import sys

import pytest

# the test tile kernels (tests/testkernels) are test-only code outside the package
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))


@pytest.fixture(autouse=True)
def _time_afresh():
    """Every round times its log afresh: a benchmark's repeated runs have equal logs, so timing
    reuse (emulator/engine/reuse.py) would otherwise measure cache hits after the first round."""
    from chipemu.emulator.engine import reuse
    with reuse.disabled():
        yield


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    benches = [b for b in getattr(session, "benchmarks", []) or [] if getattr(b, "stats", None)]
    if not benches or getattr(session, "disabled", False):
        return
    by_key = {(b.group, b.extra_info.get("label")): b for b in benches}
    lines = []
    for b in benches:
        base_label = b.extra_info.get("baseline")
        base = by_key.get((b.group, base_label))
        if base is None or base is b:
            continue
        t, t0 = b.stats.median, base.stats.median
        rate = b.extra_info.get("bytes", 0) / t / 1e9 if t else 0.0
        lines.append(f"{b.group:38s} {b.extra_info.get('label', b.name):10s} "
                     f"{t * 1e3:9.2f} ms  {t0 / t:7.1f}x {base_label}  {rate:6.2f} GB/s")
    if lines:
        terminalreporter.section("speed vs same-run baseline (median times)")
        for line in lines:
            terminalreporter.write_line(line)
