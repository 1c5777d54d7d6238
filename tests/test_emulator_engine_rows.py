"""The engine on row-broadcast VEC records (vec_add_rows / vec_mul_rows, FLAG_ROW_BROADCAST).

Such a record carries the plain add / mul kind, so the vector unit costs it as that many add /
mul elements: ceil(a / lanes) * vec_cycles[kind]; the SRAM port moves the bytes of its three
ranges, src1 being one float32 per row (docs/engine.md). Device: engine_logs.tiny_params() with
16 lanes and per-kind cycles 1, 2, 3 ... so add and mul differ.
"""
import pytest

from chipemu.emulator.engine.core import simulate
from chipemu.emulator.events import FLAG_ROW_BROADCAST

from engine_logs import LogBuilder, tiny_params

N, ROW_LEN = 1600, 16
CYCLES = list(range(1, 11))                      # vec_cycles[kind] = kind + 1


def _busy(r, cls):
    return int(r.resources["busy_cycles"][(r.resources["class"] == cls) & (r.resources["tile"] == 0)].sum())


def _one(kind, broadcast, port):
    """One VEC record on tile 0: a broadcast over rows of ROW_LEN, or a plain elementwise op."""
    b = LogBuilder()
    A, B, D = b.sram(4 * N), b.sram(4 * N), b.sram(4 * N)
    blen = 4 * (N // ROW_LEN) if broadcast else 4 * N
    b.vec(0, 0, kind, N, b.rng(D), src0=b.rng(A), src1=b.rng(B, 0, blen),
          row_len=ROW_LEN if broadcast else 0, flags=FLAG_ROW_BROADCAST if broadcast else 0)
    return simulate(b.build(), tiny_params(vec_cycles=CYCLES, sram_port_bytes_per_cycle=port))


@pytest.mark.parametrize("kind", ["add", "mul"])
def test_broadcast_costs_the_vector_unit_as_the_plain_op(kind):
    c = CYCLES[{"add": 1, "mul": 2}[kind]]
    fast = 1024                                  # SRAM port fast enough: vector-bound
    plain, rows = _one(kind, False, fast), _one(kind, True, fast)
    assert _busy(rows, "vector") == _busy(plain, "vector") == -(-N // 16) * c
    assert rows.makespan_cycles == plain.makespan_cycles == -(-N // 16) * c
    # energy: the same vector-op energy per element; SRAM reads only src1's row values
    assert rows.energy_by_component["vector"] == plain.energy_by_component["vector"]


@pytest.mark.parametrize("kind", ["add", "mul"])
def test_broadcast_moves_the_sram_bytes_of_its_three_ranges(kind):
    port = 16                                    # slow SRAM port: SRAM-bound
    rows = _one(kind, True, port)
    nbytes = 4 * N + 4 * (N // ROW_LEN) + 4 * N
    assert _busy(rows, "sram") == -(-nbytes // port) == rows.makespan_cycles
    assert _busy(_one(kind, False, port), "sram") == -(-3 * 4 * N // port)
    read_bits, write_bits = 8 * (4 * N + 4 * (N // ROW_LEN)), 8 * 4 * N
    assert rows.energy_by_component["sram"] == read_bits * 2 + write_bits * 3     # fJ/bit r, w
