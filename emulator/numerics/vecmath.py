"""Numba twin of csrc/numerics/vecmath.c: the vector unit's fp32 exp, reciprocal and rsqrt.

The definition is emulator/reference/vecmath.py (docs/vecmath.md); this file repeats it step for
step on scalars so other Numba kernels can call `exp_f32`, `reciprocal_f32` and `rsqrt_f32`.
Pure Numba (it caches). Every constant is an np.float32 and every intermediate stays float32
(a float32 times a Python float would be float64); float64 appears only in the exact frexp and
2^n scaling before the single final rounding, as in the reference.
"""
import math

import numpy as np
from numba import prange

from chipemu.emulator._jit import jit

__all__ = ["exp_f32", "reciprocal_f32", "rsqrt_f32", "exp_array", "reciprocal_array",
           "rsqrt_array"]


def _f32(bits):
    return np.uint32(bits).view(np.float32)


# The same bits as the reference (docs/vecmath.md lists them with their values).
_EXP_LOG2E = _f32(0x3FB8AA3B)
_EXP_MAGIC = _f32(0x4B400000)
_EXP_LN2_HI = _f32(0x3F318000)
_EXP_LN2_LO = _f32(0xB95E8083)
_EXP_C2 = _f32(0x3F000000)
_EXP_C3 = _f32(0x3E2AAAAB)
_EXP_C4 = _f32(0x3D2AAAAB)
_EXP_C5 = _f32(0x3C088889)
_EXP_C6 = _f32(0x3AB60B61)
_EXP_C7 = _f32(0x39500D01)
_EXP_X_HI = _f32(0x42B20000)
_EXP_X_LO = _f32(0xC2D00000)
_RCP_A = _f32(0x4034B4B5)
_RCP_B = _f32(0x3FF0F0F1)
_RSQ_A = _f32(0x3FAAEF39)
_RSQ_B = _f32(0xBED243E0)
_RSQ_C = _f32(0x3D51BD24)
_ONE = _f32(0x3F800000)
_HALF = _f32(0x3F000000)
_THREE_HALVES = _f32(0x3FC00000)
_TWO = np.float32(2.0)
_FOUR = np.float32(4.0)
_ZERO = np.float32(0.0)
_INF = np.float32(np.inf)
_QUIET_BIT = np.uint32(0x00400000)
_DEFAULT_NAN = _f32(0x7FC00000)
_CHUNK = 4096         # elements per parallel task


@jit
def _quiet(x):
    """x (a NaN) with the quiet bit set, sign and payload kept."""
    u = np.float32(x).view(np.uint32) | _QUIET_BIT
    return np.uint32(u).view(np.float32)       # Numba widens the | to 64 bits: narrow it back


@jit
def _scale(y, n):
    """float32(y * 2^n): exact in float64, then one round-to-nearest-even."""
    return np.float32(np.float64(y) * math.ldexp(1.0, n))


@jit
def exp_f32(x):
    """e^x of a float32 (returns float32)."""
    x = np.float32(x)
    if x != x:
        return _quiet(x)
    if x > _EXP_X_HI:
        return _INF
    if x < _EXP_X_LO:
        return _ZERO
    t = x * _EXP_LOG2E
    nf = (t + _EXP_MAGIC) - _EXP_MAGIC
    r = (x - nf * _EXP_LN2_HI) - nf * _EXP_LN2_LO
    q = _EXP_C7
    q = q * r + _EXP_C6
    q = q * r + _EXP_C5
    q = q * r + _EXP_C4
    q = q * r + _EXP_C3
    q = q * r + _EXP_C2
    p = (q * (r * r) + r) + _ONE
    return _scale(p, int(nf))


@jit
def reciprocal_f32(x):
    """1/x of a float32 (returns float32)."""
    x = np.float32(x)
    if x != x:
        return _quiet(x)
    neg = np.float32(x).view(np.uint32) >> np.uint32(31) != np.uint32(0)
    if x == _ZERO:
        return -_INF if neg else _INF
    if x == _INF or x == -_INF:
        return -_ZERO if neg else _ZERO
    m, e = math.frexp(abs(np.float64(x)))
    d = np.float32(m)
    y = _RCP_A - _RCP_B * d
    y = y + y * (_ONE - d * y)
    y = y + y * (_ONE - d * y)
    y = y + y * (_ONE - d * y)
    return _scale(-y if neg else y, -e)


@jit
def rsqrt_f32(x):
    """1/sqrt(x) of a float32 (returns float32)."""
    x = np.float32(x)
    if x != x:
        return _quiet(x)
    if x == _ZERO:
        return -_INF if np.float32(x).view(np.uint32) != np.uint32(0) else _INF
    if x < _ZERO:
        return _DEFAULT_NAN
    if x == _INF:
        return _ZERO
    f, e = math.frexp(np.float64(x))
    fs = np.float32(f)
    if ((e - 1) & 1) == 1:
        m = fs * _FOUR
        k = (e - 2) >> 1
    else:
        m = fs * _TWO
        k = (e - 1) >> 1
    y = _RSQ_A + m * (_RSQ_B + _RSQ_C * m)
    h = _HALF * m
    y = y * (_THREE_HALVES - (h * y) * y)
    y = y * (_THREE_HALVES - (h * y) * y)
    y = y + y * (_HALF - (h * y) * y)
    return _scale(y, -k)


@jit(parallel=True)
def exp_array(x, out):
    """out[i] = exp_f32(x[i]) for 1-D float32 arrays of equal length."""
    n = x.shape[0]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            out[i] = exp_f32(x[i])


@jit(parallel=True)
def reciprocal_array(x, out):
    """out[i] = reciprocal_f32(x[i]) for 1-D float32 arrays of equal length."""
    n = x.shape[0]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            out[i] = reciprocal_f32(x[i])


@jit(parallel=True)
def rsqrt_array(x, out):
    """out[i] = rsqrt_f32(x[i]) for 1-D float32 arrays of equal length."""
    n = x.shape[0]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            out[i] = rsqrt_f32(x[i])
