"""The engine on vec_dot's VEC records (mul kind, FLAG_DOT, maybe FLAG_ACCUMULATE).

The record's a counts two vector slots per multiply-add (a = 2 * rows_a * rows_b * row_len), so
the vector unit costs ceil(a / lanes) * vec_cycles[mul] and the energy a * fj_vec_op[mul]; the
SRAM port moves the bytes of its three ranges, plus dst once more when it accumulates (it reads
dst too; docs/engine.md). Device: engine_logs.tiny_params() with 16 lanes and per-kind cycles
1, 2, 3 ... so the mul kind is visible.
"""
import numpy as np
import pytest

from chipemu.emulator.engine.core import simulate
from chipemu.emulator.events import FLAG_ACCUMULATE, FLAG_DOT, VOPS
from testkernels import tile as T

from engine_logs import LogBuilder, tiny_params
from runtime_helpers import Prog, machine

RA, RB, RL = 12, 20, 64
A = 2 * RA * RB * RL
CYCLES = list(range(1, 11))                      # vec_cycles[kind] = kind + 1
MUL = VOPS["mul"]


def _busy(r, cls):
    return int(r.resources["busy_cycles"][(r.resources["class"] == cls) & (r.resources["tile"] == 0)].sum())


def _dot(acc, port):
    """One vec_dot record on tile 0."""
    b = LogBuilder()
    X, Y, D = b.sram(4 * RA * RL), b.sram(4 * RB * RL), b.sram(4 * RA * RB)
    b.vec(0, 0, "mul", A, b.rng(D), src0=b.rng(X), src1=b.rng(Y), row_len=RL,
          flags=FLAG_DOT | (FLAG_ACCUMULATE if acc else 0))
    return simulate(b.build(), tiny_params(vec_cycles=CYCLES, sram_port_bytes_per_cycle=port))


@pytest.mark.parametrize("acc", [False, True])
def test_dot_costs_the_vector_unit_from_a_as_mul(acc):
    r = _dot(acc, 1 << 16)                       # SRAM port fast enough: vector-bound
    want = -(-A // 16) * CYCLES[MUL]
    assert _busy(r, "vector") == r.makespan_cycles == want
    assert r.energy_by_component["vector"] == A * 30                 # fj_vec_op[mul] = 30


def test_accumulate_also_reads_dst_through_the_sram_port():
    port = 1                                     # slow SRAM port: SRAM-bound
    x, y, d = 4 * RA * RL, 4 * RB * RL, 4 * RA * RB
    plain, acc = _dot(False, port), _dot(True, port)
    assert _busy(plain, "sram") == -(-(x + y + d) // port) == plain.makespan_cycles
    assert _busy(acc, "sram") == -(-(x + y + 2 * d) // port) == acc.makespan_cycles
    assert plain.energy_by_component["sram"] == 8 * (x + y) * 2 + 8 * d * 3      # fJ/bit r 2, w 3
    assert acc.energy_by_component["sram"] == 8 * (x + y + d) * 2 + 8 * d * 3


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_a_machine_log_of_vec_dot_simulates(backend):
    """The records the twins write are accepted and costed like the hand-built ones."""
    m = machine(backend, "timing")
    a, bb = m.alloc_sram("a", 4 * RA * RL), m.alloc_sram("b", 4 * RB * RL)
    d = m.alloc_sram("d", 4 * RA * RB)
    p = Prog().vec_dot(a, 0, bb, 0, d, 0, RA, RB, RL, tile=0)
    p.vec_dot(a, 0, bb, 0, d, 0, RA, RB, RL, 1, tile=0)
    m.launch(T.PROGRAM, [0], p.params(), events_per_tile=2)
    params = tiny_params(vec_cycles=CYCLES, sram_port_bytes_per_cycle=1 << 16,
                         sram_capacity_bytes=65536)
    r = simulate(m.log, params)
    assert list(m.log.events["a"]) == [A, A] and list(m.log.events["flags"]) == [4, 5]
    # the same vector unit, one after the other (the second also waits on dst: RAW / WAW)
    assert _busy(r, "vector") == 2 * -(-A // 16) * CYCLES[MUL]
    assert r.makespan_cycles == 2 * -(-A // 16) * CYCLES[MUL]
    assert r.energy_by_component["vector"] == 2 * A * 30
    assert np.all(r.end_cycles[:1] <= r.start_cycles[1:])
