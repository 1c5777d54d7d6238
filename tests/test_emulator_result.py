"""Result outputs: trace JSON, gem5-style stats, config, summary, and golden stats on tiny."""
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from chipemu.emulator import Device
from golden_figures import assert_golden
from chipemu.kernels import microbench as mb
from chipemu.kernels.matmul.api import matmul

TINY = Device.preset("tiny")
GOLDEN = Path(__file__).with_name("golden")
# three small runs whose counts must not drift; CHIPEMU_REGEN_GOLDEN=1 rewrites the files
GOLDEN_RUNS = {
    "noc_hotspot_tiny": lambda: mb.noc_hotspot(TINY, senders=3, nbytes=4096),
    "dimc_peak_tiny": lambda: mb.dimc_peak(TINY, nvec=8, iterations=4, fmt="mxint8", weight_fmt="mxint4"),
    "dram_stream_tiny": lambda: mb.dram_stream(TINY, nbytes=4096, reps=4),
    "matmul_64_tiny": lambda: matmul((64, 64), (64, 64), device=TINY, mode="timing"),
    "matmul_w4a8_tiny": lambda: matmul((33, 200), (200, 100), fmt="mxint8", weight_fmt="mxint4",
                                       device=TINY, mode="timing"),
}


@pytest.fixture(scope="module")
def hotspot():
    return mb.noc_hotspot(TINY, senders=3, nbytes=4096)


def test_energy_breakdowns_sum_exactly(hotspot):
    for kind, table in hotspot.energy_breakdown.items():
        assert sum(table.values()) == hotspot.energy_fj, kind
    assert hotspot.energy_pj == hotspot.energy_fj / 1000


def test_trace_is_valid_chrome_json(tmp_path, hotspot):
    path = hotspot.write_trace(tmp_path / "out")
    doc = json.loads(path.read_text())
    evs = doc["traceEvents"]
    phases = {e["ph"] for e in evs}
    assert {"M", "b", "e", "s", "f", "X"} <= phases
    names = {e["args"]["name"] for e in evs if e["ph"] == "M"}
    assert "chiplet 0" in names and any("dma" in n for n in names)
    assert all(e["ts"] >= 0 for e in evs if "ts" in e)
    assert doc["otherData"]["ops"] == len(hotspot.events) and "note" not in doc["otherData"]


def test_trace_cap_says_what_was_dropped(tmp_path, hotspot):
    doc = json.loads(hotspot.write_trace(tmp_path / "t.json", max_events=1).read_text())
    assert doc["otherData"]["ops_written"] == 1
    assert "dropped" in doc["otherData"]["note"]


def test_stats_and_config_files(tmp_path, hotspot):
    d = hotspot.write_stats(tmp_path).parent
    text = (d / "stats.txt").read_text().splitlines()
    assert text[0].startswith("---------- Begin Simulation Statistics")
    assert any(line.startswith("sim.cycles") and "# makespan (cycles)" in line for line in text)
    stats = json.loads((d / "stats.json").read_text())
    assert stats["schema_version"] == 1 and stats["stats"]["sim.cycles"] == hotspot.cycles
    config = json.loads((d / "config.json").read_text())
    assert config["device"]["name"] == "tiny" and "engine_params" in config


def test_summary_names_the_binding_resource(hotspot):
    console = Console(record=True, width=120)
    hotspot.summary(console)
    text = console.export_text()
    assert "binding resource" in text and hotspot.critical_path["binding"] in text
    assert "energy by component" in text


def test_writers_both_return_the_file_written(tmp_path, hotspot):
    # the issue: write_trace returned a file, write_stats a directory
    for target in (tmp_path / "a", tmp_path / "b" / "c"):          # new folders, made on demand
        trace, stats = hotspot.write_trace(target), hotspot.write_stats(target)
        assert trace == target / "trace.json" and trace.is_file()
        assert stats == target / "stats.txt" and stats.is_file()
        assert (stats.parent / "stats.json").is_file() and (stats.parent / "config.json").is_file()
    named = hotspot.write_trace(tmp_path / "d" / "mine.json")
    assert named == tmp_path / "d" / "mine.json" and named.is_file()


def test_compute_phase_figures_are_labelled_with_the_whole_run_beside():
    # the issue: achieved_tflops (1,939 for 8192^3, compute phase only) stood alone; the whole
    # span gives ~104
    r = matmul((64, 256), (256, 128), device=TINY, mode="timing")
    macs = r.metrics["macs"]
    whole = 2 * macs / r.seconds / 1e12
    assert r.metrics["achieved_tflops"] > 1.5 * whole               # the load phase counts
    console = Console(record=True, width=160)
    r.summary(console)
    text = console.export_text()
    row = next(line for line in text.splitlines() if "achieved_tflops" in line)
    assert "compute phase" in text and "whole run" in text
    assert f"{r.metrics['achieved_tflops']:,.4g}" in row and f"{whole:,.4g}" in row
    stats = r.stats()
    assert "compute phase" in stats["metrics.achieved_tflops"][1]
    assert stats["whole_run.achieved_tflops"][0] == pytest.approx(whole)
    assert stats["whole_run.compute_cycles"][0] == r.cycles
    assert stats["whole_run.compute_pj_per_mac"][0] == pytest.approx(r.energy_pj / macs)
    assert "whole_run.peak_tflops" not in stats            # a device figure, not a phase's


def test_energy_per_token_has_the_whole_step_beside():
    from chipemu.kernels.attention import KVCache, attention
    shape, new = (2, 2, 31, 64), (2, 2, 1, 64)             # a batch of 2: one new token each
    cache = KVCache(shape, shape, max_len=64, device="corsair", mode="timing")
    step = attention(new, new, new, cache=cache)
    stats = step.stats()
    assert stats["whole_run.energy_per_token_pj"][0] == pytest.approx(step.energy_pj / 2)
    assert "compute phase" in stats["metrics.energy_per_token_pj"][1]


def _golden_view(r):
    keep = ("sim.cycles", "energy.total_fj")
    s = {k: v for k, (v, _) in r.stats().items()
         if k in keep or k.startswith(("energy.component.", "ops.", "critical_path.", "phase."))}
    return json.loads(json.dumps(s))


@pytest.mark.parametrize("name", list(GOLDEN_RUNS))
def test_golden_stats(name):
    got = _golden_view(GOLDEN_RUNS[name]())
    path = GOLDEN / f"{name}.json"
    if os.environ.get("CHIPEMU_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert_golden(name, got, json.loads(path.read_text()))
