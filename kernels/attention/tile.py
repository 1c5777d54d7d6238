"""Tile kernels of attention: Numba twins of csrc/kernels/attention/tile.c, line for line.

Parameters `p` (built by kernels/attention/data.py): header A_* below, then per global tile the
offset of its record: [active, member, replica, n_blocks, kv_host_off, q_host_off, q_bytes,
bias_host_off, bias_bytes, then per round u: n_blocks block codes (0 skip, 1 compute, 2 + i
compute with bias block i), per merge level (action, partner tile), final flag].

`at_kv`: host -> SRAM -> DIMC for the tile's K^T and V slots; `at_q`: its query rows, bias blocks
and constants; `at_append` (KV cache): rewrites given rows of given slots. `at_step`: compute superstep s = u * S + t (S = levels + 1) of round u: t = 0 the key
blocks with the online softmax (then the level-0 send), t >= 1 the merge of level t - 1 (then
the send of level t), the root normalizes at t = levels. Actions: 1 send, 2 merge, 3 take.
PART holds [m | l | O_0 | O_1 ...] of the chunk's rows (O_t: rows x C), packed by its row count.
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (dimc_load, dimc_mvm, host_read, send, vec_add,
                                         vec_add_rows, vec_convert, vec_copy, vec_dot, vec_exp,
                                         vec_max, vec_mul, vec_mul_rows, vec_reciprocal,
                                         vec_row_max, vec_row_sum)
from chipemu.emulator.runtime.machine import TileKernel

__all__ = ["AT_KV", "AT_Q", "AT_APPEND", "AT_STEP", "A_COUNT", "T_HEAD", "FP32"]

(A_STEP, A_STAGES, A_ROUNDS, A_MQ, A_NQ, A_R, A_C, A_BK, A_DS, A_VS, A_FMT, A_KVFMT, A_SB,
 A_QRB, A_LEVELS, A_CHUNKS, A_REPL, A_W, A_Q, A_S, A_P, A_PART, A_VEC, A_RECV, A_Y, A_BIAS,
 A_CONST, A_KVHOST, A_QHOST, A_BHOST, A_CHOST, A_VECTOR, A_COUNT) = range(33)
(T_ACTIVE, T_MEMBER, T_REPLICA, T_NBLK, T_KVOFF, T_QOFF, T_QBYTES, T_BOFF, T_BBYTES,
 T_HEAD) = range(10)
V_MB, V_MN, V_NG, V_AL, V_LB = range(5)                  # the VEC buffer's rows of mq floats
C_MINIT, C_MINUS1, C_FLTMIN = range(3)                    # the CONST buffer's rows of mq floats
FP32 = 0


@jit
def at_kv(ctx, tile, step, p):
    """Host -> SRAM -> DIMC: the tile's K^T and V slots, each written into its slot."""
    r = p[p[A_COUNT + tile]:]
    if r[T_ACTIVE] == 0:
        return
    per = p[A_DS] + p[A_VS]
    sb = p[A_SB]
    if p[A_VECTOR] == 1:                                  # K and V^T stay in SRAM, in fp32
        host_read(ctx, p[A_KVHOST], r[T_KVOFF], p[A_W], 0, r[T_NBLK] * per * sb)
        return
    for i in range(r[T_NBLK] * per):
        host_read(ctx, p[A_KVHOST], r[T_KVOFF] + i * sb, p[A_W], 0, sb)
        dimc_load(ctx, i, p[A_W], 0, 0, p[A_R], p[A_KVFMT])


@jit
def at_q(ctx, tile, step, p):
    """Host -> SRAM: the tile's query rows, bias blocks and the softmax constants."""
    r = p[p[A_COUNT + tile]:]
    if r[T_ACTIVE] == 0:
        return
    host_read(ctx, p[A_QHOST], r[T_QOFF], p[A_Q], 0, r[T_QBYTES])
    if r[T_BBYTES] > 0:
        host_read(ctx, p[A_BHOST], r[T_BOFF], p[A_BIAS], 0, r[T_BBYTES])
    host_read(ctx, p[A_CHOST], 0, p[A_CONST], 0, 3 * p[A_MQ] * 4)


@jit
def at_append(ctx, tile, step, p):
    """KV-cache writes: p = [w_sram, kv_host, fmt, then per global tile an offset of its list
    (n, then per write: slot, host offset, bytes, row0, rows)]; rewrites only those rows."""
    r = p[p[3 + tile]:]
    for i in range(r[0]):
        w = r[1 + 5 * i:6 + 5 * i]
        host_read(ctx, p[1], w[1], p[0], 0, w[2])
        dimc_load(ctx, w[0], p[0], 0, w[3], w[4], p[2])


@jit
def _rows(p, c):
    return max(0, min(p[A_NQ], (c + 1) * p[A_MQ]) - c * p[A_MQ])


@jit
def _block(ctx, p, u, i, code, first, mcc):
    """One key block of the online softmax for the chunk's mcc rows (docs/attention.md)."""
    mq, bk, C, vs = p[A_MQ], p[A_BK], p[A_C], p[A_VS]
    per = p[A_DS] + vs
    n = mcc * bk
    V, PART, S = p[A_VEC], p[A_PART], p[A_S]
    vector = p[A_VECTOR] == 1
    if vector:                                            # S = Q K^T on the vector unit
        vec_dot(ctx, p[A_Q], u * mq * p[A_QRB], p[A_W], 2 * i * p[A_SB], S, 0, mcc, bk,
                p[A_QRB] // 4, 0)
    for sd in range(0 if vector else p[A_DS]):
        dimc_mvm(ctx, 0, i * per + sd, p[A_Q], ((u * p[A_DS] + sd) * mq) * p[A_QRB], S, 0, mcc,
                 p[A_R], p[A_FMT], 1 if sd > 0 else 0)
    if code >= 2:
        vec_add(ctx, S, 0, p[A_BIAS], (code - 2) * mq * bk * 4, S, 0, n)
    vec_row_max(ctx, S, 0, V, V_MB * mq * 4, n, bk)
    if first:
        vec_max(ctx, p[A_CONST], C_MINIT * mq * 4, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc)
    else:
        vec_max(ctx, PART, 0, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc)
    vec_mul(ctx, V, V_MN * mq * 4, p[A_CONST], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc)
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
        vec_dot(ctx, S, 0, p[A_W], (2 * i + 1) * p[A_SB], PART, 2 * mcc * 4, mcc, C, bk,
                0 if first else 1)
    else:
        vec_convert(ctx, S, 0, p[A_P], 0, n, bk, p[A_FMT], FP32)
    for t in range(0 if vector else vs):
        dimc_mvm(ctx, 0, i * per + p[A_DS] + t, p[A_P], 0, PART, (2 + t * C) * mcc * 4, mcc, bk,
                 p[A_FMT], 0 if first else 1)
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc)


@jit
def _merge(ctx, p, mcc):
    """PART = merge(PART, RECV): both hold (m, l, O) of the same rows."""
    mq, C = p[A_MQ], p[A_C]
    V, PART, RV = p[A_VEC], p[A_PART], p[A_RECV]
    vec_max(ctx, PART, 0, RV, 0, V, V_MN * mq * 4, mcc)
    vec_mul(ctx, V, V_MN * mq * 4, p[A_CONST], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc)
    vec_add(ctx, PART, 0, V, V_NG * mq * 4, V, V_AL * mq * 4, mcc)
    vec_exp(ctx, V, V_AL * mq * 4, V, V_AL * mq * 4, mcc)
    vec_add(ctx, RV, 0, V, V_NG * mq * 4, V, V_LB * mq * 4, mcc)
    vec_exp(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc)
    vec_mul(ctx, PART, mcc * 4, V, V_AL * mq * 4, PART, mcc * 4, mcc)
    vec_mul(ctx, RV, mcc * 4, V, V_LB * mq * 4, RV, mcc * 4, mcc)
    vec_add(ctx, PART, mcc * 4, RV, mcc * 4, PART, mcc * 4, mcc)
    for t in range(p[A_VS]):
        o = (2 + t * C) * mcc * 4
        vec_mul_rows(ctx, PART, o, V, V_AL * mq * 4, PART, o, mcc * C, C)
        vec_mul_rows(ctx, RV, o, V, V_LB * mq * 4, RV, o, mcc * C, C)
        vec_add(ctx, PART, o, RV, o, PART, o, mcc * C)
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc)


@jit
def at_step(ctx, tile, step, p):
    """One compute superstep of attention (see the module docstring)."""
    r = p[p[A_COUNT + tile]:]
    if r[T_ACTIVE] == 0:
        return
    stages, levels, mq, C, vs = p[A_STAGES], p[A_LEVELS], p[A_MQ], p[A_C], p[A_VS]
    u = p[A_STEP] // stages
    t = p[A_STEP] % stages
    if u >= p[A_ROUNDS]:
        return
    rep, nrep = r[T_REPLICA], p[A_REPL]
    mcc = _rows(p, u * nrep + (rep if u % 2 == 0 else nrep - 1 - rep))    # zigzag over rounds
    if mcc == 0:
        return
    nb = r[T_NBLK]
    rec = r[T_HEAD + u * (nb + 2 * levels + 1):]
    if t == 0:
        first = True
        for i in range(nb):
            if rec[i] > 0:
                _block(ctx, p, u, i, rec[i], first, mcc)
                first = False
    elif rec[nb + 2 * (t - 1)] >= 2:                      # merge or take level t - 1
        if rec[nb + 2 * (t - 1)] == 2:
            _merge(ctx, p, mcc)
        else:
            vec_copy(ctx, p[A_RECV], 0, p[A_PART], 0, (2 + vs * C) * mcc)
    if t < levels and rec[nb + 2 * t] == 1:               # send level t
        dst = np.empty(1, np.int64)
        dst[0] = rec[nb + 2 * t + 1]
        send(ctx, dst, p[A_PART], 0, p[A_RECV], 0, (2 + vs * C) * mcc * 4)
    if t == levels and rec[nb + 2 * levels] == 1:         # the root normalizes into Y
        V = p[A_VEC]
        vec_max(ctx, p[A_PART], mcc * 4, p[A_CONST], C_FLTMIN * mq * 4, V, V_LB * mq * 4, mcc)
        vec_reciprocal(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc)
        for k in range(vs):
            vec_mul_rows(ctx, p[A_PART], (2 + k * C) * mcc * 4, V, V_LB * mq * 4, p[A_Y],
                         ((u * vs + k) * mq) * C * 4, mcc * C, C)


AT_KV = TileKernel("at_kv", numba=at_kv, c="chipemu_kernel_at_kv")
AT_Q = TileKernel("at_q", numba=at_q, c="chipemu_kernel_at_q")
AT_APPEND = TileKernel("at_append", numba=at_append, c="chipemu_kernel_at_append")
AT_STEP = TileKernel("at_step", numba=at_step, c="chipemu_kernel_at_step")
