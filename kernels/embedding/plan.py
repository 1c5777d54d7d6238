"""The embedding planner: shapes and a device in, a plan out (pure Python, no state).

Columns: the hidden axis is split over T member tiles exactly as rmsnorm's is (contiguous ranges
of vector-unit blocks, the first `blocks % T` one block more; T = min(tiles of a chiplet,
blocks), growing a chiplet at a time only when y's rows do not fit; members are global tiles
0 .. T-1). SRAM per tile: y [rows, cols] only.

The table in DRAM (`TableLayout`): member t's columns of all vocab rows are one [vocab, n_t]
row-major block, its own DRAM buffer, so a token's row is one contiguous read of n_t * 4 bytes.
The blocks live on the DRAM channels of the member's own chiplet, the chiplet's members dealt to
its channels in contiguous, balanced groups (member i of m goes to channel i * channels // m),
so all channels of a chiplet serve a gather at once. A channel past chiplet.dram.capacity_bytes
(its blocks rounded up to the allocator's 64 bytes), or a block past the largest buffer (an
event's uint32 offsets), is a CapacityError naming the bytes and the vocab that fits. The layout
depends on (vocab, hidden, T) only: a placed table serves any number of rows.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator import args
from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.emulator.tables.limits import LIMIT
from chipemu.kernels.region import col_range, split_cols

__all__ = ["TableLayout", "EmbeddingPlan", "plan_table", "plan_embedding"]

ALIGN = 64                                   # the runtime's allocator aligns every buffer
MAX_BUFFER_BYTES = LIMIT["buffer_bytes"].highest


@dataclass(frozen=True)
class TableLayout:
    vocab: int
    hidden: int
    tiles: int             # member tiles T (global ids 0 .. T-1)
    block: int             # columns of one vector-unit block
    channels: tuple        # the global DRAM channel of each member's block
    channel_bytes: dict    # {global channel: bytes its blocks take, 64-byte aligned}

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles)."""
        return col_range(self.hidden, self.block, self.tiles, t)

    def block_bytes(self, t: int) -> int:
        """Bytes of member t's block: float32 [vocab, n_t]."""
        return self.vocab * self.tile_cols(t)[1] * 4

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EmbeddingPlan:
    rows: int
    vocab: int
    hidden: int
    tiles: int             # member tiles T (global ids 0 .. T-1)
    block: int             # columns of one vector-unit block (the device's vec_lanes)
    cols_per_tile: int     # columns on the widest tile
    sram: dict             # {buffer name: bytes per tile}
    table: TableLayout

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles)."""
        return col_range(self.hidden, self.block, self.tiles, t)

    def to_dict(self) -> dict:
        return asdict(self)


def _count(name, v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    return v


def plan_table(vocab: int, hidden: int, device, tiles: int | None = None) -> TableLayout:
    """Where a float32 [vocab, hidden] table lies in `device`'s DRAM for T = `tiles` members
    (None: the layer ops' one-chiplet split, min(tiles of a chiplet, blocks))."""
    vocab, hidden = _count("vocab", vocab), _count("hidden", hidden)
    block = device.tile.vector.lanes
    blocks = -(-hidden // block)
    tpc, dram = device.tiles_per_chiplet, device.chiplet.dram
    if tiles is None:
        tiles = min(tpc, blocks)
    tiles = args.integer("tiles", tiles, 1, min(blocks, device.n_tiles), error=ShapeError,
                         why=f"member tiles: at most one per block of {block} columns, at most "
                             f"the device's tiles")
    if dram.channels == 0:
        raise CapacityError(f"embedding table {vocab} x {hidden}: device {device.name!r} has no "
                            f"DRAM channels")
    channels, used, cols_on = [], {}, {}
    for t in range(tiles):
        chip, i = divmod(t, tpc)
        members = min(tiles - chip * tpc, tpc)            # members on this chiplet
        ch = chip * dram.channels + i * dram.channels // members
        n = col_range(hidden, block, tiles, t)[1]
        channels.append(ch)
        used[ch] = used.get(ch, 0) + -(-vocab * n * 4 // ALIGN) * ALIGN
        cols_on[ch] = cols_on.get(ch, 0) + n
    cap = dram.capacity_bytes
    worst = max(used, key=lambda c: (used[c], -c))
    widest = col_range(hidden, block, tiles, 0)[1]
    what = f"embedding table {vocab} x {hidden} (float32, {vocab * hidden * 4} bytes)"
    if vocab * widest * 4 > MAX_BUFFER_BYTES:
        raise CapacityError(
            f"{what} over {tiles} member tiles: a member's block of {widest} columns of every "
            f"row is {vocab * widest * 4} bytes, beyond the largest buffer ({MAX_BUFFER_BYTES} "
            f"bytes: an event's offsets are uint32); at most "
            f"{MAX_BUFFER_BYTES // (widest * 4)} rows of hidden {hidden} fit")
    if used[worst] > cap:
        per_row = cols_on[worst] * 4                      # then step down past the rounding
        fit = cap // per_row
        while fit > 0 and sum(-(-fit * col_range(hidden, block, tiles, t)[1] * 4 // ALIGN)
                              * ALIGN for t in range(tiles) if channels[t] == worst) > cap:
            fit -= 1
        raise CapacityError(
            f"{what} over {tiles} member tiles: DRAM channel {worst} would hold "
            f"{cols_on[worst]} columns of every row, {used[worst]} bytes, beyond the channel's "
            f"{cap} bytes (chiplet.dram.capacity_bytes of {device.name!r}); at most {fit} rows "
            f"of hidden {hidden} fit")
    return TableLayout(vocab, hidden, tiles, block, tuple(channels), used)


def plan_embedding(rows: int, vocab: int, hidden: int, device,
                   tiles: int | None = None) -> EmbeddingPlan:
    """Split `hidden` columns of `rows` gathered rows over member tiles of `device` (T: as the
    layer ops', or `tiles` when the table is placed already), and lay out the table."""
    rows = _count("rows", rows)
    for name, v in (("vocab", vocab), ("hidden", hidden)):
        _count(name, v)
    block = device.tile.vector.lanes
    have = device.sram_buffer_bytes

    def need(width):                                      # y, rounded as the allocator does
        return -(-rows * width * 4 // ALIGN) * ALIGN

    if tiles is None:
        tiles, _ = split_cols(hidden, block, device.tiles_per_chiplet, device.n_chiplets,
                              lambda t, w: need(w) <= have)
    table = plan_table(vocab, hidden, device, tiles)
    width = col_range(hidden, block, table.tiles, 0)[1]
    if need(width) > have:
        raise CapacityError(
            f"embedding of {rows} rows x {hidden}: {rows} rows of {width} columns on each of "
            f"{table.tiles} tiles need {need(width)} bytes of SRAM per tile (y), beyond the "
            f"{have} bytes a tile of {device.name!r} has for buffers; at most "
            f"{have // (width * 4)} rows of hidden {hidden} fit in one call")
    return EmbeddingPlan(rows, vocab, hidden, table.tiles, block, width,
                         {"y": rows * width * 4}, table)
