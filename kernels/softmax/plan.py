"""The softmax planner: shapes and a device in, a plan out (pure Python, no state).

The columns of x [rows, cols] are split over T member tiles exactly as rmsnorm's hidden axis is
(kernels/region.col_range: ceil(cols / lanes) vector-unit blocks dealt in order, the first
`blocks % T` tiles one block more, the last block possibly partial; T = min(tiles of a chiplet,
blocks), growing a chiplet at a time only when the rows do not fit). Every member holds all rows
of its columns; tile 0 is the root of the two cross-tile reductions (the row maxima, then the
row sums of exp).

SRAM per tile: x and y [rows, cols], the partial maxima / sums [T, rows] (one buffer, reused:
the maxima are read before the sums arrive), the root's running result, the negated maxima and
the reciprocal sums [rows] each, and the constant -1; each rounded up to 64 bytes. More than the
device's buffer bytes is a CapacityError with the bytes needed and how many rows fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.region import col_range, rows_that_fit, split_cols_fitting

__all__ = ["SoftmaxPlan", "plan_softmax"]


@dataclass(frozen=True)
class SoftmaxPlan:
    rows: int
    cols: int
    tiles: int            # member tiles T (global ids 0 .. T-1)
    root: int             # the reducing tile
    block: int            # columns of one vector-unit block (the device's vec_lanes)
    cols_per_tile: int    # columns on the widest tile
    sram: dict            # {buffer name: bytes per tile}

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles)."""
        return col_range(self.cols, self.block, self.tiles, t)

    def to_dict(self) -> dict:
        return asdict(self)


def _buffers(rows, cols, tiles):
    return {"x": rows * cols * 4, "y": rows * cols * 4, "parts": tiles * rows * 4,
            "acc": rows * 4, "negmax": rows * 4, "inv": rows * 4, "consts": 4}


def plan_softmax(rows: int, cols: int, device) -> SoftmaxPlan:
    """Split `cols` columns of `rows` float32 rows over member tiles of `device`."""
    for name, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    block = device.tile.vector.lanes                     # one vector-unit block of columns
    tiles, width, need = split_cols_fitting(rows, cols, device, _buffers)
    have = device.sram_buffer_bytes
    if need > have:
        fit = rows_that_fit(width, tiles, device, _buffers)
        raise CapacityError(
            f"softmax of {rows} x {cols}: {rows} rows of {width} columns on each of {tiles} "
            f"tiles need {need} bytes of SRAM per tile (x, y, partial "
            f"maxima and sums, row statistics), beyond the {have} bytes a tile of "
            f"{device.name!r} has for buffers; at most {fit} rows of {cols} columns fit in one "
            f"call")
    return SoftmaxPlan(rows, cols, tiles, 0, block, width, _buffers(rows, width, tiles))
