"""Thin Python side of the C core (the cffi extension chipemu.emulator._native).

Converts arrays to pointers, turns status codes into NativeError, and splits independent work
units over threads (cffi releases the GIL during calls). Units never share output bytes, so the
result does not depend on the thread count.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from chipemu.emulator._native import ffi, lib
from chipemu.emulator.errors import NativeError

__all__ = ["ffi", "lib", "check", "ptr", "num_threads", "run_units", "quantize_2d", "dequantize_2d"]

_MIN_UNITS_PER_THREAD = 4096
_pool = None


def _drop_pool():
    global _pool
    _pool = None


# a forked child (multiprocessing, a sweep's worker) inherits the pool but not its threads:
# work submitted there would wait forever, so the child starts its own
os.register_at_fork(after_in_child=_drop_pool)


def num_threads() -> int:
    """Threads the C backend uses: $CHIPEMU_NUM_THREADS, else the CPUs this process may use."""
    env = os.environ.get("CHIPEMU_NUM_THREADS")
    if env:
        return max(1, int(env))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())


def check(status: int, what: str) -> None:
    """Raise NativeError for a non-zero chipemu status."""
    if status != lib.CHIPEMU_OK:
        msg = ffi.string(lib.chipemu_status_string(status)).decode()
        raise NativeError(f"{what}: C core returned status {status} ({msg})")


def ptr(arr: np.ndarray, ctype: str = "void *"):
    """A cffi pointer to a C-contiguous array (NULL for an empty one)."""
    if arr.size == 0:
        return ffi.NULL
    if not arr.flags.c_contiguous:
        raise ValueError("array must be C-contiguous")
    return ffi.cast(ctype, ffi.from_buffer(arr, require_writable=False))


def run_units(fn, n_units: int) -> None:
    """Call fn(begin, end) over [0, n_units) split into contiguous ranges, one per thread."""
    global _pool
    threads = min(num_threads(), max(1, n_units // _MIN_UNITS_PER_THREAD))
    if threads <= 1:
        fn(0, n_units)
        return
    if _pool is None or _pool._max_workers < threads:
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="chipemu")
    bounds = [n_units * i // threads for i in range(threads + 1)]
    for f in [_pool.submit(fn, bounds[i], bounds[i + 1]) for i in range(threads)]:
        f.result()


def _units(spec, rows, cols):
    return rows * -(-cols // spec.block_size)


def quantize_2d(spec, x):
    """(codes, scales) of float32 x[rows, cols] computed by csrc/numerics/codec.c."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    rows, cols = x.shape
    codes = np.empty(x.shape, spec.container)
    scales = np.zeros((rows, -(-cols // spec.block_size)) if spec.scale_bits else 0, np.uint8)
    tensor_scale = 0.0
    if spec.kind == 3:
        parts = []
        flat = x.reshape(-1)

        def absmax(b, e):
            out = ffi.new("uint32_t *")
            check(lib.chipemu_absmax_bits(ptr(flat[b:e], "float *"), e - b, out), "absmax")
            parts.append(out[0])
        run_units(absmax, flat.size)
        tensor_scale = lib.chipemu_int8_scale(max(parts))
    px, pc, ps = ptr(x, "float *"), ptr(codes), ptr(scales, "uint8_t *")

    def work(b, e):
        check(lib.chipemu_quantize(spec.code, px, rows, cols, b, e, pc, ps, tensor_scale), "quantize")
    run_units(work, _units(spec, rows, cols))
    if spec.kind == 3:
        return codes, np.array(tensor_scale, np.float32)
    return codes, scales


def dequantize_2d(spec, codes, scales):
    """float32 values of codes[rows, cols] computed by csrc/numerics/codec.c."""
    codes = np.ascontiguousarray(codes)
    rows, cols = codes.shape
    out = np.empty(codes.shape, np.float32)
    tensor_scale = float(scales) if spec.kind == 3 else 0.0
    sc = np.ascontiguousarray(scales, np.uint8) if spec.scale_bits else np.zeros(0, np.uint8)
    pc, ps, po = ptr(codes), ptr(sc, "uint8_t *"), ptr(out, "float *")

    def work(b, e):
        check(lib.chipemu_dequantize(spec.code, pc, ps, tensor_scale, rows, cols, b, e, po),
              "dequantize")
    run_units(work, _units(spec, rows, cols))
    return out
