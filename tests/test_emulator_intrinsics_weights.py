"""vec_convert_weights: both twins equal the NumPy definition (layout.encode_weights of
layout.lines_matrix) bit for bit for every DIMC format, both orientations, partial lines and
special values; identical logs in both modes (a VEC of the convert kind with FLAG_WEIGHTS); the
engine costs it as nrows * ncols conversions; every broken rule reported alike.

The calls go through the PROGRAM test kernel's P_VEC_CONVERT_WEIGHTS instruction, so the C and
Numba interpreters run exactly the same calls.
"""
import numpy as np
import pytest

from chipemu.emulator import events
from chipemu.emulator.engine.core import simulate
from chipemu.emulator.numerics import layout
from chipemu.emulator.tables.formats import FORMATS
from testkernels import tile as T

from engine_logs import tiny_params
from runtime_helpers import Prog, assert_same_error, fmt_code, log_bytes, machine, state_bytes

BACKENDS = ["c", "numba"]
DIMC = [f.name for f in FORMATS if f.dimc]          # int8, mxint8, mxint4, bfp16, bfp12
SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 1e-40, -1e-40, 3e38, 2.0 ** -149]
TILE = 5


def _cases():
    """(fmt, trans, nrows, ncols, lines, ld) of every call: full and partial lines, ld beyond the
    line, a single line, shapes of a K^T slot (64 x 64 columns of keys) and of V rows."""
    out = []
    for fmt in DIMC:
        bs = next(f.block_size for f in FORMATS if f.name == fmt)
        cols = 128 if next(f.elem_bits for f in FORMATS if f.name == fmt) == 4 else 64
        rows = max(bs, 32) if bs > 1 else 40
        out += [(fmt, 1, 64, cols, cols - 5, 64 + 3), (fmt, 0, rows, cols, rows, cols),
                (fmt, 0, 64, cols, 1, cols + 8), (fmt, 1, 64, 24, 24, 128)]
    return out


def _src(rng, case):
    fmt, trans, nrows, ncols, lines, ld = case
    width = nrows if trans else ncols
    x = (rng.standard_normal((lines - 1) * ld + width) * 10).astype(np.float32)
    x[rng.choice(x.size, len(SPECIALS), replace=False)] = SPECIALS
    if trans == 0 and lines == 1:                    # a line of one huge and tiny values
        x[:4] = [3e38, -1e-45, 0.5, -0.0]
    return x


def _run(backend, mode, seed=11):
    rng = np.random.default_rng(seed)
    cases = _cases()
    srcs = [_src(rng, c) for c in cases]
    outs = [layout.weight_bytes(c[0], c[2], c[3]) for c in cases]
    m = machine(backend, mode, sram_capacity_bytes=1 << 20)
    s_buf = m.alloc_sram("s", sum(x.nbytes for x in srcs))
    d_buf = m.alloc_sram("d", sum(-(-n // 4) * 4 for n in outs))
    p, so, do, offs = Prog(), 0, 0, []
    for (fmt, trans, nrows, ncols, lines, ld), x, n in zip(cases, srcs, outs):
        if m.functional:
            m.write(s_buf, x, tile=TILE, offset=so)
        p.vec_convert_weights(s_buf, so, ld, lines, trans, d_buf, do, nrows, ncols, fmt, tile=TILE)
        offs.append((so, do))
        so, do = so + x.nbytes, do + -(-n // 4) * 4
    m.launch(T.PROGRAM, [4, 5], p.params(), events_per_tile=len(cases))
    return m, (s_buf, d_buf), srcs, offs


@pytest.fixture(scope="module")
def runs():
    return {(bk, mode): _run(bk, mode) for bk in BACKENDS for mode in ("functional", "timing")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_equal_to_the_numpy_definition_bit_for_bit(runs, backend):
    m, (_, d_buf), srcs, offs = runs[backend, "functional"]
    for case, x, (_, do) in zip(_cases(), srcs, offs):
        fmt, trans, nrows, ncols, lines, ld = case
        want = layout.encode_weights(layout.lines_matrix(x, ld, lines, trans, nrows, ncols), fmt)
        got = m.read(d_buf, tile=TILE, offset=do, nbytes=want.size)
        assert np.array_equal(got, want), case
    assert not m.read(d_buf, tile=4).any()                  # tile 4 ran nothing


def test_the_definition_is_the_host_weights_of_the_lines():
    """lines_matrix is the transposed / padded matrix a host would quantize; loading the bytes
    gives the DIMC the weights encode_weights gives (what dimc_load reads)."""
    x = np.arange(2 * 7, dtype=np.float32)
    w = layout.lines_matrix(x, 7, 2, 1, 5, 3)               # columns 0, 1 from lines of 7
    assert np.array_equal(w, np.array([[0, 7, 0], [1, 8, 0], [2, 9, 0], [3, 10, 0],
                                       [4, 11, 0]], np.float32))
    assert np.array_equal(layout.lines_matrix(x, 7, 2, 0, 3, 5)[:, :2], [[0, 1], [7, 8], [0, 0]])
    with pytest.raises(Exception, match="do not fit"):
        layout.lines_matrix(x, 4, 3, 0, 3, 5)


def test_twins_identical_and_timing_logs_what_functional_logs(runs):
    c, nb = runs["c", "functional"][0], runs["numba", "functional"][0]
    assert state_bytes(c) == state_bytes(nb)
    want = log_bytes(c)
    assert log_bytes(nb) == want
    for backend in BACKENDS:
        assert log_bytes(runs[backend, "timing"][0]) == want


def test_event_records(runs):
    m, (s_buf, d_buf), srcs, offs = runs["c", "functional"]
    ev = m.log.events
    assert len(ev) == len(_cases()) and (ev["tile"] == TILE).all()
    for e, (fmt, trans, nrows, ncols, lines, ld), x, (so, do) in zip(ev, _cases(), srcs, offs):
        assert (e["op"], e["c"], e["flags"]) == (events.OPS["vec"], events.VOPS["convert"],
                                                 events.FLAG_WEIGHTS)
        assert (e["fmt"], e["fmt2"], e["a"], e["b"]) == (fmt_code(fmt), 0, nrows * ncols, ncols)
        assert tuple(e["src0"]) == (s_buf, so, x.nbytes)
        assert tuple(e["dst"]) == (d_buf, do, layout.weight_bytes(fmt, nrows, ncols))
        assert e["src1"]["buf"] == events.NO_BUF


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_engine_costs_it_as_conversions(backend):
    """a = nrows * ncols at convert's cycles per batch of lanes and fJ per element (the SRAM port
    is fast here), as for any VEC record (docs/engine.md)."""
    m = machine(backend, "timing")
    s, d = m.alloc_sram("s", 64 * 64 * 4), m.alloc_sram("d", 64 * 64 + 128)
    m.launch(T.PROGRAM, [0], Prog().vec_convert_weights(s, 0, 64, 64, 1, d, 0, 64, 64, "mxint8",
                                                        tile=0).params(), events_per_tile=1)
    params = tiny_params(vec_cycles=list(range(1, 11)), sram_port_bytes_per_cycle=1 << 16,
                         sram_capacity_bytes=65536)
    r = simulate(m.log, params)
    convert = events.VOPS["convert"]
    assert r.makespan_cycles == 64 * 64 // params["vec_lanes"] * (convert + 1)
    assert r.energy_by_component["vector"] == 64 * 64 * params["fj_vec_op"][convert]


# ---- every broken rule: same class and message from both twins and both modes ----

def _setup(m):
    return dict(s=m.alloc_sram("s", 1024), d=m.alloc_sram("d", 1024), r=m.alloc_dram("r", 1024))


def _cw(*args):
    """The call with buffer names ("s", "d", "r") replaced by their ids (a format stays a name)."""
    return lambda b: Prog().vec_convert_weights(*[b.get(x, x) if isinstance(x, str) else x
                                                  for x in args])


ERRORS = [
    ("fmt", _cw("s", 0, 8, 1, 0, "d", 0, 32, 8, "bf16"),
     "FormatError", "vec_convert_weights: fmt='bf16' is not a DIMC format"),
    ("nrows zero", _cw("s", 0, 8, 1, 0, "d", 0, 0, 8, "int8"),
     "ShapeError", "vec_convert_weights: nrows=0 is out of range"),
    ("nrows block", _cw("s", 0, 8, 1, 0, "d", 0, 20, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: nrows=20 is not a multiple of 32"),
    ("ncols zero", _cw("s", 0, 8, 1, 0, "d", 0, 32, 0, "mxint8"),
     "ShapeError", "vec_convert_weights: ncols=0 is out of range"),
    ("trans", _cw("s", 0, 8, 1, 2, "d", 0, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: trans=2 is out of range; allowed 0..1"),
    ("lines zero", _cw("s", 0, 8, 0, 0, "d", 0, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: lines=0 is out of range; allowed 1..32"),
    ("lines > ncols", _cw("s", 0, 40, 9, 1, "d", 0, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: lines=9 is out of range; allowed 1..8"),
    ("ld < line", _cw("s", 0, 31, 1, 1, "d", 0, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: ld=31 is out of range; allowed 32.."),
    ("src range", _cw("s", 0, 64, 5, 1, "d", 0, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: src range [0, 0+1152) lies outside buffer 0 ('s')"),
    ("src align", _cw("s", 2, 8, 1, 0, "d", 0, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: src offset 2 is not a multiple of 4"),
    ("src kind", _cw("r", 0, 8, 1, 0, "d", 0, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: src buffer 2 ('r') is a DRAM buffer"),
    ("dst range", _cw("s", 0, 8, 1, 0, "d", 1000, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: dst range [1000, 1000+264) lies outside buffer 1 ('d')"),
    ("dst over src", _cw("s", 0, 8, 4, 0, "s", 64, 32, 8, "mxint8"),
     "ShapeError", "vec_convert_weights: dst range [64, 64+264) of buffer 0 ('s') partly "
                   "overlaps the src range"),
    ("events", lambda b: _cw("s", 0, 8, 1, 0, "d", 0, 32, 8, "mxint8")(b).vec_convert_weights(
        b["s"], 0, 8, 1, 0, b["d"], 0, 32, 8, "mxint8"),
     "CapacityError", "vec_convert_weights: issued more than events_per_tile=1 events"),
]


@pytest.mark.parametrize("name,build,cls,text", ERRORS, ids=[e[0] for e in ERRORS])
def test_validation_errors(name, build, cls, text):
    assert_same_error(_setup, build, cls, text, events=1 if name == "events" else 4)
