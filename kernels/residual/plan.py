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
from chipemu.kernels.region import col_range, split_cols

__all__ = ["ResidualPlan", "plan_residual"]

ALIGN = 64          # the runtime's SRAM allocator aligns every buffer to 64 bytes


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


def _up(n):
    return -(-n // ALIGN) * ALIGN


def _buffers(rows, cols):
    return {"x": rows * cols * 4, "r": rows * cols * 4, "y": rows * cols * 4}


def _need(rows, cols):
    return sum(_up(v) for v in _buffers(rows, cols).values())


def plan_residual(rows: int, hidden: int, device) -> ResidualPlan:
    """Split `hidden` columns of `rows` float32 rows over member tiles of `device`."""
    for name, v in (("rows", rows), ("hidden", hidden)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    block = device.tile.vector.lanes                     # one vector-unit block of columns
    tiles, width = split_cols(hidden, block, device.tiles_per_chiplet, device.n_chiplets,
                              lambda t, w: _need(rows, w) <= device.sram_buffer_bytes)
    have = device.sram_buffer_bytes
    if _need(rows, width) > have:
        fit = have // (12 * width)                       # then step down past the rounding
        while fit > 0 and _need(fit, width) > have:
            fit -= 1
        raise CapacityError(
            f"residual add of {rows} x {hidden}: {rows} rows of {width} columns on each of "
            f"{tiles} tiles need {_need(rows, width)} bytes of SRAM per tile (x, r, y), beyond "
            f"the {have} bytes a tile of {device.name!r} has for buffers; at most {fit} rows of "
            f"hidden {hidden} fit in one call")
    return ResidualPlan(rows, hidden, tiles, block, width, _buffers(rows, width))
