"""The SPMD tile runtime: machine state, buffers, supersteps of tile kernels (docs/intrinsics.md).

    m = Machine(device.engine_params(), mode="functional", backend="c")
    x = m.alloc_sram("x", 4096)                 # the same byte range on every tile
    m.launch(kernel, tiles=range(16), params=[x], events_per_tile=8)
    m.log                                       # EventLog: events, peers, buffer table

A kernel is a TileKernel: a Numba tile function and the name of its C twin. `launch` runs ONE
superstep: the loop over tiles runs in compiled code (emulator/runtime/superstep.py, csrc/runtime/superstep.c),
split over threads by contiguous tile ranges (results and log never depend on the split); SEND
and DRAM_WRITE data lands after every tile ran, in log order, so it is visible from the next
superstep on. Timing mode holds no SRAM, DIMC, DRAM or host data: intrinsics skip the data and
append exactly the same events.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.errors import (BackendError, CapacityError, ChipemuError, ConfigError, FormatError,
                     NativeError, ShapeError)
from chipemu.emulator.events import BUFFER_DTYPE, EventLog
from chipemu.emulator.numerics.formats import FORMATS
from chipemu.emulator.runtime.state import MachineState

__all__ = ["Machine", "TileKernel"]

_ERRORS = {K.KERR_CAPACITY: CapacityError, K.KERR_SHAPE: ShapeError, K.KERR_FORMAT: FormatError,
           K.KERR_STATE: ChipemuError}
_KIND_NAMES = {K.BUF_SRAM: "SRAM", K.BUF_DRAM: "DRAM", K.BUF_HOST: "HOST"}
_FMT_NAMES = {s.code: s.name for s in FORMATS.values()}
_pool = None


class TileKernel:
    """A tile kernel as twins: `numba` is a `jit` function fn(ctx, tile, step, p) (p: int64
    params); `c` the name of an exported function of the extension with the same signature
    (chipemu_tile_kernel), or a zero-argument callable returning such a function's address (C
    kernels built outside the library, e.g. the tests'). Either may be None when a backend is
    not provided."""

    def __init__(self, name: str, *, numba=None, c=None):
        self.name, self.numba, self.c = name, numba, c
        self._compiled = False
        self._c_ptr = None

    def numba_fn(self):
        if self.numba is None:
            raise BackendError(f"kernel {self.name!r} has no Numba twin; use backend='c'")
        if not self._compiled:
            self.numba.compile(K.KERNEL_SIG.args)
            self._compiled = True
        return self.numba

    def c_fn(self):
        if self.c is None:
            raise BackendError(f"kernel {self.name!r} has no C twin; use backend='numba'")
        if self._c_ptr is None:
            from chipemu.emulator.native import ffi, lib
            if callable(self.c):
                self._c_ptr = ffi.cast("chipemu_tile_kernel", self.c())
            elif not hasattr(lib, self.c):
                raise BackendError(f"kernel {self.name!r}: the C extension has no function "
                                   f"{self.c!r} (define it in csrc/kernels/<kernel>/tile.c and "
                                   f"reinstall)")
            else:
                self._c_ptr = ffi.cast("chipemu_tile_kernel", ffi.addressof(lib, self.c))
        return self._c_ptr

    def __repr__(self):
        c = self.c if isinstance(self.c, str) or self.c is None else "<address>"
        return f"TileKernel({self.name!r}, numba={self.numba is not None}, c={c!r})"


def _count(name, value, lo=0):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ShapeError(f"{name}={value!r} must be an integer >= {lo}")
    return int(value)


class Machine(MachineState):
    """The emulated device's state and the launcher of supersteps (see the module docstring).

    params: a dict whose keys are the fields of chipemu_device_params (Device.engine_params()),
    or an object with an engine_params() method. mode: "functional" | "timing". backend: "c" |
    "numba". threads: tile ranges run in parallel (default: $CHIPEMU_NUM_THREADS or the CPUs).
    """

    def __init__(self, params, *, mode: str = "functional", backend: str = "c",
                 threads: int | None = None):
        if hasattr(params, "engine_params"):
            params = params.engine_params()
        if mode not in ("functional", "timing"):
            raise ConfigError(f"mode={mode!r} is not one of 'functional', 'timing'")
        if backend not in ("c", "numba"):
            raise BackendError(f"backend={backend!r} is not one of 'c', 'numba'")
        if threads is not None:
            _count("threads", threads, 1)
        super().__init__(params, functional=mode == "functional")
        self.mode, self.backend, self.threads = mode, backend, threads
        self.step = 0

    # ---- launching ----

    def launch(self, kernel: TileKernel, tiles, params=(), *, events_per_tile: int,
               peers_per_tile: int | None = None, stage_bytes_per_tile: int | None = None) -> int:
        """Run one superstep of `kernel` on `tiles` (global ids; run in ascending order) with the
        int64 `params`; returns the number of events appended. Each tile may append at most
        events_per_tile events, name peers_per_tile peer ids (default 4 x tiles of the device)
        and stage stage_bytes_per_tile bytes of SEND/DRAM_WRITE data (default: the SRAM in use).
        A broken rule raises CapacityError / ShapeError / FormatError / ChipemuError naming the
        kernel, tile, superstep, intrinsic and values; the log and DRAM are then left unchanged
        (SRAM and DIMC may hold the superstep's partial work)."""
        if not isinstance(kernel, TileKernel):
            raise ShapeError(f"kernel must be a TileKernel, got {type(kernel).__name__}")
        tiles = self._check_tiles(tiles)
        n = len(tiles)
        try:
            p = np.ascontiguousarray(np.asarray(params, dtype=np.int64).reshape(-1))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ShapeError(f"params must be integers (int64), got {params!r}: {exc}") from None
        ecap = _count("events_per_tile", events_per_tile)
        pcap = _count("peers_per_tile",
                      4 * self.n_tiles if peers_per_tile is None else peers_per_tile)
        default_stage = max(4096, self.sram_bytes_used)
        scap = _count("stage_bytes_per_tile",
                      default_stage if stage_bytes_per_tile is None else stage_bytes_per_tile)
        fn = kernel.numba_fn() if self.backend == "numba" else kernel.c_fn()
        self._ensure_dimc()
        ev0, p0 = self._n_events, self._n_peers
        self._reserve_log(ev0 + n * ecap, p0 + n * pcap)
        stage = self._stage_buffer(n * scap)
        sc = np.zeros((n, K.SC_COUNT), np.int64)
        sc[:, K.SC_TILE] = tiles
        dev = self._dev_array()
        args = (kernel.name, stage, sc, dev, p, ev0, p0, ecap, pcap, scap)
        if self.backend == "numba":
            ne, npeers = self._run_numba(fn, *args)
        else:
            ne, npeers = self._run_c(fn, *args)
        self._n_events += ne
        self._n_peers += npeers
        self.step += 1
        return ne

    def _check_tiles(self, tiles):
        try:
            t = np.asarray(list(tiles) if not isinstance(tiles, np.ndarray) else tiles)
        except TypeError:
            raise ShapeError(f"tiles must be a sequence of tile ids, got {tiles!r}") from None
        if t.ndim != 1 or t.size == 0 or t.dtype.kind not in "iu":
            raise ShapeError(f"tiles must be a non-empty 1-D sequence of integer tile ids, "
                             f"got {tiles!r}")
        t = np.sort(t.astype(np.int64))
        if t[0] < 0 or t[-1] >= self.n_tiles:
            bad = t[0] if t[0] < 0 else t[-1]
            raise ShapeError(f"tile {bad} is out of range; the device has tiles "
                             f"0..{self.n_tiles - 1}")
        dup = np.flatnonzero(np.diff(t) == 0)
        if dup.size:
            raise ShapeError(f"tile {t[dup[0]]} appears twice in tiles")
        return t

    def _chunks(self, n):
        from chipemu.emulator.native import num_threads
        return max(1, min(n, self.threads or num_threads()))

    def _dev_array(self):
        d = np.zeros(K.DEV_COUNT, np.int64)
        d[[K.DEV_N_TILES, K.DEV_ROWS, K.DEV_COLS, K.DEV_CELL_BITS, K.DEV_SLOTS, K.DEV_ENGINES,
           K.DEV_COLS_MAX, K.DEV_BLOCKS_MAX]] = (self.n_tiles, self.rows, self.cols, self.cell_bits,
                                                  self.slots, self.engines, self.cols_max,
                                                  self.blocks_max)
        d[K.DEV_MODE] = K.MODE_FUNCTIONAL if self.functional else K.MODE_TIMING
        d[K.DEV_STEP] = self.step
        return d

    def _run_numba(self, fn, name, stage, sc, dev, p, ev0, p0, ecap, pcap, scap):
        import numba

        from chipemu.emulator.runtime.superstep import finish, launch_tiles
        chunks = max(1, min(len(sc), self.threads or numba.get_num_threads()))
        ev = self._events.view(np.uint32).reshape(-1, K.EVENT_WORDS)
        launch_tiles(fn, self._sram, self._codes, self._scales, self._tscale, self._wfmt,
                     self._dram, self._host, self._bufs, ev, self._peers, stage, sc, dev, p,
                     ev0, p0, ecap, pcap, scap, chunks)
        self._raise_kernel_error(sc, name)
        ne, npeers = finish(self._sram, self._dram, self._bufs, ev, self._peers, stage, sc, dev,
                            ev0, p0, ecap, pcap, scap)
        return int(ne), int(npeers)

    def _run_c(self, fn, name, stage, sc, dev, p, ev0, p0, ecap, pcap, scap):
        from chipemu.emulator.native import ffi, lib, ptr
        s = ffi.new("chipemu_superstep *")
        if self.functional:
            s.sram, s.sram_stride = ptr(self._sram, "uint8_t *"), self._sram.shape[1]
            s.dimc_codes = ptr(self._codes, "int8_t *")
            s.dimc_scales = ptr(self._scales, "uint8_t *")
            s.dimc_tscale = ptr(self._tscale, "float *")
            s.dram, s.dram_bytes = ptr(self._dram, "uint8_t *"), self._dram.size
            s.host, s.host_bytes = ptr(self._host, "uint8_t *"), self._host.size
        s.dimc_wfmt = ptr(self._wfmt, "int8_t *")
        s.bufs, s.n_bufs = ptr(self._bufs, "int64_t *"), self._bufs.shape[0]
        s.events = (ffi.cast("chipemu_event *", ptr(self._events)) + ev0 if self._events.size
                    else ffi.NULL)
        s.peers = (ffi.cast("uint32_t *", ptr(self._peers)) + p0) if self._peers.size else ffi.NULL
        s.stage = ptr(stage, "uint8_t *")
        s.sc, s.dev, s.n = ptr(sc, "int64_t *"), ptr(dev, "int64_t *"), len(sc)
        s.event_cap, s.peer_cap, s.stage_cap, s.peer_base = ecap, pcap, scap, p0
        pp = ptr(p, "int64_t *")
        n, chunks = len(sc), self._chunks(len(sc))
        bounds = [n * i // chunks for i in range(chunks + 1)]
        if chunks == 1:
            statuses = [lib.chipemu_launch(s, fn, pp, 0, n)]
        else:
            global _pool
            if _pool is None or _pool._max_workers < chunks:
                _pool = ThreadPoolExecutor(max_workers=max(chunks, os.cpu_count() or 1),
                                           thread_name_prefix="chipemu-launch")
            futures = [_pool.submit(lib.chipemu_launch, s, fn, pp, bounds[i], bounds[i + 1])
                       for i in range(chunks)]
            statuses = [f.result() for f in futures]
        for st in statuses:
            if st not in (lib.CHIPEMU_OK, lib.CHIPEMU_ERR_KERNEL):
                raise NativeError(f"chipemu_launch returned status {st}")
        self._raise_kernel_error(sc, name)
        out = ffi.new("int64_t[2]")
        st = lib.chipemu_finish(s, out, out + 1)
        if st != lib.CHIPEMU_OK:
            raise NativeError(f"chipemu_finish returned status {st}")
        return int(out[0]), int(out[1])

    def _raise_kernel_error(self, sc, name):
        bad = np.flatnonzero(sc[:, K.SC_ERROR])
        if bad.size:
            raise self._kernel_error(name, sc[bad[0]])

    def _kernel_error(self, kernel_name, row):
        v = [int(x) for x in row[K.SC_VALUES:K.SC_VALUES + 5]]
        names = dict(arg=_arg_name(v[0]), a4=_arg_name(v[4]), b1=self._buf_label(v[1]),
                     b3=self._buf_label(v[3]), f1=_fmt_label(v[1]), f2=_fmt_label(v[2]),
                     k2=_KIND_NAMES.get(v[2], v[2]), k3=_KIND_NAMES.get(v[3], v[3]))
        text = K.MESSAGES.get(int(row[K.SC_MESSAGE]), "unknown error {v0}")
        text = text.format(v0=v[0], v1=v[1], v2=v[2], v3=v[3], v4=v[4], **names)
        intr = int(row[K.SC_INTRINSIC])
        iname = (K.INTRINSIC_NAMES[intr] if 0 <= intr < len(K.INTRINSIC_NAMES)
                 else f"intrinsic {intr}")
        cls = _ERRORS.get(int(row[K.SC_ERROR]), ChipemuError)
        return cls(f"kernel {kernel_name!r}, tile {int(row[K.SC_TILE])}, superstep {self.step}, "
                   f"{iname}: {text}")

    def _buf_label(self, i):
        return f"{i} ({self.buffers[i].name!r})" if 0 <= i < len(self.buffers) else str(i)

    # ---- the log ----

    def clear_log(self) -> None:
        """Forget the events so far (the state stays): the next Result times only what follows,
        from an idle device (e.g. one decode step with a resident KV cache)."""
        self._n_events = 0
        self._n_peers = 0

    @property
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


def _arg_name(a):
    return K.ARG_NAMES[a] if 0 <= a < len(K.ARG_NAMES) else f"argument {a}"


def _fmt_label(code):
    return f"{_FMT_NAMES[code]!r}" if code in _FMT_NAMES else str(code)

