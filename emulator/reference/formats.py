"""NumPy definition of chipemu's format rules (docs/formats.md).

Written as plain float64 arithmetic (frexp, exact power-of-two scaling, rint), a different route
from the integer bit manipulation of the Numba and C twins, so their equality is a real check.
Imports neither Numba nor the native module.
"""
import numpy as np

from chipemu.emulator.tables.formats import KIND_BF16, KIND_BLOCK_INT, KIND_FP16, KIND_FP32, KIND_INT_TENSOR

__all__ = ["quantize_2d", "dequantize_2d", "int8_scale", "element_values"]

_F32_TINY = np.float32(2.0 ** -149)


def int8_scale(x) -> np.float32:
    """Per-tensor int8 scale: max(amax / 127, 2^-149) in float32; NaN if x holds NaN or Inf."""
    x = np.asarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        return np.float32(np.nan)
    amax = np.abs(x).max() if x.size else np.float32(0)
    return max(np.float32(amax) / np.float32(127), _F32_TINY)


def quantize_2d(spec, x):
    """Codes (container dtype, shape of x) and scales of float32 x[rows, cols], blocks along cols."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if spec.kind == KIND_FP32:
        return x.view(np.uint32).copy(), np.zeros(0, np.uint8)
    if spec.kind == KIND_BF16:
        u = x.view(np.uint32).astype(np.uint64)
        codes = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
        return _canonical_nan(x, codes, 0x7FC0), np.zeros(0, np.uint8)
    if spec.kind == KIND_FP16:
        with np.errstate(over="ignore"):
            codes = x.astype(np.float16).view(np.uint16)
        return _canonical_nan(x, codes, 0x7E00), np.zeros(0, np.uint8)
    if spec.kind == KIND_INT_TENSOR:
        scale = int8_scale(x)
        with np.errstate(invalid="ignore"):
            q = np.rint(x / scale)
        codes = np.where(np.isnan(q), 0, np.clip(q, -127, 127)).astype(np.int8)
        return codes, np.array(scale, dtype=np.float32)
    return _quantize_blocks(spec, x)


def _canonical_nan(x, codes, nan_code):
    sign = (x.view(np.uint32) >> 16).astype(np.uint16) & np.uint16(0x8000)
    return np.where(np.isnan(x), sign | np.uint16(nan_code), codes).astype(np.uint16)


def _quantize_blocks(spec, x):
    rows, cols = x.shape
    bs = spec.block_size
    nb = -(-cols // bs)
    padded = np.zeros((rows, nb * bs), np.float64)
    padded[:, :cols] = x                      # zeros never raise a block's amax
    xb = padded.reshape(rows, nb, bs)
    finite = np.isfinite(xb)
    nan_block = ~finite.all(axis=-1)
    amax = np.where(finite, np.abs(xb), 0.0).max(axis=-1)
    _, ex = np.frexp(amax)                    # amax = m * 2^ex, m in [0.5, 1)
    shared = np.where(amax > 0, ex - 1 - spec.emax, -127).clip(-127, None)
    scales = np.where(nan_block, 255, shared + 127).astype(np.uint8)
    with np.errstate(invalid="ignore"):
        aq = np.abs(xb) * np.ldexp(1.0, -shared)[..., None]   # exact: a power-of-two scaling
    negative = np.signbit(xb)
    if spec.kind == KIND_BLOCK_INT:
        n = np.minimum(np.rint(np.ldexp(aq, spec.mbits)), spec.max_mag)
        codes = np.where(negative, -n, n)
    else:
        codes = _encode_minifloat(spec, aq) | (negative.astype(np.int64) << (spec.ebits + spec.mbits))
    codes = np.where(nan_block[..., None], 0, codes)
    codes = codes.reshape(rows, nb * bs)[:, :cols].astype(spec.container)
    return codes, scales


def _encode_minifloat(spec, aq):
    """Magnitude codes of |values| already divided by the block scale: RNE, subnormals, saturation."""
    m, emin = spec.mbits, 1 - spec.bias
    with np.errstate(invalid="ignore"):
        _, e = np.frexp(aq)
        quantum_exp = np.maximum(e - 1, emin) - m
        r = np.ldexp(np.rint(np.ldexp(aq, -quantum_exp)), quantum_exp)
        r = np.minimum(r, spec.max_value)
        _, er = np.frexp(r)
        er = er - 1
        normal = r >= 2.0 ** emin
        frac = np.ldexp(np.ldexp(r, -er) - 1.0, m)
        mag = np.where(normal, ((er + spec.bias) << m) + frac, np.ldexp(r, m - emin))
    return np.nan_to_num(mag).astype(np.int64)


def element_values(spec) -> np.ndarray:
    """float64 value of every element code at scale 1 (index = code bits; ints: two's complement)."""
    n = 1 << spec.elem_bits
    c = np.arange(n)
    if spec.kind == KIND_BLOCK_INT:
        return np.ldexp(np.where(c >= n // 2, c - n, c).astype(np.float64), -spec.mbits)
    sign_bit = n // 2
    mag = c & (sign_bit - 1)
    e, f = mag >> spec.mbits, mag & ((1 << spec.mbits) - 1)
    emin = 1 - spec.bias
    v = np.where(e > 0, np.ldexp(1.0 + np.ldexp(f, -spec.mbits), e - spec.bias),
                 np.ldexp(f.astype(np.float64), emin - spec.mbits))
    top = (1 << spec.ebits) - 1
    if spec.name == "mxfp8_e4m3":
        v = np.where((e == top) & (f == (1 << spec.mbits) - 1), np.nan, v)
    elif spec.name == "mxfp8_e5m2":
        v = np.where(e == top, np.where(f == 0, np.inf, np.nan), v)
    return np.where(c & sign_bit, -v, v)


def dequantize_2d(spec, codes, scales):
    """float32 values of codes[rows, cols] with their scales (layout of quantize_2d)."""
    codes = np.ascontiguousarray(codes)
    if spec.kind == KIND_FP32:
        return codes.view(np.float32).copy()
    if spec.kind == KIND_BF16:
        return (codes.astype(np.uint32) << 16).view(np.float32)
    if spec.kind == KIND_FP16:
        out = codes.view(np.float16).astype(np.float32)
        nan = (codes & 0x7C00) == 0x7C00
        nan &= (codes & 0x3FF) != 0
        bits = ((codes.astype(np.uint32) & 0x8000) << 16) | 0x7FC00000 | ((codes.astype(np.uint32) & 0x3FF) << 13)
        return np.where(nan, bits.view(np.float32), out)
    if spec.kind == KIND_INT_TENSOR:
        return codes.astype(np.float32) * np.float32(scales)
    rows, cols = codes.shape
    bs = spec.block_size
    lut = element_values(spec)
    values = lut[codes.astype(np.int64) & ((1 << spec.elem_bits) - 1)]
    scales = np.asarray(scales).reshape(rows, -1).astype(np.int64)
    factor = np.where(scales == 255, np.nan, np.ldexp(1.0, scales - 127))
    factor = np.repeat(factor, bs, axis=1)[:, :cols]
    return (values * factor).astype(np.float32)
