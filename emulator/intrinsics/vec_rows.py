"""Numba twin of csrc/intrinsics/vec_rows.c: vec_add_rows, vec_mul_rows, vec_dot, vec_col_argmax.

dst[r*row_len + i] = a[r*row_len + i] + b[r] (resp. * b[r]) in IEEE float32, b holding one value
per row; a NaN result is stored as 0x7FC00000, as vec_add / vec_mul do (docs/intrinsics.md).
A file of its own only to keep vec.py short; it reuses that file's helpers, so shape,
range, alignment and overlap checks run in the same order, with the same ids, as vec_row_sum's
and vec_add's. The event is vec_add's / vec_mul's VEC record (the plain add/mul kind, so the
engine costs the elements as add/mul) with b = row_len, src1 the b values and
FLAG_ROW_BROADCAST; the error reports use the intrinsics' own ids (IN_VEC_*_ROWS), since
IN_VEC + kind already names vec_add / vec_mul.

vec_dot: dst[i*rows_b + j] (+)= sum over k of a[i*row_len + k] * b[j*row_len + k], each product
rounded to float32 and added to s from +0 in increasing k (no fastmath, so LLVM neither fuses nor
reorders them), NaN stored as 0x7FC00000. Its VEC record has the mul kind, a = 2 * rows_a *
rows_b * row_len, b = row_len and FLAG_DOT (| FLAG_ACCUMULATE), under its own id IN_VEC_DOT.

vec_col_argmax: for each column c of the [n / row_len, row_len] matrix a, k = the first row
holding the column's maximum (a NaN ranks above every number, so the first NaN if there is one;
otherwise IEEE order, -0 == +0, ties to the smaller row), and dst[c] = b[k, c] copied as 32 bits
(b may hold int32 ids; b = a gives the maximum). Its VEC record has the row_max kind (the engine
costs its n compares as a row maximum's), b = row_len, src1 the b words and FLAG_ARGMAX, under
its own id IN_VEC_COL_ARGMAX.
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import (ARG_A, ARG_ACCUMULATE, ARG_B, ARG_DST, ARG_ROWS_A,
                                              ARG_ROWS_B, ARG_ROW_LEN, CTX_BUFS, CTX_DEV,
                                              CTX_EVENTS, CTX_SC, CTX_SRAM, ERR_KERNEL, FALSE,
                                              FLAG_ACCUMULATE, FLAG_ARGMAX, FLAG_DOT,
                                              FLAG_ROW_BROADCAST, I0, I1, IM1, IN_VEC_ADD_ROWS,
                                              IN_VEC_COL_ARGMAX, IN_VEC_DOT, IN_VEC_MUL_ROWS,
                                              MAX_COUNT, OP_VEC, SC_ERROR, TRUE, VOP_ADD, VOP_MUL,
                                              VOP_ROW_MAX, store_of,
                                              W_DST, W_SRC0, W_SRC1, check_arg, check_disjoint,
                                              ev_clear, ev_commit, ev_flags, ev_range, functional,
                                              new_event)
from chipemu.emulator.intrinsics.vec import _canon, _f32, _f32_operand, _rows_shape

__all__ = ["vec_add_rows", "vec_mul_rows", "vec_dot", "vec_col_argmax"]


@jit
def _three(sc, bufs, intr, a_buf, a_off, alen, b_buf, b_off, blen, dst_buf, dst_off, dlen,
           dst_on_a):
    """a, b and dst as float32 operands, in that order; dst disjoint from b, and from a unless
    dst_on_a allows the same start (in place)."""
    return (_f32_operand(sc, bufs, intr, ARG_A, a_buf, a_off, alen)
            and _f32_operand(sc, bufs, intr, ARG_B, b_buf, b_off, blen)
            and _f32_operand(sc, bufs, intr, ARG_DST, dst_buf, dst_off, dlen)
            and check_disjoint(sc, intr, ARG_DST, dst_buf, dst_off, dlen, ARG_A, a_buf, a_off,
                               alen, dst_on_a)
            and check_disjoint(sc, intr, ARG_DST, dst_buf, dst_off, dlen, ARG_B, b_buf, b_off,
                               blen, FALSE))


@jit
def _rows_broadcast(sram, bufs, ev, sc, dev, intr, op, a_buf, a_off, b_buf, b_off, dst_buf,
                    dst_off, n, row_len):
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if not _rows_shape(sc, intr, n, row_len):
        return ERR_KERNEL
    rows = n // row_len
    length, blen = 4 * n, 4 * rows
    # dst may be a in place, but must not overlap b at all: a row's results would overwrite the
    # values of later rows before they are read
    if not _three(sc, bufs, intr, a_buf, a_off, length, b_buf, b_off, blen, dst_buf, dst_off,
                  length, TRUE):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        a = _f32(sram, bufs, a_buf, a_off, n)
        b = _f32(sram, bufs, b_buf, b_off, rows)
        d = _f32(sram, bufs, dst_buf, dst_off, n)
        for r in range(rows):
            br = b[r]
            r0 = r * row_len
            if op == VOP_ADD:
                for i in range(r0, r0 + row_len):
                    d[i] = _canon(a[i] + br)
            else:
                for i in range(r0, r0 + row_len):
                    d[i] = _canon(a[i] * br)
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, a_buf, a_off, length)
    ev_range(w, W_SRC1, b_buf, b_off, blen)
    ev_range(w, W_DST, dst_buf, dst_off, length)
    ev_flags(w, FLAG_ROW_BROADCAST)
    ev_commit(w, sc, dev, OP_VEC, IM1, IM1, I0, n, row_len, op)
    return 0


@jit
def vec_add_rows(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len):
    """dst[r*row_len + i] = a[r*row_len + i] + b[r] (float32): n elements in rows of row_len,
    b one value per row; dst may be a (same start) or disjoint from a and b."""
    return _rows_broadcast(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC],
                           ctx[CTX_DEV], IN_VEC_ADD_ROWS, VOP_ADD, np.int64(a_buf),
                           np.int64(a_off), np.int64(b_buf), np.int64(b_off), np.int64(dst_buf),
                           np.int64(dst_off), np.int64(n), np.int64(row_len))


@jit
def vec_mul_rows(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len):
    """dst[r*row_len + i] = a[r*row_len + i] * b[r] (float32), as vec_add_rows."""
    return _rows_broadcast(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC],
                           ctx[CTX_DEV], IN_VEC_MUL_ROWS, VOP_MUL, np.int64(a_buf),
                           np.int64(a_off), np.int64(b_buf), np.int64(b_off), np.int64(dst_buf),
                           np.int64(dst_off), np.int64(n), np.int64(row_len))


@jit
def _dot(sram, bufs, ev, sc, dev, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, rows_a, rows_b,
         row_len, accumulate):
    intr = IN_VEC_DOT
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    # rows_a * rows_b * row_len <= MAX_COUNT: every range length fits and the event's u32
    # a = 2 * that product cannot wrap (each bound divides by values already checked >= 1)
    if (not check_arg(sc, intr, ARG_ROWS_A, rows_a, I1, MAX_COUNT)
            or not check_arg(sc, intr, ARG_ROWS_B, rows_b, I1, MAX_COUNT // rows_a)
            or not check_arg(sc, intr, ARG_ROW_LEN, row_len, I1, MAX_COUNT // (rows_a * rows_b))
            or not check_arg(sc, intr, ARG_ACCUMULATE, accumulate, I0, I1)):
        return ERR_KERNEL
    alen, blen, dlen = 4 * rows_a * row_len, 4 * rows_b * row_len, 4 * rows_a * rows_b
    # dst disjoint from both (it is written while later outputs still read a and b); a and b are
    # only read, so they may overlap
    if not _three(sc, bufs, intr, a_buf, a_off, alen, b_buf, b_off, blen, dst_buf, dst_off,
                  dlen, FALSE):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        a = _f32(sram, bufs, a_buf, a_off, rows_a * row_len)
        b = _f32(sram, bufs, b_buf, b_off, rows_b * row_len)
        d = _f32(sram, bufs, dst_buf, dst_off, rows_a * rows_b)
        for i in range(rows_a):
            a0 = i * row_len
            for j in range(rows_b):
                b0 = j * row_len
                s = np.float32(0.0)
                for k in range(row_len):
                    p = a[a0 + k] * b[b0 + k]          # float32 product, rounded
                    s = s + p                          # then the float32 sum, rounded
                o = i * rows_b + j
                d[o] = _canon(d[o] + s if accumulate != 0 else s)
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, a_buf, a_off, alen)
    ev_range(w, W_SRC1, b_buf, b_off, blen)
    ev_range(w, W_DST, dst_buf, dst_off, dlen)
    ev_flags(w, FLAG_DOT | (FLAG_ACCUMULATE if accumulate != 0 else I0))
    ev_commit(w, sc, dev, OP_VEC, IM1, IM1, I0, 2 * rows_a * rows_b * row_len, row_len, VOP_MUL)
    return 0


@jit
def vec_dot(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, rows_a, rows_b, row_len,
            accumulate):
    """dst[i*rows_b + j] (+)= sum_k a[i*row_len + k] * b[j*row_len + k] (float32, from +0 in
    increasing k): dst = a . b^T for a [rows_a, row_len], b [rows_b, row_len]; dst [rows_a,
    rows_b] disjoint from a and b; accumulate 1 adds to dst."""
    return _dot(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                np.int64(a_buf), np.int64(a_off), np.int64(b_buf), np.int64(b_off),
                np.int64(dst_buf), np.int64(dst_off), np.int64(rows_a), np.int64(rows_b),
                np.int64(row_len), np.int64(accumulate))


@jit
def _u32(sram, bufs, buf, off, n):
    s = store_of(bufs, buf) + off
    return sram[s:s + 4 * n].view(np.uint32)


@jit
def _col_argmax(sram, bufs, ev, sc, dev, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n,
                row_len):
    intr = IN_VEC_COL_ARGMAX
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if not _rows_shape(sc, intr, n, row_len):
        return ERR_KERNEL
    length, dlen = 4 * n, 4 * row_len
    # dst disjoint from both: a column's result would overwrite values other columns still
    # compare; a and b are only read, so they may overlap (b = a gives the maxima)
    if not _three(sc, bufs, intr, a_buf, a_off, length, b_buf, b_off, length, dst_buf, dst_off,
                  dlen, FALSE):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        a = _f32(sram, bufs, a_buf, a_off, n)
        b = _u32(sram, bufs, b_buf, b_off, n)
        d = _u32(sram, bufs, dst_buf, dst_off, row_len)
        rows = n // row_len
        for c in range(row_len):
            best = a[c]
            k = 0
            for r in range(1, rows):
                if best != best:                    # a NaN is never beaten
                    break
                v = a[r * row_len + c]
                if v != v or v > best:
                    best = v
                    k = r
            d[c] = b[k * row_len + c]
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, a_buf, a_off, length)
    ev_range(w, W_SRC1, b_buf, b_off, length)
    ev_range(w, W_DST, dst_buf, dst_off, dlen)
    ev_flags(w, FLAG_ARGMAX)
    ev_commit(w, sc, dev, OP_VEC, IM1, IM1, I0, n, row_len, VOP_ROW_MAX)
    return 0


@jit
def vec_col_argmax(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len):
    """dst[c] = b[k * row_len + c] (32 bits, as they are) for each column c < row_len of the
    n / row_len rows of a, k the first row holding the column's maximum (NaN above every number,
    -0 == +0); a, b n float32 / 32-bit words; dst row_len words, disjoint from a and b. With
    row_len = 1: b at the first argmax of the n values of a."""
    return _col_argmax(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                       np.int64(a_buf), np.int64(a_off), np.int64(b_buf), np.int64(b_off),
                       np.int64(dst_buf), np.int64(dst_off), np.int64(n), np.int64(row_len))
