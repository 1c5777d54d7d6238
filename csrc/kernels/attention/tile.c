/* attention_tile.c — tile kernels of attention; Numba twins in kernels/attention/tile.py (the
 * parameter layout, the online softmax and the merge are documented there, word for word). */
#include "chipemu_kernel.h"

enum {
    A_STEP, A_STAGES, A_ROUNDS, A_MQ, A_NQ, A_R, A_C, A_BK, A_DS, A_VS, A_FMT, A_KVFMT, A_SB,
    A_QRB, A_LEVELS, A_CHUNKS, A_REPL, A_W, A_Q, A_S, A_P, A_PART, A_VEC, A_RECV, A_Y, A_BIAS,
    A_CONST, A_KVHOST, A_QHOST, A_BHOST, A_CHOST, A_VECTOR, A_COUNT
};
enum { T_ACTIVE, T_MEMBER, T_REPLICA, T_NBLK, T_KVOFF, T_QOFF, T_QBYTES, T_BOFF, T_BBYTES, T_HEAD };
enum { V_MB, V_MN, V_NG, V_AL, V_LB };
enum { C_MINIT, C_MINUS1, C_FLTMIN };
#define FP32 0

void chipemu_kernel_at_kv(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *r = p + p[A_COUNT + tile];
    if (r[T_ACTIVE] == 0) return;
    int64_t per = p[A_DS] + p[A_VS], sb = p[A_SB];
    if (p[A_VECTOR] == 1) {                                /* K and V^T stay in SRAM, in fp32 */
        host_read(ctx, p[A_KVHOST], r[T_KVOFF], p[A_W], 0, r[T_NBLK] * per * sb);
        return;
    }
    for (int64_t i = 0; i < r[T_NBLK] * per; i++) {
        host_read(ctx, p[A_KVHOST], r[T_KVOFF] + i * sb, p[A_W], 0, sb);
        dimc_load(ctx, i, p[A_W], 0, 0, p[A_R], p[A_KVFMT]);
    }
}

void chipemu_kernel_at_q(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *r = p + p[A_COUNT + tile];
    if (r[T_ACTIVE] == 0) return;
    host_read(ctx, p[A_QHOST], r[T_QOFF], p[A_Q], 0, r[T_QBYTES]);
    if (r[T_BBYTES] > 0) host_read(ctx, p[A_BHOST], r[T_BOFF], p[A_BIAS], 0, r[T_BBYTES]);
    host_read(ctx, p[A_CHOST], 0, p[A_CONST], 0, 3 * p[A_MQ] * 4);
}

void chipemu_kernel_at_append(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *r = p + p[3 + tile];
    for (int64_t i = 0; i < r[0]; i++) {
        const int64_t *w = r + 1 + 5 * i;
        host_read(ctx, p[1], w[1], p[0], 0, w[2]);
        dimc_load(ctx, w[0], p[0], 0, w[3], w[4], p[2]);
    }
}

static int64_t rows_of(const int64_t *p, int64_t c) {
    int64_t end = p[A_NQ] < (c + 1) * p[A_MQ] ? p[A_NQ] : (c + 1) * p[A_MQ];
    return end - c * p[A_MQ] > 0 ? end - c * p[A_MQ] : 0;
}

static void block(chipemu_ctx *ctx, const int64_t *p, int64_t u, int64_t i, int64_t code,
                  int first, int64_t mcc) {
    int64_t mq = p[A_MQ], bk = p[A_BK], C = p[A_C], vs = p[A_VS];
    int64_t per = p[A_DS] + vs, n = mcc * bk;
    int64_t V = p[A_VEC], PART = p[A_PART], S = p[A_S];
    int vector = p[A_VECTOR] == 1;
    if (vector)                                            /* S = Q K^T on the vector unit */
        vec_dot(ctx, p[A_Q], u * mq * p[A_QRB], p[A_W], 2 * i * p[A_SB], S, 0, mcc, bk,
                p[A_QRB] / 4, 0);
    for (int64_t sd = 0; sd < (vector ? 0 : p[A_DS]); sd++)
        dimc_mvm(ctx, 0, i * per + sd, p[A_Q], ((u * p[A_DS] + sd) * mq) * p[A_QRB], S, 0, mcc,
                 p[A_R], p[A_FMT], sd > 0 ? 1 : 0);
    if (code >= 2) vec_add(ctx, S, 0, p[A_BIAS], (code - 2) * mq * bk * 4, S, 0, n);
    vec_row_max(ctx, S, 0, V, V_MB * mq * 4, n, bk);
    if (first)
        vec_max(ctx, p[A_CONST], C_MINIT * mq * 4, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc);
    else
        vec_max(ctx, PART, 0, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc);
    vec_mul(ctx, V, V_MN * mq * 4, p[A_CONST], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc);
    if (!first) {
        vec_add(ctx, PART, 0, V, V_NG * mq * 4, V, V_AL * mq * 4, mcc);
        vec_exp(ctx, V, V_AL * mq * 4, V, V_AL * mq * 4, mcc);
    }
    vec_add_rows(ctx, S, 0, V, V_NG * mq * 4, S, 0, n, bk);
    vec_exp(ctx, S, 0, S, 0, n);
    if (first) {
        vec_row_sum(ctx, S, 0, PART, mcc * 4, n, bk);
    } else {
        vec_row_sum(ctx, S, 0, V, V_LB * mq * 4, n, bk);
        vec_mul(ctx, PART, mcc * 4, V, V_AL * mq * 4, PART, mcc * 4, mcc);
        vec_add(ctx, PART, mcc * 4, V, V_LB * mq * 4, PART, mcc * 4, mcc);
        for (int64_t t = 0; t < vs; t++) {
            int64_t o = (2 + t * C) * mcc * 4;
            vec_mul_rows(ctx, PART, o, V, V_AL * mq * 4, PART, o, mcc * C, C);
        }
    }
    if (vector)                                            /* O (+)= P V = P (V^T)^T */
        vec_dot(ctx, S, 0, p[A_W], (2 * i + 1) * p[A_SB], PART, 2 * mcc * 4, mcc, C, bk,
                first ? 0 : 1);
    else
        vec_convert(ctx, S, 0, p[A_P], 0, n, bk, p[A_FMT], FP32);
    for (int64_t t = 0; t < (vector ? 0 : vs); t++)
        dimc_mvm(ctx, 0, i * per + p[A_DS] + t, p[A_P], 0, PART, (2 + t * C) * mcc * 4, mcc, bk,
                 p[A_FMT], first ? 0 : 1);
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc);
}

static void merge(chipemu_ctx *ctx, const int64_t *p, int64_t mcc) {
    int64_t mq = p[A_MQ], C = p[A_C];
    int64_t V = p[A_VEC], PART = p[A_PART], RV = p[A_RECV];
    vec_max(ctx, PART, 0, RV, 0, V, V_MN * mq * 4, mcc);
    vec_mul(ctx, V, V_MN * mq * 4, p[A_CONST], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc);
    vec_add(ctx, PART, 0, V, V_NG * mq * 4, V, V_AL * mq * 4, mcc);
    vec_exp(ctx, V, V_AL * mq * 4, V, V_AL * mq * 4, mcc);
    vec_add(ctx, RV, 0, V, V_NG * mq * 4, V, V_LB * mq * 4, mcc);
    vec_exp(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc);
    vec_mul(ctx, PART, mcc * 4, V, V_AL * mq * 4, PART, mcc * 4, mcc);
    vec_mul(ctx, RV, mcc * 4, V, V_LB * mq * 4, RV, mcc * 4, mcc);
    vec_add(ctx, PART, mcc * 4, RV, mcc * 4, PART, mcc * 4, mcc);
    for (int64_t t = 0; t < p[A_VS]; t++) {
        int64_t o = (2 + t * C) * mcc * 4;
        vec_mul_rows(ctx, PART, o, V, V_AL * mq * 4, PART, o, mcc * C, C);
        vec_mul_rows(ctx, RV, o, V, V_LB * mq * 4, RV, o, mcc * C, C);
        vec_add(ctx, PART, o, RV, o, PART, o, mcc * C);
    }
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc);
}

void chipemu_kernel_at_step(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *r = p + p[A_COUNT + tile];
    if (r[T_ACTIVE] == 0) return;
    int64_t stages = p[A_STAGES], levels = p[A_LEVELS], mq = p[A_MQ], C = p[A_C], vs = p[A_VS];
    int64_t u = p[A_STEP] / stages, t = p[A_STEP] % stages;
    if (u >= p[A_ROUNDS]) return;
    int64_t rep = r[T_REPLICA], nrep = p[A_REPL];
    int64_t mcc = rows_of(p, u * nrep + (u % 2 == 0 ? rep : nrep - 1 - rep)); /* zigzag */
    if (mcc == 0) return;
    int64_t nb = r[T_NBLK];
    const int64_t *rec = r + T_HEAD + u * (nb + 2 * levels + 1);
    if (t == 0) {
        int first = 1;
        for (int64_t i = 0; i < nb; i++) {
            if (rec[i] > 0) {
                block(ctx, p, u, i, rec[i], first, mcc);
                first = 0;
            }
        }
    } else if (rec[nb + 2 * (t - 1)] >= 2) {               /* merge or take level t - 1 */
        if (rec[nb + 2 * (t - 1)] == 2)
            merge(ctx, p, mcc);
        else
            vec_copy(ctx, p[A_RECV], 0, p[A_PART], 0, (2 + vs * C) * mcc);
    }
    if (t < levels && rec[nb + 2 * t] == 1) {               /* send level t */
        int64_t dst = rec[nb + 2 * t + 1];
        send(ctx, &dst, 1, p[A_PART], 0, p[A_RECV], 0, (2 + vs * C) * mcc * 4);
    }
    if (t == levels && rec[nb + 2 * levels] == 1) {         /* the root normalizes into Y */
        int64_t V = p[A_VEC];
        vec_max(ctx, p[A_PART], mcc * 4, p[A_CONST], C_FLTMIN * mq * 4, V, V_LB * mq * 4, mcc);
        vec_reciprocal(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc);
        for (int64_t k = 0; k < vs; k++)
            vec_mul_rows(ctx, p[A_PART], (2 + k * C) * mcc * 4, V, V_LB * mq * 4, p[A_Y],
                         ((u * vs + k) * mq) * C * 4, mcc * C, C);
    }
}
