"""The glu planner: shapes and a device in, a plan out (pure Python, no state).

The columns are split over T member tiles exactly as rmsnorm's hidden axis is (so gate and up
arriving from a matmul, or feeding rmsnorm, need no reshuffle): ceil(cols / lanes) vector-unit
blocks dealt in order, the first `blocks % T` tiles one block more, the last block possibly
partial; T = min(tiles of a chiplet, blocks), growing a chiplet at a time only when the rows do
not fit. The op is elementwise: no tile talks to another.

SRAM per tile: gate, up and y [rows, cols] and the four constants, each rounded up to 64 bytes.
More than the device's buffer bytes is a CapacityError with the bytes needed and the rows that fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.region import col_range, rows_that_fit, split_cols_fitting

__all__ = ["GLUPlan", "plan_glu"]


@dataclass(frozen=True)
class GLUPlan:
    rows: int
    cols: int
    tiles: int            # member tiles T (global ids 0 .. T-1)
    block: int            # columns of one vector-unit block (the device's vec_lanes)
    cols_per_tile: int    # columns on the widest tile
    sram: dict            # {buffer name: bytes per tile}

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles)."""
        return col_range(self.cols, self.block, self.tiles, t)

    def to_dict(self) -> dict:
        return asdict(self)


def _buffers(rows, cols, tiles=1):
    return {"gate": rows * cols * 4, "up": rows * cols * 4, "y": rows * cols * 4, "consts": 16}


def plan_glu(rows: int, cols: int, device) -> GLUPlan:
    """Split `cols` columns of `rows` float32 rows over member tiles of `device`."""
    for name, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    tiles, width, need = split_cols_fitting(rows, cols, device, _buffers)
    have = device.sram_buffer_bytes
    if need > have:
        fit = rows_that_fit(width, tiles, device, _buffers)
        raise CapacityError(
            f"glu of {rows} x {cols}: {rows} rows of {width} columns on each of {tiles} tiles "
            f"need {need} bytes of SRAM per tile (gate, up, y), beyond the {have} "
            f"bytes a tile of {device.name!r} has for buffers; at most {fit} rows of {cols} "
            f"columns fit in one call")
    return GLUPlan(rows, cols, tiles, device.tile.vector.lanes, width,
                   _buffers(rows, width))
