"""Numba twin of csrc/intrinsics/vec.c: the vector unit.

Elementwise float32 ops (copy, add, mul, max, exp, reciprocal, rsqrt), row reductions (row_sum,
row_max) and vec_convert (float32 <-> any format's device layout with the codec's rules, blocks
along each row). Sums run left to right from the row's first element; add, mul, max, row_sum and
row_max store a NaN result as 0x7FC00000 (docs/intrinsics.md). Element encoders and decoders are
the codec's own (emulator/numerics/codec.py), so no format rule is written twice.
"""
import math

import numpy as np

from chipemu.emulator.numerics import codec
from chipemu.emulator.numerics.codec import F_BIAS, F_EBITS, F_EMAX, F_MAX_MAG, F_MBITS
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import (ARG_A, ARG_B, ARG_DST, ARG_FMT_FROM, ARG_FMT_TO,
                                              ARG_N, ARG_ROW_LEN, ARG_SRC, BUF_SRAM, CTX_BUFS,
                                              CTX_DEV, CTX_EVENTS, CTX_SC, CTX_SRAM, ERR_KERNEL,
                                              FALSE, FMT_FP32, I0, I1, I16, I8, IM1, IN_VEC,
                                              KERR_FORMAT, KIND_BF16, KIND_BLOCK_INT, KIND_FP16,
                                              KIND_INT_TENSOR, MAX_COUNT, MSG_CONVERT, OP_VEC,
                                              SC_ERROR, TRUE, VOP_ADD, VOP_CONVERT, VOP_COPY,
                                              VOP_EXP, VOP_MAX, VOP_MUL, VOP_RECIPROCAL,
                                              VOP_ROW_MAX, VOP_ROW_SUM, VOP_RSQRT, W_DST, W_SRC0,
                                              W_SRC1, bits_of_f32, check_align4, check_arg,
                                              check_disjoint, check_fmt, check_multiple,
                                              check_range, copy_bytes, ev_clear, ev_commit,
                                              ev_range, f32_of_bits, fail, fmt_bits, fmt_block,
                                              fmt_kind, functional, load_u32, new_event, row_bytes,
                                              store_of, store_u32)
from chipemu.emulator.numerics.vecmath import exp_f32, reciprocal_f32, rsqrt_f32

__all__ = ["vec_copy", "vec_add", "vec_mul", "vec_max", "vec_exp", "vec_reciprocal", "vec_rsqrt",
           "vec_row_sum", "vec_row_max", "vec_convert"]

_QNAN = np.float32(np.nan)          # 0x7FC00000
_TABLE = codec.TABLE
_CHUNK = 64


@jit
def _canon(r):
    return r if r == r else _QNAN


@jit
def _vmax(a, b):
    """maximum: NaN if either is NaN, +0 over -0."""
    if a != a or b != b:
        return _QNAN
    if a > b:
        return a
    if b > a:
        return b
    return a if math.copysign(1.0, a) > 0 else b


@jit
def _vop(op, a, b):
    if op == VOP_ADD:
        return _canon(a + b)
    if op == VOP_MUL:
        return _canon(a * b)
    if op == VOP_MAX:
        return _vmax(a, b)
    if op == VOP_EXP:
        return exp_f32(a)
    if op == VOP_RECIPROCAL:
        return reciprocal_f32(a)
    if op == VOP_RSQRT:
        return rsqrt_f32(a)
    return a


@jit
def _f32_operand(sc, bufs, intr, arg, buf, off, length):
    return (check_range(sc, bufs, intr, arg, buf, off, length, BUF_SRAM)
            and check_align4(sc, intr, arg, off))


@jit
def _f32(sram, bufs, buf, off, n):
    s = store_of(bufs, buf) + off
    return sram[s:s + 4 * n].view(np.float32)


@jit
def _elementwise(sram, bufs, ev, sc, dev, op, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n):
    intr = IN_VEC + op
    binary = op == VOP_ADD or op == VOP_MUL or op == VOP_MAX
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if not check_arg(sc, intr, ARG_N, n, I1, MAX_COUNT):
        return ERR_KERNEL
    length = 4 * n
    arg_a = ARG_A if binary else ARG_SRC
    if (not _f32_operand(sc, bufs, intr, arg_a, a_buf, a_off, length)
            or (binary and not _f32_operand(sc, bufs, intr, ARG_B, b_buf, b_off, length))
            or not _f32_operand(sc, bufs, intr, ARG_DST, dst_buf, dst_off, length)
            or not check_disjoint(sc, intr, ARG_DST, dst_buf, dst_off, length, arg_a, a_buf,
                                  a_off, length, TRUE)
            or (binary and not check_disjoint(sc, intr, ARG_DST, dst_buf, dst_off, length, ARG_B,
                                              b_buf, b_off, length, TRUE))):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        a = _f32(sram, bufs, a_buf, a_off, n)
        b = _f32(sram, bufs, b_buf, b_off, n) if binary else a
        d = _f32(sram, bufs, dst_buf, dst_off, n)
        if op == VOP_COPY:
            for i in range(n):
                d[i] = a[i]
        else:
            for i in range(n):
                d[i] = _vop(op, a[i], b[i])
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, a_buf, a_off, length)
    if binary:
        ev_range(w, W_SRC1, b_buf, b_off, length)
    ev_range(w, W_DST, dst_buf, dst_off, length)
    ev_commit(w, sc, dev, OP_VEC, IM1, IM1, I0, n, I0, op)
    return 0


@jit
def vec_copy(ctx, src_buf, src_off, dst_buf, dst_off, n):
    """dst[i] = src[i] for n float32 elements."""
    return _elementwise(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        VOP_COPY, np.int64(src_buf), np.int64(src_off), IM1, I0, np.int64(dst_buf),
                        np.int64(dst_off), np.int64(n))


@jit
def vec_exp(ctx, src_buf, src_off, dst_buf, dst_off, n):
    """dst[i] = exp(src[i]), the vector unit's exp (docs/vecmath.md)."""
    return _elementwise(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        VOP_EXP, np.int64(src_buf), np.int64(src_off), IM1, I0, np.int64(dst_buf),
                        np.int64(dst_off), np.int64(n))


@jit
def vec_reciprocal(ctx, src_buf, src_off, dst_buf, dst_off, n):
    """dst[i] = 1 / src[i] (docs/vecmath.md)."""
    return _elementwise(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        VOP_RECIPROCAL, np.int64(src_buf), np.int64(src_off), IM1, I0,
                        np.int64(dst_buf), np.int64(dst_off), np.int64(n))


@jit
def vec_rsqrt(ctx, src_buf, src_off, dst_buf, dst_off, n):
    """dst[i] = 1 / sqrt(src[i]) (docs/vecmath.md)."""
    return _elementwise(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        VOP_RSQRT, np.int64(src_buf), np.int64(src_off), IM1, I0, np.int64(dst_buf),
                        np.int64(dst_off), np.int64(n))


@jit
def vec_add(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n):
    """dst[i] = a[i] + b[i] (float32)."""
    return _elementwise(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        VOP_ADD, np.int64(a_buf), np.int64(a_off), np.int64(b_buf), np.int64(b_off),
                        np.int64(dst_buf), np.int64(dst_off), np.int64(n))


@jit
def vec_mul(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n):
    """dst[i] = a[i] * b[i] (float32)."""
    return _elementwise(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        VOP_MUL, np.int64(a_buf), np.int64(a_off), np.int64(b_buf), np.int64(b_off),
                        np.int64(dst_buf), np.int64(dst_off), np.int64(n))


@jit
def vec_max(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n):
    """dst[i] = maximum(a[i], b[i]): NaN if either is NaN, +0 over -0."""
    return _elementwise(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        VOP_MAX, np.int64(a_buf), np.int64(a_off), np.int64(b_buf), np.int64(b_off),
                        np.int64(dst_buf), np.int64(dst_off), np.int64(n))


@jit
def _rows_shape(sc, intr, n, row_len):
    return (check_arg(sc, intr, ARG_N, n, I1, MAX_COUNT)
            and check_arg(sc, intr, ARG_ROW_LEN, row_len, I1, n)
            and check_multiple(sc, intr, ARG_N, n, row_len))


@jit
def _row_op(sram, bufs, ev, sc, dev, op, src_buf, src_off, dst_buf, dst_off, n, row_len):
    intr = IN_VEC + op
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if not _rows_shape(sc, intr, n, row_len):
        return ERR_KERNEL
    rows = n // row_len
    slen, dlen = 4 * n, 4 * rows
    if (not _f32_operand(sc, bufs, intr, ARG_SRC, src_buf, src_off, slen)
            or not _f32_operand(sc, bufs, intr, ARG_DST, dst_buf, dst_off, dlen)
            or not check_disjoint(sc, intr, ARG_DST, dst_buf, dst_off, dlen, ARG_SRC, src_buf,
                                  src_off, slen, TRUE)):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        s = _f32(sram, bufs, src_buf, src_off, n)
        d = _f32(sram, bufs, dst_buf, dst_off, rows)
        for r in range(rows):
            r0 = r * row_len
            acc = s[r0]
            if op == VOP_ROW_SUM:
                for i in range(r0 + 1, r0 + row_len):
                    acc = acc + s[i]
            else:
                for i in range(r0 + 1, r0 + row_len):
                    acc = _vmax(acc, s[i])
            d[r] = _canon(acc)
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, src_buf, src_off, slen)
    ev_range(w, W_DST, dst_buf, dst_off, dlen)
    ev_commit(w, sc, dev, OP_VEC, IM1, IM1, I0, n, row_len, op)
    return 0


@jit
def vec_row_sum(ctx, src_buf, src_off, dst_buf, dst_off, n, row_len):
    """dst[r] = sum of row r of n float32 elements in rows of row_len (left to right)."""
    return _row_op(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                   VOP_ROW_SUM, np.int64(src_buf), np.int64(src_off), np.int64(dst_buf),
                   np.int64(dst_off), np.int64(n), np.int64(row_len))


@jit
def vec_row_max(ctx, src_buf, src_off, dst_buf, dst_off, n, row_len):
    """dst[r] = maximum of row r (NaN if the row holds one)."""
    return _row_op(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                   VOP_ROW_MAX, np.int64(src_buf), np.int64(src_off), np.int64(dst_buf),
                   np.int64(dst_off), np.int64(n), np.int64(row_len))


# ---- vec_convert: element codes packed little-endian by element bits, then the row's scales ----

@jit
def _get_code(p, at, i, bits):
    if bits == 32:
        return np.int64(load_u32(p, at + 4 * i))
    if bits == 16:
        return np.int64(p[at + 2 * i]) | (np.int64(p[at + 2 * i + 1]) << 8)
    if bits == 8:
        return np.int64(p[at + i])
    bit = i * bits
    byte, sh = at + (bit >> 3), bit & 7
    v = np.int64(p[byte]) >> sh
    if sh + bits > 8:
        v |= np.int64(p[byte + 1]) << (8 - sh)
    return v & ((1 << bits) - 1)


@jit
def _put_code(p, at, i, bits, code):
    if bits == 32:
        store_u32(p, at + 4 * i, code)
    elif bits == 16:
        p[at + 2 * i] = np.uint8(code & 0xFF)
        p[at + 2 * i + 1] = np.uint8((code >> 8) & 0xFF)
    elif bits == 8:
        p[at + i] = np.uint8(code & 0xFF)
    else:                                       # the row's code bytes were zeroed first
        bit = i * bits
        byte, sh = at + (bit >> 3), bit & 7
        code &= (1 << bits) - 1
        p[byte] = np.uint8(p[byte] | ((code << sh) & 0xFF))
        if sh + bits > 8:
            p[byte + 1] = np.uint8(p[byte + 1] | (code >> (8 - sh)))


@jit
def _quantize_row(x, xbits, n, fmt, out, at):
    kind, bits, bs = fmt_kind(fmt), fmt_bits(fmt), fmt_block(fmt)
    cbytes = (n * bits + 7) // 8
    out[at:at + cbytes] = 0
    if kind == KIND_INT_TENSOR:
        ts = np.float32(codec.int8_scale(codec.absmax_bits(xbits)))
        store_u32(out, at + n, np.int64(bits_of_f32(ts)))
        for i in range(n):
            _put_code(out, at, i, I8, np.int64(codec.encode_int8(x[i], ts)))
        return
    if kind == KIND_BF16 or kind == KIND_FP16:
        for i in range(n):
            u = np.int64(xbits[i])
            code = codec.encode_bf16(u) if kind == KIND_BF16 else codec.encode_fp16(u)
            _put_code(out, at, i, I16, code)
        return
    ebits, mbits, bias = _TABLE[fmt, F_EBITS], _TABLE[fmt, F_MBITS], _TABLE[fmt, F_BIAS]
    emax, max_mag = _TABLE[fmt, F_EMAX], _TABLE[fmt, F_MAX_MAG]
    ci = np.empty(bs, np.int8)
    cu = np.empty(bs, np.uint8)
    for c0 in range(0, n, bs):
        length = min(bs, n - c0)
        xb = xbits[c0:c0 + length]
        s, nan_block, sub = codec.block_scan(xb, 0, length, emax)
        out[at + cbytes + c0 // bs] = 255 if nan_block else s + 127
        if nan_block:
            continue
        if kind == KIND_BLOCK_INT:
            codec.encode_block_int(xb, 0, length, s, mbits, max_mag, ci)
            for j in range(length):
                _put_code(out, at, c0 + j, bits, np.int64(ci[j]))
            continue
        if not sub:
            codec.encode_block_fp_fast(xb, 0, length, s, ebits, mbits, bias, max_mag, cu)
        else:
            for j in range(length):
                cu[j] = codec.encode_block_fp(np.int64(xb[j]), s, ebits, mbits, bias, max_mag)
        for j in range(length):
            _put_code(out, at, c0 + j, bits, np.int64(cu[j]))


@jit
def _dequantize_row(src, at, n, fmt, y, ybits):
    kind, bits, bs = fmt_kind(fmt), fmt_bits(fmt), fmt_block(fmt)
    if kind == KIND_INT_TENSOR:
        ts = f32_of_bits(load_u32(src, at + n))
        for i in range(n):
            y[i] = np.float32(np.int8(_get_code(src, at, i, I8))) * ts
        return
    if kind == KIND_BF16:
        for i in range(n):
            ybits[i] = np.uint32(_get_code(src, at, i, I16) << 16)
        return
    if kind == KIND_FP16:
        for i in range(n):
            ybits[i] = np.uint32(codec.decode_fp16(_get_code(src, at, i, I16)))
        return
    lut = codec._lut(fmt)
    p2 = codec._pow2_table()
    cbytes = (n * bits + 7) // 8
    for c0 in range(0, n, bs):
        sc = p2[src[at + cbytes + c0 // bs]]
        for i in range(c0, min(n, c0 + bs)):
            y[i] = np.float32(lut[_get_code(src, at, i, bits)] * sc)


@jit
def _vec_convert(sram, bufs, ev, sc, dev, src_buf, src_off, dst_buf, dst_off, n, row_len, fmt_to,
                 fmt_from):
    intr = IN_VEC + VOP_CONVERT
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if (not _rows_shape(sc, intr, n, row_len) or not check_fmt(sc, intr, ARG_FMT_TO, fmt_to)
            or not check_fmt(sc, intr, ARG_FMT_FROM, fmt_from)):
        return ERR_KERNEL
    if fmt_to != FMT_FP32 and fmt_from != FMT_FP32:
        return fail(sc, intr, KERR_FORMAT, MSG_CONVERT, ARG_FMT_TO, fmt_to, fmt_from, I0, I0)
    rows = n // row_len
    srow, drow = row_bytes(fmt_from, row_len), row_bytes(fmt_to, row_len)
    slen, dlen = rows * srow, rows * drow
    if (not check_range(sc, bufs, intr, ARG_SRC, src_buf, src_off, slen, BUF_SRAM)
            or (fmt_from == FMT_FP32 and not check_align4(sc, intr, ARG_SRC, src_off))
            or not check_range(sc, bufs, intr, ARG_DST, dst_buf, dst_off, dlen, BUF_SRAM)
            or (fmt_to == FMT_FP32 and not check_align4(sc, intr, ARG_DST, dst_off))
            or not check_disjoint(sc, intr, ARG_DST, dst_buf, dst_off, dlen, ARG_SRC, src_buf,
                                  src_off, slen, FALSE)):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        s_at = store_of(bufs, src_buf) + src_off
        d_at = store_of(bufs, dst_buf) + dst_off
        for r in range(rows):
            s0, d0 = s_at + r * srow, d_at + r * drow
            if fmt_from == FMT_FP32 and fmt_to == FMT_FP32:
                copy_bytes(sram, d0, sram, s0, srow)
            elif fmt_from == FMT_FP32:
                x = sram[s0:s0 + srow].view(np.float32)
                _quantize_row(x, x.view(np.uint32), row_len, fmt_to, sram, d0)
            else:
                y = sram[d0:d0 + drow].view(np.float32)
                _dequantize_row(sram, s0, row_len, fmt_from, y, y.view(np.uint32))
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, src_buf, src_off, slen)
    ev_range(w, W_DST, dst_buf, dst_off, dlen)
    ev_commit(w, sc, dev, OP_VEC, fmt_to, fmt_from, I0, n, row_len, VOP_CONVERT)
    return 0


@jit
def vec_convert(ctx, src_buf, src_off, dst_buf, dst_off, n, row_len, fmt_to, fmt_from):
    """Convert n elements in rows of row_len between float32 and a format's device layout
    (quantize with fmt_from = fp32, dequantize with fmt_to = fp32); blocks run along each row."""
    return _vec_convert(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                        np.int64(src_buf), np.int64(src_off), np.int64(dst_buf), np.int64(dst_off),
                        np.int64(n), np.int64(row_len), np.int64(fmt_to), np.int64(fmt_from))
