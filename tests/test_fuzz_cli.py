"""Fuzzing the command line (`chipemu` click group, via CliRunner): random kernels, options,
-s NAME=VALUE parameters (valid, careless, hostile) and output paths. Every call exits 0 with a
summary, or 1 with one line naming the bad input (2 for click's usage errors); never a
traceback, never a crash or a hang; an unwritable --trace/--stats is refused before the run."""
import os

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from chipemu.cli.main import main
from chipemu.kernels.registry import commands

from fuzz_strategies import examples, expect, guarded, warm

SMALL = {"matmul": ["--m", "4", "--k", "64", "--n", "16"],
         "scale_rows": ["--rows", "8", "--cols", "16"],
         "rmsnorm": ["--rows", "4", "--hidden", "64"],
         "glu": ["--rows", "4", "--cols", "64"],
         "residual": ["--rows", "4", "--hidden", "64"],
         "layernorm": ["--rows", "4", "--hidden", "64"],
         "embedding": ["--rows", "4", "--hidden", "64", "--vocab", "100"],
         "softmax": ["--rows", "4", "--cols", "64"],
         "argmax": ["--rows", "4", "--vocab", "100"],
         "rope": ["--rows", "2", "--heads", "2", "--head-dim", "8", "--max-positions", "16"],
         "attention": ["--batch", "1", "--heads", "2", "--kv-heads", "1", "--seq", "2",
                       "--kv-len", "20", "--head-dim", "16"]}
KERNELS = sorted(commands())
PARAM_NAMES = ["nbytes", "reps", "rounds", "iterations", "nvec", "a", "b", "link", "senders",
               "chiplet", "fmt", "weight_fmt", "tiles", "seed", "m", "k", "n", "rows", "cols", "hidden",
               "foo", "mode", "backend", "progress"]
PARAM_VALUES = ["1", "0", "-1", "-2", "8", "64", "2.5", "1e9", "True", "None", "'x'", "mxint4",
                "bogus", "[0, 1]", "99999999999999999999999", "100000000", "", "(1,", "3000000"]
OPTION_VALUES = ["4", "0", "-3", "99999999999999999999999", "abc", "1.5", "1e3", ""]


@pytest.fixture(autouse=True, scope="module")
def _warm():
    warm("matmul", "attention", "scale_rows", "microbench")


def _cli_args(data):
    kernel = data.draw(st.sampled_from(KERNELS + ["list", "nope"]), "kernel")
    args = ["run", kernel, "--preset", data.draw(st.sampled_from(["tiny"] * 6 + ["TINY", "bogus"]),
                                                   "preset")]
    args += SMALL.get(kernel, [])
    bad = []
    for _ in range(data.draw(st.integers(0, 2), "n_params")):
        name = data.draw(st.sampled_from(PARAM_NAMES), "name")
        value = data.draw(st.sampled_from(PARAM_VALUES), "value")
        args += ["-s", f"{name}={value}"]
        bad.append(name)
    if data.draw(st.booleans(), "option"):
        opt = data.draw(st.sampled_from(["--m", "--k", "--rows", "--seq", "--head-dim",
                                         "--backend", "--mode", "--network", "--fmt"]), "opt")
        args += [opt, data.draw(st.sampled_from(OPTION_VALUES + ["numba", "timing", "message"]),
                                "opt value")]
        bad.append(opt.lstrip("-").replace("-", "_"))
    return kernel, args, bad


def _invoke(args, small_budget=True):
    env = {"COLUMNS": "150"}
    if small_budget:
        env.update(CHIPEMU_MAX_EVENTS="200000", CHIPEMU_MAX_HOST_BYTES=str(1 << 28))
    r = CliRunner(env=env).invoke(main, args, catch_exceptions=True)
    return r.exit_code, r.output, (type(r.exception).__name__ if r.exception is not None and
                                   not isinstance(r.exception, SystemExit) else None)


def _check(code, output, exc, args, bad, one_line=True):
    assert exc is None, f"{args}: raised {exc}:\n{output[-2000:]}"
    assert "Traceback" not in output, f"{args}: a traceback:\n{output[-2000:]}"
    assert code in (0, 1, 2), f"{args}: exit {code}"
    if code == 1 and one_line:
        lines = [ln for ln in output.strip().splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error:"), \
            f"{args}: not one error line:\n{output[-2000:]}"
    if code:
        assert "Error" in output or (code == 2 and "Usage" in output), \
            f"{args}: exit {code} without an error message:\n{output}"


@examples(80)
@given(st.data())
def test_run_answers_with_a_summary_or_one_named_error(data):
    kernel, args, bad = _cli_args(data)
    backend = "numba" if "numba" in args else "c"

    def body():
        code, output, exc = _invoke(args)
        _check(code, output, exc, args, bad)
        if code and kernel in KERNELS and "bogus" not in args and "TINY" not in args and bad:
            low = output.lower()
            assert any(b.lower() in low or b.replace("_", "-") in low for b in bad), \
                f"{args}: names none of {bad}: {output}"
        return code

    expect(guarded(body, fork=backend == "c"), what=" ".join(args))


@examples(20)
@given(st.sampled_from(["--trace", "--stats"]),
       st.sampled_from(["/proc/chipemu-out", "/dev/null", "FILE", "FILE/sub"]),
       st.sampled_from(["noc_hotspot", "ping_pong", "dram_stream"]))
def test_unwritable_output_paths_are_refused_before_the_run(option, path, kernel):
    def body():
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            p = path
            if "FILE" in path:
                f = os.path.join(tmp, "file")
                open(f, "w").close()
                p = path.replace("FILE", f)
            args = ["run", kernel, "--preset", "tiny", option, p]
            code, output, exc = _invoke(args)
            assert code != 0, f"{args}: accepted an unwritable path"
            assert "binding resource" not in output and "cycles" not in output.lower(), \
                f"{args}: ran before refusing the path:\n{output[-600:]}"
            _check(code, output, exc, args, [option])
            assert option.lstrip("-") in output or p in output, f"{args}: names neither: {output}"
        return True

    expect(guarded(body), what=f"{kernel} {option} {path}")


@examples(15)
@given(st.sampled_from([["presets"], ["presets", "tiny"], ["presets", "bogus"],
                        ["presets", "tiny", "--json"], ["formats"], ["demo", "--size", "0"],
                        ["demo", "--size", "-5"], ["demo", "--size", "99999999999999999999"],
                        ["demo", "--size", "64"],
                        ["run"], ["run", "--help"], ["run", "matmul", "--help"], ["nope"],
                        ["run", "list"], ["--version"]]))
def test_other_commands_answer_cleanly(args):
    def body():
        code, output, exc = _invoke(args, small_budget=False)
        # demo prints its tables as it goes, so an error may follow some output
        _check(code, output, exc, args, [], one_line=args[0] != "demo")
        if code == 1:
            assert output.strip().splitlines()[-1].startswith("Error:"), output[-600:]
        return code

    # demo runs every part once (an LLM response estimate among them): more than a command's 3 s
    expect(guarded(body, fork="numba" not in args, timeout=60 if args[0] == "demo" else 3),
           what=" ".join(args))
