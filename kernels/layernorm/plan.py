"""The layernorm planner: shapes and a device in, a plan out (pure Python, no state).

The hidden axis is split over T member tiles exactly as rmsnorm's is (contiguous ranges of
vector-unit blocks, the first `blocks % T` tiles one block more, the last block possibly
partial; T = min(tiles of a chiplet, blocks), growing a chiplet at a time only when the rows do
not fit; members are global tiles 0 .. T-1). Every member holds all rows of its columns; tile 0
is the root of both reductions.

SRAM per tile: x and y [rows, cols], gamma and beta [cols], the partial sums [T, rows], the
root's sums, the negated means and the scales [rows] and three constants, each rounded up to 64
bytes. More than the device's buffer bytes is a CapacityError with the bytes needed and how
many rows fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.region import col_range, rows_that_fit, split_cols_fitting

__all__ = ["LayerNormPlan", "plan_layernorm"]


@dataclass(frozen=True)
class LayerNormPlan:
    rows: int
    hidden: int
    tiles: int            # member tiles T (global ids 0 .. T-1)
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
    return {"x": rows * cols * 4, "gamma": cols * 4, "beta": cols * 4, "y": rows * cols * 4,
            "parts": tiles * rows * 4, "acc": rows * 4, "shift": rows * 4, "scale": rows * 4,
            "consts": 12}


def plan_layernorm(rows: int, hidden: int, device) -> LayerNormPlan:
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
            f"layernorm of {rows} x {hidden}: {rows} rows of {cols} columns on each of {tiles} "
            f"tiles need {need} bytes of SRAM per tile (x, y, gamma, beta, "
            f"partial sums, means, scales), beyond the {have} bytes a tile of {device.name!r} "
            f"has for buffers; at most {fit} rows of hidden {hidden} fit in one call")
    return LayerNormPlan(rows, hidden, tiles, 0, block, cols, _buffers(rows, cols, tiles))
