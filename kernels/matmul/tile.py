"""Tile kernels of the matmul: Numba twins of csrc/kernels/matmul/tile.c, line for line.

Both read one int64 parameter array `p` (built by kernels/matmul/api.py from the plan):
p[0 .. H_COUNT) is the header below, p[H_COUNT + tile] the offset of the tile's record:

    [active, member, group_base, n_nb, k_run, w_host_off, x_host_off, xhome_bytes, n_pieces,
     replica, n_kg, kg tiles..., (j, q) per piece...]

`mm_load` (the load phase) fetches the tile's weight blocks and activation pieces from the host
and, when the weights are stationary, writes every block into its slot. `mm_step` runs compute
superstep p[H_STEP] = s: with S = levels + 1 stages per round, round u = (s - 1) / S is at
stage t = (s - 1) % S, and replica r works on chunk c = u * replicas + r: t = 0 the MVMs
(weights streamed first if the blocks exceed the slots), t >= 1 the adds of tree level t - 1,
and at t < levels the sends of tree level t (kernels/matmul/plan.py). Round 0 is multicast at
s = 0 and round u + 1 at round u's MVM superstep, first in program order, so its transfer
overlaps round u's MVMs. Buffers alternate by round parity.
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import dimc_load, dimc_mvm, host_read, send, vec_add
from chipemu.emulator.runtime.machine import TileKernel

__all__ = ["MM_LOAD", "MM_STEP", "H_COUNT"]

(H_STEP, H_STAGES, H_CHUNKS, H_MC, H_M, H_PARTS, H_RB, H_C, H_R, H_FA, H_FW, H_SLOTS, H_PASSES,
 H_G, H_LEVELS, H_WB, H_PROW, H_PIECES, H_XHOME, H_X, H_Y, H_ACC, H_RECV, H_W, H_WHOST, H_XHOST,
 H_NBPT, H_KPT, H_REPLICAS, H_ROUNDS, H_COUNT) = range(31)
(R_ACTIVE, R_MEMBER, R_GBASE, R_NNB, R_KRUN, R_WOFF, R_XOFF, R_XBYTES, R_NPIECES, R_REPLICA,
 R_NKG) = range(11)


@jit
def _x_off(p, u, j, row):
    """Byte offset in the x buffer [2][kpt][mc][row bytes] of row `row` of K-block j, round u."""
    return (((u % 2) * p[H_KPT] + j) * p[H_MC] + row) * p[H_RB]


@jit
def _rows(p, c):
    """Rows of chunk c (0 past the last chunk)."""
    return max(0, min(p[H_M], (c + 1) * p[H_MC]) - c * p[H_MC])


@jit
def mm_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's weight blocks (into the slots if stationary) and its pieces."""
    r = p[p[H_COUNT + tile]:]
    if r[R_ACTIVE] == 0:
        return
    blocks = r[R_NNB] * r[R_KRUN]
    wb = p[H_WB]
    if p[H_PASSES] == 1:
        for i in range(blocks):
            host_read(ctx, p[H_WHOST], r[R_WOFF] + i * wb, p[H_W], 0, wb)
            dimc_load(ctx, i, p[H_W], 0, 0, p[H_R], p[H_FW])
    else:
        host_read(ctx, p[H_WHOST], r[R_WOFF], p[H_W], 0, blocks * wb)
    if r[R_XBYTES] > 0:
        host_read(ctx, p[H_XHOST], r[R_XOFF], p[H_XHOME], 0, r[R_XBYTES])


@jit
def mm_step(ctx, tile, step, p):
    """One compute superstep of the matmul (see the module docstring)."""
    r = p[p[H_COUNT + tile]:]
    if r[R_ACTIVE] == 0:
        return
    s, stages, rounds, rb = p[H_STEP], p[H_STAGES], p[H_ROUNDS], p[H_RB]
    rep, nrep = r[R_REPLICA], p[H_REPLICAS]
    nkg = r[R_NKG]
    kg = r[R_NKG + 1:R_NKG + 1 + nkg]
    pc = R_NKG + 1 + nkg
    um = 0 if s == 0 else ((s - 1) // stages + 1 if (s - 1) % stages == 0 else rounds)
    if um < rounds:                                       # multicast the pieces of round um
        mcc = _rows(p, um * nrep + rep)
        for i in range(r[R_NPIECES]):
            j, q = r[pc + 2 * i], r[pc + 2 * i + 1]
            r0 = mcc * q // p[H_PARTS]
            r1 = mcc * (q + 1) // p[H_PARTS]
            if r1 > r0:
                send(ctx, kg, p[H_XHOME], (um * p[H_PIECES] + i) * p[H_PROW] * rb, p[H_X],
                     _x_off(p, um, j, r0), (r1 - r0) * rb)
    if s < 1:
        return
    u = (s - 1) // stages
    t = (s - 1) % stages
    mcc = _rows(p, u * nrep + rep) if u < rounds else 0
    if mcc == 0:
        return
    ybytes = p[H_MC] * p[H_C] * 4
    g = p[H_G]
    if t == 0:
        blocks = r[R_NNB] * r[R_KRUN]
        slots = p[H_SLOTS]
        for i0 in range(0, blocks, slots):
            i1 = min(blocks, i0 + slots)
            if p[H_PASSES] > 1:
                for i in range(i0, i1):
                    dimc_load(ctx, i % slots, p[H_W], i * p[H_WB], 0, p[H_R], p[H_FW])
            for i in range(i0, i1):
                nbi = i // r[R_KRUN]
                kbl = i % r[R_KRUN]
                if g > 1:
                    dbuf, doff = p[H_ACC], (u % 2) * ybytes
                else:
                    dbuf, doff = p[H_Y], (u * p[H_NBPT] + nbi) * ybytes
                dimc_mvm(ctx, 0, i % slots, p[H_X], _x_off(p, u, kbl, 0), dbuf, doff, mcc,
                         p[H_R], p[H_FA], 1 if kbl > 0 else 0)
    if g == 1:
        return
    q = (r[R_MEMBER] - u % g + g) % g
    ao = (u % 2) * ybytes                                 # acc is double-buffered by round
    if t >= 1:                                            # receive level t - 1
        half = np.int64(1) << (t - 1)
        if q % (2 * half) == 0 and q + half < g:
            if q == 0 and t == p[H_LEVELS]:
                vec_add(ctx, p[H_ACC], ao, p[H_RECV], (t - 1) * ybytes, p[H_Y], (u // g) * ybytes,
                        mcc * p[H_C])
            else:
                vec_add(ctx, p[H_ACC], ao, p[H_RECV], (t - 1) * ybytes, p[H_ACC], ao, mcc * p[H_C])
    if t < p[H_LEVELS]:                                   # send level t
        half = np.int64(1) << t
        if q % (2 * half) == half:
            dst = np.empty(1, np.int64)
            dst[0] = r[R_GBASE] + (q - half + u % g) % g
            send(ctx, dst, p[H_ACC], ao, p[H_RECV], t * ybytes, mcc * p[H_C] * 4)


MM_LOAD = TileKernel("mm_load", numba=mm_load, c="chipemu_kernel_mm_load")
MM_STEP = TileKernel("mm_step", numba=mm_step, c="chipemu_kernel_mm_step")
