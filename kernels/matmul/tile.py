"""Tile kernels of the matmul: Numba twins of csrc/kernels/matmul/tile.c, line for line.

Both read one int64 parameter vector `p` whose layout is declared by name in
kernels/matmul/params.py (`MATMUL`; C: the generated csrc/kernels/matmul/params.h) and built by
kernels/matmul/data.py from the plan: header words p[H.<name>], then per tile the offset of its
record r = p[p[H.count + tile]:] with fields r[R.<name>] and the tail [K-group tiles...,
(j, q) per piece..., group tiles (g > 1)...]. Block slot i of a tile is DIMC slot
p[H.slot_base] + i (the plan's region starts there).

`mm_load` (the load phase) fetches the tile's weight blocks and activation pieces from the host
and, when the weights are stationary, writes every block into its slot. `mm_step` runs compute
superstep p[H.step] = s: with S = levels + 1 stages per round, round u = (s - 1) / S is at
stage t = (s - 1) % S, and replica r works on chunk c = u * replicas + r: t = 0 the MVMs
(weights streamed first if the blocks exceed the slots), t >= 1 the adds of tree level t - 1,
and at t < levels the sends of tree level t (kernels/matmul/plan.py). Round 0 is multicast at
s = 0 and round u + 1 at round u's MVM superstep, first in program order, so its transfer
overlaps round u's MVMs. Buffers alternate by round parity.
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import kernel_word
from chipemu.emulator.intrinsics import dimc_load, dimc_mvm, host_read, send, vec_add
from chipemu.emulator.runtime.machine import TileKernel
from chipemu.kernels.matmul.params import MATMUL

__all__ = ["MM_LOAD", "MM_STEP"]

H, R = MATMUL.H, MATMUL.R                 # index namedtuples: constants inside the Numba code


@jit
def _x_off(p, u, j, row):
    """Byte offset in the x buffer [2][kpt][mc][row bytes] of row `row` of K-block j, round u."""
    return (((u % 2) * p[H.kpt] + j) * p[H.chunk_rows] + row) * p[H.row_bytes]


@jit
def _rows(p, c):
    """Rows of chunk c (0 past the last chunk)."""
    return max(0, min(p[H.m], (c + 1) * p[H.chunk_rows]) - c * p[H.chunk_rows])


@jit
def mm_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's weight blocks (into the slots if stationary) and its pieces."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    blocks = r[R.n_nb] * r[R.k_run]
    wb = p[H.block_bytes]
    if p[H.passes] == 1:
        for i in range(blocks):
            host_read(ctx, p[H.w_host], r[R.w_host_off] + i * wb, p[H.w_buf], 0, wb)
            dimc_load(ctx, p[H.slot_base] + i, p[H.w_buf], 0, 0, p[H.rows], p[H.fmt_w])
    else:
        host_read(ctx, p[H.w_host], r[R.w_host_off], p[H.w_buf], 0, blocks * wb)
    if r[R.x_bytes] > 0:
        host_read(ctx, p[H.x_host], r[R.x_host_off], p[H.xhome_buf], 0, r[R.x_bytes])


@jit
def mm_step(ctx, tile, step, p):
    """One compute superstep of the matmul (see the module docstring)."""
    # the schedule's divisors, and its shift counts below stages (a plan has stages <= 25)
    if not (kernel_word(ctx, p, H.stages, 1, 62) and kernel_word(ctx, p, H.parts, 1, 9223372036854775807)
            and kernel_word(ctx, p, H.group, 1, 9223372036854775807)
            and kernel_word(ctx, p, H.slots, 1, 9223372036854775807)):
        return
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    s, stages, rounds, rb = p[H.step], p[H.stages], p[H.rounds], p[H.row_bytes]
    rep, nrep = r[R.replica], p[H.replicas]
    nkg = r[R.n_kg]
    kg = r[R.count:R.count + nkg]                 # the tail: K-group tiles, pieces, group
    pc = R.count + nkg
    um = 0 if s == 0 else ((s - 1) // stages + 1 if (s - 1) % stages == 0 else rounds)
    if um < rounds:                                       # multicast the pieces of round um
        mcc = _rows(p, um * nrep + rep)
        for i in range(r[R.n_pieces]):
            j, q = r[pc + 2 * i], r[pc + 2 * i + 1]
            r0 = mcc * q // p[H.parts]
            r1 = mcc * (q + 1) // p[H.parts]
            if r1 > r0:
                send(ctx, kg, p[H.xhome_buf], (um * p[H.pieces] + i) * p[H.piece_rows] * rb,
                     p[H.x_buf], _x_off(p, um, j, r0), (r1 - r0) * rb)
    if s < 1:
        return
    u = (s - 1) // stages
    t = (s - 1) % stages
    mcc = _rows(p, u * nrep + rep) if u < rounds else 0
    if mcc == 0:
        return
    ybytes = p[H.chunk_rows] * p[H.cols] * 4
    g = p[H.group]
    if t == 0:
        blocks = r[R.n_nb] * r[R.k_run]
        slots, s0 = p[H.slots], p[H.slot_base]
        for i0 in range(0, blocks, slots):
            i1 = min(blocks, i0 + slots)
            if p[H.passes] > 1:
                for i in range(i0, i1):
                    dimc_load(ctx, s0 + i % slots, p[H.w_buf], i * p[H.block_bytes], 0,
                              p[H.rows], p[H.fmt_w])
            for i in range(i0, i1):
                nbi = i // r[R.k_run]
                kbl = i % r[R.k_run]
                if g > 1:
                    dbuf, doff = p[H.acc_buf], (u % 2) * ybytes
                else:
                    dbuf, doff = p[H.y_buf], (u * p[H.nb_per_tile] + nbi) * ybytes
                dimc_mvm(ctx, 0, s0 + i % slots, p[H.x_buf], _x_off(p, u, kbl, 0), dbuf, doff, mcc,
                         p[H.rows], p[H.fmt_x], 1 if kbl > 0 else 0)
    if g == 1:
        return
    q = (r[R.member] - u % g + g) % g
    acc, recv, n = p[H.acc_buf], p[H.recv_buf], mcc * p[H.cols]
    ao = (u % 2) * ybytes                                 # acc is double-buffered by round
    if t >= 1:                                            # receive level t - 1
        half = np.int64(1) << (t - 1)
        if q % (2 * half) == 0 and q + half < g:
            if q == 0 and t == p[H.levels]:
                vec_add(ctx, acc, ao, recv, (t - 1) * ybytes, p[H.y_buf], (u // g) * ybytes, n)
            else:
                vec_add(ctx, acc, ao, recv, (t - 1) * ybytes, acc, ao, n)
    if t < p[H.levels]:                                   # send level t
        half = np.int64(1) << t
        if q % (2 * half) == half:
            dst = np.empty(1, np.int64)
            dst[0] = r[pc + 2 * r[R.n_pieces] + (q - half + u % g) % g]    # tail: group
            send(ctx, dst, acc, ao, recv, t * ybytes, n * 4)


MM_LOAD = TileKernel("mm_load", numba=mm_load, c="chipemu_kernel_mm_load")
MM_STEP = TileKernel("mm_step", numba=mm_step, c="chipemu_kernel_mm_step")
