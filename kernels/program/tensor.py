"""Device tensors: float32 [rows, cols] activations that stay on the device between kernels.

A tensor's distribution is data (as GSPMD's partition specs are): a tuple of `Block`s, each a
dense row-major piece rows x cols of the tensor held in one SRAM buffer of one tile. The blocks
of a tensor are disjoint and cover it. Two distributions occur:

- **columns** (every layer op, and program inputs): member t of T holds all rows of the columns
  `col_range(t)`, at offset 0 of the op's buffer (kernels/layer.py);
- **matmul output**: per N-block and chunk of rows, the group member (or owner) that reduced it
  holds rows x C at its offset in y (kernels/matmul/api.out_blocks); the stride is C, of which
  the columns below N count.

A tensor remembers the write generation of each buffer it lives in (`Card._gen`); a later call
that overwrites one makes the tensor stale, and using it is a ConfigError, not silent garbage.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipemu.emulator.errors import CapacityError
from chipemu.kernels.matmul.api import out_blocks
from chipemu.kernels.region import col_range, split_cols

__all__ = ["Block", "DeviceTensor", "column_blocks", "column_split", "matmul_blocks"]


@dataclass(frozen=True)
class Block:
    """Rows [row0, row0 + rows) x columns [col0, col0 + cols) of a tensor, float32 row-major in
    SRAM buffer `buf` of `tile` from byte `off`, `stride` floats per stored row (>= cols)."""
    tile: int
    buf: int
    off: int
    row0: int
    rows: int
    col0: int
    cols: int
    stride: int

    def at(self, row: int, col: int) -> int:
        """Byte offset in buf of element (row, col) of the tensor (inside the block)."""
        return self.off + ((row - self.row0) * self.stride + col - self.col0) * 4


@dataclass(frozen=True, eq=False)
class DeviceTensor:
    """A float32 [rows, cols] tensor on a card: its blocks and who wrote it (see the module)."""
    name: str
    rows: int
    cols: int
    blocks: tuple
    gens: tuple            # ((buffer id, generation), ...) when it was written
    dtype: str = "float32"     # or "int32" (argmax's ids)

    @property
    def shape(self) -> tuple:
        return (self.rows, self.cols)

    @property
    def tiles(self) -> list:
        return sorted({b.tile for b in self.blocks})

    def describe(self) -> str:
        return (f"{self.name} [{self.rows}, {self.cols}] in {len(self.blocks)} blocks on "
                f"{len(self.tiles)} tiles")

    def __repr__(self):
        return f"DeviceTensor({self.describe()})"


def column_split(rows: int, cols: int, device) -> list:
    """The columns distribution a program input gets: (c0, n) per member, blocks of the vector
    lanes over the tiles of chiplet 0 (more chiplets only when rows x n do not fit), as the
    layer ops split theirs."""
    lanes = device.tile.vector.lanes
    tiles, width = split_cols(cols, lanes, device.tiles_per_chiplet, device.n_chiplets,
                              lambda t, w: rows * w * 4 <= device.sram_buffer_bytes // 2)
    if rows * width * 4 > device.sram_buffer_bytes // 2:
        raise CapacityError(f"a device tensor [{rows}, {cols}] needs {rows * width * 4} bytes "
                            f"of SRAM on each of {tiles} tiles, more than half of the "
                            f"{device.sram_buffer_bytes} a tile of {device.name!r} has")
    return [col_range(cols, lanes, tiles, t) for t in range(tiles)]


def column_blocks(rows: int, ranges, buf: int) -> tuple:
    """Member t = tile t holds rows x n_t of columns (c0, n_t) = ranges[t] at offset 0 of buf."""
    return tuple(Block(t, buf, 0, 0, rows, c0, n, n) for t, (c0, n) in enumerate(ranges) if n)


def matmul_blocks(plan, ybuf: int) -> tuple:
    """The output distribution of a matmul plan (kernels/matmul/api.out_blocks)."""
    C = plan.cols
    return tuple(Block(tile, ybuf, off, r0, rows, nb * C, min(C, plan.n - nb * C), C)
                 for tile, off, r0, rows, nb in out_blocks(plan))


def read_tensor(machine, t: DeviceTensor) -> np.ndarray:
    """The [rows, cols] array of t (its dtype), read block by block (functional mode)."""
    out = np.empty((t.rows, t.cols), t.dtype)
    for b in t.blocks:
        a = machine.read(b.buf, tile=b.tile, offset=b.off, nbytes=b.rows * b.stride * 4,
                         dtype=t.dtype).reshape(b.rows, b.stride)
        out[b.row0:b.row0 + b.rows, b.col0:b.col0 + b.cols] = a[:, :b.cols]
    return out
