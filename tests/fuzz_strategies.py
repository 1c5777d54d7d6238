"""Shared pieces of the fuzzing suite (tests/test_fuzz_*.py): hypothesis strategies of hostile and
careless values, a forked guard that turns a crash, a hang or a memory blow-up into a test failure,
and the checks every public entry must pass: a ChipemuError naming the argument, or a result whose
figures are sane (no negative or wrapped cycles or energy; breakdowns sum to the total).

Examples per test scale with the hypothesis profile (tests/conftest.py): `examples(n)` is n in the
"ci" profile and 20 x n in "long" (HYPOTHESIS_PROFILE=long).
"""
from __future__ import annotations

import faulthandler
import math
import os
import pickle
import resource
import select
import signal
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from chipemu.emulator.errors import ChipemuError, NativeError

CI_EXAMPLES = 50          # the "ci" profile's max_examples; tests ask for a multiple of it

# per-example guards: a call that runs longer or allocates more is a hang / a blow-up. Legitimate
# examples here (tiny device, small shapes) take milliseconds and a few MB.
TIMEOUT_S = float(os.environ.get("CHIPEMU_FUZZ_TIMEOUT_S", "20"))
SHRINK_TIMEOUT_S = 3.0
_HUNG = set()            # tests (pytest ids) that have hung once


def _test_id():
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
MEM_BYTES = int(os.environ.get("CHIPEMU_FUZZ_MEM_BYTES", str(3 << 30)))


def examples(n: int) -> settings:
    """settings for a test worth n examples in the ci profile, scaled for the active profile."""
    scale = settings.default.max_examples / CI_EXAMPLES
    return settings(max_examples=max(1, int(round(n * scale))))


# ---- the forked guard -----------------------------------------------------------------------

@dataclass
class Outcome:
    """What a guarded call did: value (ok), or the exception raised, or how the child died."""
    value: object = None
    error: str | None = None         # qualified class name of the exception raised
    chipemu: bool = False            # the exception is a ChipemuError
    native: bool = False             # ... a NativeError (a bug if reached through the public API)
    assertion: bool = False          # a check inside the child failed
    message: str = ""
    tb: str = ""
    died: str | None = None          # "hang", "crash (signal N)", "no result"

    @property
    def ok(self):
        return self.error is None and self.died is None


def _vm_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _call(fn) -> Outcome:
    try:
        return Outcome(value=fn())
    except BaseException as exc:     # noqa: BLE001 - every escape is reported to the caller
        return Outcome(error=f"{type(exc).__module__}.{type(exc).__qualname__}",
                       chipemu=isinstance(exc, ChipemuError), native=isinstance(exc, NativeError),
                       assertion=isinstance(exc, AssertionError),
                       message=str(exc)[:4000], tb=traceback.format_exc()[-6000:])


def _child(fn, w, mem_bytes):
    try:
        limit = _vm_bytes() + mem_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        out = _call(fn)
        try:
            data = pickle.dumps(out)
        except Exception as exc:        # noqa: BLE001 - an unpicklable value is a test bug
            data = pickle.dumps(Outcome(error="pickle", message=repr(exc)))
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]
    finally:
        os._exit(0)


def guarded(fn, *, fork=True, timeout=TIMEOUT_S, mem_bytes=MEM_BYTES) -> Outcome:
    """Run fn() in a forked child (the parent's imports and compiled kernels are shared), with
    `timeout` seconds and `mem_bytes` more address space; return its Outcome. A C crash, a hang
    or a MemoryError then fails one example instead of the whole test run.

    fork=False runs fn here, under the same memory limit and a watchdog that ends the whole
    process (with every thread's traceback) past the timeout: for the Numba backend, whose
    OpenMP pool cannot be used in a forked child once the parent used it."""
    if _test_id() in _HUNG:     # after a hang in this test, shrinking it must not cost minutes
        timeout = min(timeout, SHRINK_TIMEOUT_S)
    if not fork:
        return _in_process(fn, timeout, mem_bytes)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(fn, w, mem_bytes)
    os.close(w)
    chunks, end, hung = [], time.monotonic() + timeout, False
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                hung = True
                break
            ready, _, _ = select.select([r], [], [], left)
            if ready:
                b = os.read(r, 1 << 16)
                if not b:
                    break
                chunks.append(b)
    finally:
        os.close(r)
        if hung:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if hung:
        _HUNG.add(_test_id())
        return Outcome(died=f"hang (over {timeout:g} s)")
    if os.WIFSIGNALED(status):
        return Outcome(died=f"crash (signal {os.WTERMSIG(status)})")
    if not chunks:
        return Outcome(died="no result (the child exited without reporting)")
    return pickle.loads(b"".join(chunks))


def _in_process(fn, timeout, mem_bytes):
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_bytes() + mem_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else
                                            min(limit, hard), hard))
    faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        return _call(fn)
    finally:
        faulthandler.cancel_dump_traceback_later()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def expect(out: Outcome, names=(), *, what="", allow_ok=True, allow=ChipemuError.__name__):
    """Fail unless `out` is a result (when allow_ok) or a ChipemuError (not NativeError) whose
    message names one of `names` (any of them; no names: any message)."""
    label = f"[{what}] " if what else ""
    if os.environ.get("CHIPEMU_FUZZ_LOG") and not out.ok:
        print(f"fuzz: {label}{out.died or out.error}: {out.message[:200]}", file=sys.stderr)
    if out.died:
        raise AssertionError(f"{label}{out.died}")
    if out.assertion:
        raise AssertionError(f"{label}a check failed in the child:\n{out.tb}")
    if out.error == "pickle":
        raise AssertionError(f"{label}test bug: {out.message}")
    if out.ok:
        if not allow_ok:
            raise AssertionError(f"{label}accepted; expected a ChipemuError naming {list(names)}")
        return out
    if not out.chipemu:
        raise AssertionError(f"{label}raw {out.error}: {out.message}\n{out.tb}")
    if out.native:
        raise AssertionError(f"{label}NativeError reached through the public API: {out.message}")
    if names and not any(n in out.message for n in names):
        raise AssertionError(f"{label}{out.error} does not name any of {list(names)}: "
                             f"{out.message!r}")
    return out


# ---- figures --------------------------------------------------------------------------------

def check_energy_parts(total, parts: dict, what):
    assert isinstance(total, (int, np.integer)), (what, type(total))
    assert total >= 0, f"{what}: total energy {total} fJ is negative"
    for k, v in parts.items():
        assert v >= 0, f"{what}: energy part {k!r} = {v} fJ is negative (total {total})"
    assert sum(int(v) for v in parts.values()) == total, \
        f"{what}: parts sum to {sum(int(v) for v in parts.values())}, total {total}"


def check_timing(t, what="engine"):
    """An EngineResult: non-negative cycles and energy, every breakdown summing to the total."""
    assert t.makespan_cycles >= 0, f"{what}: makespan {t.makespan_cycles} < 0"
    assert math.isfinite(t.seconds) and t.seconds >= 0, f"{what}: seconds {t.seconds}"
    if len(t.start_cycles):
        assert (t.start_cycles >= 0).all(), f"{what}: a start cycle < 0"
        assert (t.end_cycles >= t.start_cycles).all(), f"{what}: an op ends before it starts"
        assert int(t.end_cycles.max()) <= t.makespan_cycles, f"{what}: an op ends after makespan"
    for kind, parts in t.energy_breakdown.items():
        check_energy_parts(t.energy_fj, parts, f"{what} energy by {kind}")
    if t.energy_fj_event is not None and len(t.energy_fj_event):
        assert (t.energy_fj_event >= 0).all(), f"{what}: an event's energy < 0"
        dyn = int(t.energy_fj_event.sum())
        assert dyn + t.energy_by_component["static"] == t.energy_fj, \
            f"{what}: events' energy {dyn} + static != total {t.energy_fj}"
    busy = t.resources["busy_cycles"]
    assert (busy >= 0).all() and (busy <= max(t.makespan_cycles, 0)).all(), \
        f"{what}: busy cycles outside [0, makespan]"


def check_result(r, what="result"):
    """A kernel Result: sane engine figures, phases and metrics without negatives or NaN."""
    assert r.cycles >= 0 and r.energy_fj >= 0, (what, r.cycles, r.energy_fj)
    check_timing(r.timing, what)
    for p in r.phase_list:
        assert p.cycles >= 0 and p.energy_fj >= 0, f"{what}: phase {p.name} {p.cycles} {p.energy_fj}"
        assert p.cycles <= r.cycles, f"{what}: phase {p.name} longer than the run"
    for k, v in r.metrics.items():
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            assert not math.isnan(v), f"{what}: metric {k} is NaN"
            if any(s in k for s in ("cycles", "energy", "pj", "tflops", "bytes", "macs", "_w")):
                assert v >= 0, f"{what}: metric {k} = {v} is negative"


def figures(r):
    """A small picklable summary of a Result for comparisons across processes."""
    return {"cycles": r.cycles, "energy_fj": r.energy_fj,
            "events": r.events.events.tobytes(), "component": dict(r.energy_breakdown["component"])}


def bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


# ---- strategies -----------------------------------------------------------------------------

def edges(lo, hi):
    """Integers at and just past [lo, hi], and a few inside (log-spread)."""
    inside = st.integers(lo, hi) if hi - lo < 1 << 16 else st.one_of(
        st.integers(lo, lo + 64), st.integers(0, 63).map(lambda e: min(hi, max(lo, 2 ** e))))
    return st.one_of(st.sampled_from([lo, lo + 1, hi - 1, hi, lo - 1, hi + 1]), inside)


# values a careless caller passes where a number, a bool or a name is expected
NOT_NUMBERS = st.sampled_from([True, False, "8", "1e3", "", None, [4], (4,), {"n": 4}, b"4",
                               np.array([4]), 1 + 2j, object])
BAD_FLOATS = st.sampled_from([float("nan"), float("inf"), -float("inf"), -1.0, -0.0, 0.0, 1e-300,
                              1e300, 100.7, 2.5, np.float32(3.0)])
BIG_INTS = st.sampled_from([-1, 0, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 + 1, 2**63 - 1, 2**63,
                            2**64, 10**20, -(2**63), np.int64(2**62), np.uint64(2**64 - 1)])


def hostile_int(lo, hi):
    """Anything a careless caller passes as an integer argument in [lo, hi]."""
    return st.one_of(edges(lo, hi), BIG_INTS, NOT_NUMBERS, BAD_FLOATS,
                     st.integers(lo, min(hi, lo + 8)).map(np.int32),
                     st.integers(lo, min(hi, lo + 8)).map(float))


def hostile_choice(valid):
    """Valid names, their near misses and non-names."""
    valid = list(valid)
    near = [v.upper() for v in valid if isinstance(v, str)] + [v + " " for v in valid if
                                                                isinstance(v, str)]
    return st.one_of(st.sampled_from(valid), st.sampled_from(near or ["x"]),
                     st.sampled_from(["bogus", "", "fp32", "gpu", "numpy"]), NOT_NUMBERS,
                     st.integers(-2, 20))


HOSTILE_BOOL = st.sampled_from([True, False, np.bool_(True), 1, 0, "yes", "False", None, 1.0, []])


_WARM = set()


def warm(*what):
    """Compile (or load) the Numba twins in this process before forking, so each child reuses
    them instead of loading them again (what: "matmul", "attention", "scale_rows", "microbench",
    "numerics")."""
    from chipemu.emulator import Device
    dev = Device.preset("tiny")
    for w in what:
        if w in _WARM:
            continue
        _WARM.add(w)
        try:
            _warm_one(w, dev)
        except ChipemuError:       # a bug under test shows up in the tests themselves
            pass


def _warm_one(w, dev):
    from chipemu.emulator import quantize
    from chipemu.kernels import KVCache, attention, matmul, microbench, scale_rows
    x = np.ones((4, 64), np.float32)
    if w == "matmul":
        for fmt in ("mxint8", "int8", "mxint4", "bfp16", "bfp12"):
            matmul(x, x.T.copy(), fmt=fmt, device=dev, backend="numba")
    elif w == "scale_rows":
        scale_rows(x, np.ones(4, np.float32), device=dev, backend="numba")
    elif w == "attention":
        q = np.ones((1, 2, 3, 16), np.float32)
        kv = np.ones((1, 1, 3, 16), np.float32)
        attention(q, kv, kv, device=dev, backend="numba")
        attention(q, kv, kv, device=dev, backend="numba", path="vector")
        cache = KVCache(kv, kv, max_len=8, heads=2, device=dev, backend="numba")
        attention(q[:, :, :1], kv[:, :, :1], kv[:, :, :1], cache=cache)
    elif w == "microbench":
        for f in microbench.MICROBENCHMARKS.values():
            f(dev, backend="numba")
    elif w == "numerics":
        from chipemu.emulator import FORMATS
        for fmt in FORMATS:
            quantize(x, fmt, backend="numba").dequantize(backend="numba")
