"""Tile kernels of attention: Numba twins of csrc/kernels/attention/tile.c, line for line.

Parameters `p`: the layouts of kernels/attention/params.py (C: the generated params.h), built by
kernels/attention/data.py (`ATTENTION`: header p[H.<name>], per tile a record r[R.<name>] then
its per-round tail) and kernels/attention/cache.py (`APPEND`).

`at_kv`: host -> SRAM -> DIMC for the tile's K^T and V slots; `at_q`: its query rows (unless
quantized on the device), bias blocks and constants; `at_append` (KV cache): rewrites given rows
of given slots; `at_ingest` (KV cache, inputs on the device): see its docstring. `at_step`: compute
superstep s = u * S + t (S = levels + 1) of round u: t = 0 the key blocks with the online softmax
(then the level-0 send), t >= 1 the merge of level t - 1 (then the send of level t), the root
normalizes at t = levels. Actions: 1 send, 2 merge, 3 take.
PART holds [m | l | O_0 | O_1 ...] of the chunk's rows (O_t: rows x C), packed by its row count.
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import kernel_word
from chipemu.emulator.intrinsics import (dimc_load, dimc_mvm, dram_read, dram_write, host_read,
                                         send, vec_add,
                                         vec_add_rows, vec_convert, vec_convert_weights, vec_copy,
                                         vec_dot, vec_exp, vec_max, vec_mul, vec_mul_rows,
                                         vec_reciprocal, vec_row_max, vec_row_sum)
from chipemu.emulator.runtime.machine import TileKernel
from chipemu.kernels.attention.params import APPEND, ATTENTION, INGEST

__all__ = ["AT_KV", "AT_Q", "AT_APPEND", "AT_INGEST", "AT_STEP", "FP32"]

H, R = ATTENTION.H, ATTENTION.R           # index namedtuples: constants inside the Numba code
AH, AR = APPEND.H, APPEND.R
IH, IR = INGEST.H, INGEST.R
V_MB, V_MN, V_NG, V_AL, V_LB = range(5)                  # the VEC buffer's rows of mq floats
C_MINIT, C_MINUS1, C_FLTMIN = range(3)                    # the CONST buffer's rows of mq floats
FP32 = 0


@jit
def at_kv(ctx, tile, step, p):
    """Host -> SRAM -> DIMC: the tile's K^T and V slots, each written into its slot."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    per = p[H.d_splits] + p[H.v_splits]
    sb = p[H.slot_bytes]
    if p[H.vector] == 1:                                  # K and V^T stay in SRAM, in fp32
        host_read(ctx, p[H.kv_host], r[R.kv_host_off], p[H.w_buf], 0, r[R.n_blocks] * per * sb)
        return
    for i in range(r[R.n_blocks] * per):
        host_read(ctx, p[H.kv_host], r[R.kv_host_off] + i * sb, p[H.w_buf], 0, sb)
        dimc_load(ctx, p[H.slot_base] + i, p[H.w_buf], 0, 0, p[H.rows], p[H.kv_fmt])


@jit
def at_q(ctx, tile, step, p):
    """Host -> SRAM: the tile's query rows, bias blocks and the softmax constants."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    if r[R.q_bytes] > 0:                                  # 0: quantized on the device
        host_read(ctx, p[H.q_host], r[R.q_host_off], p[H.q_buf], 0, r[R.q_bytes])
    if r[R.bias_bytes] > 0:
        host_read(ctx, p[H.bias_host], r[R.bias_host_off], p[H.bias_buf], 0, r[R.bias_bytes])
    if p[H.consts] == 1:                                  # 0: resident (a cache's device path)
        host_read(ctx, p[H.const_host], 0, p[H.const_buf], 0, 3 * p[H.chunk_rows] * 4)


@jit
def at_append(ctx, tile, step, p):
    """KV-cache writes (layout APPEND): per write of the tile's tail (slot, host offset, bytes,
    row0, rows), host -> SRAM -> those rows of the slot; rewrites only those rows. A cache
    homed in DRAM (kv_dram 1): the first word is the rows' byte offset in the tile's DRAM
    buffer, and they are written there."""
    r = p[p[AH.count + tile]:]
    for i in range(r[AR.writes]):
        w = r[AR.count + 5 * i:AR.count + 5 * i + 5]
        host_read(ctx, p[AH.kv_host], w[1], p[AH.w_buf], 0, w[2])
        if p[AH.kv_dram] == 1:
            dram_write(ctx, p[AH.w_buf], 0, r[AR.dram_buf], w[0], w[2])
        else:
            dimc_load(ctx, w[0], p[AH.w_buf], 0, w[3], w[4], p[AH.kv_fmt])


@jit
def at_ingest(ctx, tile, step, p):
    """A step's inputs from SRAM (layout INGEST, docs/attention.md): phase 0 host reads (the
    key / value shadows, the query scale); phase 1 on a unit's home: q * scale quantized into
    the query rows (per row and D split), sent to the other members, the new keys and values
    sent (or copied) into the shadow rows of the tiles holding their blocks; phase 2: each
    rewritten block's K^T slots and touched V rows quantized from the shadows and loaded (or,
    homed in DRAM, written into their slot images there)."""
    if not (kernel_word(ctx, p, IH.phase, 0, 2)
            and kernel_word(ctx, p, IH.chunk_rows, 1, 9223372036854775807)):
        return
    r = p[p[IH.count + tile]:]
    if r[IR.active] == 0:
        return
    D, R_, C, bk = p[IH.head_dim], p[IH.rows], p[IH.cols], p[IH.block_keys]
    ds, vs, kf = p[IH.d_splits], p[IH.v_splits], p[IH.kv_fmt]
    at = IR.count + r[IR.n_dst] + 4 * r[IR.n_routes]
    if p[IH.phase] == 0:
        at += 6 * r[IR.n_commits]
        for i in range(r[IR.n_loads]):
            w = r[at + 4 * i:at + 4 * i + 4]
            host_read(ctx, p[IH.host], w[0], w[1], w[2], w[3])
    elif p[IH.phase] == 1 and r[IR.home] == 1:
        G, sq, mq, qrb = p[IH.group], p[IH.new_rows], p[IH.chunk_rows], p[IH.q_row_bytes]
        QS, Q = p[IH.qs_buf], p[IH.q_buf]
        vec_mul_rows(ctx, p[IH.q_in], 0, p[IH.scale_buf], 0, QS, 0, sq * G * D, D)
        for g in range(G):                                # query row g * sq + i: head g, token i
            for i in range(sq):
                c, rr = divmod(g * sq + i, mq)
                for sd in range(ds):
                    vec_convert(ctx, QS, ((i * G + g) * D + sd * R_) * 4, Q,
                                ((c * ds + sd) * mq + rr) * qrb, R_, R_, p[IH.fmt], FP32)
        if r[IR.n_dst] > 0:
            send(ctx, r[IR.count:IR.count + r[IR.n_dst]], Q, 0, Q, 0,
                 p[IH.chunks] * ds * mq * qrb)
        for i in range(r[IR.n_routes]):
            w = r[IR.count + r[IR.n_dst] + 4 * i:IR.count + r[IR.n_dst] + 4 * i + 4]
            for src, dst in ((p[IH.k_in], p[IH.ks_buf]), (p[IH.v_in], p[IH.vs_buf])):
                if w[0] == tile:
                    vec_copy(ctx, src, w[1] * D * 4, dst, w[3] * D * 4, w[2] * D)
                else:
                    send(ctx, w[0:1], src, w[1] * D * 4, dst, w[3] * D * 4, w[2] * D * 4)
    elif p[IH.phase] == 2:
        W, sb, dram = p[IH.w_buf], p[IH.slot_bytes], p[IH.kv_dram] == 1
        for i in range(r[IR.n_commits]):
            w = r[at + 6 * i:at + 6 * i + 6]
            s0 = p[IH.slot_base] + w[0] * (ds + vs)
            img = r[IR.dram_off] + w[0] * (ds + vs) * sb     # its slot images in DRAM
            for sd in range(ds):                          # K^T: the block's keys are columns
                vec_convert_weights(ctx, p[IH.ks_buf], (w[5] * D + sd * R_) * 4, D, w[1], 1, W, 0,
                                    R_, bk, kf)
                if dram:
                    dram_write(ctx, W, 0, r[IR.dram_buf], img + sd * sb, sb)
                else:
                    dimc_load(ctx, s0 + sd, W, 0, 0, R_, kf)
            for t in range(vs):                           # V: the rows of the touched groups
                vec_convert_weights(ctx, p[IH.vs_buf], ((w[5] + w[2]) * D + t * C) * 4, D, w[4],
                                    0, W, 0, w[3], C, kf)
                if dram:                                  # whole groups: sb * rows / R bytes
                    dram_write(ctx, W, 0, r[IR.dram_buf], img + (ds + t) * sb + sb * w[2] // R_,
                               sb * w[3] // R_)
                else:
                    dimc_load(ctx, s0 + ds + t, W, 0, w[2], w[3], kf)


@jit
def _rows(p, c):
    return max(0, min(p[H.q_rows], (c + 1) * p[H.chunk_rows]) - c * p[H.chunk_rows])


@jit
def _block(ctx, p, r, u, i, code, first, mcc):
    """One key block of the online softmax for the chunk's mcc rows (docs/attention.md); homed
    in DRAM, its slot images are read and loaded into the first slots first."""
    mq, bk, C, vs = p[H.chunk_rows], p[H.block_keys], p[H.cols], p[H.v_splits]
    ds, qrb, sb = p[H.d_splits], p[H.q_row_bytes], p[H.slot_bytes]
    per = ds + vs
    s0 = p[H.slot_base] + i * per                         # the block's first DIMC slot
    n = mcc * bk
    V, PART, S, W = p[H.vec_buf], p[H.part_buf], p[H.s_buf], p[H.w_buf]
    vector = p[H.vector] == 1
    if p[H.kv_dram] == 1:
        s0 = p[H.slot_base]
        dram_read(ctx, r[R.kv_dram_buf], r[R.kv_dram_off] + i * per * sb, W, 0, per * sb)
        for j in range(per):
            dimc_load(ctx, s0 + j, W, j * sb, 0, p[H.rows], p[H.kv_fmt])
    if vector:                                            # S = Q K^T on the vector unit
        vec_dot(ctx, p[H.q_buf], u * mq * qrb, W, 2 * i * sb, S, 0, mcc, bk, qrb // 4, 0)
    for sd in range(0 if vector else ds):
        dimc_mvm(ctx, 0, s0 + sd, p[H.q_buf], ((u * ds + sd) * mq) * qrb, S, 0, mcc,
                 p[H.rows], p[H.fmt], 1 if sd > 0 else 0)
    if code >= 2:
        vec_add(ctx, S, 0, p[H.bias_buf], (code - 2) * mq * bk * 4, S, 0, n)
    vec_row_max(ctx, S, 0, V, V_MB * mq * 4, n, bk)
    if first:
        vec_max(ctx, p[H.const_buf], C_MINIT * mq * 4, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc)
    else:
        vec_max(ctx, PART, 0, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc)
    vec_mul(ctx, V, V_MN * mq * 4, p[H.const_buf], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc)
    if not first:
        vec_add(ctx, PART, 0, V, V_NG * mq * 4, V, V_AL * mq * 4, mcc)
        vec_exp(ctx, V, V_AL * mq * 4, V, V_AL * mq * 4, mcc)
    vec_add_rows(ctx, S, 0, V, V_NG * mq * 4, S, 0, n, bk)
    vec_exp(ctx, S, 0, S, 0, n)
    if first:
        vec_row_sum(ctx, S, 0, PART, mcc * 4, n, bk)
    else:
        vec_row_sum(ctx, S, 0, V, V_LB * mq * 4, n, bk)
        vec_mul(ctx, PART, mcc * 4, V, V_AL * mq * 4, PART, mcc * 4, mcc)
        vec_add(ctx, PART, mcc * 4, V, V_LB * mq * 4, PART, mcc * 4, mcc)
        for t in range(vs):
            o = (2 + t * C) * mcc * 4
            vec_mul_rows(ctx, PART, o, V, V_AL * mq * 4, PART, o, mcc * C, C)
    if vector:                                            # O (+)= P V = P (V^T)^T
        vec_dot(ctx, S, 0, W, (2 * i + 1) * sb, PART, 2 * mcc * 4, mcc, C, bk, 0 if first else 1)
    else:
        vec_convert(ctx, S, 0, p[H.p_buf], 0, n, bk, p[H.fmt], FP32)
    for t in range(0 if vector else vs):
        dimc_mvm(ctx, 0, s0 + ds + t, p[H.p_buf], 0, PART, (2 + t * C) * mcc * 4, mcc, bk,
                 p[H.fmt], 0 if first else 1)
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc)


@jit
def _merge(ctx, p, mcc):
    """PART = merge(PART, RECV): both hold (m, l, O) of the same rows."""
    mq, C = p[H.chunk_rows], p[H.cols]
    V, PART, RV = p[H.vec_buf], p[H.part_buf], p[H.recv_buf]
    vec_max(ctx, PART, 0, RV, 0, V, V_MN * mq * 4, mcc)
    vec_mul(ctx, V, V_MN * mq * 4, p[H.const_buf], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc)
    vec_add(ctx, PART, 0, V, V_NG * mq * 4, V, V_AL * mq * 4, mcc)
    vec_exp(ctx, V, V_AL * mq * 4, V, V_AL * mq * 4, mcc)
    vec_add(ctx, RV, 0, V, V_NG * mq * 4, V, V_LB * mq * 4, mcc)
    vec_exp(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc)
    vec_mul(ctx, PART, mcc * 4, V, V_AL * mq * 4, PART, mcc * 4, mcc)
    vec_mul(ctx, RV, mcc * 4, V, V_LB * mq * 4, RV, mcc * 4, mcc)
    vec_add(ctx, PART, mcc * 4, RV, mcc * 4, PART, mcc * 4, mcc)
    for t in range(p[H.v_splits]):
        o = (2 + t * C) * mcc * 4
        vec_mul_rows(ctx, PART, o, V, V_AL * mq * 4, PART, o, mcc * C, C)
        vec_mul_rows(ctx, RV, o, V, V_LB * mq * 4, RV, o, mcc * C, C)
        vec_add(ctx, PART, o, RV, o, PART, o, mcc * C)
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc)


@jit
def at_step(ctx, tile, step, p):
    """One compute superstep of attention (see the module docstring)."""
    if not kernel_word(ctx, p, H.stages, 1, 9223372036854775807):
        return
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    stages, levels, mq = p[H.stages], p[H.levels], p[H.chunk_rows]
    C, vs = p[H.cols], p[H.v_splits]
    u = p[H.step] // stages
    t = p[H.step] % stages
    if u >= p[H.rounds]:
        return
    rep, nrep = r[R.replica], p[H.replicas]
    mcc = _rows(p, u * nrep + (rep if u % 2 == 0 else nrep - 1 - rep))    # zigzag over rounds
    if mcc == 0:
        return
    nb = r[R.n_blocks]
    rec = r[R.count + u * (nb + 2 * levels + 1):]
    if t == 0:
        first = True
        for i in range(nb):
            if rec[i] > 0:
                _block(ctx, p, r, u, i, rec[i], first, mcc)
                first = False
    elif rec[nb + 2 * (t - 1)] >= 2:                      # merge or take level t - 1
        if rec[nb + 2 * (t - 1)] == 2:
            _merge(ctx, p, mcc)
        else:
            vec_copy(ctx, p[H.recv_buf], 0, p[H.part_buf], 0, (2 + vs * C) * mcc)
    if t < levels and rec[nb + 2 * t] == 1:               # send level t
        dst = np.empty(1, np.int64)
        dst[0] = rec[nb + 2 * t + 1]
        send(ctx, dst, p[H.part_buf], 0, p[H.recv_buf], 0, (2 + vs * C) * mcc * 4)
    if t == levels and rec[nb + 2 * levels] == 1:         # the root normalizes into Y
        V = p[H.vec_buf]
        vec_max(ctx, p[H.part_buf], mcc * 4, p[H.const_buf], C_FLTMIN * mq * 4, V, V_LB * mq * 4,
                mcc)
        vec_reciprocal(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc)
        for k in range(vs):
            vec_mul_rows(ctx, p[H.part_buf], (2 + k * C) * mcc * 4, V, V_LB * mq * 4, p[H.y_buf],
                         ((u * vs + k) * mq) * C * 4, mcc * C, C)


AT_KV = TileKernel("at_kv", numba=at_kv, c="chipemu_kernel_at_kv")
AT_Q = TileKernel("at_q", numba=at_q, c="chipemu_kernel_at_q")
AT_APPEND = TileKernel("at_append", numba=at_append, c="chipemu_kernel_at_append")
AT_INGEST = TileKernel("at_ingest", numba=at_ingest, c="chipemu_kernel_at_ingest")
AT_STEP = TileKernel("at_step", numba=at_step, c="chipemu_kernel_at_step")
