"""NumPy definition of the vector unit's fp32 math: exp, reciprocal, rsqrt (docs/vecmath.md).

This file is the definition; the Numba (`chipemu.emulator.numerics.vecmath`) and C (`csrc/numerics/vecmath.c`)
twins are tested bit-identical to it. Every arithmetic step is one IEEE float32 operation on
float32 arrays, in the order written (no FMA: NumPy never contracts). float64 is used only where it
is exact: frexp of a float32, and scaling a float32 by 2^n before the one final rounding to float32
(which also produces subnormal results, overflow to inf and underflow to 0).
Imports neither Numba nor the native module.
"""
import numpy as np

__all__ = ["exp", "reciprocal", "rsqrt", "QUIET_BIT", "DEFAULT_NAN"]


def _f32(bits: int) -> np.float32:
    """The float32 with these IEEE bits (constants are defined by their bits, not decimals)."""
    return np.uint32(bits).view(np.float32)


# Constants are defined by their float32 bits; the comment gives the value they approximate.
_EXP_LOG2E = _f32(0x3FB8AA3B)     # 1.442695     log2(e)
_EXP_MAGIC = _f32(0x4B400000)     # 12582912     1.5 * 2^23: t + M - M rounds t to an integer
_EXP_LN2_HI = _f32(0x3F318000)    # 0.6933594    ln2 high part, 9 significant bits
_EXP_LN2_LO = _f32(0xB95E8083)    # -2.1219444e-4  ln2 - LN2_HI
_EXP_C2 = _f32(0x3F000000)        # 0.5          1/2!
_EXP_C3 = _f32(0x3E2AAAAB)        # 0.16666667   1/3!
_EXP_C4 = _f32(0x3D2AAAAB)        # 0.041666668  1/4!
_EXP_C5 = _f32(0x3C088889)        # 0.008333334  1/5!
_EXP_C6 = _f32(0x3AB60B61)        # 0.0013888889 1/6!
_EXP_C7 = _f32(0x39500D01)        # 1.984127e-4  1/7!
_EXP_X_HI = _f32(0x42B20000)      # 89           x > 89: exp overflows, result +inf
_EXP_X_LO = _f32(0xC2D00000)      # -104         x < -104: exp < 2^-150, result +0
_RCP_A = _f32(0x4034B4B5)         # 2.8235295    48/17
_RCP_B = _f32(0x3FF0F0F1)         # 1.882353     32/17
_RSQ_A = _f32(0x3FAAEF39)         # 1.3354255    quadratic guess of 1/sqrt(m), m in [1, 4)
_RSQ_B = _f32(0xBED243E0)         # -0.4106741
_RSQ_C = _f32(0x3D51BD24)         # 0.05120577
_ONE = _f32(0x3F800000)           # 1
_HALF = _f32(0x3F000000)          # 0.5
_THREE_HALVES = _f32(0x3FC00000)  # 1.5

QUIET_BIT = 0x00400000     # a NaN input comes back with this bit set (sign, payload kept)
DEFAULT_NAN = 0x7FC00000   # the NaN of an invalid operation (rsqrt of x < 0)


def _prepare(x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x, x.view(np.uint32)


def _scale(y, n):
    """float32(y * 2^n): exact in float64 (|n| <= 1100), then one round-to-nearest-even."""
    with np.errstate(over="ignore"):
        return np.ldexp(y.astype(np.float64), n).astype(np.float32)


def _finish(out, x, u, specials):
    """Apply (mask, value) pairs in order, then quiet NaN inputs; out has x's shape."""
    for mask, val in specials:
        out = np.where(mask, np.float32(val), out)
    nan = np.isnan(x)
    if nan.any():
        out = np.where(nan, (u | np.uint32(QUIET_BIT)).view(np.float32), out)
    return out.astype(np.float32)


def exp(x) -> np.ndarray:
    """e^x of float32 x, elementwise (float32, x's shape)."""
    x, u = _prepare(x)
    xc = np.clip(np.nan_to_num(x, nan=0.0), _EXP_X_LO, _EXP_X_HI)   # keeps n small; specials below
    t = xc * _EXP_LOG2E
    nf = (t + _EXP_MAGIC) - _EXP_MAGIC                  # round(t), ties to even
    r = (xc - nf * _EXP_LN2_HI) - nf * _EXP_LN2_LO      # nf*LN2_HI and the subtraction are exact
    q = _EXP_C7
    for c in (_EXP_C6, _EXP_C5, _EXP_C4, _EXP_C3, _EXP_C2):
        q = q * r + c
    p = (q * (r * r) + r) + _ONE                        # 1 + r + r^2 q(r): the small terms first
    y = _scale(p, nf.astype(np.int64))
    return _finish(y, x, u, [(x > _EXP_X_HI, np.inf), (x < _EXP_X_LO, 0.0)])


def _frexp(x):
    """(m, e) with |x| = m * 2^e, m in [0.5, 1) as float32 (exact; subnormals normalised)."""
    with np.errstate(invalid="ignore"):                 # inf/NaN: callers replace them
        m, e = np.frexp(np.abs(x).astype(np.float64))
    return m.astype(np.float32), e.astype(np.int64)


def reciprocal(x) -> np.ndarray:
    """1/x of float32 x, elementwise (float32, x's shape)."""
    x, u = _prepare(x)
    d, e = _frexp(x)
    d = np.where(np.isfinite(x) & (x != 0), d, np.float32(0.5))   # specials: any valid d
    y = _RCP_A - _RCP_B * d                              # 1/d to 1/17 for d in [0.5, 1)
    for _ in range(3):
        y = y + y * (_ONE - d * y)                       # Newton: error e -> e^2
    y = np.where(np.signbit(x), -y, y)
    out = _scale(y, -e)
    inf = np.isinf(x)
    return _finish(out, x, u, [(x == 0, np.copysign(np.float32(np.inf), x)),
                               (inf, np.copysign(np.float32(0.0), x))])


def rsqrt(x) -> np.ndarray:
    """1/sqrt(x) of float32 x, elementwise (float32, x's shape)."""
    x, u = _prepare(x)
    f, e = _frexp(x)                                     # x = f 2^e = (2f) 2^(e-1)
    odd = ((e - 1) & 1) == 1
    m = np.where(odd, f * np.float32(4.0), f * np.float32(2.0))    # exact; m in [1, 4)
    k = np.where(odd, e - 2, e - 1) >> 1                 # x = m * 4^k
    ok = np.isfinite(x) & (x > 0)
    m = np.where(ok, m, np.float32(1.0))
    y = _RSQ_A + m * (_RSQ_B + _RSQ_C * m)               # relative error <= 2.5%
    h = _HALF * m                                        # exact
    for _ in range(2):
        y = y * (_THREE_HALVES - (h * y) * y)            # Newton: e -> 1.5 e^2
    y = y + y * (_HALF - (h * y) * y)                    # last step as a small correction
    out = _scale(y, -k)
    return _finish(out, x, u, [(x == 0, np.copysign(np.float32(np.inf), x)),
                               (np.isposinf(x), 0.0),
                               (x < 0, _f32(DEFAULT_NAN))])
