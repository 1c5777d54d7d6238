"""The rmsnorm planner: shapes and a device in, a plan out (pure Python, no state).

The hidden axis is split over T member tiles of chiplet 0 in contiguous column ranges (as a
matmul's output columns are spread over tiles), in blocks of the vector unit's lanes: the
ceil(hidden / lanes) blocks are dealt in order, the first `blocks % T` tiles one block more, and
the last tile's last block may be partial. T = min(tiles of a chiplet, blocks): a tile never
holds less than one block, and the reduction's traffic stays on one chiplet's NoC; only when the
rows do not fit the SRAM of one chiplet's tiles does T grow a chiplet at a time (global tile ids
run chiplet by chiplet, so the members are tiles 0 .. T-1). Every member holds all rows of its
columns; tile 0 (the first member) is the root of the reduction.

SRAM per tile: x and y [rows, cols], gamma [cols], the partial sums [T, rows], the sums and the
scales [rows] and the two constants, each rounded up to 64 bytes. More than the device's
buffer bytes is a CapacityError with the bytes needed and how many rows fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.region import col_range, rows_that_fit, split_cols_fitting

__all__ = ["RMSNormPlan", "plan_rmsnorm"]


@dataclass(frozen=True)
class RMSNormPlan:
    rows: int
    hidden: int
    tiles: int            # member tiles T (global ids 0 .. T-1, chiplet 0)
    root: int             # the reducing tile
    block: int            # columns of one vector-unit block (the device's vec_lanes)
    cols_per_tile: int    # columns on the widest tile
    sram: dict            # {buffer name: bytes per tile}

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles)."""
        return col_range(self.hidden, self.block, self.tiles, t)

    def to_dict(self) -> dict:
        return asdict(self)


def _buffers(rows, cols, tiles):
    return {"x": rows * cols * 4, "gamma": cols * 4, "y": rows * cols * 4,
            "parts": tiles * rows * 4, "acc": rows * 4, "scale": rows * 4, "consts": 8}


def plan_rmsnorm(rows: int, hidden: int, device) -> RMSNormPlan:
    """Split `hidden` columns of `rows` float32 rows over member tiles of `device`."""
    for name, v in (("rows", rows), ("hidden", hidden)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    block = device.tile.vector.lanes                     # one vector-unit block of columns
    tiles, cols, need = split_cols_fitting(rows, hidden, device, _buffers)
    have = device.sram_buffer_bytes
    if need > have:
        fit = rows_that_fit(cols, tiles, device, _buffers)
        raise CapacityError(
            f"rmsnorm of {rows} x {hidden}: {rows} rows of {cols} columns on each of {tiles} "
            f"tiles need {need} bytes of SRAM per tile (x, y, gamma, partial "
            f"sums, scales), beyond the {have} bytes a tile of {device.name!r} has for buffers; "
            f"at most {fit} rows of hidden {hidden} fit in one call")
    return RMSNormPlan(rows, hidden, tiles, 0, block, cols, _buffers(rows, cols, tiles))
