"""Numba twin of csrc/intrinsics/vec_weights.c: vec_convert_weights, float32 rows of SRAM quantized
into the weights layout that dimc_load reads (docs/intrinsics.md).

W is the float32 nrows x ncols matrix read from `lines` lines of the source, ld floats apart:
trans 0: W[i][j] = src[i*ld + j] for i < lines (a line is a row of W, ncols floats); trans 1:
W[i][j] = src[j*ld + i] for j < lines (a line is a column of W, nrows floats); the rows (trans 0)
or columns (trans 1) beyond `lines` are +0. dst = W in the weights layout of fmt (a DIMC
format): blocks of B rows per column (codes row-major by groups of B rows, then one scale byte
per column), or for int8 all codes then one float32 scale of the whole matrix; the codes are the
codec's, bit for bit those of layout.encode_weights (a column's block is quantized as vec_convert
quantizes a row's block). A file of its own, beside vec.py, whose helpers it reuses.

The event is a VEC record of the convert kind (the engine costs nrows * ncols conversions) with
fmt = fmt, fmt2 = fp32, a = nrows * ncols, b = ncols, src0 the source lines' span, dst the
weights bytes and FLAG_WEIGHTS, under its own id IN_VEC_CONVERT_WEIGHTS.
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import (ARG_DST, ARG_FMT, ARG_LD, ARG_LINES, ARG_NCOLS,
                                              ARG_NROWS, ARG_SRC, ARG_TRANS, BUF_SRAM,
                                              CTX_BUFS, CTX_DEV, CTX_EVENTS, CTX_SC, CTX_SRAM,
                                              ERR_KERNEL, FALSE, FLAG_WEIGHTS, FMT_FP32, I0, I1,
                                              IN_VEC_CONVERT_WEIGHTS, KIND_INT_TENSOR, MAX_COUNT,
                                              OP_VEC, SC_ERROR, VOP_CONVERT, W_DST, W_SRC0,
                                              bits_of_f32, check_align4, check_arg,
                                              check_dimc_fmt, check_disjoint, check_multiple,
                                              check_range, ev_clear, ev_commit, ev_flags, ev_range,
                                              fmt_bits, fmt_block, fmt_kind, functional, new_event,
                                              store_of, store_u32)
from chipemu.emulator.intrinsics.vec import _f32, _get_code, _put_code, _quantize_row
from chipemu.emulator.numerics import codec

__all__ = ["vec_convert_weights"]


@jit
def weights_bytes(fmt, nrows, ncols):
    """Bytes of nrows x ncols weights in the weights layout (layout.weight_bytes)."""
    if fmt_kind(fmt) == KIND_INT_TENSOR:
        return nrows * ncols + 4
    return nrows * ncols * fmt_bits(fmt) // 8 + nrows // fmt_block(fmt) * ncols


@jit
def _shape(sc, intr, ld, lines, trans, nrows, ncols, fmt):
    """The argument checks, in the C twin's order."""
    if not (check_dimc_fmt(sc, intr, ARG_FMT, fmt)
            and check_arg(sc, intr, ARG_NROWS, nrows, I1, MAX_COUNT)
            and check_multiple(sc, intr, ARG_NROWS, nrows, fmt_block(fmt))
            and check_arg(sc, intr, ARG_NCOLS, ncols, I1, MAX_COUNT // nrows)
            and check_arg(sc, intr, ARG_TRANS, trans, I0, I1)):
        return False
    width = nrows if trans == 1 else ncols
    return (check_arg(sc, intr, ARG_LINES, lines, I1, ncols if trans == 1 else nrows)
            and check_arg(sc, intr, ARG_LD, ld, width, MAX_COUNT // lines))


@jit
def _element(x, i, j, ld, lines, trans):
    """W[i][j] as float32 (+0 outside the lines read)."""
    a, b = (j, i) if trans == 1 else (i, j)
    if a < lines:
        return x[a * ld + b]
    return np.float32(0.0)


@jit
def _convert(x, ld, lines, trans, nrows, ncols, fmt, out, at):
    bits, bs = fmt_bits(fmt), fmt_block(fmt)
    width = nrows if trans == 1 else ncols
    out[at:at + weights_bytes(fmt, nrows, ncols)] = 0         # codes are OR-ed into bytes
    if fmt_kind(fmt) == KIND_INT_TENSOR:                      # one scale: the whole matrix
        m = np.int64(0)
        for a in range(lines):
            m = max(m, codec.absmax_bits(x[a * ld:a * ld + width].view(np.uint32)))
        ts = np.float32(codec.int8_scale(m))
        for i in range(nrows):
            for j in range(ncols):
                c = codec.encode_int8(_element(x, i, j, ld, lines, trans), ts)
                _put_code(out, at, i * ncols + j, bits, np.int64(c))
        store_u32(out, at + nrows * ncols, np.int64(bits_of_f32(ts)))
        return
    col = np.empty(bs, np.float32)                    # one column's block, as a row
    row = np.zeros((bs * bits + 7) // 8 + 1, np.uint8)
    group = bs * ncols * bits // 8 + ncols                 # bytes of B rows and their scales
    for g in range(nrows // bs):
        g_at = at + g * group
        for j in range(ncols):
            for r in range(bs):
                col[r] = _element(x, g * bs + r, j, ld, lines, trans)
            _quantize_row(col, col.view(np.uint32), bs, fmt, row, 0)
            for r in range(bs):
                _put_code(out, g_at, r * ncols + j, bits, _get_code(row, 0, r, bits))
            out[g_at + bs * ncols * bits // 8 + j] = row[(bs * bits + 7) // 8]


@jit
def _convert_weights(sram, bufs, ev, sc, dev, src_buf, src_off, ld, lines, trans, dst_buf,
                     dst_off, nrows, ncols, fmt):
    intr = IN_VEC_CONVERT_WEIGHTS
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if not _shape(sc, intr, ld, lines, trans, nrows, ncols, fmt):
        return ERR_KERNEL
    width = nrows if trans == 1 else ncols
    slen, dlen = 4 * ((lines - 1) * ld + width), weights_bytes(fmt, nrows, ncols)
    if (not check_range(sc, bufs, intr, ARG_SRC, src_buf, src_off, slen, BUF_SRAM)
            or not check_align4(sc, intr, ARG_SRC, src_off)
            or not check_range(sc, bufs, intr, ARG_DST, dst_buf, dst_off, dlen, BUF_SRAM)
            or not check_disjoint(sc, intr, ARG_DST, dst_buf, dst_off, dlen, ARG_SRC, src_buf,
                                  src_off, slen, FALSE)):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        x = _f32(sram, bufs, src_buf, src_off, slen // 4)
        _convert(x, ld, lines, trans, nrows, ncols, fmt, sram,
                 store_of(bufs, dst_buf) + dst_off)
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, src_buf, src_off, slen)
    ev_range(w, W_DST, dst_buf, dst_off, dlen)
    ev_flags(w, FLAG_WEIGHTS)
    ev_commit(w, sc, dev, OP_VEC, fmt, FMT_FP32, I0, nrows * ncols, ncols, VOP_CONVERT)
    return 0


@jit
def vec_convert_weights(ctx, src_buf, src_off, ld, lines, trans, dst_buf, dst_off, nrows, ncols,
                        fmt):
    """dst = the nrows x ncols float32 matrix W in the weights layout of DIMC format fmt; W's
    first `lines` rows (trans 0) or columns (trans 1) are read from lines ld floats apart, the
    others are +0 (see the module docstring)."""
    return _convert_weights(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC],
                            ctx[CTX_DEV], np.int64(src_buf), np.int64(src_off), np.int64(ld),
                            np.int64(lines), np.int64(trans), np.int64(dst_buf),
                            np.int64(dst_off), np.int64(nrows), np.int64(ncols), np.int64(fmt))
