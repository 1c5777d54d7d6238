"""The State a Machine owns (runtime/machine.py): buffers, SRAM, DIMC slots, DRAM, host data, log.

- SRAM buffers are the same byte range [base, base+size) of every tile, from a bump allocator
  (64-byte aligned); tile SRAM is one uint8 array [n_tiles, stride] grown as buffers are allocated
  (stride >= the high-water mark). Going past sram_capacity_bytes raises CapacityError.
- DRAM buffers sit on a global channel (chiplet * dram_channels + channel) at a per-channel base;
  their bytes live in one arena holding only what was allocated. HOST buffers copy the caller's
  bytes into a host arena (read-only to the device).
- DIMC state per tile and slot: element codes int8 [n_tiles, slots, rows, cols_max], block-scale
  codes uint8 [n_tiles, slots, blocks_max, cols_max], the int8 weight scale, the weight format
  (-1 = empty; tracked in timing mode too). Data arrays are allocated on the first functional
  launch with np.zeros, whose pages the OS commits only when a tile writes them.
- Timing mode keeps shapes only: no SRAM, DIMC, DRAM or host bytes.
Host-side helpers (write, read, dimc_state, corrupt_weight) are not logged.
"""
from __future__ import annotations

from dataclasses import dataclass

import mmap

import numpy as np

from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.errors import CapacityError, ChipemuError, ConfigError, ShapeError
from chipemu.emulator.events import BUFFER_DTYPE, EVENT_DTYPE, EventLog
from chipemu.emulator.numerics.formats import KIND_INT_TENSOR, get_format
from chipemu.emulator.tables.formats import DIMC_MIN_ELEM_BITS, cols_eff
from chipemu.emulator.tables.limits import LIMIT

__all__ = ["State", "Buffer"]

_ALIGN = 64
_REQUIRED = ("n_chiplets", "tile_rows", "tile_cols", "dimc_rows", "dimc_cols", "dimc_slots",
             "dimc_engines", "dimc_cell_bits", "sram_capacity_bytes", "dram_channels")
_MAX_BUF = LIMIT["buffer_bytes"].highest


def sparse_zeros(shape, dtype) -> np.ndarray:
    """Zeros in anonymous memory that the OS commits page by page as it is written.

    The tiles' SRAM and DIMC arrays are mostly untouched (a kernel uses a few slots and buffers
    of many tiles); np.zeros would ask for transparent huge pages on large arrays, which commits
    2 MB for every touched 4 KB and made a 4096^3 matmul hold every tile's whole DIMC."""
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if n < (4 << 20):
        return np.zeros(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, n), dtype).reshape(shape)


@dataclass(frozen=True)
class Buffer:
    """One buffer: kind (events.BUF_*), where (DRAM global channel), base and size in bytes,
    store (offset of its bytes in tile SRAM / the DRAM arena / the host arena)."""

    id: int
    name: str
    kind: int
    where: int
    base: int
    size: int
    store: int


def _align(n):
    return -(-n // _ALIGN) * _ALIGN


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _bytes_of(data):
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(bytes(data), np.uint8)
    arr = np.ascontiguousarray(data)
    return arr.reshape(-1).view(np.uint8)


class State:
    """The memories, buffers, DIMC slots and event log of one Machine (see the module docstring).

    params: the chipemu_device_params fields (a dict); functional: False keeps shapes only.
    """

    def __init__(self, params, *, functional: bool):
        if not isinstance(params, dict):
            raise ConfigError(f"params must be a dict of chipemu_device_params fields, got "
                              f"{type(params).__name__}")
        missing = [k for k in _REQUIRED if k not in params]
        if missing:
            raise ConfigError(f"params lacks {', '.join(missing)} "
                              "(the fields of chipemu_device_params)")
        v = {}
        for k in _REQUIRED:                     # the device limits of tables.limits, as everywhere
            x = params[k]
            if not _is_int(x) or (k not in LIMIT and x < 1):
                raise ConfigError(f"params[{k!r}]={x!r} must be a positive integer")
            if k in LIMIT and not LIMIT[k].ok(x):
                raise ConfigError(f"params[{k!r}]={x!r} is out of range; allowed: "
                                  f"{LIMIT[k].allowed()}")
            v[k] = int(x)
        per_chiplet = v["tile_rows"] * v["tile_cols"]
        for what, n in (("tile_rows x tile_cols", per_chiplet),
                        ("n_chiplets x tile_rows x tile_cols", v["n_chiplets"] * per_chiplet)):
            if not LIMIT["n_tiles"].ok(n):
                raise ConfigError(f"params: {what} = {n} is out of range; allowed: "
                                  f"{LIMIT['n_tiles'].allowed()}")
        if v["dimc_cell_bits"] % DIMC_MIN_ELEM_BITS or (v["dimc_cols"] * v["dimc_cell_bits"]) % 8:
            raise ConfigError(f"dimc_cell_bits={v['dimc_cell_bits']} must be a multiple of "
                              f"{DIMC_MIN_ELEM_BITS} and dimc_cols x dimc_cell_bits a multiple of 8")
        self.params = dict(params)
        self.functional = functional
        self.n_tiles = v["n_chiplets"] * v["tile_rows"] * v["tile_cols"]
        self.rows, self.cols, self.cell_bits = v["dimc_rows"], v["dimc_cols"], v["dimc_cell_bits"]
        self.slots, self.engines = v["dimc_slots"], v["dimc_engines"]
        self.cols_max = cols_eff(self.cols, self.cell_bits, DIMC_MIN_ELEM_BITS)
        self.blocks_max = -(-self.rows // 32)
        self.sram_capacity = v["sram_capacity_bytes"]
        self.n_channels = v["n_chiplets"] * v["dram_channels"]
        self.buffers: list[Buffer] = []
        self._bufs = np.zeros((0, K.BT_COUNT), np.int64)
        self.sram_bytes_used = 0
        self._sram = np.zeros((self.n_tiles, 0), np.uint8)
        self._dram = np.zeros(0, np.uint8)
        self._dram_used = 0
        self._chan_used = [0] * self.n_channels
        self._host = np.zeros(0, np.uint8)
        self._host_used = 0
        self._wfmt = np.full((self.n_tiles, self.slots), -1, np.int8)
        self._codes = np.zeros((self.n_tiles, self.slots, 0, 0), np.int8)
        self._scales = np.zeros((self.n_tiles, self.slots, 0, 0), np.uint8)
        self._tscale = np.zeros((self.n_tiles, self.slots), np.float32)
        self._events = np.zeros(0, EVENT_DTYPE)
        self._peers = np.zeros(0, np.uint32)
        self._stage = np.zeros(0, np.uint8)
        self._n_events = self._n_peers = 0

    # ---- allocation ----

    def _add(self, name, kind, where, base, size, store):
        if not isinstance(name, str) or not name:
            raise ShapeError(f"buffer name must be a non-empty string, got {name!r}")
        b = Buffer(len(self.buffers), name, kind, where, base, size, store)
        self.buffers.append(b)
        self._bufs = np.vstack([self._bufs, np.array([[kind, store, size, where]], np.int64)])
        return b.id

    def _size(self, nbytes):
        if not _is_int(nbytes) or not 1 <= nbytes <= _MAX_BUF:
            raise ShapeError(f"nbytes={nbytes!r} must be an integer in 1..{_MAX_BUF}")
        return int(nbytes)

    def alloc_sram(self, name: str, nbytes: int) -> int:
        """An SRAM buffer of nbytes: the same range of every tile's SRAM. Returns its id."""
        nbytes = self._size(nbytes)
        base = _align(self.sram_bytes_used)
        if base + nbytes > self.sram_capacity:
            raise CapacityError(
                f"SRAM buffer {name!r} of {nbytes} bytes (at offset {base}, after {base} bytes "
                f"already allocated) needs {base + nbytes} bytes of SRAM on every tile (tiles "
                f"0..{self.n_tiles - 1}), beyond sram_capacity_bytes={self.sram_capacity}")
        self.sram_bytes_used = base + nbytes
        if self.functional and self._sram.shape[1] < base + nbytes:
            stride = min(max(_align(base + nbytes), 2 * self._sram.shape[1]),
                         _align(self.sram_capacity))
            grown = sparse_zeros((self.n_tiles, stride), np.uint8)
            grown[:, :self._sram.shape[1]] = self._sram
            self._sram = grown
        return self._add(name, K.BUF_SRAM, 0, base, nbytes, base)

    def reserve_sram(self, nbytes: int) -> None:
        """Size every tile's SRAM row for nbytes of buffers up front (before the first buffer),
        so later allocations never copy the tiles' SRAM to grow it. Capacity is still checked
        by alloc_sram; this only avoids the copies."""
        nbytes = min(_align(self._size(nbytes)), _align(self.sram_capacity))
        if self.functional and self._sram.shape[1] < nbytes:
            grown = sparse_zeros((self.n_tiles, nbytes), np.uint8)
            if self.sram_bytes_used:
                grown[:, :self._sram.shape[1]] = self._sram
            self._sram = grown

    def alloc_dram(self, name: str, nbytes: int, channel: int = 0) -> int:
        """A DRAM buffer of nbytes on global channel `channel`. Returns its id."""
        nbytes = self._size(nbytes)
        if not _is_int(channel) or not 0 <= channel < self.n_channels:
            raise ShapeError(f"channel={channel!r} is out of range; the device has DRAM channels "
                             f"0..{self.n_channels - 1}")
        base = _align(self._chan_used[channel])
        self._chan_used[channel] = base + nbytes
        store = _align(self._dram_used)
        self._dram_used = store + nbytes
        if self.functional and self._dram.size < self._dram_used:
            grown = np.zeros(max(_align(self._dram_used), 2 * self._dram.size), np.uint8)
            grown[:self._dram.size] = self._dram
            self._dram = grown
        return self._add(name, K.BUF_DRAM, int(channel), base, nbytes, store)

    def alloc_host(self, name: str, data=None, *, nbytes: int | None = None) -> int:
        """A HOST buffer holding a copy of `data` (any array or bytes, or a list of them laid
        end to end, copied in place without joining them first); in timing mode only its size
        counts (nbytes= may replace data). Returns its id."""
        if data is None:
            if self.functional:
                raise ShapeError("alloc_host needs data in functional mode")
            parts = []
            nbytes = self._size(nbytes)
        else:
            parts = [_bytes_of(d) for d in data] if isinstance(data, list) else [_bytes_of(data)]
            nbytes = self._size(sum(p.size for p in parts))
        store = _align(self._host_used)
        if self.functional and self._host.size < store + nbytes:
            # grow 2x: untouched np.zeros pages cost nothing, and fewer copies are made
            grown = np.zeros(max(_align(store + nbytes), 2 * self._host.size), np.uint8)
            grown[:self._host_used] = self._host[:self._host_used]
            self._host = grown
        self._host_used = store + nbytes
        at = store
        for p in parts if self.functional else ():
            self._host[at:at + p.size] = p
            at += p.size
        return self._add(name, K.BUF_HOST, 0, store, nbytes, store)

    # ---- host-side access (not logged) ----

    def _need_data(self, what):
        if not self.functional:
            raise ChipemuError(f"{what}: a timing-mode machine holds no data")

    def _buffer(self, buf):
        if not _is_int(buf) or not 0 <= buf < len(self.buffers):
            raise ShapeError(f"buf={buf!r} is not a buffer id (0..{len(self.buffers) - 1})")
        return self.buffers[int(buf)]

    def _tile_list(self, b, tile):
        if b.kind != K.BUF_SRAM:
            if tile is not None:
                raise ShapeError(f"buffer {b.name!r} is not in SRAM: pass tile=None")
            return [None]
        if tile is None:
            raise ShapeError(f"buffer {b.name!r} is in SRAM: pass tile= (an id or a list of ids)")
        tiles = [tile] if isinstance(tile, (int, np.integer)) else list(tile)
        for t in tiles:
            if not 0 <= t < self.n_tiles:
                raise ShapeError(f"tile {t} is out of range 0..{self.n_tiles - 1}")
        return tiles

    def _arena(self, b, t):
        if b.kind == K.BUF_SRAM:
            return self._sram[t]
        return self._dram if b.kind == K.BUF_DRAM else self._host

    def _span(self, b, offset, nbytes):
        if offset < 0 or nbytes < 0 or offset + nbytes > b.size:
            raise ShapeError(f"range [{offset}, {offset}+{nbytes}) lies outside buffer {b.name!r} "
                             f"of {b.size} bytes")
        return b.store + offset

    def write(self, buf: int, data, *, tile=None, offset: int = 0) -> None:
        """Copy `data` (array or bytes) into buffer `buf` at `offset` (SRAM: on tile(s) `tile`)."""
        self._need_data("write")
        b = self._buffer(buf)
        raw = _bytes_of(data)
        at = self._span(b, offset, raw.size)
        for t in self._tile_list(b, tile):
            self._arena(b, t)[at:at + raw.size] = raw

    def read(self, buf: int, *, tile=None, offset: int = 0, nbytes: int | None = None,
             dtype=np.uint8) -> np.ndarray:
        """A copy of buffer `buf`'s bytes [offset, offset+nbytes) (SRAM: of tile `tile`), viewed
        as `dtype`."""
        self._need_data("read")
        b = self._buffer(buf)
        nbytes = b.size - offset if nbytes is None else nbytes
        at = self._span(b, offset, nbytes)
        tiles = self._tile_list(b, tile)
        if len(tiles) != 1:
            raise ShapeError(f"read needs one tile id, got tile={tile!r}")
        t = tiles[0]
        return self._arena(b, t)[at:at + nbytes].copy().view(dtype)

    # ---- DIMC ----

    def _ensure_dimc(self):
        if self.functional and self._codes.shape[2] == 0:
            self._codes = sparse_zeros((self.n_tiles, self.slots, self.rows, self.cols_max),
                                       np.int8)
            self._scales = sparse_zeros((self.n_tiles, self.slots, self.blocks_max,
                                         self.cols_max), np.uint8)

    def _slot(self, tile, slot):
        if not 0 <= tile < self.n_tiles or not 0 <= slot < self.slots:
            raise ShapeError(f"tile={tile}, slot={slot} out of range (tiles 0..{self.n_tiles - 1}, "
                             f"slots 0..{self.slots - 1})")
        return int(self._wfmt[tile, slot])

    def dimc_state(self, tile: int, slot: int) -> dict:
        """{fmt, codes [rows, cols_eff] int8, scales} of a DIMC slot (fmt None when empty):
        block scales uint8 [rows / B, cols_eff]; int8 scale float32."""
        self._need_data("dimc_state")
        f = self._slot(tile, slot)
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
        f = self._slot(tile, slot)
        if f < 0:
            raise ChipemuError(f"tile {tile} slot {slot} holds no weights")
        s = get_format(f)
        nc = cols_eff(self.cols, self.cell_bits, s.elem_bits)
        lo, hi = -(1 << (s.elem_bits - 1)), (1 << (s.elem_bits - 1)) - 1
        if not 0 <= row < self.rows or not 0 <= col < nc or not lo <= code <= hi:
            raise ShapeError(f"row={row}, col={col}, code={code} out of range (rows "
                             f"0..{self.rows - 1}, columns 0..{nc - 1}, codes {lo}..{hi} "
                             f"for {s.name})")
        self._codes[tile, slot, row, col] = code

    # ---- log and launch buffers ----

    def _reserve_log(self, n_events, n_peers):
        # grow 8x: np.zeros pages cost nothing until touched, and fewer, smaller copies of the
        # log are made (a model-scale log is hundreds of MB)
        if self._events.size < n_events:
            grown = np.zeros(max(n_events, 8 * self._events.size), EVENT_DTYPE)
            grown[:self._n_events] = self._events[:self._n_events]
            self._events = grown
        if self._peers.size < n_peers:
            grown = np.zeros(max(n_peers, 8 * self._peers.size), np.uint32)
            grown[:self._n_peers] = self._peers[:self._n_peers]
            self._peers = grown

    def _stage_buffer(self, nbytes):
        if not self.functional:
            return np.zeros(0, np.uint8)
        if self._stage.size < nbytes:
            self._stage = np.empty(nbytes, np.uint8)
        return self._stage

    # ---- the log ----

    @property
    def n_events(self) -> int:
        """Events logged so far."""
        return self._n_events

    def clear_log(self) -> None:
        """Forget the events so far (the state stays): the next Result times only what follows,
        from an idle device (e.g. one decode step with a resident KV cache)."""
        self._n_events = 0
        self._n_peers = 0

    def log(self) -> EventLog:
        """The event log so far (views of committed records; later launches only append)."""
        return EventLog(self._events[:self._n_events], self._peers[:self._n_peers],
                        self.buffer_table())

    def buffer_table(self) -> np.ndarray:
        """The chipemu_buffer records (BUFFER_DTYPE) of every buffer, by id."""
        t = np.zeros(len(self.buffers), BUFFER_DTYPE)
        for i, b in enumerate(self.buffers):
            t[i] = (b.kind, b.where, b.base, b.size)
        return t
