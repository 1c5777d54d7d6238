"""The residual planner: shapes and a device in, a plan out (pure Python, no state).

The columns are split over T member tiles exactly as rmsnorm's hidden axis and glu's columns
are (so x arriving from a matmul, or feeding rmsnorm, needs no reshuffle): ceil(hidden / lanes)
vector-unit blocks dealt in order, the first `blocks % T` tiles one block more, the last block
possibly partial; T = min(tiles of a chiplet, blocks), growing a chiplet at a time only when the
rows do not fit. The op is elementwise: no tile talks to another.

SRAM per tile: x, r and y [rows, cols], each rounded up to 64 bytes. More than the device's
buffer bytes is a CapacityError with the bytes needed and the rows that fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.region import col_range, rows_that_fit, split_cols_fitting

__all__ = ["ResidualPlan", "plan_residual"]


@dataclass(frozen=True)
class ResidualPlan:
    rows: int
    hidden: int
    tiles: int            # member tiles T (global ids 0 .. T-1)
    block: int            # columns of one vector-unit block (the device's vec_lanes)
    cols_per_tile: int    # columns on the widest tile
    sram: dict            # {buffer name: bytes per tile}

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles)."""
        return col_range(self.hidden, self.block, self.tiles, t)

    def to_dict(self) -> dict:
        return asdict(self)


def _buffers(rows, cols, tiles=1):
    return {"x": rows * cols * 4, "r": rows * cols * 4, "y": rows * cols * 4}


def plan_residual(rows: int, hidden: int, device) -> ResidualPlan:
    """Split `hidden` columns of `rows` float32 rows over member tiles of `device`."""
    for name, v in (("rows", rows), ("hidden", hidden)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    tiles, width, need = split_cols_fitting(rows, hidden, device, _buffers)
    have = device.sram_buffer_bytes
    if need > have:
        fit = rows_that_fit(width, tiles, device, _buffers)
        raise CapacityError(
            f"residual add of {rows} x {hidden}: {rows} rows of {width} columns on each of "
            f"{tiles} tiles need {need} bytes of SRAM per tile (x, r, y), beyond "
            f"the {have} bytes a tile of {device.name!r} has for buffers; at most {fit} rows of "
            f"hidden {hidden} fit in one call")
    return ResidualPlan(rows, hidden, tiles, device.tile.vector.lanes, width,
                        _buffers(rows, width))
