"""The intrinsics (emulator/intrinsics/ <-> csrc/intrinsics/): twins equal, semantics, events.

Every intrinsic runs through the PROGRAM test kernel (tests/testkernels/tile.py and its C twin), so
the same calls go through both backends: outputs (SRAM, DIMC state, DRAM) and event logs must be
byte-identical, and timing mode must log exactly what functional mode logs.
"""
import re
from pathlib import Path

import numpy as np
import pytest

from chipemu.emulator import events
from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import FORMATS
from chipemu.emulator.native import lib
from chipemu.emulator.reference import vecmath as ref_vm
from testkernels import tile as T
from runtime_helpers import (FP32, Prog, assert_same_error, log_bytes, machine, scenario,
                             state_bytes)

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["c", "numba"]


def _defines(path, prefix):
    text = Path(path).read_text()
    return {n: int(v) for n, v in re.findall(r"^#define\s+(" + prefix + r"\w*)\s+(-?\d+)\b", text, re.M)}


def test_runtime_constants_match_the_header():
    for prefix in ("SC_", "DEV_", "KERR_", "IN_", "BT_", "MODE_", "FLAG_"):
        found = _defines(ROOT / "csrc/include/chipemu.h", "CHIPEMU_" + prefix)
        assert found, prefix
        for name, value in found.items():
            assert getattr(K, name[len("CHIPEMU_"):]) == value, name
    assert lib.CHIPEMU_ERR_KERNEL == K.ERR_KERNEL
    assert lib.CHIPEMU_RUNTIME_VERSION == 1


def test_message_and_argument_ids_match_the_c_core():
    msgs = _defines(ROOT / "csrc/intrinsics/core.h", "MSG_")
    args = _defines(ROOT / "csrc/intrinsics/core.h", "ARG_")
    assert {n: getattr(K, n) for n in msgs} == msgs and set(K.MESSAGES) == set(msgs.values())
    assert [n[4:].lower() for n, _ in sorted(args.items(), key=lambda kv: kv[1])] == list(K.ARG_NAMES)
    assert all(getattr(K, n) == v for n, v in args.items())
    assert K.INTRINSIC_NAMES[K.IN_VEC + events.VOPS["convert"]] == "vec_convert"
    assert len(K.INTRINSIC_NAMES) == K.IN_COUNT


@pytest.fixture(scope="module")
def scenario_machines():
    out = {}
    for backend in BACKENDS:
        for mode in ("functional", "timing"):
            m = machine(backend, mode)
            scenario(m)
            out[backend, mode] = m
    return out


def test_twins_give_identical_state_and_logs(scenario_machines):
    c, nb = scenario_machines["c", "functional"], scenario_machines["numba", "functional"]
    assert state_bytes(c) == state_bytes(nb)
    assert log_bytes(c) == log_bytes(nb)
    counts = c.log.op_counts()
    assert set(counts) == set(events.OPS) and len(c.log) == 451 + 4 * 16   # + row-broadcast, dot
    kinds = set(c.log.events["c"][c.log.events["op"] == events.OPS["vec"]])
    assert kinds == set(events.VOPS.values())


def test_timing_mode_logs_what_functional_mode_logs(scenario_machines):
    want = log_bytes(scenario_machines["c", "functional"])
    for backend in BACKENDS:
        m = scenario_machines[backend, "timing"]
        assert log_bytes(m) == want
        assert m.state._sram.size == 0 and m.state._dram.size == 0 and m.state._codes.size == 0 and m.state._host.size == 0


def test_scenario_moved_real_data(scenario_machines):
    m = scenario_machines["c", "functional"]
    b = scenario(machine("c"))           # buffer ids are the same on every machine
    y0 = m.read(b["y0"], tile=4, dtype=np.float32)
    assert np.isfinite(y0).all() and np.abs(y0).max() > 1
    # step 0: tile 3 sent its v to tile 4 (tile + 1); step 1: tile 4 copied the message to its v
    v3 = m.read(b["v"], tile=3, dtype=np.float32)[:64]      # tile 3 is odd: not in step 1
    assert m.read(b["msg"], tile=4, dtype=np.float32)[:64].tobytes() == v3.tobytes()
    assert m.read(b["v"], tile=4, dtype=np.float32)[:64].tobytes() == v3.tobytes()
    # tile 3 multicast r to tiles 0, 5 and 9 at msg + 128, but tile t - 1 (later in the log) sent
    # its v over msg[0, 256) of tile t: deliveries land in log order, so the later one wins
    got = m.read(b["msg"], tile=0)[128:160].tobytes()       # tile 15 ran in step 0 only
    assert got == m.read(b["v"], tile=15)[128:160].tobytes()
    assert got != m.read(b["r"], tile=3)[:32].tobytes()
    # DRAM: tile t wrote its v at t * 256; tile 2 read it back in step 1
    d = m.read(b["d_out"], dtype=np.float32)
    assert np.array_equal(m.read(b["v2"], tile=2, dtype=np.float32)[:256], d[:256])


# ---- vector unit semantics ----

def _vec_machine(backend, a, bvals):
    m = machine(backend)
    sa, sb, sd = m.alloc_sram("a", a.nbytes), m.alloc_sram("b", bvals.nbytes), m.alloc_sram("d", a.nbytes)
    m.write(sa, a, tile=0)
    m.write(sb, bvals, tile=0)
    return m, sa, sb, sd


def _special(rng, n):
    x = (rng.standard_normal(n) * 10).astype(np.float32)
    x[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 3e38]
    return x


@pytest.mark.parametrize("backend", BACKENDS)
def test_elementwise_ops(backend):
    rng = np.random.default_rng(5)
    n = 203
    a, b = _special(rng, n), _special(rng, n)[::-1].copy()
    b[:3] = [-0.0, np.nan, 2.0]
    m, sa, sb, sd = _vec_machine(backend, a, b)
    qnan = np.uint32(0x7FC00000).view(np.float32)

    def canon(y):
        return np.where(np.isnan(y), qnan, y).astype(np.float32)

    def maximum(x, y):
        r = np.where(x > y, x, np.where(y > x, y, np.where(np.signbit(x), y, x)))
        return canon(np.where(np.isnan(x) | np.isnan(y), np.nan, r).astype(np.float32))

    with np.errstate(all="ignore"):
        want = {"add": canon(a + b), "mul": canon(a * b), "max": maximum(a, b), "copy": a,
                "exp": ref_vm.exp(a), "reciprocal": ref_vm.reciprocal(a), "rsqrt": ref_vm.rsqrt(a)}
    for op, w in want.items():
        p = Prog()
        if op in ("add", "mul", "max"):
            p.vec(op, sa, 0, sb, 0, sd, 0, n)
        else:
            p.vec(op, sa, 0, sd, 0, n)
        m.launch(T.PROGRAM, [0], p.params(), events_per_tile=1)
        got = m.read(sd, tile=0, dtype=np.uint32)
        assert got.tobytes() == np.asarray(w, np.float32).view(np.uint32).tobytes(), op


@pytest.mark.parametrize("backend", BACKENDS)
def test_row_ops_and_in_place(backend):
    rng = np.random.default_rng(6)
    a = (rng.standard_normal(6 * 37) * 100).astype(np.float32)
    a[40] = np.nan
    m, sa, sb, sd = _vec_machine(backend, a, a)
    p = Prog().vec("row_sum", sa, 0, sd, 0, a.size, 37).vec("row_max", sa, 0, sd, 64, a.size, 37)
    p.vec("row_sum", sb, 0, sb, 0, a.size, 37)                  # in place: same start allowed
    m.launch(T.PROGRAM, [0], p.params(), events_per_tile=3)
    rows = a.reshape(6, 37)
    sums = np.empty(6, np.float32)
    for r in range(6):
        acc = rows[r, 0]
        for v in rows[r, 1:]:
            acc = np.float32(acc + v)                           # left to right, from element 0
        sums[r] = acc
    sums[np.isnan(sums)] = np.uint32(0x7FC00000).view(np.float32)
    d = m.read(sd, tile=0, dtype=np.float32)
    assert d[:6].tobytes() == sums.tobytes()
    assert m.read(sb, tile=0, dtype=np.float32)[:6].tobytes() == sums.tobytes()
    mx = d[16:22]
    assert np.isnan(mx[1]) and np.array_equal(np.delete(mx, 1), np.delete(rows.max(axis=1), 1))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_convert_matches_the_codec(backend, fmt):
    rng = np.random.default_rng(len(fmt))
    rows, row_len = 3, 45 if fmt != "int8" else 40        # 45: partial blocks
    if fmt in ("mxint4", "bfp12", "mxfp4_e2m1", "mxfp6_e3m2", "mxfp6_e2m3"):
        row_len = 46                                       # packed rows stay whole bytes or not
    x = (rng.standard_normal((rows, row_len)) * 4).astype(np.float32)
    x[0, 3] = np.nan
    x[1, :4] = [np.inf, -0.0, 1e-41, 6e4]
    m = machine(backend)
    nbytes = layout.row_bytes(fmt, row_len) * rows
    sx, sq, sy = m.alloc_sram("x", x.nbytes), m.alloc_sram("q", nbytes), m.alloc_sram("y", x.nbytes)
    m.write(sx, x, tile=7)
    p = Prog().convert(sx, 0, sq, 0, x.size, row_len, fmt, FP32)
    p.convert(sq, 0, sy, 0, x.size, row_len, FP32, fmt)
    m.launch(T.PROGRAM, [7], p.params(), events_per_tile=2)
    q = m.read(sq, tile=7)
    assert q.tobytes() == layout.encode_rows(x, fmt, backend="numpy").tobytes()
    y = m.read(sy, tile=7, dtype=np.float32).reshape(rows, row_len)
    want = layout.decode_rows(q, fmt, rows, row_len, backend="numpy")
    assert y.view(np.uint32).tobytes() == want.view(np.uint32).tobytes()


# ---- event records ----

def test_event_fields():
    m = machine("c")
    wb = layout.encode_weights(np.ones((64, 128), np.float32), "bfp12")
    h = m.alloc_host("w", wb)
    w, x, y = m.alloc_sram("w", len(wb)), m.alloc_sram("x", 256), m.alloc_sram("y", 1024)
    d = m.alloc_dram("d", 4096, channel=2)
    p = Prog().host_read(h, 0, w, 0, len(wb)).dimc_load(1, w, 0, 0, 64, "bfp12")
    p.convert(y, 0, x, 0, 64, 64, "bfp16", FP32).dimc_mvm(0, 1, x, 0, y, 0, 1, 64, "bfp16", acc=1)
    p.vec("row_max", y, 0, x, 0, 128, 64).send([9, 2, 5], y, 0, y, 512, 16).barrier(1)
    p.dram_write(y, 0, d, 100, 32).dram_read(d, 0, x, 4, 8)
    m.launch(T.PROGRAM, [0, 2, 5, 9], Prog().params(), events_per_tile=0)     # step 0: nothing
    m.launch(T.PROGRAM, [2], p.params(), events_per_tile=16)
    ev, peers = m.log.events, m.log.peers
    assert (ev["tile"] == 2).all() and (ev["step"] == 1).all()
    assert list(ev["op"]) == [7, 1, 3, 2, 3, 4, 8, 6, 5]
    hr, ld, cv, mv, rm, sd, br, dw, dr = ev
    assert (ld["fmt"], ld["fmt2"], ld["a"], ld["b"], ld["c"], ld["unit"]) == (-1, 12, 0, 64, 1, 0)
    assert tuple(ld["src0"]) == (w, 0, 64 * 64 + 128) and ld["dst"]["buf"] == events.NO_BUF
    assert (cv["c"], cv["fmt"], cv["fmt2"], cv["a"], cv["b"]) == (9, 11, 0, 64, 64)
    assert tuple(cv["dst"]) == (x, 0, 65) and tuple(cv["src0"]) == (y, 0, 256)
    assert (mv["fmt"], mv["fmt2"], mv["a"], mv["b"], mv["c"], mv["flags"]) == (11, 12, 1, 64, 1, 1)
    assert tuple(mv["src0"]) == (x, 0, 65) and tuple(mv["dst"]) == (y, 0, 128 * 4)
    assert (rm["c"], rm["a"], rm["b"]) == (8, 128, 64) and tuple(rm["dst"]) == (x, 0, 8)
    assert list(peers[sd["peer_first"]:sd["peer_first"] + sd["peer_count"]]) == [2, 5, 9]
    assert tuple(sd["dst"]) == (y, 512, 16) and sd["a"] == 16
    assert list(peers[br["peer_first"]:br["peer_first"] + br["peer_count"]]) == [2, 3]
    assert tuple(dw["dst"]) == (d, 100, 32) and tuple(dr["src0"]) == (d, 0, 8)
    assert hr["src1"]["buf"] == events.NO_BUF and hr["src1"]["len"] == 0
    table = m.log.buffers
    assert table[d]["kind"] == events.BUF_DRAM and table[d]["where"] == 2
    assert table[h]["kind"] == events.BUF_HOST and table[w]["size"] == len(wb)


# ---- every validation error, the same from both backends and both modes ----

def _setup(m):
    b = dict(a=m.alloc_sram("a", 1024), b=m.alloc_sram("b", 1024), w=m.alloc_sram("w", 4608),
             d=m.alloc_dram("d", 1024))
    b["h"] = m.alloc_host("h", np.zeros(64, np.uint8)) if m.functional else m.alloc_host("h", nbytes=64)
    return b


def _loaded(b):
    return Prog().dimc_load(0, b["w"], 0, 0, 64, "mxint8", tile=0)


ERRORS = [
    ("slot", lambda b: Prog().dimc_load(2, b["w"], 0, 0, 64, "mxint8"),
     "ShapeError", "slot=2 is out of range; allowed 0..1"),
    ("not dimc", lambda b: Prog().dimc_load(0, b["w"], 0, 0, 64, "mxfp8_e4m3"),
     "FormatError", "fmt='mxfp8_e4m3' is not a DIMC format"),
    ("fmt code", lambda b: Prog()._add(T.P_DIMC_LOAD, -1, 0, b["w"], 0, 0, 64, 99),
     "FormatError", "fmt=99 is not a format code"),
    ("row0 block", lambda b: Prog().dimc_load(0, b["w"], 0, 16, 32, "mxint8"),
     "ShapeError", "row0=16 is not a multiple of 32"),
    ("nrows", lambda b: Prog().dimc_load(0, b["w"], 0, 32, 64, "mxint8"),
     "ShapeError", "nrows=64 is out of range; allowed 1..32"),
    ("load range", lambda b: Prog().dimc_load(0, b["a"], 0, 0, 64, "mxint8"),
     "ShapeError", "src range [0, 0+4224) lies outside buffer 0 ('a') of 1024 bytes"),
    ("load kind", lambda b: Prog().dimc_load(0, b["d"], 0, 0, 32, "mxint8"),
     "ShapeError", "src buffer 3 ('d') is a DRAM buffer; this operand must be a SRAM buffer"),
    ("buffer id", lambda b: Prog().dimc_load(0, 99, 0, 0, 32, "int8"),
     "ShapeError", "src=99 is not a buffer id (the machine has 5 buffers)"),
    ("empty slot", lambda b: Prog().dimc_mvm(0, 1, b["a"], 0, b["b"], 0, 1, 64, "mxint8"),
     "ChipemuError", "slot=1 holds no weights on this tile"),
    ("engine", lambda b: _loaded(b).dimc_mvm(1, 0, b["a"], 0, b["b"], 0, 1, 64, "mxint8"),
     "ShapeError", "engine=1 is out of range; allowed 0..0"),
    ("k_rows", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["b"], 0, 1, 65, "mxint8"),
     "ShapeError", "k_rows=65 is out of range; allowed 1..64"),
    ("k block", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["b"], 0, 1, 48, "int8"),
     "ShapeError", "k_rows=48 is not a multiple of 32"),
    ("k bfp", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["b"], 0, 1, 32, "bfp16"),
     "ShapeError", "k_rows=32 is not a multiple of 64"),
    ("nvec", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["b"], 0, 0, 64, "mxint8"),
     "ShapeError", "nvec=0 is out of range"),
    ("y align", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["b"], 2, 1, 64, "mxint8"),
     "ShapeError", "y offset 2 is not a multiple of 4"),
    ("x/y overlap", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["a"], 64, 1, 64, "mxint8"),
     "ShapeError", "y range [64, 64+256) of buffer 0 ('a') partly overlaps the x range"),
    ("accumulate", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["b"], 0, 1, 64, "mxint8", acc=2),
     "ShapeError", "accumulate=2 is out of range; allowed 0..1"),
    ("y range", lambda b: _loaded(b).dimc_mvm(0, 0, b["a"], 0, b["b"], 0, 5, 64, "mxint8"),
     "ShapeError", "y range [0, 0+1280) lies outside buffer 1 ('b')"),
    ("vec n", lambda b: Prog().vec("add", b["a"], 0, b["b"], 0, b["a"], 0, 0),
     "ShapeError", "n=0 is out of range; allowed 1..2147483647"),
    ("vec align", lambda b: Prog().vec("exp", b["a"], 2, b["b"], 0, 4),
     "ShapeError", "src offset 2 is not a multiple of 4"),
    ("vec overlap", lambda b: Prog().vec("copy", b["a"], 0, b["a"], 4, 8),
     "ShapeError", "partly overlaps the src range"),
    ("vec b range", lambda b: Prog().vec("mul", b["a"], 0, b["b"], 1000, b["a"], 0, 8),
     "ShapeError", "b range [1000, 1000+32) lies outside"),
    ("row_len", lambda b: Prog().vec("row_sum", b["a"], 0, b["b"], 0, 10, 3),
     "ShapeError", "n=10 is not a multiple of 3"),
    ("row_len big", lambda b: Prog().vec("row_max", b["a"], 0, b["b"], 0, 10, 11),
     "ShapeError", "row_len=11 is out of range; allowed 1..10"),
    ("convert pair", lambda b: Prog().convert(b["a"], 0, b["b"], 0, 32, 32, "mxint8", "bf16"),
     "FormatError", "fmt_to='mxint8', fmt_from='bf16'"),
    ("convert code", lambda b: Prog().vec("convert", b["a"], 0, b["b"], 0, 32, 32, 0, 13),
     "FormatError", "fmt_from=13 is not a format code"),
    ("convert same", lambda b: Prog().convert(b["a"], 0, b["a"], 0, 32, 32, "mxint8", FP32),
     "ShapeError", "partly overlaps the src range"),
    ("send tile", lambda b: Prog().send([16], b["a"], 0, b["b"], 0, 4),
     "ShapeError", "dst_tiles=16 is out of range; allowed 0..15"),
    ("send dup", lambda b: Prog().send([3, 1, 3], b["a"], 0, b["b"], 0, 4),
     "ShapeError", "dst_tiles lists tile 3 twice"),
    ("send nbytes", lambda b: Prog().send(1, b["a"], 0, b["b"], 0, 0),
     "ShapeError", "nbytes=0 is out of range"),
    ("send kind", lambda b: Prog().send(1, b["d"], 0, b["b"], 0, 4),
     "ShapeError", "src buffer 3 ('d') is a DRAM buffer"),
    ("barrier self", lambda b: Prog().barrier([1, 2], tile=0),
     "ShapeError", "group does not include the issuing tile 0"),
    ("barrier dup", lambda b: Prog().barrier([0, 0], tile=0),
     "ShapeError", "group lists tile 0 twice"),
    ("dram kind", lambda b: Prog().dram_read(b["a"], 0, b["b"], 0, 4),
     "ShapeError", "src buffer 0 ('a') is a SRAM buffer; this operand must be a DRAM buffer"),
    ("dram range", lambda b: Prog().dram_write(b["a"], 0, b["d"], 1020, 8),
     "ShapeError", "dst range [1020, 1020+8) lies outside buffer 3 ('d') of 1024 bytes"),
    ("host kind", lambda b: Prog().host_read(b["d"], 0, b["a"], 0, 4),
     "ShapeError", "must be a HOST buffer"),
    ("events", lambda b: Prog().vec("copy", b["a"], 0, b["b"], 0, 4).vec("copy", b["a"], 0, b["b"], 0, 4),
     "CapacityError", "more than events_per_tile=1 events"),
]


def _run_error(backend, mode, build, **kw):
    m = machine(backend, mode)
    b = _setup(m)
    before = len(m.log)
    with pytest.raises(Exception) as ei:
        m.launch(T.PROGRAM, [0, 1], build(b).params(), events_per_tile=kw.pop("events", 4), **kw)
    assert len(m.log) == before and m.step == 0
    return ei.value


@pytest.mark.parametrize("name,build,cls,text", ERRORS, ids=[e[0] for e in ERRORS])
def test_validation_errors(name, build, cls, text):
    assert_same_error(_setup, build, cls, text, events=1 if name == "events" else 4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_capacity_errors_of_peers_stage_and_cells(backend):
    def build(b):
        return Prog().send([1, 2, 3], b["a"], 0, b["b"], 0, 32)
    e = _run_error(backend, "functional", build, peers_per_tile=2)
    assert type(e).__name__ == "CapacityError" and "more than peers_per_tile=2" in str(e)
    e = _run_error(backend, "timing", build, stage_bytes_per_tile=16)
    assert type(e).__name__ == "CapacityError" and "staged 32 bytes" in str(e)
    m = machine(backend, dimc_cell_bits=4)
    b = _setup(m)
    with pytest.raises(Exception, match=r"fmt='int8': 8-bit weights do not pack into the "
                                         r"device's 4-bit") as ei:
        m.launch(T.PROGRAM, [3], Prog().dimc_load(0, b["w"], 0, 0, 8, "int8").params(), events_per_tile=1)
    assert type(ei.value).__name__ == "FormatError"


@pytest.mark.parametrize("backend", BACKENDS)
def test_error_stops_the_tile_and_later_intrinsics_do_nothing(backend):
    m = machine(backend)
    b = _setup(m)
    m.write(b["b"], np.zeros(1024, np.uint8), tile=0)
    m.write(b["a"], np.full(1024, 7, np.uint8), tile=0)
    p = Prog().vec("copy", b["a"], 0, b["b"], 0, 2, tile=0).vec("copy", b["a"], 2, b["b"], 0, 1, tile=0)
    p.vec("copy", b["a"], 0, b["b"], 64, 4, tile=0)
    with pytest.raises(Exception, match="src offset 2"):
        m.launch(T.PROGRAM, [0], p.params(), events_per_tile=4)
    got = m.read(b["b"], tile=0)
    assert (got[:8] == 7).all() and (got[64:80] == 0).all()      # the third call did nothing
