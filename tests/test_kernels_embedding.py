"""chipemu.kernels.embedding: both twins equal table[ids] bit for bit on tiny and corsair (odd
sizes, repeated and extreme ids, NaN payloads, -0, inf, subnormals); the gather is exact; one
event log in both backends and in timing mode; the table's blocks spread over a chiplet's DRAM
channels and read in place; a placed table serves many gathers; huge tables are refused by
name (and llama-sized ones timed without being allocated); bad ids are refused before any work,
by the API and by the tile kernel itself; the LayerOp is declared; the command is registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.emulator.runtime.machine import Machine
from chipemu.emulator.tables.ids import BUF_KINDS
from chipemu.kernels import embedding, place_table
from chipemu.kernels.embedding import data as D
from chipemu.kernels.embedding.api import OP, compute_phase, events_of
from chipemu.kernels.embedding.plan import plan_embedding, plan_table
from chipemu.kernels.embedding.ref import embedding_reference
from chipemu.kernels.embedding.tile import EMB_GATHER
from chipemu.kernels.scaffold import Run, gather_cols

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")


def _data(rows, vocab, hidden, seed=0):
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((vocab, hidden), dtype=np.float32)
    ids = rng.integers(0, vocab, rows)
    ids[0], ids[-1] = vocab - 1, 0                          # both ends of the table
    return ids, table


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,vocab,hidden", [(TINY, 1, 1, 1), (TINY, 3, 100, 257),
                                                   (TINY, 16, 60, 1024), (TINY, 200, 30, 1024),
                                                   (CORSAIR, 16, 1000, 4096),
                                                   (CORSAIR, 3, 77, 4099)])
def test_twins_equal_reference_bit_for_bit(backend, dev, rows, vocab, hidden):
    ids, table = _data(rows, vocab, hidden)
    r = embedding(ids, table, device=dev, backend=backend)
    assert np.array_equal(_bits(r.output), _bits(embedding_reference(ids, table)))


def test_the_gather_moves_bits_unchanged():
    # DRAM reads copy bytes: NaN payloads (not canonicalised, unlike vector ops), -0, inf and
    # subnormals survive; a float16 table is exact in float32, so y equals it in float64 too
    ids, table = _data(8, 20, 100)
    table[3, :5] = [np.uint32(0x7FA00001).view(np.float32), -0.0, np.inf, -1e-42, -np.inf]
    ids[2:5] = 3                                            # a repeated id
    for backend in ("c", "numba"):
        y = embedding(ids, table, device=TINY, backend=backend).output
        assert np.array_equal(_bits(y), _bits(table[ids]))
    assert _bits(y[2, 0]) == 0x7FA00001 and _bits(y[3, 1]) == 0x80000000
    half = _data(8, 20, 100, seed=1)[1].astype(np.float16)
    y = embedding(ids, half, device=TINY).output
    assert np.array_equal(y.astype(np.float64), half.astype(np.float64)[ids])


def test_backends_and_modes_give_one_log_and_one_cost():
    ids, table = _data(16, 500, 1000)
    c = embedding(ids, table, device=CORSAIR, backend="c")
    nb = embedding(ids, table, device=CORSAIR, backend="numba")
    t = embedding(ids, (500, 1000), device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None and len(c.events) == events_of(plan_embedding(16, 500, 1000, CORSAIR))


def test_blocks_spread_over_the_chiplets_channels_and_each_row_is_one_read():
    lay = plan_table(1000, 4096, CORSAIR)           # 64 members, 4 channels on chiplet 0
    assert lay.tiles == 64 and lay.channels == tuple(t // 16 for t in range(64))
    assert lay.channel_bytes == {ch: 16 * 1000 * 64 * 4 for ch in range(4)}
    assert plan_table(3, 100, TINY).channel_bytes == {0: 3 * (3 * 32 * 4) + 64}  # 48 B -> 64
    ids, table = _data(5, 1000, 4096)
    r = embedding(ids, (1000, 4096), device=CORSAIR, mode="timing")
    ev, bt = r.events.events, r.events.buffers
    reads = ev[ev["op"] == OPS["dram_read"]]
    assert len(reads) == len(ev) == 64 * 5 and set(reads["a"].tolist()) == {256}
    src = reads["src0"]
    assert (bt[src["buf"]]["where"] == reads["tile"] // 16).all()   # each its channel's block
    assert len(set(src["buf"].tolist())) == 64
    t7 = src[reads["tile"] == 7]                            # its block, row by row
    assert t7["off"].tolist() == [i * 256 for i in ids]
    two = plan_embedding(200, 30, 1024, TINY)       # y does not fit 4 tiles: a second chiplet
    assert two.tiles == 8 and two.table.channels == (0, 0, 0, 0, 1, 1, 1, 1)


def test_a_placed_table_serves_many_gathers():
    ids, table = _data(6, 50, 300)
    for backend in ("c", "numba"):
        run = Run("embedding", TINY, backend=backend)
        mach = run.machine
        placed = place_table(mach, table, TINY)
        n_buffers = len(mach.buffer_table())
        for rows, seed in ((6, 1), (2, 2), (9, 3)):         # any rows, with the placed layout
            ids = np.random.default_rng(seed).integers(0, 50, rows)
            plan = plan_embedding(rows, 50, 300, TINY, tiles=placed.tiles)
            y = mach.alloc_sram(f"y{rows}", plan.sram["y"])
            compute_phase(run, plan, D.params(plan, TINY.n_tiles, {"y": y}, placed, ids))
            out = gather_cols(mach, y, rows, map(plan.tile_cols, range(plan.tiles)))
            assert np.array_equal(_bits(out), _bits(table[ids]))
        dram = [b for b in mach.buffer_table() if b["kind"] == BUF_KINDS["dram"]]
        assert len(dram) == len(placed.blocks) == 4 and len(mach.buffer_table()) == n_buffers + 3


def test_huge_tables_are_refused_by_name_and_llama_is_timed_without_allocating():
    with pytest.raises(CapacityError, match="channel 0 would hold 1024 columns.*at most "
                                            "2097152 rows of hidden 4096 fit"):
        embedding(np.arange(16), (10_000_000, 4096), device=CORSAIR, mode="timing")
    with pytest.raises(CapacityError, match="beyond the channel's 1048576 bytes"):
        embedding(np.arange(4), (1000, 1024), device=TINY, mode="timing")
    r = embedding(np.arange(16), (128256, 4096), device=CORSAIR, mode="timing")   # llama-3.1-8b
    assert r.plan["table"]["channel_bytes"] == {ch: 128256 * 1024 * 4 for ch in range(4)}
    assert r.metrics["bytes_gathered"] == 16 * 4096 * 4 and r.cycles > 0
    with pytest.raises(CapacityError, match="largest buffer.*at most 16777215 rows"):
        plan_table(20_000_000, 4096, CORSAIR)               # 64 columns x 20M rows > 4 GiB
    with pytest.raises(CapacityError, match="at most 128 rows of hidden 4096 fit in one call"):
        plan_embedding(5000, 10, 4096, TINY)                # y beyond every tile's SRAM


def test_bad_input_is_rejected_before_work():
    ids, table = _data(4, 10, 8)
    for bad, what in (([0, 10], "ids\\[1\\]=10 is out of range.*\\[0, 10\\)"),
                      ([-1], "ids\\[0\\]=-1"), ([1.0, 2.0], "integer token ids"),
                      ([[1, 2]], "1-D"), ([], "non-empty"), ([True], "integer token ids")):
        with pytest.raises(ShapeError, match=what):
            embedding(bad, table, device=TINY)
    with pytest.raises(ShapeError, match="table must be \\[vocab, hidden\\]"):
        embedding(ids, table[0], device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        embedding(ids, table.astype(np.int32), device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        embedding(ids, (10, 8), device=TINY)                 # shapes need timing mode
    with pytest.raises(ConfigError, match="mode"):
        embedding(ids, table, device=TINY, mode="fast")
    with pytest.raises(ConfigError, match="not the device of this machine"):
        place_table(Machine(TINY), table, CORSAIR)
    with pytest.raises(ConfigError, match="machine="):
        place_table("tiny", table, TINY)
    with pytest.raises(ShapeError, match="tiles=9 is out of range"):
        plan_table(10, 100, TINY, tiles=9)                   # 7 blocks of 16 columns


def test_the_tile_kernel_refuses_an_id_no_planner_made():
    ids, table = _data(3, 10, 40)
    said = []
    for backend in ("c", "numba"):
        m = Machine(TINY, backend=backend)
        placed = place_table(m, table, TINY)
        plan = plan_embedding(3, 10, 40, TINY, tiles=placed.tiles)
        p = D.params(plan, TINY.n_tiles, {"y": m.alloc_sram("y", plan.sram["y"])}, placed, ids)
        p[p[D.LAYOUT.H.ids_at] + 1] = 10                     # past the vocab
        with pytest.raises(ShapeError, match="its parameter word .* = 10 is out of range; "
                                             "allowed 0..9") as e:
            m.launch(EMB_GATHER, range(plan.tiles), p, events_per_tile=3)
        assert m.n_events == 0                               # refused before any read
        said.append(str(e.value))
    assert said[0] == said[1]


def test_layer_op_declares_the_program_interface():
    assert (OP.name, OP.inputs, OP.output) == ("embedding", (), "y")
    assert OP.constants(plan_embedding(3, 10, 40, TINY)) == {}


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "embedding", "--preset", "tiny", "--rows", "5",
                                    "--hidden", "100", "--vocab", "50"])
    assert out.exit_code == 0, out.output
    assert "equal_to_reference" in out.output and "embedding on tiny" in out.output
    out = CliRunner().invoke(main, ["run", "embedding", "--mode", "timing", "--vocab", "128256"])
    assert out.exit_code == 0, out.output
