"""Fuzzing the microbenchmarks (dimc_peak, noc_bandwidth, noc_hotspot, d2d_bandwidth, dram_stream,
ping_pong) and the kernels' `run_*` commands with keyword values valid, careless and hostile.
Each call is a ChipemuError naming the argument, or a Result with sane figures that the other
backend and the timing mode reproduce; nothing crashes, hangs or asks for gigabytes. The run
budget refuses what it must before work starts."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipemu.emulator import Device, budget
from chipemu.kernels import microbench
from chipemu.kernels.registry import commands

from fuzz_strategies import (NOT_NUMBERS, BAD_FLOATS, check_result, examples, expect, figures,
                             guarded, hostile_choice, hostile_int, warm)

TINY = Device.preset("tiny")
FMTS = ["int8", "mxint8", "mxint4", "bfp16", "bfp12"]

# per benchmark: its integer keywords with a sensible range, and its other keywords
INTS = {
    "dimc_peak": {"nvec": (1, 64), "iterations": (1, 16), "seed": (0, 5)},
    "noc_bandwidth": {"nbytes": (1, 8192), "chiplet": (0, 3)},
    "noc_hotspot": {"senders": (1, 3), "nbytes": (1, 8192), "chiplet": (0, 3)},
    "d2d_bandwidth": {"link": (0, 3), "nbytes": (1, 8192)},
    "dram_stream": {"nbytes": (1, 16384), "reps": (1, 16)},
    "ping_pong": {"a": (0, 15), "b": (0, 15), "nbytes": (1, 4096), "rounds": (1, 8)},
}
OTHER = {"dimc_peak": {"fmt": hostile_choice(FMTS), "weight_fmt": hostile_choice(FMTS + [None]),
                       "tiles": st.sampled_from([[0], [0, 3], [], [16], [-1], [1, 1], "all", 3,
                                                 [True], [0.5]])}}
COMMON = {"backend": hostile_choice(["c", "numba"]), "mode": hostile_choice(["functional", "timing"]),
          "network": hostile_choice(["packet", "message", None]),
          "progress": st.sampled_from([5, "bar"]), "colour": st.just(1)}


@pytest.fixture(autouse=True, scope="module")
def _warm():
    warm("microbench")


def _kwarg(bench):
    """(name, value): one keyword of `bench`, valid or hostile."""
    ints = {k: hostile_int(lo, hi) for k, (lo, hi) in INTS[bench].items()}
    table = {**ints, **OTHER.get(bench, {}), **COMMON}
    return st.sampled_from(sorted(table)).flatmap(lambda k: st.tuples(st.just(k), table[k]))


CASE = st.sampled_from(sorted(INTS)).flatmap(lambda b: st.tuples(st.just(b), _kwarg(b)))


def _valid_ints(bench, data):
    kw = {k: data.draw(st.integers(lo, hi), k) for k, (lo, hi) in INTS[bench].items()
          if data.draw(st.booleans(), f"set {k}")}
    a = kw.get("a", 0)                         # ping_pong's default b: the last tile of a's chiplet
    if bench == "ping_pong" and a == kw.get("b", a // 4 * 4 + 3):
        kw.pop("b", None)
        kw.pop("a", None)
    return kw


@examples(150)
@given(CASE, st.data())
def test_microbenchmarks_name_bad_keywords_or_run_sanely(case, data):
    bench, (name, value) = case
    kw = _valid_ints(bench, data)
    kw[name] = value
    fn = microbench.MICROBENCHMARKS[bench]
    names = (name, "budget")        # a size beyond the small budget below: the budget's refusal

    def body():
        # a small budget: an accepted keyword must not start a huge run (it would be refused)
        with budget(max_events=200_000, max_host_bytes=256 << 20):
            r = fn(TINY, **kw)
        check_result(r, bench)
        if kw.get("mode", "functional") == "functional":
            with budget(max_events=200_000, max_host_bytes=256 << 20):
                t = fn(TINY, **{**kw, "mode": "timing"})
            assert (t.cycles, t.energy_fj) == (r.cycles, r.energy_fj), "timing mode differs"
        if kw.get("backend") == "numba":       # the C twin (run here: Numba is in-process)
            with budget(max_events=200_000, max_host_bytes=256 << 20):
                o = fn(TINY, **{**kw, "backend": "c"})
            assert figures(o) == figures(r), "the C backend differs"
        _check_metrics(bench, kw, r)
        return True

    expect(guarded(body, fork=kw.get("backend") != "numba"), names=names,
           what=f"{bench}({', '.join(f'{k}={v!r}' for k, v in kw.items())})")


def _check_metrics(bench, kw, r):
    """The keywords given are the ones used (no silent coercion)."""
    plan = r.plan or {}
    for key in ("nbytes", "reps", "rounds", "iterations", "nvec", "a", "b", "link"):
        if key in kw and key in plan and kw[key] is not None:
            assert type(kw[key]) is not bool and plan[key] == kw[key], \
                f"{key}={kw[key]!r} was used as {plan[key]!r}"
    for key in ("rounds", "iterations", "reps"):
        if key in kw:
            assert kw[key] >= 1, f"{key}={kw[key]!r} accepted"
    assert r.cycles > 0, f"{bench}: a run of zero cycles"


HUGE = st.sampled_from([
    ("ping_pong", {"rounds": 100_000_000}), ("ping_pong", {"rounds": 10**12}),
    ("dimc_peak", {"iterations": 3_000_000}), ("dimc_peak", {"iterations": 10**9}),
    ("dimc_peak", {"nvec": 10**9, "mode": "timing"}), ("dimc_peak", {"nvec": 2**31}),
    ("dram_stream", {"nbytes": 65536, "reps": 32}), ("dram_stream", {"nbytes": 2**32 - 1}),
    ("dram_stream", {"reps": 10**9}), ("noc_bandwidth", {"nbytes": 2**31}),
    ("noc_hotspot", {"nbytes": 2**30}), ("d2d_bandwidth", {"nbytes": 2**32}),
    ("ping_pong", {"nbytes": 2**31 - 1}), ("matmul", {"m": 1, "k": 10**12, "n": 1}),
    ("matmul", {"m": 2**31, "k": 64, "n": 64}), ("scale_rows", {"rows": 10**12, "cols": 4}),
    ("attention", {"batch": 10**12, "heads": 1, "kv_heads": 1, "seq": 1, "kv_len": 1,
                   "head_dim": 8})])


@examples(34)
@given(HUGE, st.sampled_from(["functional", "timing"]))
def test_huge_runs_are_refused_before_work(case, mode):
    """Runs far beyond the device or the budget: a named error, fast, without memory."""
    bench, kw = case
    kw = {"mode": mode, **kw}
    fn = microbench.MICROBENCHMARKS.get(bench) or commands()[bench]

    def body():
        # a budget of a million events and 512 MiB (the default budget admits runs of minutes)
        with budget(max_events=1_000_000, max_host_bytes=512 << 20):
            r = fn(TINY, **kw)
        check_result(r, bench)
        assert bench != "dram_stream" or r.plan["nbytes"] * r.plan["reps"] <= \
            TINY.chiplet.dram.capacity_bytes, "read beyond the DRAM channel's capacity"
        return True

    expect(guarded(body, timeout=20, mem_bytes=2 << 30), names=tuple(kw) + ("capacity", "budget"),
           what=f"{bench}({kw})")


RUN_PARAMS = {"matmul": {"m": (1, 16), "k": (1, 100), "n": (1, 40)},
              "scale_rows": {"rows": (1, 20), "cols": (1, 40)},
              "attention": {"batch": (1, 2), "heads": (1, 2), "kv_heads": (1, 2), "seq": (1, 4),
                            "kv_len": (1, 40), "head_dim": (8, 32)}}


@examples(60)
@given(st.sampled_from(sorted(RUN_PARAMS)), st.data())
def test_run_commands_name_bad_parameters(kernel, data):
    params = RUN_PARAMS[kernel]
    kw = {k: data.draw(st.integers(lo, hi), k) for k, (lo, hi) in params.items()}
    if kernel == "attention":             # query heads a multiple of the key/value heads
        kw["heads"] = kw["kv_heads"] * data.draw(st.integers(1, 2), "group")
    name = data.draw(st.sampled_from(sorted(params) + ["mode", "backend", "colour", "fmt"]), "bad")
    value = data.draw(st.one_of(hostile_int(-1, 10**12), NOT_NUMBERS, BAD_FLOATS,
                                st.sampled_from(["mxint8", "fp32", "timing"])), "value")
    kw[name] = value
    fn = commands()[kernel]

    def body():
        with budget(max_events=200_000, max_host_bytes=256 << 20):
            r = fn(TINY, **kw)
        check_result(r, kernel)
        return True

    # a size beyond the run budget is refused by the budget, naming the figure and the limit
    expect(guarded(body, fork=kw.get("backend") != "numba"), names=(name, "budget"),
           what=f"run_{kernel}({kw})")
