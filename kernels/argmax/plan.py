"""The argmax planner: shapes and a device in, a plan out (pure Python, no state).

The vocabulary axis of the logits [rows, vocab] is split over T member tiles as rmsnorm's hidden
axis is (kernels/region.col_range: ceil(vocab / lanes) vector-unit blocks dealt in order, the
first `blocks % T` tiles one block more, the last block possibly partial; T = min(tiles of a
chiplet, blocks), growing a chiplet at a time only when the rows do not fit). Every member holds
all rows of its columns and the global ids of its columns; tile 0 is the root that picks.

SRAM per tile: x [rows, cols], the column ids [cols] (int32), the partial maxima and their ids
[T, rows] each (complete on the root), and the result ids [rows] (int32, meaningful on the
root); each rounded up to 64 bytes. More than the device's buffer bytes is a CapacityError with
the bytes needed and how many rows fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.region import col_range, rows_that_fit, split_cols_fitting

__all__ = ["ArgmaxPlan", "plan_argmax", "MAX_VOCAB"]

MAX_VOCAB = 2 ** 31 - 1     # ids are int32 words on the device


@dataclass(frozen=True)
class ArgmaxPlan:
    rows: int
    vocab: int
    tiles: int            # member tiles T (global ids 0 .. T-1)
    root: int             # the picking tile (holds the result)
    block: int            # columns of one vector-unit block (the device's vec_lanes)
    cols_per_tile: int    # columns on the widest tile
    sram: dict            # {buffer name: bytes per tile}

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles)."""
        return col_range(self.vocab, self.block, self.tiles, t)

    def to_dict(self) -> dict:
        return asdict(self)


def _buffers(rows, cols, tiles):
    return {"x": rows * cols * 4, "ids": cols * 4, "mparts": tiles * rows * 4,
            "gparts": tiles * rows * 4, "y": rows * 4}


def plan_argmax(rows: int, vocab: int, device) -> ArgmaxPlan:
    """Split `vocab` columns of `rows` float32 rows of logits over member tiles of `device`."""
    for name, v, hi in (("rows", rows, None), ("vocab", vocab, MAX_VOCAB)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1 or (hi and v > hi):
            raise ShapeError(f"{name}={v!r} must be an integer >= 1"
                             + (f" and <= {hi} (ids are int32)" if hi else ""))
    block = device.tile.vector.lanes                     # one vector-unit block of columns
    tiles, width, need = split_cols_fitting(rows, vocab, device, _buffers)
    have = device.sram_buffer_bytes
    if need > have:
        fit = rows_that_fit(width, tiles, device, _buffers)
        raise CapacityError(
            f"argmax of {rows} x {vocab}: {rows} rows of {width} columns on each of {tiles} "
            f"tiles need {need} bytes of SRAM per tile (x, the column ids, "
            f"partial maxima and ids), beyond the {have} bytes a tile of {device.name!r} has "
            f"for buffers; at most {fit} rows of {vocab} columns fit in one call")
    return ArgmaxPlan(rows, vocab, tiles, 0, block, width, _buffers(rows, width, tiles))
