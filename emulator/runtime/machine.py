"""The SPMD tile runtime's front: `Machine` and `TileKernel` (docs/intrinsics.md).

    m = Machine(device.engine_params(), mode="functional", backend="c")
    x = m.alloc_sram("x", 4096)                 # the same byte range on every tile
    m.launch(kernel, tiles=range(16), params=[x], events_per_tile=8)
    m.log                                       # EventLog: events, peers, buffer table

A Machine owns a State (state.py: buffers, memories, DIMC slots, the log) and launches supersteps
through launch.py. A kernel is a TileKernel: a Numba tile function and the name of its C twin.
`launch` runs ONE superstep: the loop over tiles runs in compiled code (superstep.py,
csrc/runtime/superstep.c), split over threads by contiguous tile ranges (results and log never
depend on the split); SEND
and DRAM_WRITE data lands after every tile ran, in log order, so it is visible from the next
superstep on. Timing mode holds no SRAM, DIMC, DRAM or host data: intrinsics skip the data and
append exactly the same events.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import BackendError, ConfigError, ShapeError
from chipemu.emulator.events import EVENT_DTYPE, EventLog
from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.runtime import budget
from chipemu.emulator.runtime import ctwin as C
from chipemu.emulator.runtime import launch as L
from chipemu.emulator.runtime.state import State

__all__ = ["Machine", "TileKernel"]


class TileKernel:
    """A tile kernel as twins: `numba` is a `jit` function fn(ctx, tile, step, p) (p: int64
    params); `c` its C twin, void fn(chipemu_ctx *ctx, int64_t tile, int64_t step, const
    int64_t *p), one of:

    - the name of a function exported by chipemu's own extension (the library's kernels);
    - (library path, symbol): a kernel author's shared library, its function defined with
      CHIPEMU_TILE_KERNEL(symbol) and built by `chipemu cc` (docs/intrinsics.md): the symbol
      and the runtime version it was compiled against are checked here;
    - a ctypes function pointer whose argtypes are (c_void_p, c_int64, c_int64,
      POINTER(c_int64)) and restype None, or a cffi function pointer of that C type: checked
      here;
    - a zero-argument callable returning the function's address (unchecked: chipemu's own
      test kernels).

    Either may be None when a backend is not provided. BackendError names what is wrong."""

    def __init__(self, name: str, *, numba=None, c=None):
        if not isinstance(name, str) or not name:
            raise ShapeError(f"TileKernel name={name!r}; allowed: a non-empty string")
        if numba is not None and not callable(getattr(numba, "compile", None)):
            raise BackendError(f"TileKernel {name!r}: numba={numba!r}; allowed: None or a "
                               f"`jit` function fn(ctx, tile, step, p)")
        self.name, self.numba, self.c = name, numba, c
        self._compiled = False
        self._c_ptr = None
        self._addr, self._lib = C.resolve(name, c)

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
            if self._addr is not None:
                self._c_ptr = ffi.cast("chipemu_tile_kernel", self._addr)
            elif callable(self.c):
                self._c_ptr = ffi.cast("chipemu_tile_kernel", self.c())
            elif not hasattr(lib, self.c):
                raise BackendError(f"kernel {self.name!r}: the C extension has no function "
                                   f"{self.c!r} (define it in csrc/kernels/<kernel>/tile.c and "
                                   f"reinstall; a C twin of your own: c=(library, symbol))")
            else:
                self._c_ptr = ffi.cast("chipemu_tile_kernel", ffi.addressof(lib, self.c))
        return self._c_ptr

    def __repr__(self):
        c = (self.c if isinstance(self.c, (str, tuple)) or self.c is None else "<address>")
        return f"TileKernel({self.name!r}, numba={self.numba is not None}, c={c!r})"


def _count(name, value, lo=0, hi=None):
    return args.integer(name, value, lo, hi, error=ShapeError)


def _int64_params(params):
    """params as a contiguous int64 vector: integers only (a float, bool or string would be
    truncated or parsed silently), each within int64."""
    try:
        a = np.asarray(params)
    except (TypeError, ValueError) as exc:         # ragged nesting
        raise ShapeError(f"params must be a flat sequence of integers: {exc}") from None
    if a.size and (a.dtype.kind not in "iuO" or a.dtype.kind == "O" and not all(
            type(x) is int or isinstance(x, np.integer) for x in a.reshape(-1))):
        raise ShapeError(f"params must be integers (int64), got dtype {a.dtype}: "
                         f"{np.asarray(params).reshape(-1)[:8]!r}")
    try:
        return np.ascontiguousarray(np.asarray(params, dtype=np.int64).reshape(-1))
    except OverflowError as exc:
        raise ShapeError(f"params must be integers within int64: {exc}") from None


class Machine:
    """The emulated device: its State (runtime/state.py: buffers, SRAM, DIMC slots, DRAM, host
    data, the log) and the launcher of supersteps (see the module docstring). The State's public
    methods and attributes are the Machine's (alloc_sram, write, read, dimc_state, n_tiles, ...).

    params: a dict whose keys are the fields of chipemu_device_params (Device.engine_params()),
    or an object with an engine_params() method (a Device: its DRAM capacity is enforced too).
    mode: "functional" | "timing". backend: "c" | "numba". threads: tile ranges run in parallel
    (default: $CHIPEMU_NUM_THREADS or the CPUs). dram_capacity_bytes: bytes of one DRAM channel
    (default: the Device's chiplet.dram.capacity_bytes; unbounded for a params dict).
    """

    def __init__(self, params, *, mode: str = "functional", backend: str = "c",
                 threads: int | None = None, dram_capacity_bytes: int | None = None):
        mode = args.choice("mode", mode, ("functional", "timing"))
        backend = args.choice("backend", backend, ("c", "numba"), error=BackendError)
        if threads is not None:
            threads = args.integer("threads", threads, 1, error=ConfigError)
        if dram_capacity_bytes is None:
            dram = getattr(getattr(params, "chiplet", None), "dram", None)
            dram_capacity_bytes = getattr(dram, "capacity_bytes", None)
        if hasattr(params, "engine_params"):
            params = params.engine_params()
        self.state = State(params, functional=mode == "functional",
                           dram_capacity=dram_capacity_bytes)
        self.mode, self.backend, self.threads = mode, backend, threads
        self.step = 0

    def __getattr__(self, name):
        # only reached when normal lookup fails: the State's public names are the Machine's
        if name.startswith("_") or name == "state":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.state, name)

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
        st = self.state
        tiles = self._check_tiles(tiles)
        n = len(tiles)
        p = _int64_params(params)
        ecap = _count("events_per_tile", events_per_tile)
        pcap = _count("peers_per_tile",
                      4 * st.n_tiles if peers_per_tile is None else peers_per_tile)
        default_stage = max(4096, st.sram_bytes_used)
        scap = _count("stage_bytes_per_tile",
                      default_stage if stage_bytes_per_tile is None else stage_bytes_per_tile)
        ev0, p0 = st._n_events, st._n_peers
        # the log and staging regions this launch reserves (events_per_tile x tiles ...),
        # refused before they are allocated; the events logged are checked after the run
        budget.check(f"superstep {self.step} (kernel {kernel.name!r}, {n} tiles x "
                     f"events_per_tile={ecap}, peers_per_tile={pcap}, "
                     f"stage_bytes_per_tile={scap})", host_bytes=st.host_bytes() + n * (
                         ecap * EVENT_DTYPE.itemsize + pcap * 4 + (scap if st.functional else 0)),
                     supersteps=self.step + 1)
        fn = kernel.numba_fn() if self.backend == "numba" else kernel.c_fn()
        st._ensure_dimc()
        st._reserve_log(ev0 + n * ecap, p0 + n * pcap)
        stage = st._stage_buffer(n * scap)
        sc = np.zeros((n, K.SC_COUNT), np.int64)
        sc[:, K.SC_TILE] = tiles
        run = L.run_numba if self.backend == "numba" else L.run_c
        ne, npeers = run(st, fn, kernel.name, self.step, self.threads, stage, sc,
                         self._dev_array(), p, ev0, p0, ecap, pcap, scap)
        # the backstop of a plan's estimate (runtime/budget.py); the superstep is not committed
        budget.check(f"this run (superstep {self.step}, kernel {kernel.name!r})", events=ev0 + ne)
        st._n_events += ne
        st._n_peers += npeers
        self.step += 1
        return ne

    def clear_log(self) -> None:
        """Forget the events so far and number supersteps from 0 again (the state stays): the
        next Result times only what follows, from an idle device, and a step that repeats an
        earlier one logs exactly the same records (timing reuse, engine/reuse.py)."""
        self.state.clear_log()
        self.step = 0

    def _check_tiles(self, tiles):
        try:
            t = np.asarray(list(tiles) if not isinstance(tiles, np.ndarray) else tiles)
        except TypeError:
            raise ShapeError(f"tiles must be a sequence of tile ids, got {tiles!r}") from None
        if t.ndim != 1 or t.size == 0 or t.dtype.kind not in "iu":
            raise ShapeError(f"tiles must be a non-empty 1-D sequence of integer tile ids, "
                             f"got {tiles!r}")
        t = np.sort(t.astype(np.int64))
        if t[0] < 0 or t[-1] >= self.state.n_tiles:
            bad = t[0] if t[0] < 0 else t[-1]
            raise ShapeError(f"tile {bad} is out of range; the device has tiles "
                             f"0..{self.state.n_tiles - 1}")
        dup = np.flatnonzero(np.diff(t) == 0)
        if dup.size:
            raise ShapeError(f"tile {t[dup[0]]} appears twice in tiles")
        return t

    def _dev_array(self):
        st = self.state
        d = np.zeros(K.DEV_COUNT, np.int64)
        d[[K.DEV_N_TILES, K.DEV_ROWS, K.DEV_COLS, K.DEV_CELL_BITS, K.DEV_SLOTS, K.DEV_ENGINES,
           K.DEV_COLS_MAX, K.DEV_BLOCKS_MAX]] = (st.n_tiles, st.rows, st.cols, st.cell_bits,
                                                  st.slots, st.engines, st.cols_max, st.blocks_max)
        d[K.DEV_MODE] = K.MODE_FUNCTIONAL if st.functional else K.MODE_TIMING
        d[K.DEV_STEP] = self.step
        return d

    @property
    def log(self) -> EventLog:
        """The event log so far (views of committed records; later launches only append)."""
        return self.state.log()
