"""Vector-unit fp32 math of the emulated device: exp, reciprocal, rsqrt (docs/vecmath.md).

The device computes these with fixed algorithms, not libm, so every backend gives the same bits:
"numpy" is the definition (`chipemu.emulator.reference.vecmath`), "numba"
(`chipemu.emulator.numerics.vecmath`) and "c" (csrc/numerics/vecmath.c, the default) are tested bit-identical to it.
`python -m chipemu.emulator.vector_math` measures the ULP error against float64 (see measure_ulp).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from chipemu.emulator.errors import BackendError, ChipemuError, ShapeError
from chipemu.emulator.numerics.formats import _as_float32

__all__ = ["BACKENDS", "FUNCTIONS", "exp", "reciprocal", "rsqrt", "measure_ulp"]

BACKENDS = ("c", "numba", "numpy")
FUNCTIONS = ("exp", "reciprocal", "rsqrt")


def _input(x, name: str) -> np.ndarray:
    """x as a C-contiguous float32 array; 0-d and empty inputs are allowed here."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ShapeError(f"{name} cannot be read as an array: {exc}") from None
    if arr.size == 0:          # _as_float32 rejects empty arrays: check the dtype on a probe
        _as_float32(np.zeros(1, arr.dtype), name)
        return np.zeros(arr.shape, np.float32)
    return _as_float32(arr.reshape(-1), name).reshape(arr.shape)


def _apply(fn: str, x, backend: str) -> np.ndarray:
    if backend not in BACKENDS:
        raise BackendError(f"backend={backend!r} is not one of {', '.join(BACKENDS)}")
    x = _input(x, "x")
    if x.size == 0:
        return x
    flat = x.reshape(-1)
    if backend == "numpy":
        from chipemu.emulator.reference import vecmath as ref
        return getattr(ref, fn)(flat).reshape(x.shape)
    out = np.empty_like(flat)
    if backend == "numba":
        from chipemu.emulator.numerics import vecmath as nb
        getattr(nb, fn + "_array")(flat, out)
    else:
        from chipemu.emulator import native
        cfn = getattr(native.lib, "chipemu_vec_" + fn)
        px, py = native.ptr(flat, "float *"), native.ptr(out, "float *")

        def work(b, e):
            native.check(cfn(px + b, py + b, e - b), f"chipemu_vec_{fn}")
        native.run_units(work, flat.size)
    return out.reshape(x.shape)


def exp(x, *, backend: str = "c") -> np.ndarray:
    """e^x elementwise in the device's fp32 algorithm (float32, x's shape; x converted to float32).

    Max error 1 ULP on normal results; +inf above 89, +0 below -104; NaN in, quiet NaN out.
    """
    return _apply("exp", x, backend)


def reciprocal(x, *, backend: str = "c") -> np.ndarray:
    """1/x elementwise in the device's fp32 algorithm (float32, x's shape).

    Max error 1 ULP; 1/±0 = ±inf, 1/±inf = ±0, |x| <= 2^-128 overflows to ±inf.
    """
    return _apply("reciprocal", x, backend)


def rsqrt(x, *, backend: str = "c") -> np.ndarray:
    """1/sqrt(x) elementwise in the device's fp32 algorithm (float32, x's shape).

    Max error 1 ULP; rsqrt(±0) = ±inf, rsqrt(+inf) = +0, x < 0 gives NaN (0x7FC00000).
    """
    return _apply("rsqrt", x, backend)


# -- accuracy measurement ------------------------------------------------------------------------

# Swept float32 bit patterns [lo, hi] per function: every input whose result is computed (the rest
# is fixed by a comparison: exp above 89 / below -104, the NaN/inf/0 specials, and negative x,
# which reciprocal handles by symmetry and rsqrt rejects).
SWEEPS = {
    "exp": ((0x00000000, 0x42B20000), (0x80000000, 0xC2D00000)),   # [+0, 89], [-0, -104]
    "reciprocal": ((0x00000001, 0x7F7FFFFF),),                      # (0, FLT_MAX]
    "rsqrt": ((0x00000001, 0x7F7FFFFF),),
}
_REF64 = {"exp": np.exp, "reciprocal": lambda v: 1.0 / v, "rsqrt": lambda v: 1.0 / np.sqrt(v)}
_CHUNK = 1 << 22


def _max_err(y, ref64, rb, dist):
    """max |y - ref64| / ulp(r) over the given elements; r (bits rb) = round32(ref64)."""
    ab = rb & 0x7FFFFFFF
    ulp = ((np.maximum(ab >> 23, 1).astype(np.int64) + (1023 - 150)) << 52).view(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(y.astype(np.float64) - ref64) / ulp    # ulp: float32 spacing at r
    return float(np.where(ab >= 0x7F800000, dist, err).max())   # overflow: compare bits only


def _accumulate(a, y, ref64, rb, dist, mask):
    """Add one chunk's elements selected by mask (None: all) to the class totals a."""
    off = dist > 0 if mask is None else (dist > 0) & mask
    n = dist.size if mask is None else int(np.count_nonzero(mask))
    n_off = int(np.count_nonzero(off))
    # where y is the correctly rounded r the error is <= 0.5 ulp: the max is among the others
    if n_off:
        sel = np.flatnonzero(off)
    else:
        sel = slice(None) if mask is None else np.flatnonzero(mask)
    a["count"] += n
    a["correctly_rounded"] += n - n_off
    if n_off:
        a["max_ulp"] = max(a["max_ulp"], int(dist[sel].max()))
    a["max_err"] = max(a["max_err"], _max_err(y[sel], ref64[sel], rb[sel], dist[sel]))


def measure_ulp(stride: int = 1, backend: str = "c", functions=FUNCTIONS) -> dict:
    """Max error of each function over every `stride`-th float32 of SWEEPS, against float64.

    Returns {fn: {"normal"|"subnormal": {"count", "max_ulp", "max_err", "correctly_rounded"}}}:
    max_ulp is the largest distance in float32 steps from the correctly rounded result r, max_err
    the largest |y - exact| in ulps of r (exact: float64 np.exp(x), 1/x, 1/np.sqrt(x)).
    "subnormal" holds the results whose r is below 2^-126 (zero included).
    """
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ShapeError(f"stride={stride!r} must be an integer >= 1")
    unknown = [fn for fn in functions if fn not in FUNCTIONS]
    if unknown:
        raise ChipemuError(f"functions={unknown!r} are not vector-unit functions; "
                           f"allowed: {', '.join(FUNCTIONS)}")
    table = {}
    for fn in functions:
        acc = {k: {"count": 0, "max_ulp": 0, "max_err": 0.0, "correctly_rounded": 0}
               for k in ("normal", "subnormal")}
        for lo, hi in SWEEPS[fn]:
            for start in range(lo, hi + 1, _CHUNK * stride):
                stop = min(hi + 1, start + _CHUNK * stride)
                x = np.arange(start, stop, stride, dtype=np.uint32).view(np.float32)
                y = _apply(fn, x, backend)
                ref64 = _REF64[fn](x.astype(np.float64))
                with np.errstate(over="ignore"):
                    rb = ref64.astype(np.float32).view(np.int32)
                dist = np.abs(np.subtract(y.view(np.int32), rb, dtype=np.int64))
                sub = (rb & 0x7FFFFFFF) < 0x00800000
                if not sub.any():
                    _accumulate(acc["normal"], y, ref64, rb, dist, None)
                    continue
                for k, mask in (("normal", ~sub), ("subnormal", sub)):
                    if mask.any():
                        _accumulate(acc[k], y, ref64, rb, dist, mask)
        table[fn] = acc
    return table


def _main(argv=None):
    p = argparse.ArgumentParser(description=measure_ulp.__doc__.splitlines()[0])
    p.add_argument("--stride", type=int, default=1, help="sweep every STRIDE-th float32 (1: all)")
    p.add_argument("--backend", default="c", choices=BACKENDS)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    table = measure_ulp(args.stride, args.backend)
    print(f"{'function':<11}{'results':<10}{'inputs':>12}{'max ulp':>9}{'max err (ulp)':>15}"
          f"{'correctly rounded':>19}")
    for fn, acc in table.items():
        for k, a in acc.items():
            if a["count"]:
                cr = 100.0 * a["correctly_rounded"] / a["count"]
                print(f"{fn:<11}{k:<10}{a['count']:>12}{a['max_ulp']:>9}{a['max_err']:>15.4f}"
                      f"{cr:>18.2f}%")
    print(f"stride {args.stride}, backend {args.backend}, {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    _main()
