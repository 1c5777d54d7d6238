"""The scale_rows planner: shapes and a device in, a plan out (pure Python, no state).

Rows are dealt to tiles in contiguous ranges, as evenly as possible (the first `rows % tiles`
tiles get one more), over at most every tile of the device. A tile holds its rows of x, their
scales and its rows of y in SRAM at once; if the busiest tile's buffers exceed the SRAM left for
buffers, the plan raises CapacityError with the bytes needed and available.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError

__all__ = ["ScaleRowsPlan", "plan_scale_rows"]

ALIGN = 64          # the runtime's SRAM allocator aligns every buffer to 64 bytes


@dataclass(frozen=True)
class ScaleRowsPlan:
    rows: int
    cols: int
    tiles: int            # tiles with rows
    rows_per_tile: int    # rows on the busiest tile
    sram: dict            # {buffer name: bytes per tile}

    def tile_rows(self, t: int) -> tuple[int, int]:
        """(first row, number of rows) of tile t (0 <= t < tiles)."""
        q, extra = divmod(self.rows, self.tiles)
        return t * q + min(t, extra), q + (1 if t < extra else 0)

    def to_dict(self) -> dict:
        return asdict(self)


def _up(n):
    return -(-n // ALIGN) * ALIGN


def _need(per, cols):
    """SRAM bytes of one tile with `per` rows: x, s and y, each rounded up to ALIGN."""
    return _up(per * cols * 4) + _up(per * 4) + _up(per * cols * 4)


def plan_scale_rows(rows: int, cols: int, device) -> ScaleRowsPlan:
    """Spread `rows` rows of `cols` float32 values over the tiles of `device`."""
    for name, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    tiles = min(rows, device.n_tiles)
    per = -(-rows // tiles)
    have = device.sram_buffer_bytes
    if _need(per, cols) > have:
        fit = have // (8 * cols + 4)                   # then step down past the 64-byte rounding
        while fit > 0 and _need(fit, cols) > have:
            fit -= 1
        raise CapacityError(
            f"scale_rows of {rows} x {cols}: {per} rows per tile need {_need(per, cols)} bytes of "
            f"SRAM per tile (x, s, y), beyond the {have} bytes a tile of {device.name!r} has for "
            f"buffers; at most {fit * device.n_tiles} rows of {cols} fit in one call")
    sram = {"x": per * cols * 4, "s": per * 4, "y": per * cols * 4}
    return ScaleRowsPlan(rows, cols, tiles, per, sram)
