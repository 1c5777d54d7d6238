"""The rope planner: shapes and a device in, a plan out (pure Python, no state).

x [rows, heads * head_dim] is split over T member tiles in whole heads: kernels/region.col_range
with blocks of head_dim columns (one head), dealt in contiguous runs, the first `heads % T` tiles
one head more; T = min(tiles of a chiplet, heads), growing a chiplet at a time only when the rows
do not fit. Every member holds all rows of its heads and the whole cos / sin tables (any row may
have any position).

SRAM per tile: x and y [rows, cols], the tables cos and sin [max_positions, head_dim / 2], one
row of -sin and one half-head of scratch [head_dim / 2], the constant -1; each rounded up to 64
bytes. More than the device's buffer bytes is a CapacityError with the bytes needed, the
positions whose tables fit and the rows that fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.region import col_range, split_cols

__all__ = ["RopePlan", "plan_rope"]

ALIGN = 64          # the runtime's SRAM allocator aligns every buffer to 64 bytes


@dataclass(frozen=True)
class RopePlan:
    rows: int
    heads: int
    head_dim: int
    max_positions: int    # the tables hold positions 0 .. max_positions - 1
    tiles: int            # member tiles T (global ids 0 .. T-1)
    cols_per_tile: int    # columns on the widest tile
    sram: dict            # {buffer name: bytes per tile}

    @property
    def cols(self) -> int:
        return self.heads * self.head_dim

    @property
    def half(self) -> int:
        return self.head_dim // 2

    def tile_cols(self, t: int) -> tuple[int, int]:
        """(first column, number of columns) of member t (0 <= t < tiles): whole heads."""
        return col_range(self.cols, self.head_dim, self.tiles, t)

    def to_dict(self) -> dict:
        return dict(asdict(self), cols=self.cols)


def _up(n):
    return -(-n // ALIGN) * ALIGN


def _buffers(rows, cols, head_dim, max_positions):
    table = max_positions * (head_dim // 2) * 4
    return {"x": rows * cols * 4, "y": rows * cols * 4, "cos": table, "sin": table,
            "nsin": head_dim // 2 * 4, "tmp": head_dim // 2 * 4, "consts": 4}


def _need(rows, cols, head_dim, max_positions):
    return sum(_up(v) for v in _buffers(rows, cols, head_dim, max_positions).values())


def plan_rope(rows: int, heads: int, head_dim: int, max_positions: int, device) -> RopePlan:
    """Split `heads` heads of `head_dim` columns of `rows` float32 rows over member tiles of
    `device`, with the tables of positions 0 .. max_positions - 1 on every member."""
    for name, v, lo in (("rows", rows, 1), ("heads", heads, 1), ("head_dim", head_dim, 2),
                        ("max_positions", max_positions, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ShapeError(f"{name}={v!r} must be an integer >= {lo}")
    if head_dim % 2:
        raise ShapeError(f"head_dim={head_dim} must be even (rotate_half pairs i and "
                         f"i + head_dim/2)")
    cols = heads * head_dim
    have = device.sram_buffer_bytes
    tiles, width = split_cols(cols, head_dim, device.tiles_per_chiplet, device.n_chiplets,
                              lambda t, w: _need(rows, w, head_dim, max_positions) <= have)
    need = _need(rows, width, head_dim, max_positions)
    if need > have:
        per_pos = head_dim * 4                           # a position's cos and sin rows
        pos_fit = max((have - _need(rows, width, head_dim, 0)) // per_pos, 0)
        while pos_fit > 0 and _need(rows, width, head_dim, pos_fit) > have:
            pos_fit -= 1
        rows_fit = max((have - _need(0, width, head_dim, max_positions)) // (8 * width), 0)
        while rows_fit > 0 and _need(rows_fit, width, head_dim, max_positions) > have:
            rows_fit -= 1
        raise CapacityError(
            f"rope of {rows} x {heads} heads x {head_dim} with tables of {max_positions} "
            f"positions: {width} columns on each of {tiles} tiles need {need} bytes of SRAM per "
            f"tile (x and y {2 * rows * width * 4}, the cos and sin tables "
            f"{2 * max_positions * per_pos // 2}), beyond the {have} bytes a tile of "
            f"{device.name!r} has for buffers; with {rows} rows at most {pos_fit} positions fit "
            f"(max_positions), with {max_positions} positions at most {rows_fit} rows")
    return RopePlan(rows, heads, head_dim, max_positions, tiles, width,
                    _buffers(rows, width, head_dim, max_positions))
