"""The launch drivers of a Machine (runtime/machine.py): one superstep of a tile kernel on the
State's arrays, through the Numba launcher (runtime/superstep.py) or the C one
(csrc/runtime/superstep.c), and the named error a broken hardware rule raises.

Tiles are split into contiguous chunks run in parallel; results and the log never depend on the
split. Both drivers return (events, peers) appended.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from chipemu.emulator.errors import (CapacityError, ChipemuError, FormatError, NativeError,
                                     ShapeError)
from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.numerics.formats import FORMATS

__all__ = ["run_numba", "run_c", "raise_kernel_error"]

_ERRORS = {K.KERR_CAPACITY: CapacityError, K.KERR_SHAPE: ShapeError, K.KERR_FORMAT: FormatError,
           K.KERR_STATE: ChipemuError}
_KIND_NAMES = {K.BUF_SRAM: "SRAM", K.BUF_DRAM: "DRAM", K.BUF_HOST: "HOST"}
_FMT_NAMES = {s.code: s.name for s in FORMATS.values()}
_pool = None


def _drop_pool():
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_drop_pool)      # as native.py's pool: a child makes its own


def run_numba(st, fn, name, step, threads, stage, sc, dev, p, ev0, p0, ecap, pcap, scap):
    """The superstep through the Numba launcher on State `st`."""
    import numba

    from chipemu.emulator.runtime.superstep import finish, launch_tiles
    chunks = max(1, min(len(sc), threads or numba.get_num_threads()))
    ev = st._events.view(np.uint32).reshape(-1, K.EVENT_WORDS)
    launch_tiles(fn, st._sram, st._codes, st._scales, st._tscale, st._wfmt, st._dram, st._host,
                 st._bufs, ev, st._peers, stage, sc, dev, p, ev0, p0, ecap, pcap, scap, chunks)
    raise_kernel_error(st, sc, name, step)
    ne, npeers = finish(st._sram, st._dram, st._bufs, ev, st._peers, stage, sc, dev,
                        ev0, p0, ecap, pcap, scap)
    return int(ne), int(npeers)


_NO_PARAMS = np.zeros(1, np.int64)


def run_c(st, fn, name, step, threads, stage, sc, dev, p, ev0, p0, ecap, pcap, scap):
    """The superstep through chipemu_launch / chipemu_finish on State `st` (cffi releases the
    GIL, so tile ranges run on a thread pool)."""
    from chipemu.emulator.native import ffi, lib, num_threads, ptr
    s = ffi.new("chipemu_superstep *")
    if st.functional:
        s.sram, s.sram_stride = ptr(st._sram, "uint8_t *"), st._sram.shape[1]
        s.dimc_codes = ptr(st._codes, "int8_t *")
        s.dimc_scales = ptr(st._scales, "uint8_t *")
        s.dimc_tscale = ptr(st._tscale, "float *")
        s.dram, s.dram_bytes = ptr(st._dram, "uint8_t *"), st._dram.size
        s.host, s.host_bytes = ptr(st._host, "uint8_t *"), st._host.size
    s.dimc_wfmt = ptr(st._wfmt, "int8_t *")
    s.bufs, s.n_bufs = ptr(st._bufs, "int64_t *"), st._bufs.shape[0]
    s.events = (ffi.cast("chipemu_event *", ptr(st._events)) + ev0 if st._events.size
                else ffi.NULL)
    s.peers = (ffi.cast("uint32_t *", ptr(st._peers)) + p0) if st._peers.size else ffi.NULL
    s.stage = ptr(stage, "uint8_t *")
    s.sc, s.dev, s.n = ptr(sc, "int64_t *"), ptr(dev, "int64_t *"), len(sc)
    s.event_cap, s.peer_cap, s.stage_cap, s.peer_base = ecap, pcap, scap, p0
    # a kernel launched without params gets one zero word: C kernels refuse a NULL p
    pp = ptr(p if p.size else _NO_PARAMS, "int64_t *")
    n = len(sc)
    chunks = max(1, min(n, threads or num_threads()))
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
    for status in statuses:
        if status not in (lib.CHIPEMU_OK, lib.CHIPEMU_ERR_KERNEL):
            raise NativeError(f"chipemu_launch returned status {status}")
    raise_kernel_error(st, sc, name, step)
    out = ffi.new("int64_t[2]")
    status = lib.chipemu_finish(s, out, out + 1)
    if status != lib.CHIPEMU_OK:
        raise NativeError(f"chipemu_finish returned status {status}")
    return int(out[0]), int(out[1])


def raise_kernel_error(st, sc, name, step):
    """Raise the error of the first tile (in launch order) whose kernel broke a rule."""
    bad = np.flatnonzero(sc[:, K.SC_ERROR])
    if bad.size:
        raise _kernel_error(st, name, step, sc[bad[0]])


def _kernel_error(st, kernel_name, step, row):
    v = [int(x) for x in row[K.SC_VALUES:K.SC_VALUES + 5]]

    def buf_label(i):
        return f"{i} ({st.buffers[i].name!r})" if 0 <= i < len(st.buffers) else str(i)

    names = dict(arg=_arg_name(v[0]), a4=_arg_name(v[4]), b1=buf_label(v[1]), b3=buf_label(v[3]),
                 f1=_fmt_label(v[1]), f2=_fmt_label(v[2]), k2=_KIND_NAMES.get(v[2], v[2]),
                 k3=_KIND_NAMES.get(v[3], v[3]))
    text = K.MESSAGES.get(int(row[K.SC_MESSAGE]), "unknown error {v0}")
    text = text.format(v0=v[0], v1=v[1], v2=v[2], v3=v[3], v4=v[4], **names)
    intr = int(row[K.SC_INTRINSIC])
    iname = (K.INTRINSIC_NAMES[intr] if 0 <= intr < len(K.INTRINSIC_NAMES)
             else "the kernel's parameters" if intr == -1 else f"intrinsic {intr}")
    cls = _ERRORS.get(int(row[K.SC_ERROR]), ChipemuError)
    return cls(f"kernel {kernel_name!r}, tile {int(row[K.SC_TILE])}, superstep {step}, "
               f"{iname}: {text}")


def _arg_name(a):
    return K.ARG_NAMES[a] if 0 <= a < len(K.ARG_NAMES) else f"argument {a}"


def _fmt_label(code):
    return f"{_FMT_NAMES[code]!r}" if code in _FMT_NAMES else str(code)
