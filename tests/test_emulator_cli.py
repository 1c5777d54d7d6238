"""The chipemu command line, run as a user would."""
import re

import numpy as np
from click.testing import CliRunner

from chipemu.cli.main import main
from chipemu.cli.demo import format_errors, reference_tensors


def test_demo_prints_every_format_for_both_tensors():
    result = CliRunner(env={"COLUMNS": "150"}).invoke(main, ["demo", "--size", "8192"])
    assert result.exit_code == 0, result.output
    assert "gaussian" in result.output and "heavy-tailed" in result.output
    for name in ("mxint8", "mxfp4_e2m1", "bfp16", "int8", "fp16"):
        assert len(re.findall(rf"│ {name} ", result.output)) == 2


def test_formats_lists_the_registry():
    result = CliRunner(env={"COLUMNS": "150"}).invoke(main, ["formats"])
    assert result.exit_code == 0 and "mxfp8_e4m3" in result.output and "8.125" in result.output


def test_format_errors_rank_and_measure():
    x = reference_tensors(1 << 14, seed=1)["gaussian N(0,1)"]
    rows = {r.fmt: r for r in format_errors(x, backend="numba")}
    assert rows["fp32"].sqnr_db == np.inf and rows["fp32"].max_abs_error == 0
    # more bits, less noise: each added element bit is worth about 6 dB
    assert rows["fp16"].sqnr_db > rows["bf16"].sqnr_db > rows["mxint8"].sqnr_db > rows["mxint4"].sqnr_db
    assert 35 < rows["mxint8"].sqnr_db < 45 and rows["mxint8"].nbytes == x.size * 33 // 32


def test_bad_option_is_a_clear_error():
    result = CliRunner().invoke(main, ["demo", "--backend", "gpu"])
    assert result.exit_code == 2 and "'gpu' is not one of" in result.output


def test_run_writes_a_trace_and_stats(tmp_path):
    import json
    out = tmp_path / "out"
    result = CliRunner(env={"COLUMNS": "150"}).invoke(
        main, ["run", "noc_hotspot", "--preset", "tiny", "--trace", str(out), "--stats", str(out),
               "-s", "senders=3", "-s", "nbytes=2048"])
    assert result.exit_code == 0, result.output
    assert "binding resource" in result.output
    doc = json.loads((out / "trace.json").read_text())
    assert doc["traceEvents"] and (out / "stats.txt").exists() and (out / "config.json").exists()


def test_run_lists_kernels_and_rejects_bad_input():
    runner = CliRunner()
    listed = runner.invoke(main, ["run", "list"])
    assert listed.exit_code == 0 and "dimc_peak" in listed.output and "ping_pong" in listed.output
    bad = runner.invoke(main, ["run", "nope"])
    assert bad.exit_code == 2 and "choose one of" in bad.output
    bad = runner.invoke(main, ["run", "noc_hotspot", "--preset", "tiny", "-s", "senders=99"])
    assert bad.exit_code == 1 and "senders=99" in bad.output
    bad = runner.invoke(main, ["run", "noc_hotspot", "--preset", "tiny", "-s", "colour=3"])
    assert bad.exit_code == 1 and "colour" in bad.output
