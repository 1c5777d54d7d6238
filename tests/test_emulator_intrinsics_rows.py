"""vec_add_rows / vec_mul_rows: both twins equal the NumPy reference (emulator/reference/vec.py)
bit for bit, log identical VEC records (add/mul kind, FLAG_ROW_BROADCAST) in both modes, and
report every broken rule with the same class and message.

The calls go through the PROGRAM test kernel's P_VEC_ROWS instruction, so the C and Numba
interpreters run exactly the same calls.
"""
import numpy as np
import pytest

from chipemu.emulator import events
from chipemu.emulator.reference import vec as ref
from testkernels import tile as T
from runtime_helpers import Prog, assert_same_error, log_bytes, machine, state_bytes

BACKENDS = ["c", "numba"]
N = 192                                     # divisible by every row length below
ROW_LENS = [1, 3, 64, N]
OPS = {"add": ref.add_rows, "mul": ref.mul_rows}
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 3e38, -3e38, 1e-38, 2.0 ** -149]


def _values(rng, n):
    """Random float32 with NaN, +-Inf, +-0, subnormals and huge values mixed in."""
    x = (rng.standard_normal(n) * 10).astype(np.float32)
    k = min(n, len(SPECIALS))
    x[:k] = SPECIALS[:k]
    if n > 2 * k:                                           # specials away from row starts too
        at = rng.choice(np.arange(k, n), size=k, replace=False)
        x[at] = SPECIALS[:k]
    return x


def _cases():
    """(op, row_len, in_place) of every call, in program order."""
    return [(op, rl, ip) for ip in (False, True) for op in OPS for rl in ROW_LENS]


def _run(backend, mode, seed=11):
    """One launch on tile 5 running every case; returns (machine, buffers, inputs per case)."""
    rng = np.random.default_rng(seed)
    cases = _cases()
    m = machine(backend, mode)
    a_buf = m.alloc_sram("a", 4 * N)
    b_buf = m.alloc_sram("b", 4 * N * len(cases))
    d_buf = m.alloc_sram("d", 4 * N * len(cases))           # out of place: slot i; in place: a copy
    a = _values(rng, N)
    p, inputs = Prog(), []
    for i, (op, rl, ip) in enumerate(cases):
        b = _values(rng, N // rl)
        if N // rl == 3:                                    # few rows: mix the specials in anyway
            b[:] = [-0.0, 1e-40, np.float32(-2.5)] if op == "add" else [np.inf, -1e-39, 3e-39]
        if N // rl == 1:
            b[:] = [-1e-39] if op == "add" else [np.nan]
        if m.functional:
            m.write(b_buf, b, tile=5, offset=4 * N * i)
            if ip:
                m.write(d_buf, a, tile=5, offset=4 * N * i)
        src_buf, src_off = (d_buf, 4 * N * i) if ip else (a_buf, 0)
        p.vec_rows(op, src_buf, src_off, b_buf, 4 * N * i, d_buf, 4 * N * i, N, rl, tile=5)
        inputs.append(b)
    if m.functional:
        m.write(a_buf, a, tile=5)
    m.launch(T.PROGRAM, [4, 5], p.params(), events_per_tile=len(cases))
    return m, (a_buf, b_buf, d_buf), a, inputs


@pytest.fixture(scope="module")
def runs():
    return {(bk, mode): _run(bk, mode) for bk in BACKENDS for mode in ("functional", "timing")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_equal_to_the_numpy_reference_bit_for_bit(runs, backend):
    m, (_, _, d_buf), a, inputs = runs[backend, "functional"]
    got = m.read(d_buf, tile=5, dtype=np.uint32).reshape(len(inputs), N)
    for i, ((op, rl, ip), b) in enumerate(zip(_cases(), inputs)):
        want = OPS[op](a, b, rl).view(np.uint32)
        bad = np.flatnonzero(got[i] != want)
        assert bad.size == 0, (op, rl, ip, bad[:5], got[i][bad[:5]], want[bad[:5]])
    assert (got[np.isnan(got.view(np.float32))] == 0x7FC00000).all()       # canonical NaN only


def test_reference_covers_the_special_values(runs):
    _, _, a, inputs = runs["c", "functional"]
    out = np.concatenate([OPS[op](a, b, rl) for (op, rl, _), b in zip(_cases(), inputs)])
    bits = out.view(np.uint32)
    assert np.isnan(out).any() and np.isinf(out).any() and (bits == 0x80000000).any()
    assert ((bits & 0x7F800000) == 0).any() and (bits & 0x007FFFFF)[(bits & 0x7F800000) == 0].any()


def test_twins_identical_and_timing_logs_what_functional_logs(runs):
    c, nb = runs["c", "functional"][0], runs["numba", "functional"][0]
    assert state_bytes(c) == state_bytes(nb)
    want = log_bytes(c)
    assert log_bytes(nb) == want
    for backend in BACKENDS:
        assert log_bytes(runs[backend, "timing"][0]) == want


def test_event_records(runs):
    m, (a_buf, b_buf, d_buf), _, _ = runs["c", "functional"]
    ev = m.log.events
    assert len(ev) == len(_cases()) and (ev["tile"] == 5).all() and (ev["op"] == events.OPS["vec"]).all()
    for i, ((op, rl, ip), e) in enumerate(zip(_cases(), ev)):
        assert (e["c"], e["a"], e["b"], e["flags"]) == (events.VOPS[op], N, rl, events.FLAG_ROW_BROADCAST)
        assert (e["fmt"], e["fmt2"], e["unit"], e["peer_count"]) == (-1, -1, 0, 0)
        src = (d_buf, 4 * N * i) if ip else (a_buf, 0)
        assert tuple(e["src0"]) == (*src, 4 * N)
        assert tuple(e["src1"]) == (b_buf, 4 * N * i, 4 * (N // rl))
        assert tuple(e["dst"]) == (d_buf, 4 * N * i, 4 * N)


@pytest.mark.parametrize("backend", BACKENDS)
def test_b_may_overlap_a_and_a_single_row_works(backend):
    m = machine(backend)
    s, d, r = m.alloc_sram("s", 256), m.alloc_sram("d", 256), m.alloc_sram("r", 64)
    x = np.arange(64, dtype=np.float32) - 20
    m.write(s, x, tile=0)
    m.write(r, np.float32([-1.5]), tile=0)
    # b = a's first 8 values (overlapping a is fine: both are only read); then one row of 64 in
    # place on a
    p = Prog().vec_rows("mul", s, 0, s, 0, d, 0, 64, 8).vec_rows("add", s, 0, r, 0, s, 0, 64, 64)
    m.launch(T.PROGRAM, [0], p.params(), events_per_tile=2)
    assert m.read(d, tile=0, dtype=np.float32).tobytes() == ref.mul_rows(x, x[:8], 8).tobytes()
    want = ref.add_rows(x, np.float32([-1.5]), 64)
    assert m.read(s, tile=0, dtype=np.float32).tobytes() == want.tobytes()


# ---- every broken rule: same class and message from both twins and both modes ----

def _setup(m):
    return dict(a=m.alloc_sram("a", 1024), b=m.alloc_sram("b", 1024),
                d=m.alloc_dram("d", 1024))


def _rows(op, *args):
    return lambda b: Prog().vec_rows(op, *[b[x] if isinstance(x, str) else x for x in args])


ERRORS = [
    ("n zero", _rows("add", "a", 0, "b", 0, "a", 0, 0, 1),
     "ShapeError", "vec_add_rows: n=0 is out of range; allowed 1..2147483647"),
    ("row_len zero", _rows("mul", "a", 0, "b", 0, "a", 0, 8, 0),
     "ShapeError", "vec_mul_rows: row_len=0 is out of range; allowed 1..8"),
    ("row_len big", _rows("add", "a", 0, "b", 0, "a", 0, 10, 11),
     "ShapeError", "vec_add_rows: row_len=11 is out of range; allowed 1..10"),
    ("row_len divides", _rows("mul", "a", 0, "b", 0, "a", 0, 10, 3),
     "ShapeError", "vec_mul_rows: n=10 is not a multiple of 3"),
    ("a align", _rows("add", "a", 2, "b", 0, "b", 64, 8, 4),
     "ShapeError", "vec_add_rows: a offset 2 is not a multiple of 4"),
    ("b align", _rows("mul", "a", 0, "b", 6, "a", 0, 8, 4),
     "ShapeError", "vec_mul_rows: b offset 6 is not a multiple of 4"),
    ("dst align", _rows("add", "a", 0, "b", 0, "b", 65, 8, 4),
     "ShapeError", "vec_add_rows: dst offset 65 is not a multiple of 4"),
    ("a range", _rows("add", "a", 1000, "b", 0, "b", 64, 8, 4),
     "ShapeError", "vec_add_rows: a range [1000, 1000+32) lies outside buffer 0 ('a') of 1024 bytes"),
    ("b range", _rows("mul", "a", 0, "b", 4, "a", 0, 256, 1),
     "ShapeError", "vec_mul_rows: b range [4, 4+1024) lies outside buffer 1 ('b') of 1024 bytes"),
    ("dst range", _rows("add", "a", 0, "b", 0, "b", 1000, 8, 2),
     "ShapeError", "vec_add_rows: dst range [1000, 1000+32) lies outside buffer 1 ('b')"),
    ("b kind", _rows("mul", "a", 0, "d", 0, "a", 0, 8, 4),
     "ShapeError", "vec_mul_rows: b buffer 2 ('d') is a DRAM buffer; this operand must be a SRAM"),
    ("buffer id", _rows("add", 7, 0, "b", 0, "a", 0, 8, 4),
     "ShapeError", "vec_add_rows: a=7 is not a buffer id (the machine has 3 buffers)"),
    ("dst/a overlap", _rows("add", "a", 0, "b", 0, "a", 4, 8, 4),
     "ShapeError", "vec_add_rows: dst range [4, 4+32) of buffer 0 ('a') partly overlaps the a range"),
    ("dst/b same start", _rows("mul", "a", 0, "b", 0, "b", 0, 8, 4),
     "ShapeError", "vec_mul_rows: dst range [0, 0+32) of buffer 1 ('b') partly overlaps the b range"),
    ("dst/b overlap", _rows("add", "a", 0, "b", 16, "b", 0, 8, 2),
     "ShapeError", "vec_add_rows: dst range [0, 0+32) of buffer 1 ('b') partly overlaps the b range"),
    ("dst=a and b", _rows("mul", "a", 0, "a", 16, "a", 0, 8, 4),
     "ShapeError", "vec_mul_rows: dst range [0, 0+32) of buffer 0 ('a') partly overlaps the b range"),
    ("events", lambda b: _rows("add", "a", 0, "b", 0, "a", 0, 8, 4)(b).vec_rows(
        "mul", b["a"], 0, b["b"], 0, b["a"], 0, 8, 4),
     "CapacityError", "vec_mul_rows: issued more than events_per_tile=1 events"),
]


@pytest.mark.parametrize("name,build,cls,text", ERRORS, ids=[e[0] for e in ERRORS])
def test_validation_errors(name, build, cls, text):
    assert_same_error(_setup, build, cls, text, events=1 if name == "events" else 4)
