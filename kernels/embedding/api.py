"""`embedding`: y[r, :] = table[ids[r], :] gathered from the device's DRAM, each member tile
reading its columns of every token's row (docs/embedding.md).

    from chipemu.kernels import embedding, place_table
    r = embedding(ids, table)            # ids int [rows], table float32 [vocab, hidden]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

    placed = place_table(machine, table, device)      # once: the table's home is DRAM
    p = D.params(plan, device.n_tiles, {"y": y_buf}, placed, ids)   # per gather: the ids

The NumPy reference is kernels/embedding/ref.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.runtime import budget
from chipemu.emulator.runtime.machine import Machine
from chipemu.kernels.embedding import data as D
from chipemu.kernels.embedding.plan import TableLayout, plan_embedding, plan_table
from chipemu.kernels.embedding.ref import embedding_reference
from chipemu.kernels.embedding.tile import EMB_GATHER
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.scaffold import (Run, as_device, check_data, check_mode,
                                     elementwise_metrics, gather_cols, shape_of, strict_keywords)

__all__ = ["PlacedTable", "place_table", "check_ids", "embedding", "run_embedding",
           "events_of", "compute_phase", "OP"]


@dataclass(frozen=True, eq=False)
class PlacedTable:
    """A table resident in a Machine's DRAM: its layout (plan.TableLayout) and each member's
    block as (DRAM buffer id, byte offset), one buffer a member on its channel."""
    layout: TableLayout
    blocks: tuple
    machine: Machine = field(repr=False)

    @property
    def vocab(self) -> int:
        return self.layout.vocab

    @property
    def hidden(self) -> int:
        return self.layout.hidden

    @property
    def tiles(self) -> int:
        return self.layout.tiles


def _table_of(table, timing):
    """(shape, array or None) of a [vocab, hidden] table, or ShapeError."""
    ts, ta = shape_of(table, "table", timing)
    if len(ts) != 2:
        raise ShapeError(f"table must be [vocab, hidden]; got shape {ts}")
    return ts, ta


def place_table(machine, table, device=None, *, tiles=None) -> PlacedTable:
    """Write `table` (float32 [vocab, hidden]; a shape tuple on a timing-mode machine) into
    `machine`'s DRAM once, laid out for T = `tiles` members (None: the layer ops' one-chiplet
    split) -> PlacedTable, which any number of gathers reuse. device: the Device the machine
    was made for (a preset name or path; None: corsair). The bytes are written by the host,
    not logged and not timed: the table is in place before the program starts, as a model's
    weights are copied into device memory at start-up. A channel past its capacity is a
    CapacityError before anything is allocated."""
    if not isinstance(machine, Machine):
        raise ConfigError(f"machine={args.show(machine)} ({type(machine).__name__}); allowed: "
                          f"a chipemu Machine (e.g. Card.machine, Run.machine)")
    dev = as_device(device)
    if machine.n_tiles != dev.n_tiles or machine.n_channels != dev.n_chiplets * \
            dev.chiplet.dram.channels:
        raise ConfigError(f"device {dev.name!r} ({dev.n_tiles} tiles) is not the device of "
                          f"this machine ({machine.n_tiles} tiles, {machine.n_channels} DRAM "
                          f"channels); pass the Device the machine was made for")
    timing = machine.mode == "timing"
    (vocab, hidden), ta = _table_of(table, timing)
    layout = plan_table(vocab, hidden, dev, tiles)
    if not timing:
        # the DRAM arena (grown up to 2x) and the table's float32 copy block by block
        budget.check(f"embedding table {vocab} x {hidden}", host_bytes=machine.host_bytes()
                     + 3 * vocab * hidden * 4)
    bufs = [machine.alloc_dram(f"table:{t}", layout.block_bytes(t), channel=ch)
            for t, ch in enumerate(layout.channels)]
    if not timing:
        for buf, block in zip(bufs, D.table_blocks(np.asarray(ta, np.float32), layout)):
            machine.write(buf, block)
    blocks = tuple((buf, 0) for buf in bufs)
    return PlacedTable(layout, blocks, machine)


def check_ids(ids, vocab: int) -> np.ndarray:
    """ids as int64 [rows], or ShapeError: a non-empty 1-D sequence of integers in
    [0, vocab) (control data: needed in timing mode too, their rows' offsets are logged)."""
    try:
        a = np.asarray(ids)
    except Exception:
        raise ShapeError(f"ids must be a 1-D sequence of token ids, got "
                         f"{type(ids).__name__}") from None
    if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iu":
        raise ShapeError(f"ids={args.show(ids)} ({a.dtype}, shape {a.shape}); allowed: a "
                         f"non-empty 1-D sequence of integer token ids")
    bad = np.flatnonzero((a < 0) | (a >= vocab))
    if bad.size:
        raise ShapeError(f"ids[{bad[0]}]={a[bad[0]]} is out of range; allowed: token ids in "
                         f"[0, {vocab}) (the table's vocab)")
    return a.astype(np.int64)


def events_of(plan) -> int:
    """Events of one gather: one DRAM read per row on each member."""
    return plan.tiles * plan.rows


def compute_phase(run, plan, p) -> None:
    """emb_gather on the members, inside the caller's phase: the table is in DRAM (placed) and
    the ids are in p. Its only superstep reads DRAM (the table is a constant placed once)."""
    run.launch(EMB_GATHER, list(range(plan.tiles)), p, events_per_tile=plan.rows,
               peers_per_tile=0, stage_bytes_per_tile=0)


@strict_keywords
def embedding(ids, table, *, device=None, backend="c", mode="functional", network=None,
              progress=None):
    """Rows `ids` [rows] of `table` [vocab, hidden] -> Result.

    ids: integer token ids in [0, vocab) (also in timing mode). table: a float32/float16/
    bfloat16 array (converted to float32), or a shape tuple in timing mode. device: a Device,
    preset name or .toml path (None: corsair); backend "c" | "numba"; mode "functional" |
    "timing". The table is placed in DRAM first (place_table: not logged, not timed); the log is
    the gather alone, phase "compute". Result.output is float32 [rows, hidden] (None in timing
    mode); metrics the elements, member tiles, bytes gathered and DRAM bytes per cycle.
    """
    run = Run("embedding", device, mode=mode, backend=backend, network=network,
              progress=progress)
    dev, timing = run.device, run.timing
    (vocab, hidden), ta = _table_of(table, timing)
    ids = check_ids(ids, vocab)
    plan = plan_embedding(len(ids), vocab, hidden, dev)
    # refuse before any state: in functional mode the DRAM copy of the table (grown up to 2x),
    # its float32 copy, every tile's SRAM and the output
    data = 0 if timing else 4 * vocab * hidden * 4 + dev.n_tiles * plan.sram["y"] \
        + plan.rows * hidden * 4
    mach = run.start(events=events_of(plan), host_bytes=data)
    placed = place_table(mach, (vocab, hidden) if timing else ta, dev, tiles=plan.tiles)
    bufs = {"y": mach.alloc_sram("y", plan.sram["y"])}
    p = D.params(plan, dev.n_tiles, bufs, placed, ids)
    with run.phase("compute"):
        compute_phase(run, plan, p)
    out = None if timing else gather_cols(mach, bufs["y"], plan.rows,
                                          map(plan.tile_cols, range(plan.tiles)))
    r = run.finish(output=out, plan=plan.to_dict(), phases=run.phases)
    nbytes = plan.rows * hidden * 4
    r.metrics.update(bytes_gathered=nbytes,
                     dram_bytes_per_cycle=nbytes / r.cycles if r.cycles else 0.0)
    return elementwise_metrics(r, plan.rows * hidden, tiles=plan.tiles)


@strict_keywords
def run_embedding(device=None, *, backend="c", mode="functional", progress=None, rows=16,
                  hidden=4096, vocab=32000, seed=0):
    """Gather `rows` random token ids from an N(0,1) table [vocab, hidden] in DRAM; functional
    mode checks it against NumPy (bit for bit); timing mode never allocates the table."""
    rows, hidden, vocab = (args.integer(name, v, 1, error=ShapeError)
                           for name, v in (("rows", rows), ("hidden", hidden), ("vocab", vocab)))
    seed = args.integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, rows)
    if check_mode(mode) == "timing":
        return embedding(ids, (vocab, hidden), device=device, backend=backend, mode="timing",
                         progress=progress)
    # the table, the output and the reference's copy
    plan_embedding(rows, vocab, hidden, as_device(device))     # capacity errors before drawing
    check_data(f"run_embedding rows={rows}, hidden={hidden}, vocab={vocab}", (vocab, hidden),
               (2, rows, hidden))
    table = rng.standard_normal((vocab, hidden), dtype=np.float32)
    r = embedding(ids, table, device=device, backend=backend, progress=progress)
    r.metrics["equal_to_reference"] = bool(np.array_equal(
        r.output.view(np.uint32), embedding_reference(ids, table).view(np.uint32)))
    return r


OP = LayerOp("embedding", inputs=(), output="y", compute=compute_phase,
             constants=D.constant_data)
