"""vec_dot: both twins equal the NumPy reference (emulator/reference/vec.py `dot`) bit for bit,
log identical VEC records (mul kind, a = 2 * rows_a * rows_b * row_len, FLAG_DOT, + ACCUMULATE)
in both modes, and report every broken rule with the same class and message.

The calls go through the PROGRAM test kernel's P_VEC_DOT instruction, so the C and Numba
interpreters run exactly the same calls.
"""
import numpy as np
import pytest

from chipemu.emulator import events
from chipemu.emulator.reference import vec as ref
from testkernels import tile as T
from runtime_helpers import Prog, assert_same_error, log_bytes, machine, state_bytes

BACKENDS = ["c", "numba"]
# (rows_a, rows_b, row_len): the smallest, odd sizes, a big one, a single b row, a single k
SHAPES = [(1, 1, 1), (3, 5, 7), (16, 64, 128), (6, 1, 33), (4, 9, 1)]
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 3e38, -3e38, 1e-38, 2.0 ** -149]
TILE = 5


def _values(rng, n, scale=10.0):
    """Random float32 with NaN, +-Inf, +-0, subnormals and huge values mixed in at random places
    (sparsely, so most dot products stay finite and exercise the rounding)."""
    x = (rng.standard_normal(n) * scale).astype(np.float32)
    k = min(n, len(SPECIALS))
    at = rng.choice(n, size=k, replace=False) if n > 4 * k else np.arange(k)
    x[at] = SPECIALS[:k]
    return x


def _cases():
    """(rows_a, rows_b, row_len, accumulate) of every call, in program order."""
    return [(*s, acc) for acc in (0, 1) for s in SHAPES]


def _inputs(seed=7):
    rng = np.random.default_rng(seed)
    out = []
    for ra, rb, rl, acc in _cases():
        a, b = _values(rng, ra * rl), _values(rng, rb * rl)
        if ra * rl == 1:                                     # 1x1x1: products of specials
            a[:], b[:] = [-0.0], [3e-39] if acc else [np.inf]
        if rl == 1 and ra == 4:          # one product each: subnormal, overflow, 0 * inf, NaN
            a[:] = [np.nan, -np.inf, 0.5, -3.0]
        old = _values(rng, ra * rb, 1e3)
        if ra * rb >= 64:                # cancellation against the accumulated sums, and overflow
            old[:4] = [-1e38, 3.4e38, -3.4e38, 1e-45]
        out.append((a, b, old))
    return out


def _run(backend, mode):
    """One launch on tiles 4, 5; tile 5 runs every case (a, b, dst at their own offsets)."""
    cases, data = _cases(), _inputs()
    m = machine(backend, mode, sram_capacity_bytes=1 << 20)
    asz = sum(4 * ra * rl for ra, _, rl, _ in cases)
    bsz = sum(4 * rb * rl for _, rb, rl, _ in cases)
    dsz = sum(4 * ra * rb for ra, rb, _, _ in cases)
    a_buf, b_buf, d_buf = m.alloc_sram("a", asz), m.alloc_sram("b", bsz), m.alloc_sram("d", dsz)
    p, ao, bo, do, offs = Prog(), 0, 0, 0, []
    for (ra, rb, rl, acc), (a, b, old) in zip(cases, data):
        if m.functional:
            m.write(a_buf, a, tile=TILE, offset=ao)
            m.write(b_buf, b, tile=TILE, offset=bo)
            m.write(d_buf, old, tile=TILE, offset=do)
        p.vec_dot(a_buf, ao, b_buf, bo, d_buf, do, ra, rb, rl, acc, tile=TILE)
        offs.append((ao, bo, do))
        ao, bo, do = ao + a.nbytes, bo + b.nbytes, do + old.nbytes
    m.launch(T.PROGRAM, [4, 5], p.params(), events_per_tile=len(cases))
    return m, (a_buf, b_buf, d_buf), offs


@pytest.fixture(scope="module")
def runs():
    return {(bk, mode): _run(bk, mode) for bk in BACKENDS for mode in ("functional", "timing")}


def _want(case, data):
    (ra, rb, rl, acc), (a, b, old) = case, data
    return ref.dot(a, b, ra, rb, rl, old if acc else None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_equal_to_the_numpy_reference_bit_for_bit(runs, backend):
    m, (_, _, d_buf), offs = runs[backend, "functional"]
    got_all = m.read(d_buf, tile=TILE, dtype=np.uint32)
    for case, data, (_, _, do) in zip(_cases(), _inputs(), offs):
        want = _want(case, data).view(np.uint32)
        got = got_all[do // 4: do // 4 + want.size]
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (case, bad[:5], got[bad[:5]], want[bad[:5]])
    assert (got_all[np.isnan(got_all.view(np.float32))] == 0x7FC00000).all()   # canonical NaN only
    assert not m.read(d_buf, tile=4).any()                  # tile 4 ran nothing


def test_reference_is_the_sequential_float32_loop():
    """The vectorized reference equals the scalar loop of the spec (and is not np.dot's order)."""
    rng = np.random.default_rng(3)
    ra, rb, rl = 3, 4, 300
    a, b = _values(rng, ra * rl, 1e4), _values(rng, rb * rl, 1e4)
    a[np.isnan(a) | np.isinf(a)] = 1.0
    b[np.isnan(b) | np.isinf(b)] = 1.0
    old = _values(rng, ra * rb)
    want = np.empty(ra * rb, np.float32)
    with np.errstate(all="ignore"):
        for i in range(ra):
            for j in range(rb):
                s = np.float32(0.0)
                for k in range(rl):
                    s = np.float32(s + np.float32(a[i * rl + k] * b[j * rl + k]))
                want[i * rb + j] = np.float32(old[i * rb + j] + s)
    assert ref.dot(a, b, ra, rb, rl, old).tobytes() == ref.canonical(want).tobytes()
    # +0 start: a row of -0 products gives +0
    assert ref.dot([-0.0, -0.0], [1.0, 1.0], 1, 1, 2).view(np.uint32)[0] == 0
    with pytest.raises(ValueError):
        ref.dot(a, b, ra, rb, rl + 1)


def test_reference_covers_the_special_values():
    out = np.concatenate([_want(c, d) for c, d in zip(_cases(), _inputs())])
    bits = out.view(np.uint32)
    assert np.isnan(out).any() and np.isinf(out).any() and (bits == 0).any()
    assert (bits & 0x007FFFFF)[(bits & 0x7F800000) == 0].any()              # subnormal results
    assert not (bits == 0x80000000).any()           # sums start at +0: never -0 (-0 + +0 = +0)
    assert np.isfinite(out).mean() > 0.5


def test_twins_identical_and_timing_logs_what_functional_logs(runs):
    c, nb = runs["c", "functional"][0], runs["numba", "functional"][0]
    assert state_bytes(c) == state_bytes(nb)
    want = log_bytes(c)
    assert log_bytes(nb) == want
    for backend in BACKENDS:
        assert log_bytes(runs[backend, "timing"][0]) == want


def test_event_records(runs):
    m, (a_buf, b_buf, d_buf), offs = runs["c", "functional"]
    ev = m.log.events
    assert len(ev) == len(_cases()) and (ev["tile"] == TILE).all()
    assert (ev["op"] == events.OPS["vec"]).all() and (ev["c"] == events.VOPS["mul"]).all()
    for (ra, rb, rl, acc), e, (ao, bo, do) in zip(_cases(), ev, offs):
        flags = events.FLAG_DOT | (events.FLAG_ACCUMULATE if acc else 0)
        assert (e["a"], e["b"], e["flags"]) == (2 * ra * rb * rl, rl, flags)
        assert (e["fmt"], e["fmt2"], e["unit"], e["peer_first"], e["peer_count"]) == (-1, -1, 0, 0, 0)
        assert tuple(e["src0"]) == (a_buf, ao, 4 * ra * rl)
        assert tuple(e["src1"]) == (b_buf, bo, 4 * rb * rl)
        assert tuple(e["dst"]) == (d_buf, do, 4 * ra * rb)
        # self-describing (docs/events.md): the shape follows from b and the range lengths
        rows_b = e["src1"]["len"] // (4 * e["b"])
        assert (e["dst"]["len"] // (4 * rows_b), rows_b) == (ra, rb)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_and_b_may_overlap(backend):
    """a . a^T (same range) and b starting inside a: both operands are only read."""
    m = machine(backend)
    s, d = m.alloc_sram("s", 256), m.alloc_sram("d", 256)
    x = (np.arange(64, dtype=np.float32) - 20) * np.float32(0.37)
    m.write(s, x, tile=0)
    p = Prog().vec_dot(s, 0, s, 0, d, 0, 4, 4, 16).vec_dot(s, 0, s, 32, d, 64, 2, 3, 8)
    m.launch(T.PROGRAM, [0], p.params(), events_per_tile=2)
    got = m.read(d, tile=0, dtype=np.float32)
    assert got[:16].tobytes() == ref.dot(x, x, 4, 4, 16).tobytes()
    assert got[16:22].tobytes() == ref.dot(x[:16], x[8:32], 2, 3, 8).tobytes()


# ---- every broken rule: same class and message from both twins and both modes ----

def _setup(m):
    return dict(a=m.alloc_sram("a", 1024), b=m.alloc_sram("b", 1024),
                d=m.alloc_dram("d", 1024))


def _dot(*args):
    return lambda b: Prog().vec_dot(*[b[x] if isinstance(x, str) else x for x in args])


MAX = 2147483647
ERRORS = [
    ("rows_a zero", _dot("a", 0, "b", 0, "a", 512, 0, 2, 4),
     "ShapeError", "vec_dot: rows_a=0 is out of range; allowed 1..2147483647"),
    ("rows_a big", _dot("a", 0, "b", 0, "a", 512, MAX + 1, 2, 4),
     "ShapeError", "vec_dot: rows_a=2147483648 is out of range; allowed 1..2147483647"),
    ("rows_b zero", _dot("a", 0, "b", 0, "a", 512, 2, 0, 4),
     "ShapeError", "vec_dot: rows_b=0 is out of range; allowed 1..1073741823"),
    ("rows_a*rows_b", _dot("a", 0, "b", 0, "a", 512, 65536, 32768, 1),
     "ShapeError", "vec_dot: rows_b=32768 is out of range; allowed 1..32767"),
    ("row_len zero", _dot("a", 0, "b", 0, "a", 512, 2, 2, 0),
     "ShapeError", "vec_dot: row_len=0 is out of range; allowed 1..536870911"),
    ("rows_a*rows_b*row_len", _dot("a", 0, "b", 0, "a", 512, 1024, 1024, 2049),
     "ShapeError", "vec_dot: row_len=2049 is out of range; allowed 1..2047"),
    ("accumulate", _dot("a", 0, "b", 0, "a", 512, 2, 2, 4, 2),
     "ShapeError", "vec_dot: accumulate=2 is out of range; allowed 0..1"),
    ("buffer id", _dot(7, 0, "b", 0, "a", 512, 2, 2, 4),
     "ShapeError", "vec_dot: a=7 is not a buffer id (the machine has 3 buffers)"),
    ("a range", _dot("a", 1000, "b", 0, "a", 0, 2, 2, 4),
     "ShapeError", "vec_dot: a range [1000, 1000+32) lies outside buffer 0 ('a') of 1024 bytes"),
    ("a align", _dot("a", 2, "b", 0, "a", 512, 2, 2, 4),
     "ShapeError", "vec_dot: a offset 2 is not a multiple of 4"),
    ("b kind", _dot("a", 0, "d", 0, "a", 512, 2, 2, 4),
     "ShapeError", "vec_dot: b buffer 2 ('d') is a DRAM buffer; this operand must be a SRAM"),
    ("b range", _dot("a", 0, "b", 4, "a", 512, 1, 256, 1),
     "ShapeError", "vec_dot: b range [4, 4+1024) lies outside buffer 1 ('b') of 1024 bytes"),
    ("b align", _dot("a", 0, "b", 6, "a", 512, 2, 2, 4),
     "ShapeError", "vec_dot: b offset 6 is not a multiple of 4"),
    ("dst range", _dot("a", 0, "b", 0, "b", 1020, 2, 2, 4),
     "ShapeError", "vec_dot: dst range [1020, 1020+16) lies outside buffer 1 ('b')"),
    ("dst align", _dot("a", 0, "b", 0, "b", 65, 2, 2, 4),
     "ShapeError", "vec_dot: dst offset 65 is not a multiple of 4"),
    ("dst = a", _dot("a", 0, "b", 0, "a", 0, 2, 2, 4),
     "ShapeError", "vec_dot: dst range [0, 0+16) of buffer 0 ('a') partly overlaps the a range"),
    ("dst in a", _dot("a", 0, "b", 0, "a", 16, 2, 2, 4),
     "ShapeError", "vec_dot: dst range [16, 16+16) of buffer 0 ('a') partly overlaps the a range"),
    ("dst = b", _dot("a", 0, "b", 0, "b", 0, 2, 2, 4),
     "ShapeError", "vec_dot: dst range [0, 0+16) of buffer 1 ('b') partly overlaps the b range"),
    ("dst over a and b", _dot("a", 0, "a", 64, "a", 56, 2, 2, 4),
     "ShapeError", "vec_dot: dst range [56, 56+16) of buffer 0 ('a') partly overlaps the b range"),
    ("events", lambda b: _dot("a", 0, "b", 0, "a", 512, 2, 2, 4)(b).vec_dot(
        b["a"], 0, b["b"], 0, b["a"], 512, 2, 2, 4),
     "CapacityError", "vec_dot: issued more than events_per_tile=1 events"),
]


@pytest.mark.parametrize("name,build,cls,text", ERRORS, ids=[e[0] for e in ERRORS])
def test_validation_errors(name, build, cls, text):
    assert_same_error(_setup, build, cls, text, events=1 if name == "events" else 4)
