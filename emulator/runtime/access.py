"""The host-side access of a State (runtime/state.py), not logged: write and read buffers, look
at and corrupt DIMC slots. Every argument is checked (chipemu.emulator.args) before any byte is
touched, so a refused call changes nothing. Timing-mode states hold no data and refuse them all.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ChipemuError, ShapeError
from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.numerics.formats import KIND_INT_TENSOR, get_format
from chipemu.emulator.tables.formats import cols_eff

__all__ = ["HostAccess", "bytes_of"]


def bytes_of(data, what):
    """data's bytes: bytes-like, or a NumPy array / list of numbers of a numeric or bool dtype
    (text and objects have no device layout)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(bytes(data), np.uint8)
    if isinstance(data, str):
        raise ShapeError(f"{what}={data!r} is a str; allowed: bytes or a numeric array")
    try:
        arr = np.ascontiguousarray(data)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{what} is not an array of numbers: {exc}") from None
    if arr.dtype.kind not in "biufc":
        raise ShapeError(f"{what} has dtype {arr.dtype}; allowed: bytes or a numeric array")
    return arr.reshape(-1).view(np.uint8)


class HostAccess:
    """Mixin of State: write, read, dimc_state, corrupt_weight."""

    def _need_data(self, what):
        if not self.functional:
            raise ChipemuError(f"{what}: a timing-mode machine holds no data")

    def _buffer(self, buf):
        n = len(self.buffers)
        if n == 0:
            raise ShapeError(f"buf={buf!r}: no buffer is allocated yet")
        return self.buffers[args.integer("buf", buf, 0, n - 1, error=ShapeError,
                                         why="a buffer id")]

    def _tile_list(self, b, tile):
        if b.kind != K.BUF_SRAM:
            if tile is not None:
                raise ShapeError(f"buffer {b.name!r} is not in SRAM: pass tile=None")
            return [None]
        if tile is None:
            raise ShapeError(f"buffer {b.name!r} is in SRAM: pass tile= (an id or a list of ids)")
        try:
            tiles = [tile] if not hasattr(tile, "__iter__") or isinstance(tile, str) else list(tile)
        except TypeError:
            tiles = [tile]
        if not tiles:
            raise ShapeError(f"tile={tile!r}: name at least one tile")
        return [args.integer("tile", t, 0, self.n_tiles - 1, error=ShapeError,
                             why="the device's tiles") for t in tiles]

    def _arena(self, b, t):
        if b.kind == K.BUF_SRAM:
            return self._sram[t]
        return self._dram if b.kind == K.BUF_DRAM else self._host

    def _span(self, b, offset, nbytes):
        offset = args.integer("offset", offset, 0, error=ShapeError)
        nbytes = args.integer("nbytes", nbytes, 0, error=ShapeError)
        if offset + nbytes > b.size:
            raise ShapeError(f"range [{offset}, {offset}+{nbytes}) lies outside buffer {b.name!r} "
                             f"of {b.size} bytes")
        return b.store + offset, nbytes

    def write(self, buf: int, data, *, tile=None, offset: int = 0) -> None:
        """Copy `data` (array or bytes) into buffer `buf` at `offset` (SRAM: on tile(s) `tile`)."""
        self._need_data("write")
        b = self._buffer(buf)
        raw = bytes_of(data, "data")
        at, _ = self._span(b, offset, raw.size)
        for t in self._tile_list(b, tile):
            self._arena(b, t)[at:at + raw.size] = raw

    def read(self, buf: int, *, tile=None, offset: int = 0, nbytes: int | None = None,
             dtype=np.uint8) -> np.ndarray:
        """A copy of buffer `buf`'s bytes [offset, offset+nbytes) (SRAM: of tile `tile`), viewed
        as `dtype`."""
        self._need_data("read")
        b = self._buffer(buf)
        offset = args.integer("offset", offset, 0, b.size, error=ShapeError,
                              why=f"buffer {b.name!r} has {b.size} bytes")
        at, nbytes = self._span(b, offset, b.size - offset if nbytes is None else nbytes)
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise ShapeError(f"dtype={dtype!r} is not a NumPy dtype") from None
        if dt.kind not in "biufc" or nbytes % dt.itemsize:
            raise ShapeError(f"dtype={dt} cannot view {nbytes} bytes; allowed: a numeric dtype "
                             f"whose itemsize divides nbytes")
        tiles = self._tile_list(b, tile)
        if len(tiles) != 1:
            raise ShapeError(f"read needs one tile id, got tile={tile!r}")
        return self._arena(b, tiles[0])[at:at + nbytes].copy().view(dt)

    def _slot(self, tile, slot):
        tile = args.integer("tile", tile, 0, self.n_tiles - 1, error=ShapeError,
                            why="the device's tiles")
        slot = args.integer("slot", slot, 0, self.slots - 1, error=ShapeError,
                            why="the tile's DIMC slots")
        return tile, slot, int(self._wfmt[tile, slot])

    def dimc_state(self, tile: int, slot: int) -> dict:
        """{fmt, codes [rows, cols_eff] int8, scales} of a DIMC slot (fmt None when empty):
        block scales uint8 [rows / B, cols_eff]; int8 scale float32."""
        self._need_data("dimc_state")
        tile, slot, f = self._slot(tile, slot)
        if f < 0:
            return dict(fmt=None, codes=None, scales=None)
        self._ensure_dimc()
        s = get_format(f)
        nc = cols_eff(self.cols, self.cell_bits, s.elem_bits)
        codes = self._codes[tile, slot, :, :nc].copy()
        if s.kind == KIND_INT_TENSOR:
            return dict(fmt=s.name, codes=codes, scales=np.float32(self._tscale[tile, slot]))
        return dict(fmt=s.name, codes=codes,
                    scales=self._scales[tile, slot, :self.rows // s.block_size, :nc].copy())

    def corrupt_weight(self, tile: int, slot: int, row: int, col: int, code: int) -> None:
        """Debug hook: overwrite one weight cell's code (not logged)."""
        self._need_data("corrupt_weight")
        tile, slot, f = self._slot(tile, slot)
        if f < 0:
            raise ChipemuError(f"tile {tile} slot {slot} holds no weights")
        s = get_format(f)
        nc = cols_eff(self.cols, self.cell_bits, s.elem_bits)
        lo, hi = -(1 << (s.elem_bits - 1)), (1 << (s.elem_bits - 1)) - 1
        row = args.integer("row", row, 0, self.rows - 1, error=ShapeError)
        col = args.integer("col", col, 0, nc - 1, error=ShapeError, why=f"columns of {s.name}")
        code = args.integer("code", code, lo, hi, error=ShapeError, why=f"codes of {s.name}")
        self._codes[tile, slot, row, col] = code
