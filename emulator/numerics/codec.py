"""Numba twin of csrc/numerics/codec.c: format table, quantize and dequantize kernels.

Pure Numba (it caches): kernels take the format as an integer code and look the rest up in
_TABLE, so one compiled kernel serves every format. Integer work is done in int64 on purpose
(Numba widens int32 anyway); the float32/float64 steps mirror the C casts one for one.
"""
import numpy as np
from numba import prange

from chipemu.emulator._jit import jit
from chipemu.emulator.tables import formats as _formats

__all__ = ["TABLE", "F_KIND", "F_ELEM_BITS", "F_BLOCK_SIZE", "quantize_2d", "dequantize_2d"]

# the format table, one row per code in chipemu_format_info's column order (tables.formats), and
# its column indices: _TABLE[fmt, F_KIND]
TABLE = np.array([f.numbers() for f in _formats.FORMATS], dtype=np.int64)
_TABLE = TABLE
(F_CODE, F_KIND, F_ELEM_BITS, F_EBITS, F_MBITS, F_BIAS, F_EMAX, F_MAX_MAG, F_BLOCK_SIZE,
 F_SCALE_BITS) = (_formats.COLUMN[c] for c in ("code", "kind", "elem_bits", "ebits", "mbits", "bias",
                                               "emax", "max_mag", "block_size", "scale_bits"))
KIND_FP32, KIND_BF16, KIND_FP16, KIND_INT_TENSOR, KIND_BLOCK_INT = (
    _formats.KIND_FP32, _formats.KIND_BF16, _formats.KIND_FP16, _formats.KIND_INT_TENSOR,
    _formats.KIND_BLOCK_INT)
FMT_MXFP8_E4M3, FMT_MXFP8_E5M2 = (next(f.code for f in _formats.FORMATS if f.name == n)
                                  for n in ("mxfp8_e4m3", "mxfp8_e5m2"))
_ABS_MASK = 0x7FFFFFFF
_INF_BITS = 0x7F800000
_SCALE_NAN = 255
_CHUNK = 256          # units per parallel task


@jit
def absmax_bits(xbits):
    """Largest |x| bit pattern (NaN if > 0x7F800000), as chipemu_absmax_bits."""
    m = np.int64(0)
    for u in xbits.ravel():
        a = np.int64(u) & _ABS_MASK
        if a > m:
            m = a
    return m


@jit
def int8_scale(absmax):
    """The int8 per-tensor scale, as chipemu_int8_scale."""
    if absmax >= _INF_BITS:
        return np.float32(np.nan)
    buf = np.empty(1, np.uint32)
    buf[0] = np.uint32(absmax)
    s = buf.view(np.float32)[0] / np.float32(127.0)
    tiny = np.float32(1.401298464324817e-45)
    return tiny if s < tiny else s


@jit
def floor_log2_bits(a):
    e = a >> 23
    if e != 0:
        return e - 127
    msb = 0
    m = a
    while m > 1:
        m >>= 1
        msb += 1
    return msb - 149


@jit
def rne_shift(mant, shift):
    if shift <= 0:
        return mant << (-shift)
    if shift > 40:
        return np.int64(0)
    n = mant >> shift
    rem = mant & ((np.int64(1) << shift) - 1)
    half = np.int64(1) << (shift - 1)
    if rem > half or (rem == half and (n & 1) == 1):
        n += 1
    return n


@jit
def block_scan(xbits, start, length, emax):
    """(S, nan_block, has_subnormal) of xbits[start:start+length], as block_scan in C."""
    amax = np.int64(0)
    sub = False
    for i in range(start, start + length):
        a = np.int64(xbits[i]) & _ABS_MASK
        if a > amax:
            amax = a
        if 0 < a < 0x800000:
            sub = True
    nan_block = amax >= _INF_BITS
    if amax == 0:
        return np.int64(-127), nan_block, sub
    s = floor_log2_bits(amax) - emax
    return (np.int64(-127) if s < -127 else s), nan_block, sub


@jit
def _split(a):
    e = a >> 23
    mant = a & 0x7FFFFF
    if e != 0:
        return mant | 0x800000, e - 150
    return mant, np.int64(-149)


@jit
def rne_shift32(mant, shift):
    """mant * 2^-shift rounded to nearest even, 1 <= shift <= 31, as rne_shift32 in C."""
    return (mant + (np.int32(1) << (shift - 1)) - 1 + ((mant >> shift) & 1)) >> shift


@jit
def encode_block_fp(u, s, ebits, mbits, bias, max_mag):
    """Minifloat element code for any input (the general path)."""
    a = u & _ABS_MASK
    sign = (u >> 31) << (ebits + mbits)
    if a == 0:
        return sign
    mant, e2 = _split(a)
    eq = floor_log2_bits(a) - s
    emin = 1 - bias
    qexp = (eq if eq > emin else emin) - mbits
    n = rne_shift(mant, qexp + s - e2)
    mag = ((qexp + mbits + bias) << mbits) + n - (np.int64(1) << mbits)
    if mag > max_mag:
        mag = max_mag
    return sign | mag


@jit
def encode_block_fp_fast(xbits, start, length, s, ebits, mbits, bias, max_mag, out):
    """Minifloat codes of a block without subnormal inputs; branch-free like the C loop."""
    emin = np.int32(1 - bias)
    s32, mb, bi, mx = np.int32(s), np.int32(mbits), np.int32(bias), np.int32(max_mag)
    sign_shift = np.int32(ebits + mbits)
    for i in range(start, start + length):
        u = xbits[i]
        a = np.int32(u & np.uint32(_ABS_MASK))
        e = a >> 23
        mant = (a & np.int32(0x7FFFFF)) | np.int32(0x800000)
        eq = e - np.int32(127) - s32
        qexp = (eq if eq > emin else emin) - mb
        shift = qexp + s32 - e + np.int32(150)
        shift = shift if shift < 31 else np.int32(31)
        mag = ((qexp + mb + bi) << mb) + rne_shift32(mant, shift) - (np.int32(1) << mb)
        mag = mag if mag < mx else mx
        mag = mag if e != 0 else np.int32(0)
        out[i] = np.uint8((np.int32(u >> np.uint32(31)) << sign_shift) | mag)


@jit
def encode_block_int(xbits, start, length, s, mbits, max_mag, out):
    """Integer element codes of a block (MXINT, BFP), any input, as encode_block_int in C."""
    s32, mb, mx = np.int32(s), np.int32(mbits), np.int32(max_mag)
    for i in range(start, start + length):
        u = xbits[i]
        a = np.int32(u & np.uint32(_ABS_MASK))
        e = a >> 23
        mant = (a & np.int32(0x7FFFFF)) | (np.int32(0x800000) if e != 0 else np.int32(0))
        shift = s32 - mb + np.int32(150) - (e if e != 0 else np.int32(1))
        shift = shift if shift < 31 else np.int32(31)
        n = rne_shift32(mant, shift)
        n = n if n < mx else mx
        neg = -np.int32(u >> np.uint32(31))
        out[i] = np.int8((n ^ neg) - neg)


@jit
def encode_bf16(u):
    if (u & _ABS_MASK) > _INF_BITS:
        return ((u >> 16) & 0x8000) | 0x7FC0
    return (u + 0x7FFF + ((u >> 16) & 1)) >> 16


@jit
def encode_fp16(u):
    sign = (u >> 16) & 0x8000
    a = u & _ABS_MASK
    if a > _INF_BITS:
        return sign | 0x7E00
    if a >= 0x477FF000:
        return sign | 0x7C00
    if a == 0:
        return sign
    mant, e2 = _split(a)
    lg = floor_log2_bits(a)
    qexp = (lg if lg > -14 else np.int64(-14)) - 10
    n = rne_shift(mant, qexp - e2)
    return sign | (((qexp + 25) << 10) + n - 1024)


@jit
def encode_int8(x, ts):
    """int8 code of float32 x with the float32 per-tensor scale ts (0 if ts or x / ts is NaN)."""
    q = x / ts
    if ts != ts or q != q:
        return 0
    if q >= np.float32(127.0):
        return 127
    if q <= np.float32(-127.0):
        return -127
    return int((q + np.float32(12582912.0)) - np.float32(12582912.0))     # RNE, |q| < 2^22


@jit(parallel=True)
def _quantize_units(fmt, rows, cols, x, xbits, codes, scales, tensor_scale):
    """Quantize flat x[rows*cols] (blocks along cols) into flat codes and scales, as in C."""
    kind, ebits, mbits = _TABLE[fmt, F_KIND], _TABLE[fmt, F_EBITS], _TABLE[fmt, F_MBITS]
    bias, emax = _TABLE[fmt, F_BIAS], _TABLE[fmt, F_EMAX]
    max_mag, bs = _TABLE[fmt, F_MAX_MAG], _TABLE[fmt, F_BLOCK_SIZE]
    nb = (cols + bs - 1) // bs
    nunits = rows * nb
    ts = np.float32(tensor_scale)          # a float64 here would change the rounding
    for chunk in prange((nunits + _CHUNK - 1) // _CHUNK):
        u0, u1 = chunk * _CHUNK, min(nunits, (chunk + 1) * _CHUNK)
        if kind < KIND_BLOCK_INT:          # elementwise formats: a unit is one element
            for i in range(u0, u1):
                if kind == KIND_FP32:
                    codes[i] = xbits[i]
                elif kind == KIND_BF16:
                    codes[i] = encode_bf16(np.int64(xbits[i]))
                elif kind == KIND_FP16:
                    codes[i] = encode_fp16(np.int64(xbits[i]))
                else:
                    codes[i] = encode_int8(x[i], ts)
            continue
        for unit in range(u0, u1):
            r, b = unit // nb, unit % nb
            c0 = b * bs
            length = bs if c0 + bs <= cols else cols - c0
            start = r * cols + c0
            s, nan_block, sub = block_scan(xbits, start, length, emax)
            scales[unit] = _SCALE_NAN if nan_block else s + 127
            if nan_block:
                codes[start:start + length] = 0
            elif kind == KIND_BLOCK_INT:
                encode_block_int(xbits, start, length, s, mbits, max_mag, codes)
            elif not sub:
                encode_block_fp_fast(xbits, start, length, s, ebits, mbits, bias, max_mag, codes)
            else:
                for i in range(start, start + length):
                    codes[i] = encode_block_fp(np.int64(xbits[i]), s, ebits, mbits, bias, max_mag)


@jit
def minifloat_value(mag, fmt):
    """float64 value of a minifloat magnitude code at scale 1, as minifloat_value in C."""
    ebits, mbits, bias = _TABLE[fmt, F_EBITS], _TABLE[fmt, F_MBITS], _TABLE[fmt, F_BIAS]
    e = mag >> mbits
    m = mag & ((1 << mbits) - 1)
    top = (1 << ebits) - 1
    if fmt == FMT_MXFP8_E4M3 and e == top and m == (1 << mbits) - 1:
        return np.nan
    if fmt == FMT_MXFP8_E5M2 and e == top:
        return np.nan if m != 0 else np.inf
    v = np.float64((1 << mbits) + m) if e != 0 else np.float64(m)
    p = (e if e != 0 else 1) - bias - mbits
    while p > 0:
        v *= 2.0
        p -= 1
    while p < 0:
        v *= 0.5
        p += 1
    return v


@jit
def _lut(fmt):
    kind, elem_bits, mbits = _TABLE[fmt, F_KIND], _TABLE[fmt, F_ELEM_BITS], _TABLE[fmt, F_MBITS]
    ncodes = 1 << elem_bits
    lut = np.empty(ncodes, np.float64)
    for c in range(ncodes):
        if kind == KIND_BLOCK_INT:
            v = c - ncodes if c >= ncodes // 2 else c
            lut[c] = np.float64(v) / np.float64(1 << mbits)
        else:
            smask = ncodes // 2
            v = minifloat_value(c & (smask - 1), fmt)
            lut[c] = -v if (c & smask) != 0 else v
    return lut


@jit
def _pow2_table():
    """2^(c-127) for every E8M0 code c (exact doubles), NaN for 0xFF, as pow2_scale in C."""
    t = np.empty(256, np.float64)
    v = 1.0
    for _ in range(127):
        v *= 0.5
    for c in range(255):
        t[c] = v
        v *= 2.0
    t[255] = np.nan
    return t


@jit
def decode_fp16(h):
    """float32 bit pattern of a binary16 code, as decode_fp16 in C."""
    sign = (h & 0x8000) << 16
    e = (h >> 10) & 0x1F
    m = h & 0x3FF
    if e == 0x1F:
        return sign | _INF_BITS | (m << 13) | (0x400000 if m != 0 else 0)
    if e != 0:
        return sign | ((e + 112) << 23) | (m << 13)
    if m == 0:
        return sign
    msb = floor_log2_bits(m) + 149           # m * 2^-24 is a normal float32: renormalise
    return sign | ((msb + 103) << 23) | ((m << (23 - msb)) & 0x7FFFFF)


@jit(parallel=True)
def _dequantize_units(fmt, rows, cols, codes, scales, tensor_scale, out, out_bits):
    """Dequantize flat codes (blocks along cols) into flat float32 out, as in C."""
    kind, elem_bits, bs = _TABLE[fmt, F_KIND], _TABLE[fmt, F_ELEM_BITS], _TABLE[fmt, F_BLOCK_SIZE]
    nb = (cols + bs - 1) // bs
    nunits = rows * nb
    ts = np.float32(tensor_scale)
    lut = _lut(fmt) if kind >= KIND_BLOCK_INT else np.empty(0, np.float64)
    p2 = _pow2_table()
    cmask = (1 << elem_bits) - 1
    for chunk in prange((nunits + _CHUNK - 1) // _CHUNK):
        u0, u1 = chunk * _CHUNK, min(nunits, (chunk + 1) * _CHUNK)
        if kind < KIND_BLOCK_INT:
            for i in range(u0, u1):
                if kind == KIND_FP32:
                    out_bits[i] = codes[i]
                elif kind == KIND_BF16:
                    out_bits[i] = np.uint32(codes[i]) << 16
                elif kind == KIND_FP16:
                    out_bits[i] = decode_fp16(np.int64(codes[i]))
                else:
                    out[i] = np.float32(codes[i]) * ts
            continue
        for unit in range(u0, u1):
            r, b = unit // nb, unit % nb
            c0 = b * bs
            start = r * cols + c0
            stop = start + (bs if c0 + bs <= cols else cols - c0)
            sc = p2[scales[unit]]
            for i in range(start, stop):
                out[i] = np.float32(lut[np.int64(codes[i]) & cmask] * sc)


def quantize_2d(spec, x):
    """(codes, scales) of float32 x[rows, cols]; the backend entry used by formats.quantize."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    rows, cols = x.shape
    xbits = x.view(np.uint32).reshape(-1)
    codes = np.empty(x.size, spec.container)
    scales = np.zeros(rows * -(-cols // spec.block_size) if spec.scale_bits else 0, np.uint8)
    tensor_scale = np.float32(0)
    if spec.kind == KIND_INT_TENSOR:
        tensor_scale = np.float32(int8_scale(absmax_bits(xbits)))
    _quantize_units(spec.code, rows, cols, x.reshape(-1), xbits, codes, scales, tensor_scale)
    codes = codes.reshape(rows, cols)
    if spec.kind == KIND_INT_TENSOR:
        return codes, np.array(tensor_scale, np.float32)
    return codes, scales.reshape(rows, -1) if spec.scale_bits else scales


def dequantize_2d(spec, codes, scales):
    """float32 values of codes[rows, cols] with their scales."""
    codes = np.ascontiguousarray(codes)
    rows, cols = codes.shape
    out = np.empty(codes.size, np.float32)
    tensor_scale = np.float32(scales) if spec.kind == KIND_INT_TENSOR else np.float32(0)
    sc = np.ascontiguousarray(scales, np.uint8).reshape(-1) if spec.scale_bits else np.zeros(0, np.uint8)
    _dequantize_units(spec.code, rows, cols, codes.reshape(-1), sc, tensor_scale, out,
                      out.view(np.uint32))
    return out.reshape(rows, cols)
