"""vec_col_argmax: both twins equal the NumPy reference (emulator/reference/vec.py `col_argmax`)
bit for bit, the reference is the scalar rule of docs/intrinsics.md (and NumPy's argmax rule),
both twins log identical VEC records (row_max kind, a = n, b = row_len, FLAG_ARGMAX) in both
modes, the engine costs them as a row maximum of n elements, and every broken rule gives the same
class and message from both twins.

The calls go through the PROGRAM test kernel's P_VEC_COL_ARGMAX instruction, so the C and Numba
interpreters run exactly the same calls.
"""
import numpy as np
import pytest

from chipemu.emulator import events
from chipemu.emulator.engine.core import simulate
from chipemu.emulator.reference import vec as ref
from testkernels import tile as T

from engine_logs import LogBuilder, tiny_params
from runtime_helpers import Prog, assert_same_error, log_bytes, machine, state_bytes

BACKENDS = ["c", "numba"]
# (n, row_len): one value, one row, one column (a plain argmax), odd shapes, a root's [T, rows]
SHAPES = [(1, 1), (5, 5), (7, 1), (300, 1), (12, 4), (64 * 16, 16), (33, 11)]
TILE = 5


def _values(rng, n, row_len):
    """Few distinct values (so ties are common) with NaN, +-inf and +-0 mixed in."""
    a = rng.integers(-3, 4, n).astype(np.float32)
    k = rng.random(n)
    a[k < 0.08] = np.nan
    a[(k >= 0.08) & (k < 0.14)] = np.inf
    a[(k >= 0.14) & (k < 0.22)] = -np.inf
    a[(k >= 0.22) & (k < 0.32)] = -0.0
    if n >= 64:                                     # columns without NaN or inf too
        a[: n // 2][~np.isfinite(a[: n // 2])] = 1.0
    return a


def _inputs(seed=11):
    rng = np.random.default_rng(seed)
    out = []
    for n, rl in SHAPES:
        a = _values(rng, n, rl)
        if (n, rl) == (5, 5):
            a[:] = [-0.0, 0.0, np.nan, -np.inf, 2.0]     # one row: every column is its own max
        if (n, rl) == (7, 1):
            a[:] = [-np.inf, -0.0, 0.0, -0.0, np.nan, np.nan, 3.0]   # the first NaN wins
        b = rng.integers(-2 ** 31, 2 ** 31, n, dtype=np.int64).astype(np.int32)
        nan_bits = np.array([0x7F800001, -0x400000], np.int32)      # a signaling and a -quiet NaN
        b[:2] = nan_bits[:min(n, 2)]           # payloads that are NaN bit patterns stay as they are
        out.append((a, b))
    return out


def _run(backend, mode):
    """One launch on tiles 4, 5; tile 5 runs every case twice: b = ids, then b = a (the max)."""
    data = _inputs()
    m = machine(backend, mode, sram_capacity_bytes=1 << 20)
    asz = sum(4 * n for n, _ in SHAPES)
    dsz = 2 * sum(4 * rl for _, rl in SHAPES)
    a_buf, b_buf, d_buf = m.alloc_sram("a", asz), m.alloc_sram("b", asz), m.alloc_sram("d", dsz)
    p, ao, do, offs = Prog(), 0, 0, []
    for (n, rl), (a, b) in zip(SHAPES, data):
        if m.functional:
            m.write(a_buf, a, tile=TILE, offset=ao)
            m.write(b_buf, b, tile=TILE, offset=ao)
        p.vec_col_argmax(a_buf, ao, b_buf, ao, d_buf, do, n, rl, tile=TILE)
        p.vec_col_argmax(a_buf, ao, a_buf, ao, d_buf, do + 4 * rl, n, rl, tile=TILE)
        offs.append((ao, do))
        ao, do = ao + 4 * n, do + 8 * rl
    m.launch(T.PROGRAM, [4, 5], p.params(), events_per_tile=2 * len(SHAPES))
    return m, (a_buf, b_buf, d_buf), offs


@pytest.fixture(scope="module")
def runs():
    return {(bk, mode): _run(bk, mode) for bk in BACKENDS for mode in ("functional", "timing")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_equal_to_the_numpy_reference_bit_for_bit(runs, backend):
    m, (_, _, d_buf), offs = runs[backend, "functional"]
    got = m.read(d_buf, tile=TILE, dtype=np.uint32)
    for (n, rl), (a, b), (_, do) in zip(SHAPES, _inputs(), offs):
        at = do // 4
        assert got[at:at + rl].tolist() == ref.col_argmax(a, b, rl).tolist(), (n, rl)
        assert got[at + rl:at + 2 * rl].tolist() == ref.col_argmax(a, a, rl).tolist(), (n, rl)
    assert not m.read(d_buf, tile=4).any()                  # tile 4 ran nothing


def _spec(a, row_len):
    """The rule of docs/intrinsics.md as a scalar loop: the row index per column."""
    x = np.asarray(a, np.float32).reshape(-1, row_len)
    out = []
    for c in range(row_len):
        best, k = x[0, c], 0
        for r in range(1, x.shape[0]):
            v = x[r, c]
            if not np.isnan(best) and (np.isnan(v) or v > best):
                best, k = v, r
        out.append(k)
    return out


def test_reference_is_the_scalar_rule_and_numpys_argmax():
    rows = np.arange(10 ** 4, dtype=np.int32)
    for (n, rl), (a, _) in zip(SHAPES, _inputs(seed=5)):
        idx = np.tile(rows[: n // rl, None], (1, rl)).ravel()      # b = the row numbers
        k = ref.col_argmax(a, idx, rl).tolist()
        assert k == _spec(a, rl) == np.argmax(a.reshape(-1, rl), axis=0).tolist(), (n, rl)
    # ties go to the first row, -0 == +0, a NaN beats +inf, -inf columns give row 0
    a = np.array([[0.0, -np.inf, 1.0, np.inf], [-0.0, -np.inf, 1.0, np.nan]], np.float32)
    assert ref.col_argmax(a, np.array([[1, 2, 3, 4], [5, 6, 7, 8]]).astype(np.int32),
                          4).tolist() == [1, 2, 3, 8]
    with pytest.raises(ValueError):
        ref.col_argmax(a, np.zeros(8, np.int64), 4)                # b not 32-bit words
    with pytest.raises(ValueError):
        ref.col_argmax(a, np.zeros(8, np.int32), 3)


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
    assert len(ev) == 2 * len(SHAPES) and (ev["tile"] == TILE).all()
    assert (ev["op"] == events.OPS["vec"]).all() and (ev["c"] == events.VOPS["row_max"]).all()
    for k, ((n, rl), (ao, do)) in enumerate(zip(SHAPES, offs)):
        for j, src1 in enumerate(((b_buf, ao, 4 * n), (a_buf, ao, 4 * n))):
            e = ev[2 * k + j]
            assert (e["a"], e["b"], e["flags"]) == (n, rl, events.FLAG_ARGMAX)
            assert (e["fmt"], e["fmt2"], e["unit"], e["peer_count"]) == (-1, -1, 0, 0)
            assert tuple(e["src0"]) == (a_buf, ao, 4 * n) and tuple(e["src1"]) == src1
            assert tuple(e["dst"]) == (d_buf, do + 4 * rl * j, 4 * rl)


def test_the_engine_costs_it_as_a_row_maximum():
    """a = n compares at row_max's cycles per batch and fJ per element; the SRAM port moves the
    three ranges (docs/engine.md), as for any VEC record."""
    n, rl, cycles = 64 * 16, 16, list(range(1, 11))
    b = LogBuilder()
    A, B, D = b.sram(4 * n), b.sram(4 * n), b.sram(4 * rl)
    b.vec(0, 0, "row_max", n, b.rng(D), src0=b.rng(A), src1=b.rng(B), row_len=rl,
          flags=events.FLAG_ARGMAX)
    fast = simulate(b.build(), tiny_params(vec_cycles=cycles, sram_port_bytes_per_cycle=1 << 16))
    assert fast.makespan_cycles == -(-n // 16) * cycles[events.VOPS["row_max"]]
    assert fast.energy_by_component["vector"] == n * 90                 # fj_vec_op[row_max]
    assert fast.energy_by_component["sram"] == 8 * 8 * n * 2 + 8 * 4 * rl * 3   # r 2, w 3 fJ/bit
    slow = simulate(b.build(), tiny_params(vec_cycles=cycles, sram_port_bytes_per_cycle=1))
    assert slow.makespan_cycles == 8 * n + 4 * rl


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_machine_log_simulates_like_the_hand_built_one(backend):
    m = machine(backend, "timing")
    a, bb, d = m.alloc_sram("a", 4096), m.alloc_sram("b", 4096), m.alloc_sram("d", 64)
    m.launch(T.PROGRAM, [0], Prog().vec_col_argmax(a, 0, bb, 0, d, 0, 1024, 16, tile=0).params(),
             events_per_tile=1)
    r = simulate(m.log, tiny_params(vec_cycles=list(range(1, 11)),
                                    sram_port_bytes_per_cycle=1 << 16, sram_capacity_bytes=65536))
    assert r.makespan_cycles == 64 * 9 and r.energy_by_component["vector"] == 1024 * 90


# ---- every broken rule: same class and message from both twins and both modes ----

def _setup(m):
    return dict(a=m.alloc_sram("a", 1024), b=m.alloc_sram("b", 1024),
                d=m.alloc_dram("d", 1024))


def _am(*args):
    return lambda b: Prog().vec_col_argmax(*[b[x] if isinstance(x, str) else x for x in args])


ERRORS = [
    ("n zero", _am("a", 0, "b", 0, "a", 512, 0, 1),
     "ShapeError", "vec_col_argmax: n=0 is out of range; allowed 1..2147483647"),
    ("row_len zero", _am("a", 0, "b", 0, "a", 512, 8, 0),
     "ShapeError", "vec_col_argmax: row_len=0 is out of range; allowed 1..8"),
    ("row_len > n", _am("a", 0, "b", 0, "a", 512, 8, 9),
     "ShapeError", "vec_col_argmax: row_len=9 is out of range; allowed 1..8"),
    ("not a multiple", _am("a", 0, "b", 0, "a", 512, 10, 4),
     "ShapeError", "vec_col_argmax: n=10 is not a multiple of 4"),
    ("buffer id", _am(7, 0, "b", 0, "a", 512, 8, 4),
     "ShapeError", "vec_col_argmax: a=7 is not a buffer id (the machine has 3 buffers)"),
    ("a range", _am("a", 1000, "b", 0, "a", 0, 8, 4),
     "ShapeError", "vec_col_argmax: a range [1000, 1000+32) lies outside buffer 0 ('a')"),
    ("a align", _am("a", 2, "b", 0, "a", 512, 8, 4),
     "ShapeError", "vec_col_argmax: a offset 2 is not a multiple of 4"),
    ("b kind", _am("a", 0, "d", 0, "a", 512, 8, 4),
     "ShapeError", "vec_col_argmax: b buffer 2 ('d') is a DRAM buffer; this operand must be a SRAM"),
    ("b range", _am("a", 0, "b", 1000, "a", 512, 8, 4),
     "ShapeError", "vec_col_argmax: b range [1000, 1000+32) lies outside buffer 1 ('b')"),
    ("dst range", _am("a", 0, "b", 0, "b", 1020, 8, 4),
     "ShapeError", "vec_col_argmax: dst range [1020, 1020+16) lies outside buffer 1 ('b')"),
    ("dst align", _am("a", 0, "b", 0, "b", 65, 8, 4),
     "ShapeError", "vec_col_argmax: dst offset 65 is not a multiple of 4"),
    ("dst = a", _am("a", 0, "b", 0, "a", 0, 8, 4),
     "ShapeError", "vec_col_argmax: dst range [0, 0+16) of buffer 0 ('a') partly overlaps the a "
                   "range"),
    ("dst in b", _am("a", 0, "b", 0, "b", 16, 8, 4),
     "ShapeError", "vec_col_argmax: dst range [16, 16+16) of buffer 1 ('b') partly overlaps the b "
                   "range"),
    ("events", lambda b: _am("a", 0, "b", 0, "a", 512, 8, 4)(b).vec_col_argmax(
        b["a"], 0, b["b"], 0, b["a"], 512, 8, 4),
     "CapacityError", "vec_col_argmax: issued more than events_per_tile=1 events"),
]


@pytest.mark.parametrize("name,build,cls,text", ERRORS, ids=[e[0] for e in ERRORS])
def test_validation_errors(name, build, cls, text):
    assert_same_error(_setup, build, cls, text, events=1 if name == "events" else 4)
