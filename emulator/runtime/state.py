"""The State a Machine owns (runtime/machine.py): buffers, SRAM, DIMC slots, DRAM, host data, log.

- SRAM buffers are the same byte range [base, base+size) of every tile, from a bump allocator
  (64-byte aligned); tile SRAM is one uint8 array [n_tiles, stride] grown as buffers are allocated
  (stride >= the high-water mark). Going past sram_capacity_bytes raises CapacityError.
- DRAM buffers sit on a global channel (chiplet * dram_channels + channel) at a per-channel base;
  their bytes live in one arena holding only what was allocated. Going past a channel's capacity
  (the Device's chiplet.dram.capacity_bytes, when the Machine was given the Device) raises
  CapacityError, in both modes. HOST buffers copy the caller's bytes into a host arena
  (read-only to the device).
- DIMC state per tile and slot: element codes int8 [n_tiles, slots, rows, cols_max], block-scale
  codes uint8 [n_tiles, slots, blocks_max, cols_max], the int8 weight scale, the weight format
  (-1 = empty; tracked in timing mode too). Data arrays are allocated on the first functional
  launch with np.zeros, whose pages the OS commits only when a tile writes them.
- Timing mode keeps shapes only: no SRAM, DIMC, DRAM or host bytes.
Host-side helpers (write, read, dimc_state, corrupt_weight: runtime/access.py) are not logged.
Every allocation checks all its arguments and the capacity before it changes anything; the data
arrays it grows are checked against the run budget (runtime/budget.py) first.
"""
from __future__ import annotations

from dataclasses import dataclass

import mmap

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.events import BUFFER_DTYPE, EVENT_DTYPE, EventLog
from chipemu.emulator.runtime import budget
from chipemu.emulator.runtime.access import HostAccess, bytes_of
from chipemu.emulator.tables.formats import DIMC_MIN_ELEM_BITS, cols_eff
from chipemu.emulator.tables.limits import LIMIT

__all__ = ["State", "Buffer"]

_ALIGN = 64
_REQUIRED = ("n_chiplets", "tile_rows", "tile_cols", "dimc_rows", "dimc_cols", "dimc_slots",
             "dimc_engines", "dimc_cell_bits", "sram_capacity_bytes", "dram_channels")
_MAX_BUF = LIMIT["buffer_bytes"].highest


def zeros(n, dtype, what: str) -> np.ndarray:
    """np.zeros(n, dtype), or CapacityError naming `what` and the bytes when the host cannot
    give them (a backstop: the run budget refuses runs it can estimate before any work)."""
    try:
        return np.zeros(n, dtype)
    except MemoryError:
        raise CapacityError(f"{what}: the host could not allocate {n * np.dtype(dtype).itemsize:,} "
                            f"bytes; lower the run's size, or the run budget "
                            f"(chipemu.emulator.set_budget) so such runs are refused up front") from None


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


class State(HostAccess):
    """The memories, buffers, DIMC slots and event log of one Machine (see the module docstring).

    params: the chipemu_device_params fields (a dict); functional: False keeps shapes only.
    """

    def __init__(self, params, *, functional: bool, dram_capacity: int | None = None):
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
        # bytes of one DRAM channel (Device chiplet.dram.capacity_bytes); None: only the buffer
        # bound, for params dicts, which do not carry it (the engine does not need it)
        self.dram_capacity = (None if dram_capacity is None else
                              args.integer("dram_capacity", dram_capacity, 1, error=ConfigError))
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

    # ---- allocation (every check first: a refused allocation changes nothing) ----

    def _add(self, name, kind, where, base, size, store):
        b = Buffer(len(self.buffers), name, kind, where, base, size, store)
        self.buffers.append(b)
        self._bufs = np.vstack([self._bufs, np.array([[kind, store, size, where]], np.int64)])
        return b.id

    @staticmethod
    def _name(name):
        if not isinstance(name, str) or not name:
            raise ShapeError(f"buffer name must be a non-empty string, got {name!r}")
        return name

    def _size(self, nbytes, what="nbytes"):
        return args.integer(what, nbytes, 1, _MAX_BUF, error=ShapeError,
                            why="bytes of one buffer")

    def host_bytes(self) -> int:
        """Bytes of data this State holds on the host (0 in timing mode): the SRAM in use on
        every tile, the DIMC slots once allocated, the DRAM and host bytes allocated. The
        figure runtime/budget.py bounds (arrays grown ahead are committed only when written)."""
        if not self.functional:
            return 0
        return (self.n_tiles * self.sram_bytes_used + self._codes.nbytes + self._scales.nbytes
                + self._dram_used + self._host_used)

    def _check_host(self, what, more):
        # the budget's backstop for data: a plan's estimate should have refused earlier
        if self.functional:
            budget.check(what, host_bytes=self.host_bytes() + more)

    def alloc_sram(self, name: str, nbytes: int) -> int:
        """An SRAM buffer of nbytes: the same range of every tile's SRAM. Returns its id."""
        name, nbytes = self._name(name), self._size(nbytes)
        base = _align(self.sram_bytes_used)
        if base + nbytes > self.sram_capacity:
            raise CapacityError(
                f"SRAM buffer {name!r} of {nbytes} bytes (at offset {base}, after {base} bytes "
                f"already allocated) needs {base + nbytes} bytes of SRAM on every tile (tiles "
                f"0..{self.n_tiles - 1}), beyond sram_capacity_bytes={self.sram_capacity}")
        self._check_host(f"SRAM buffer {name!r}", self.n_tiles * (base + nbytes
                                                                  - self.sram_bytes_used))
        stride = self._sram.shape[1]
        if self.functional and stride < base + nbytes:
            stride = min(max(_align(base + nbytes), 2 * stride), _align(self.sram_capacity))
            grown = sparse_zeros((self.n_tiles, stride), np.uint8)
            grown[:, :self._sram.shape[1]] = self._sram
            self._sram = grown
        self.sram_bytes_used = base + nbytes
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

    def dram_free_bytes(self, channel: int) -> int | None:
        """Bytes a new buffer on global channel `channel` can still take (None: unbounded)."""
        if self.dram_capacity is None:
            return None
        return max(self.dram_capacity - _align(self._chan_used[channel]), 0)

    def alloc_dram(self, name: str, nbytes: int, channel: int = 0) -> int:
        """A DRAM buffer of nbytes on global channel `channel` (chiplet * dram_channels +
        channel). Returns its id. CapacityError when the channel's capacity is passed."""
        name, nbytes = self._name(name), self._size(nbytes)
        if self.n_channels == 0:
            raise CapacityError(f"DRAM buffer {name!r}: the device has no DRAM channels")
        channel = args.integer("channel", channel, 0, self.n_channels - 1, error=ShapeError,
                               why="the device's global DRAM channels")
        base = _align(self._chan_used[channel])
        cap = self.dram_capacity
        if cap is not None and base + nbytes > cap:
            raise CapacityError(
                f"DRAM buffer {name!r} of {nbytes} bytes on channel {channel} (at offset {base}, "
                f"after {self._chan_used[channel]} bytes already allocated there) needs "
                f"{base + nbytes} bytes, beyond the channel's {cap} bytes "
                f"(chiplet.dram.capacity_bytes); {max(cap - base, 0)} bytes are free")
        store = _align(self._dram_used)
        self._check_host(f"DRAM buffer {name!r}", store + nbytes - self._dram_used)
        if self.functional and self._dram.size < store + nbytes:
            grown = zeros(max(_align(store + nbytes), 2 * self._dram.size), np.uint8, "DRAM")
            grown[:self._dram.size] = self._dram
            self._dram = grown
        self._chan_used[channel] = base + nbytes
        self._dram_used = store + nbytes
        return self._add(name, K.BUF_DRAM, channel, base, nbytes, store)

    def alloc_host(self, name: str, data=None, *, nbytes: int | None = None) -> int:
        """A HOST buffer holding a copy of `data` (any array or bytes, or a list of them laid
        end to end, copied in place without joining them first); in timing mode only its size
        counts, and nbytes= may replace data (give one of them, not both). Returns its id."""
        name = self._name(name)
        if data is not None and nbytes is not None:
            raise ShapeError(f"alloc_host {name!r}: give data or nbytes=, not both "
                             f"(nbytes={nbytes!r})")
        if data is None:
            if self.functional:
                raise ShapeError("alloc_host needs data in functional mode")
            parts = []
            nbytes = self._size(nbytes)
        else:
            parts = [bytes_of(d, "data") for d in data] if isinstance(data, list) else \
                [bytes_of(data, "data")]
            nbytes = self._size(sum(p.size for p in parts), "bytes of data")
        store = _align(self._host_used)
        self._check_host(f"host buffer {name!r}", store + nbytes - self._host_used)
        if self.functional and self._host.size < store + nbytes:
            # grow 2x: untouched np.zeros pages cost nothing, and fewer copies are made
            grown = zeros(max(_align(store + nbytes), 2 * self._host.size), np.uint8, "host memory")
            grown[:self._host_used] = self._host[:self._host_used]
            self._host = grown
        self._host_used = store + nbytes
        at = store
        for p in parts if self.functional else ():
            self._host[at:at + p.size] = p
            at += p.size
        return self._add(name, K.BUF_HOST, 0, store, nbytes, store)

    # ---- DIMC ----

    def _ensure_dimc(self):
        if self.functional and self._codes.shape[2] == 0:
            cells = self.n_tiles * self.slots * (self.rows + self.blocks_max) * self.cols_max
            self._check_host("the DIMC slots of every tile", cells)
            self._codes = sparse_zeros((self.n_tiles, self.slots, self.rows, self.cols_max),
                                       np.int8)
            self._scales = sparse_zeros((self.n_tiles, self.slots, self.blocks_max,
                                         self.cols_max), np.uint8)

    # ---- log and launch buffers ----

    def _reserve_log(self, n_events, n_peers):
        # grow 8x: np.zeros pages cost nothing until touched, and fewer, smaller copies of the
        # log are made (a model-scale log is hundreds of MB)
        if self._events.size < n_events:
            grown = zeros(max(n_events, 8 * self._events.size), EVENT_DTYPE, "the event log")
            grown[:self._n_events] = self._events[:self._n_events]
            self._events = grown
        if self._peers.size < n_peers:
            grown = zeros(max(n_peers, 8 * self._peers.size), np.uint32, "the log's peer lists")
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
