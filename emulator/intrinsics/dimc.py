"""Numba twin of csrc/intrinsics/dimc.c: dimc_load and dimc_mvm.

The arithmetic is defined in docs/intrinsics.md and by emulator/reference/dimc.py: per input
vector and output column, integer products summed exactly (int32) within each segment where both
scales are constant, each segment sum scaled in float64 ((sum * scale_x) * scale_w, exact for block
scales) and rounded once to float32, the segment values added in float32 in increasing K order
from 0; a NaN result is stored as 0x7FC00000. The inner loop runs over columns (one weight row at
a time) so LLVM vectorizes it; int32 is explicit because Numba would widen to int64.
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import (ARG_ACCUMULATE, ARG_ENGINE, ARG_FMT, ARG_K_ROWS,
                                              ARG_NROWS, ARG_NVEC, ARG_ROW0, ARG_SLOT, ARG_SRC,
                                              ARG_X, ARG_Y, BUF_SRAM, CTX_BUFS, CTX_CODES, CTX_DEV,
                                              CTX_EVENTS, CTX_SC, CTX_SCALES, CTX_SCR_F32,
                                              CTX_SCR_F64, CTX_SCR_I32, CTX_SCR_I8, CTX_SRAM,
                                              CTX_TSCALE, CTX_WFMT, DEV_CELL_BITS, DEV_COLS_MAX,
                                              DEV_ENGINES, DEV_ROWS, DEV_SLOTS, DIMC_VB, ERR_KERNEL,
                                              FALSE, I0, I1, I8, IM1, IN_DIMC_LOAD, IN_DIMC_MVM,
                                              KERR_FORMAT, KERR_STATE, KIND_INT_TENSOR, MAX_COUNT,
                                              MSG_FMT_CELLS, MSG_SLOT_EMPTY, OP_DIMC_LOAD,
                                              OP_DIMC_MVM, SC_ERROR, W_DST, W_SRC0, check_align4,
                                              check_arg, check_dimc_fmt, check_disjoint,
                                              check_multiple, check_range, cols_eff, ev_clear,
                                              ev_commit, ev_flags, ev_range, fail, fmt_bits,
                                              fmt_block, fmt_kind, fmt_mbits, functional, load_u32,
                                              new_event, row_bytes, store_of)

__all__ = ["dimc_load", "dimc_mvm", "weight_bytes"]


def _scale_tables():
    """Row 0: 2^(code - 127 - 6), row 1: 2^(code - 127 - 2); code 255 is NaN (exact doubles)."""
    t = np.empty((2, 256), np.float64)
    for row, frac in enumerate((6, 2)):
        t[row, :255] = np.ldexp(1.0, np.arange(255) - 127 - frac)
        t[row, 255] = np.nan
    return t


_SCALE_TAB = _scale_tables()
_QNAN_BITS = np.uint32(0x7FC00000)


@jit
def _table_row(mbits):
    return 0 if mbits == 6 else 1


@jit
def _unpack(src, at, n, bits, out):
    """n element codes (8 or 4 bits, two's complement, little-endian nibbles) of src[at:]."""
    if bits == 8:
        for i in range(n):
            out[i] = np.int8(src[at + i])
    else:
        for i in range(n):
            b = np.int32(src[at + (i >> 1)])
            v = (b >> 4) if (i & 1) else (b & 0xF)
            out[i] = np.int8((v ^ 8) - 8)


@jit
def weight_bytes(fmt, nrows, ncols):
    """Bytes of nrows weight rows of ncols columns in the device layout (docs/intrinsics.md)."""
    if fmt_kind(fmt) == KIND_INT_TENSOR:
        return nrows * ncols + 4
    return nrows * ncols * fmt_bits(fmt) // 8 + nrows // fmt_block(fmt) * ncols


@jit
def _load_rows(sram, codes, scales, tscale, dev, at, row0, nrows, fmt):
    nc = cols_eff(dev, fmt)
    bits = fmt_bits(fmt)
    rb = nc * bits // 8
    if fmt_kind(fmt) == KIND_INT_TENSOR:
        for r in range(nrows):
            _unpack(sram, at + r * rb, nc, I8, codes[row0 + r])
        tscale.view(np.uint32)[0] = load_u32(sram, at + nrows * rb)
        return
    bs = fmt_block(fmt)
    for g in range(nrows // bs):
        gs = at + g * (bs * rb + nc)
        for r in range(bs):
            _unpack(sram, gs + r * rb, nc, bits, codes[row0 + g * bs + r])
        srow = scales[(row0 + g * bs) // bs]
        for c in range(nc):
            srow[c] = sram[gs + bs * rb + c]


@jit
def _dimc_load(sram, codes, scales, tscale, wfmt, bufs, ev, sc, dev, slot, src_buf, src_off, row0,
               nrows, fmt):
    intr = IN_DIMC_LOAD
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    rows, cell = dev[DEV_ROWS], dev[DEV_CELL_BITS]
    if (not check_arg(sc, intr, ARG_SLOT, slot, I0, dev[DEV_SLOTS] - 1)
            or not check_dimc_fmt(sc, intr, ARG_FMT, fmt)):
        return ERR_KERNEL
    bits, bs = fmt_bits(fmt), fmt_block(fmt)
    if cell % bits != 0:
        return fail(sc, intr, KERR_FORMAT, MSG_FMT_CELLS, ARG_FMT, fmt, bits, cell, I0)
    if (not check_arg(sc, intr, ARG_ROW0, row0, I0, rows - 1)
            or not check_arg(sc, intr, ARG_NROWS, nrows, I1, rows - row0)
            or not check_multiple(sc, intr, ARG_ROW0, row0, bs)
            or not check_multiple(sc, intr, ARG_NROWS, nrows, bs)):
        return ERR_KERNEL
    nbytes = weight_bytes(fmt, nrows, cols_eff(dev, fmt))
    if not check_range(sc, bufs, intr, ARG_SRC, src_buf, src_off, nbytes, BUF_SRAM):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    func = functional(dev)
    if wfmt[slot] != fmt:                      # a new format re-formats the whole slot
        wfmt[slot] = np.int8(fmt)
        if func:
            codes[slot][:, :] = 0
            scales[slot][:, :] = 0
            tscale[slot] = np.float32(0.0)
    if func:
        _load_rows(sram, codes[slot], scales[slot], tscale[slot:slot + 1], dev,
                   store_of(bufs, src_buf) + src_off, row0, nrows, fmt)
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, src_buf, src_off, nbytes)
    ev_commit(w, sc, dev, OP_DIMC_LOAD, IM1, fmt, I0, row0, nrows, slot)
    return 0


@jit
def dimc_load(ctx, slot, src_buf, src_off, row0, nrows, fmt):
    """Write weight rows row0 .. row0+nrows-1 of DIMC `slot` from SRAM (device layout of `fmt`)."""
    return _dimc_load(ctx[CTX_SRAM], ctx[CTX_CODES], ctx[CTX_SCALES], ctx[CTX_TSCALE],
                      ctx[CTX_WFMT], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV],
                      np.int64(slot), np.int64(src_buf), np.int64(src_off), np.int64(row0),
                      np.int64(nrows), np.int64(fmt))


@jit
def _mvm_vector(W, xi, xs, ws, k, seg, nc, acc, accf):
    """accf[c] = the DIMC result of one decoded input vector (codes xi, segment scales xs) for
    each column c < nc; ws[s * nc + c] is the weight scale of segment s, column c."""
    nseg = (k + seg - 1) // seg
    for c in range(nc):
        accf[c] = np.float32(0.0)
    for s in range(nseg):
        k0 = s * seg
        k1 = min(k0 + seg, k)
        for c in range(nc):
            acc[c] = 0
        for kk in range(k0, k1):
            xk = np.int32(xi[kk])
            if xk == 0:                        # exact: adds nothing
                continue
            wr = W[kk]
            for c in range(nc):
                acc[c] = np.int32(acc[c] + xk * np.int32(wr[c]))
        sa = xs[s]
        w0 = s * nc
        for c in range(nc):
            accf[c] = accf[c] + np.float32((np.float64(acc[c]) * sa) * ws[w0 + c])


@jit
def _mvm(sram, W, WS, wscale, dev, xi, f64, acc, accf, fa, fw, x_at, y_at, nvec, k, accumulate):
    nc = cols_eff(dev, fw)
    rows = dev[DEV_ROWS]
    xs = f64[512:512 + rows]                   # the C layout (one vector at a time here)
    ws = f64[512 + DIMC_VB * rows:]
    bitcast = accf[dev[DEV_COLS_MAX]:dev[DEV_COLS_MAX] + 1]     # spare slot: uint32 -> float32
    a_int8 = fmt_kind(fa) == KIND_INT_TENSOR
    w_int8 = fmt_kind(fw) == KIND_INT_TENSOR
    blk_a, blk_w = fmt_block(fa), fmt_block(fw)
    bsa = 32 if a_int8 else blk_a
    bsw = 32 if w_int8 else blk_w
    seg = min(bsa, bsw)
    nseg = (k + seg - 1) // seg
    bits_a = fmt_bits(fa)
    xrow = row_bytes(fa, k)
    xcodes = (k * bits_a + 7) // 8
    atab = _SCALE_TAB[_table_row(fmt_mbits(fa))]
    wtab = _SCALE_TAB[_table_row(fmt_mbits(fw))]
    for s in range(nseg):                      # weight scale of (segment, column)
        wsc = WS[s * seg // blk_w]
        for c in range(nc):
            ws[s * nc + c] = np.float64(wscale) if w_int8 else wtab[wsc[c]]
    y = sram[y_at:y_at + nvec * nc * 4].view(np.float32)
    for v in range(nvec):
        xv = x_at + v * xrow
        _unpack(sram, xv, k, bits_a, xi)
        if a_int8:
            bitcast.view(np.uint32)[0] = load_u32(sram, xv + k)
            sx = np.float64(bitcast[0])
            for s in range(nseg):
                xs[s] = sx
        else:
            for s in range(nseg):
                xs[s] = atab[sram[xv + xcodes + s * seg // blk_a]]
        _mvm_vector(W, xi, xs, ws, k, seg, nc, acc, accf)
        yb = v * nc
        for c in range(nc):
            r = y[yb + c] + accf[c] if accumulate else accf[c]
            if r != r:
                bitcast.view(np.uint32)[0] = _QNAN_BITS
                r = bitcast[0]
            y[yb + c] = r


@jit
def _dimc_mvm(sram, codes, scales, tscale, wfmt, bufs, ev, sc, dev, xi, xs, acc, accf, engine,
              slot, x_buf, x_off, y_buf, y_off, nvec, k_rows, fmt, accumulate):
    intr = IN_DIMC_MVM
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if (not check_arg(sc, intr, ARG_ENGINE, engine, I0, dev[DEV_ENGINES] - 1)
            or not check_arg(sc, intr, ARG_SLOT, slot, I0, dev[DEV_SLOTS] - 1)
            or not check_dimc_fmt(sc, intr, ARG_FMT, fmt)):
        return ERR_KERNEL
    wf = np.int64(wfmt[slot])
    if wf < 0:
        return fail(sc, intr, KERR_STATE, MSG_SLOT_EMPTY, ARG_SLOT, slot, I0, I0, I0)
    if (not check_arg(sc, intr, ARG_NVEC, nvec, I1, MAX_COUNT)
            or not check_arg(sc, intr, ARG_K_ROWS, k_rows, I1, dev[DEV_ROWS])
            or not check_multiple(sc, intr, ARG_K_ROWS, k_rows, fmt_block(fmt))
            or not check_multiple(sc, intr, ARG_K_ROWS, k_rows, fmt_block(wf))
            or not check_arg(sc, intr, ARG_ACCUMULATE, accumulate, I0, I1)):
        return ERR_KERNEL
    xlen = nvec * row_bytes(fmt, k_rows)
    ylen = nvec * cols_eff(dev, wf) * 4
    if (not check_range(sc, bufs, intr, ARG_X, x_buf, x_off, xlen, BUF_SRAM)
            or not check_range(sc, bufs, intr, ARG_Y, y_buf, y_off, ylen, BUF_SRAM)
            or not check_align4(sc, intr, ARG_Y, y_off)
            or not check_disjoint(sc, intr, ARG_Y, y_buf, y_off, ylen, ARG_X, x_buf, x_off, xlen,
                                  FALSE)):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if functional(dev):
        _mvm(sram, codes[slot], scales[slot], tscale[slot], dev, xi, xs, acc, accf, fmt, wf,
             store_of(bufs, x_buf) + x_off, store_of(bufs, y_buf) + y_off, nvec, k_rows,
             accumulate)
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, x_buf, x_off, xlen)
    ev_range(w, W_DST, y_buf, y_off, ylen)
    ev_flags(w, accumulate)
    ev_commit(w, sc, dev, OP_DIMC_MVM, fmt, wf, engine, nvec, k_rows, slot)
    return 0


@jit
def dimc_mvm(ctx, engine, slot, x_buf, x_off, y_buf, y_off, nvec, k_rows, fmt, accumulate):
    """y (+)= x . W: nvec input vectors of k_rows activations in `fmt` against the first k_rows
    rows of DIMC `slot`, on engine `engine`; y is nvec x columns float32 (docs/intrinsics.md)."""
    return _dimc_mvm(ctx[CTX_SRAM], ctx[CTX_CODES], ctx[CTX_SCALES], ctx[CTX_TSCALE], ctx[CTX_WFMT],
                     ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_SC], ctx[CTX_DEV], ctx[CTX_SCR_I8],
                     ctx[CTX_SCR_F64], ctx[CTX_SCR_I32], ctx[CTX_SCR_F32], np.int64(engine),
                     np.int64(slot), np.int64(x_buf), np.int64(x_off), np.int64(y_buf),
                     np.int64(y_off), np.int64(nvec), np.int64(k_rows), np.int64(fmt),
                     np.int64(accumulate))
