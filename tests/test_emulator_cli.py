"""The chipemu command line, run as a user would."""
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli.main import main
from chipemu.cli.demo import decode_line, format_errors, reference_tensors


def test_demo_prints_every_format_for_both_tensors():
    result = CliRunner(env={"COLUMNS": "150"}).invoke(main, ["demo", "--size", "8192"])
    assert result.exit_code == 0, result.output
    assert "gaussian" in result.output and "heavy-tailed" in result.output
    for name in ("mxint8", "mxfp4_e2m1", "bfp16", "int8", "fp16"):
        assert len(re.findall(rf"│ {name} ", result.output)) == 2
    text = " ".join(result.output.split())
    assert "in the attention (compute phase)" in text and "for the whole step" in text
    assert "llama-3.2-1b, batch 1, 64+64 tokens" in text and "mL water per response" in text


def test_demo_energy_per_token_is_labelled_by_what_it_covers():
    # the issue: 64.129 µJ per token was printed twice, once under "with its I/O"
    from chipemu.kernels.attention import decode_step
    fill, step = decode_step("corsair")
    line = decode_line(fill, step)
    compute = re.search(r"([\d.]+) (\S?J) in the attention \(compute phase\)", line)
    whole = re.search(r"([\d.]+) (\S?J) for the whole step", line)
    unit = {"mJ": 1e9, "µJ": 1e6, "nJ": 1e3, "J": 1e12}
    per_token = step.metrics["energy_per_token_pj"]
    assert float(compute[1]) * unit[compute[2]] == pytest.approx(per_token, rel=1e-3)
    tokens = 16                                     # the demo's batch, one new token each
    assert float(whole[1]) * unit[whole[2]] == pytest.approx(step.energy_pj / tokens, rel=1e-3)
    assert step.energy_pj / tokens > 10 * per_token     # the I/O and static power dominate


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
    assert bad.exit_code == 2 and "colour" in bad.output


# -- chipemu run: per-kernel help, one-line errors, outputs checked before the run ------------

def _one_line_error(result, code, *needles):
    """The run failed with exit `code` and one line naming every needle, no traceback."""
    out = result.output.strip()
    assert result.exit_code == code, result.output
    assert out.count("\n") == 0 and out.startswith("Error: "), out
    assert "Traceback" not in out and result.exc_info[0] is SystemExit
    for needle in needles:
        assert needle in out, (needle, out)


def test_run_help_lists_each_kernels_parameters_with_types_and_defaults():
    runner = CliRunner(env={"COLUMNS": "200"})
    mm = runner.invoke(main, ["run", "matmul", "--help"]).output
    peak = runner.invoke(main, ["run", "dimc_peak", "--help"]).output
    assert "Parameters (-s NAME=VALUE" in mm and "Parameters (-s NAME=VALUE" in peak
    assert re.search(r"m \(int\)\s+default: 4096; also --m", mm)
    assert re.search(r"weight_fmt \(str\)\s+default: chosen by the kernel", mm)
    assert re.search(r"seed \(int\)\s+default: 0", mm)
    assert re.search(r"iterations \(int\)\s+default: 8", peak)
    assert re.search(r"fmt \(str\)\s+default: 'mxint8'", peak)
    assert "--m " not in peak and "iterations" not in mm          # each its own
    assert "--k INTEGER" in mm and "[default: 4096]" in mm


def test_run_list_gives_whole_first_sentences():
    from chipemu.cli.params import first_sentence
    from chipemu.kernels.registry import commands
    listed = " ".join(CliRunner(env={"COLUMNS": "80"}).invoke(main, ["run", "list"]).output.split())
    for name, fn in commands().items():
        sentence = " ".join(first_sentence(fn.__doc__).split())
        assert sentence.endswith(".") and f"{name} {sentence}" in listed, name
    assert "starts on every tile at once." in listed          # was cut after "weights and"


def test_unknown_parameter_names_the_valid_ones():
    result = CliRunner().invoke(main, ["run", "dimc_peak", "--preset", "tiny", "-s", "foo=1"])
    _one_line_error(result, 2, "foo", "allowed:", "iterations", "nvec", "weight_fmt")
    assert "unexpected keyword" not in result.output
    result = CliRunner().invoke(main, ["run", "dimc_peak", "--preset", "tiny", "--m", "5"])
    _one_line_error(result, 2, "--m")


@pytest.mark.parametrize("args, needles", [
    (["--m", "99999999999999999999999"], ["--m", "64-bit"]),
    (["--m", "-99999999999999999999999"], ["--m", "64-bit"]),
    (["-s", "k=99999999999999999999999"], ["k=99999999999999999999999", "64-bit"]),
    (["-s", "k=1e999"], ["k=inf", "finite"]),
    (["--m", "abc"], ["--m", "abc"]),
    (["-s", "k"], ["NAME=VALUE"]),
])
def test_bad_values_are_one_line_usage_errors(args, needles):
    result = CliRunner().invoke(main, ["run", "matmul", "--preset", "tiny", *args])
    _one_line_error(result, 2, *needles)


def test_chipemu_errors_are_one_line_and_zero_is_passed_on():
    # --rows 0 used to be dropped as "not given" (0 == False) and the default ran instead
    result = CliRunner().invoke(main, ["run", "scale_rows", "--preset", "tiny", "--rows", "0"])
    _one_line_error(result, 1, "ShapeError", "rows=0")
    result = CliRunner().invoke(main, ["run", "matmul", "--preset", "nosuch"])
    _one_line_error(result, 1, "ConfigError", "nosuch")


def test_any_other_exception_is_one_line_too(monkeypatch):
    import chipemu.cli.run as cli_run

    def boom(device=None, *, backend="c", mode="functional", x=1):
        """Raise a bug."""
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(cli_run, "_registry", lambda: {"boom": (boom, ())})
    result = CliRunner().invoke(main, ["run", "boom", "--preset", "tiny"])
    _one_line_error(result, 70, "boom", "ZeroDivisionError", "CHIPEMU_TRACEBACK=1")


@pytest.mark.parametrize("option", ["--trace", "--stats"])
def test_unwritable_outputs_are_refused_before_the_run(tmp_path, option):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for target, why in ((afile, "is not a directory"), (afile / "sub", "is not a directory")):
        result = CliRunner().invoke(main, ["run", "noc_hotspot", "--preset", "tiny",
                                           option, str(target)])
        _one_line_error(result, 2, option, str(target), why)
        assert "binding resource" not in result.output           # no run, no summary
    assert afile.read_text() == "x"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_a_directory_no_file_can_be_written_in_is_refused_before_the_run():
    # permissions alone pass /proc for root: the check writes a probe file
    result = CliRunner().invoke(main, ["run", "noc_hotspot", "--preset", "tiny", "--trace",
                                       "/proc/self/chipemu-out"])
    _one_line_error(result, 2, "--trace", "/proc/self/chipemu-out", "not writable")
    assert "binding resource" not in result.output


def test_the_probe_leaves_no_directory_behind(tmp_path):
    out = tmp_path / "a" / "b"
    result = CliRunner().invoke(main, ["run", "noc_hotspot", "--preset", "tiny", "--trace",
                                       str(out), "-s", "nope=1"])
    assert result.exit_code == 2 and not (tmp_path / "a").exists()


def test_output_paths_are_the_files_written(tmp_path):
    out = tmp_path / "new" / "dir"
    result = CliRunner(env={"COLUMNS": "300"}).invoke(
        main, ["run", "noc_hotspot", "--preset", "tiny", "--trace", str(out), "--stats", str(out)])
    assert result.exit_code == 0, result.output
    assert f"trace: {out / 'trace.json'}" in result.output
    assert f"stats: {out / 'stats.txt'}" in result.output


HOSTILE = ["True", "'x'", "-1", "[1]", "1.5", "99999999999999999999"]


def test_hostile_parameter_values_get_one_line_named_errors():
    """Every -s parameter of every kernel, given values of the wrong type or range: a run, or a
    one-line ChipemuError (exit 1) or usage error (exit 2), never another exception (exit 70)."""
    from chipemu.cli.params import parameters
    from chipemu.cli.run import _registry
    runner, tried, refused, wrong = CliRunner(), 0, 0, []
    for kernel, (fn, options) in _registry().items():
        for name in parameters(fn, options):
            for value in HOSTILE:
                r = runner.invoke(main, ["run", kernel, "--preset", "tiny", "--mode", "timing",
                                         "-s", f"{name}={value}"])
                tried += 1
                refused += r.exit_code != 0
                if r.exit_code not in (0, 1, 2) or (r.exit_code and r.output.strip().count("\n")):
                    wrong.append(f"{kernel} -s {name}={value}: {r.output.strip()}")
    assert not wrong, "\n".join(wrong)
    assert tried > 200 and refused > 0.9 * tried


@pytest.mark.parametrize("args, needles", [
    (["--size", "0"], ["--size", "0"]), (["--size", "-5"], ["--size"]),
    (["--seed", "-1"], ["--seed"]),
    (["--size", "9999999999"], ["--size", "budget", "CHIPEMU_MAX_HOST_BYTES"]),
    (["--size", "99999999999999999999"], ["--size", "99999999999999999999"]),
])
def test_demo_refuses_bad_sizes_before_work(args, needles):
    # the issue: a negative or huge --size ended in a NumPy traceback
    _one_line_error(CliRunner().invoke(main, ["demo", *args]), 2, *needles)


def test_a_parameter_given_twice_differently_is_refused():
    result = CliRunner().invoke(main, ["run", "scale_rows", "--preset", "tiny", "--rows", "8",
                                       "-s", "rows=9"])
    _one_line_error(result, 2, "rows", "twice", "9")
