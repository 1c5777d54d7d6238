/* attention/tile.c — tile kernels of attention; Numba twins in kernels/attention/tile.py (the
 * online softmax and the merge are documented there, word for word). The parameter layouts are
 * declared by name in kernels/attention/params.py; params.h is generated from them. */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

enum { V_MB, V_MN, V_NG, V_AL, V_LB };
enum { C_MINIT, C_MINUS1, C_FLTMIN };
#define FP32 0

void chipemu_kernel_at_kv(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t per = p[H_D_SPLITS] + p[H_V_SPLITS], sb = p[H_SLOT_BYTES];
    if (p[H_VECTOR] == 1) {                                /* K and V^T stay in SRAM, in fp32 */
        host_read(ctx, p[H_KV_HOST], r[R_KV_HOST_OFF], p[H_W_BUF], 0, r[R_N_BLOCKS] * per * sb);
        return;
    }
    for (int64_t i = 0; i < r[R_N_BLOCKS] * per; i++) {
        host_read(ctx, p[H_KV_HOST], r[R_KV_HOST_OFF] + i * sb, p[H_W_BUF], 0, sb);
        dimc_load(ctx, p[H_SLOT_BASE] + i, p[H_W_BUF], 0, 0, p[H_ROWS], p[H_KV_FMT]);
    }
}

void chipemu_kernel_at_q(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    if (r[R_Q_BYTES] > 0)                                  /* 0: quantized on the device */
        host_read(ctx, p[H_Q_HOST], r[R_Q_HOST_OFF], p[H_Q_BUF], 0, r[R_Q_BYTES]);
    if (r[R_BIAS_BYTES] > 0)
        host_read(ctx, p[H_BIAS_HOST], r[R_BIAS_HOST_OFF], p[H_BIAS_BUF], 0, r[R_BIAS_BYTES]);
    if (p[H_CONSTS] == 1)                                  /* 0: resident (a cache's device path) */
        host_read(ctx, p[H_CONST_HOST], 0, p[H_CONST_BUF], 0, 3 * p[H_CHUNK_ROWS] * 4);
}

void chipemu_kernel_at_append(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[APPEND_H_COUNT + tile];
    for (int64_t i = 0; i < r[APPEND_R_WRITES]; i++) {
        const int64_t *w = r + APPEND_R_COUNT + 5 * i;
        host_read(ctx, p[APPEND_H_KV_HOST], w[1], p[APPEND_H_W_BUF], 0, w[2]);
        if (p[APPEND_H_KV_DRAM] == 1)
            dram_write(ctx, p[APPEND_H_W_BUF], 0, r[APPEND_R_DRAM_BUF], w[0], w[2]);
        else
            dimc_load(ctx, w[0], p[APPEND_H_W_BUF], 0, w[3], w[4], p[APPEND_H_KV_FMT]);
    }
}

void chipemu_kernel_at_ingest(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p) || !kernel_word(ctx, p, INGEST_H_PHASE, 0, 2)
        || !kernel_word(ctx, p, INGEST_H_CHUNK_ROWS, 1, INT64_MAX))
        return;
    (void)step;
    const int64_t *r = p + p[INGEST_H_COUNT + tile];
    if (r[INGEST_R_ACTIVE] == 0) return;
    int64_t D = p[INGEST_H_HEAD_DIM], R_ = p[INGEST_H_ROWS], C = p[INGEST_H_COLS];
    int64_t bk = p[INGEST_H_BLOCK_KEYS];
    int64_t ds = p[INGEST_H_D_SPLITS], vs = p[INGEST_H_V_SPLITS], kf = p[INGEST_H_KV_FMT];
    int64_t at = INGEST_R_COUNT + r[INGEST_R_N_DST] + 4 * r[INGEST_R_N_ROUTES];
    if (p[INGEST_H_PHASE] == 0) {
        at += 6 * r[INGEST_R_N_COMMITS];
        for (int64_t i = 0; i < r[INGEST_R_N_LOADS]; i++) {
            const int64_t *w = r + at + 4 * i;
            host_read(ctx, p[INGEST_H_HOST], w[0], w[1], w[2], w[3]);
        }
    } else if (p[INGEST_H_PHASE] == 1 && r[INGEST_R_HOME] == 1) {
        int64_t G = p[INGEST_H_GROUP], sq = p[INGEST_H_NEW_ROWS], mq = p[INGEST_H_CHUNK_ROWS];
        int64_t qrb = p[INGEST_H_Q_ROW_BYTES];
        int64_t QS = p[INGEST_H_QS_BUF], Q = p[INGEST_H_Q_BUF];
        vec_mul_rows(ctx, p[INGEST_H_Q_IN], 0, p[INGEST_H_SCALE_BUF], 0, QS, 0, sq * G * D, D);
        for (int64_t g = 0; g < G; g++)              /* query row g * sq + i: head g, token i */
            for (int64_t i = 0; i < sq; i++) {
                int64_t c = (g * sq + i) / mq, rr = (g * sq + i) % mq;
                for (int64_t sd = 0; sd < ds; sd++)
                    vec_convert(ctx, QS, ((i * G + g) * D + sd * R_) * 4, Q,
                                ((c * ds + sd) * mq + rr) * qrb, R_, R_, p[INGEST_H_FMT], FP32);
            }
        if (r[INGEST_R_N_DST] > 0)
            send(ctx, r + INGEST_R_COUNT, r[INGEST_R_N_DST], Q, 0, Q, 0,
                 p[INGEST_H_CHUNKS] * ds * mq * qrb);
        for (int64_t i = 0; i < r[INGEST_R_N_ROUTES]; i++) {
            const int64_t *w = r + INGEST_R_COUNT + r[INGEST_R_N_DST] + 4 * i;
            const int64_t pairs[2][2] = {{p[INGEST_H_K_IN], p[INGEST_H_KS_BUF]},
                                         {p[INGEST_H_V_IN], p[INGEST_H_VS_BUF]}};
            for (int k = 0; k < 2; k++) {
                if (w[0] == tile)
                    vec_copy(ctx, pairs[k][0], w[1] * D * 4, pairs[k][1], w[3] * D * 4, w[2] * D);
                else
                    send(ctx, w, 1, pairs[k][0], w[1] * D * 4, pairs[k][1], w[3] * D * 4,
                         w[2] * D * 4);
            }
        }
    } else if (p[INGEST_H_PHASE] == 2) {
        int64_t W = p[INGEST_H_W_BUF], sb = p[INGEST_H_SLOT_BYTES];
        int dram = p[INGEST_H_KV_DRAM] == 1;
        for (int64_t i = 0; i < r[INGEST_R_N_COMMITS]; i++) {
            const int64_t *w = r + at + 6 * i;
            int64_t s0 = p[INGEST_H_SLOT_BASE] + w[0] * (ds + vs);
            int64_t img = r[INGEST_R_DRAM_OFF] + w[0] * (ds + vs) * sb;  /* slot images in DRAM */
            for (int64_t sd = 0; sd < ds; sd++) {        /* K^T: the block's keys are columns */
                vec_convert_weights(ctx, p[INGEST_H_KS_BUF], (w[5] * D + sd * R_) * 4, D, w[1], 1,
                                    W, 0, R_, bk, kf);
                if (dram)
                    dram_write(ctx, W, 0, r[INGEST_R_DRAM_BUF], img + sd * sb, sb);
                else
                    dimc_load(ctx, s0 + sd, W, 0, 0, R_, kf);
            }
            for (int64_t t = 0; t < vs; t++) {           /* V: the rows of the touched groups */
                vec_convert_weights(ctx, p[INGEST_H_VS_BUF], ((w[5] + w[2]) * D + t * C) * 4, D,
                                    w[4], 0, W, 0, w[3], C, kf);
                if (dram)                                /* whole groups: sb * rows / R bytes */
                    dram_write(ctx, W, 0, r[INGEST_R_DRAM_BUF],
                               img + (ds + t) * sb + sb * w[2] / R_, sb * w[3] / R_);
                else
                    dimc_load(ctx, s0 + ds + t, W, 0, w[2], w[3], kf);
            }
        }
    }
}

static int64_t rows_of(const int64_t *p, int64_t c) {
    int64_t mq = p[H_CHUNK_ROWS];
    int64_t end = p[H_Q_ROWS] < (c + 1) * mq ? p[H_Q_ROWS] : (c + 1) * mq;
    return end - c * mq > 0 ? end - c * mq : 0;
}

static void block(chipemu_ctx *ctx, const int64_t *p, const int64_t *r, int64_t u, int64_t i,
                  int64_t code, int first, int64_t mcc) {
    int64_t mq = p[H_CHUNK_ROWS], bk = p[H_BLOCK_KEYS], C = p[H_COLS], vs = p[H_V_SPLITS];
    int64_t ds = p[H_D_SPLITS], qrb = p[H_Q_ROW_BYTES], sb = p[H_SLOT_BYTES];
    int64_t per = ds + vs, n = mcc * bk;
    int64_t s0 = p[H_SLOT_BASE] + i * per;                 /* the block's first DIMC slot */
    int64_t V = p[H_VEC_BUF], PART = p[H_PART_BUF], S = p[H_S_BUF], W = p[H_W_BUF];
    int vector = p[H_VECTOR] == 1;
    if (p[H_KV_DRAM] == 1) {                               /* homed in DRAM: read, load first */
        s0 = p[H_SLOT_BASE];
        dram_read(ctx, r[R_KV_DRAM_BUF], r[R_KV_DRAM_OFF] + i * per * sb, W, 0, per * sb);
        for (int64_t j = 0; j < per; j++)
            dimc_load(ctx, s0 + j, W, j * sb, 0, p[H_ROWS], p[H_KV_FMT]);
    }
    if (vector)                                            /* S = Q K^T on the vector unit */
        vec_dot(ctx, p[H_Q_BUF], u * mq * qrb, W, 2 * i * sb, S, 0, mcc, bk, qrb / 4, 0);
    for (int64_t sd = 0; sd < (vector ? 0 : ds); sd++)
        dimc_mvm(ctx, 0, s0 + sd, p[H_Q_BUF], ((u * ds + sd) * mq) * qrb, S, 0, mcc,
                 p[H_ROWS], p[H_FMT], sd > 0 ? 1 : 0);
    if (code >= 2) vec_add(ctx, S, 0, p[H_BIAS_BUF], (code - 2) * mq * bk * 4, S, 0, n);
    vec_row_max(ctx, S, 0, V, V_MB * mq * 4, n, bk);
    if (first)
        vec_max(ctx, p[H_CONST_BUF], C_MINIT * mq * 4, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc);
    else
        vec_max(ctx, PART, 0, V, V_MB * mq * 4, V, V_MN * mq * 4, mcc);
    vec_mul(ctx, V, V_MN * mq * 4, p[H_CONST_BUF], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc);
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
        vec_dot(ctx, S, 0, W, (2 * i + 1) * sb, PART, 2 * mcc * 4, mcc, C, bk, first ? 0 : 1);
    else
        vec_convert(ctx, S, 0, p[H_P_BUF], 0, n, bk, p[H_FMT], FP32);
    for (int64_t t = 0; t < (vector ? 0 : vs); t++)
        dimc_mvm(ctx, 0, s0 + ds + t, p[H_P_BUF], 0, PART, (2 + t * C) * mcc * 4, mcc, bk,
                 p[H_FMT], first ? 0 : 1);
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc);
}

static void merge(chipemu_ctx *ctx, const int64_t *p, int64_t mcc) {
    int64_t mq = p[H_CHUNK_ROWS], C = p[H_COLS];
    int64_t V = p[H_VEC_BUF], PART = p[H_PART_BUF], RV = p[H_RECV_BUF];
    vec_max(ctx, PART, 0, RV, 0, V, V_MN * mq * 4, mcc);
    vec_mul(ctx, V, V_MN * mq * 4, p[H_CONST_BUF], C_MINUS1 * mq * 4, V, V_NG * mq * 4, mcc);
    vec_add(ctx, PART, 0, V, V_NG * mq * 4, V, V_AL * mq * 4, mcc);
    vec_exp(ctx, V, V_AL * mq * 4, V, V_AL * mq * 4, mcc);
    vec_add(ctx, RV, 0, V, V_NG * mq * 4, V, V_LB * mq * 4, mcc);
    vec_exp(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc);
    vec_mul(ctx, PART, mcc * 4, V, V_AL * mq * 4, PART, mcc * 4, mcc);
    vec_mul(ctx, RV, mcc * 4, V, V_LB * mq * 4, RV, mcc * 4, mcc);
    vec_add(ctx, PART, mcc * 4, RV, mcc * 4, PART, mcc * 4, mcc);
    for (int64_t t = 0; t < p[H_V_SPLITS]; t++) {
        int64_t o = (2 + t * C) * mcc * 4;
        vec_mul_rows(ctx, PART, o, V, V_AL * mq * 4, PART, o, mcc * C, C);
        vec_mul_rows(ctx, RV, o, V, V_LB * mq * 4, RV, o, mcc * C, C);
        vec_add(ctx, PART, o, RV, o, PART, o, mcc * C);
    }
    vec_copy(ctx, V, V_MN * mq * 4, PART, 0, mcc);
}

void chipemu_kernel_at_step(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p) || !kernel_word(ctx, p, H_STAGES, 1, INT64_MAX)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t stages = p[H_STAGES], levels = p[H_LEVELS], mq = p[H_CHUNK_ROWS];
    int64_t C = p[H_COLS], vs = p[H_V_SPLITS];
    int64_t u = p[H_STEP] / stages, t = p[H_STEP] % stages;
    if (u >= p[H_ROUNDS]) return;
    int64_t rep = r[R_REPLICA], nrep = p[H_REPLICAS];
    int64_t mcc = rows_of(p, u * nrep + (u % 2 == 0 ? rep : nrep - 1 - rep)); /* zigzag */
    if (mcc == 0) return;
    int64_t nb = r[R_N_BLOCKS];
    const int64_t *rec = r + R_COUNT + u * (nb + 2 * levels + 1);
    if (t == 0) {
        int first = 1;
        for (int64_t i = 0; i < nb; i++) {
            if (rec[i] > 0) {
                block(ctx, p, r, u, i, rec[i], first, mcc);
                first = 0;
            }
        }
    } else if (rec[nb + 2 * (t - 1)] >= 2) {               /* merge or take level t - 1 */
        if (rec[nb + 2 * (t - 1)] == 2)
            merge(ctx, p, mcc);
        else
            vec_copy(ctx, p[H_RECV_BUF], 0, p[H_PART_BUF], 0, (2 + vs * C) * mcc);
    }
    if (t < levels && rec[nb + 2 * t] == 1) {               /* send level t */
        int64_t dst = rec[nb + 2 * t + 1];
        send(ctx, &dst, 1, p[H_PART_BUF], 0, p[H_RECV_BUF], 0, (2 + vs * C) * mcc * 4);
    }
    if (t == levels && rec[nb + 2 * levels] == 1) {         /* the root normalizes into Y */
        int64_t V = p[H_VEC_BUF];
        vec_max(ctx, p[H_PART_BUF], mcc * 4, p[H_CONST_BUF], C_FLTMIN * mq * 4, V, V_LB * mq * 4,
                mcc);
        vec_reciprocal(ctx, V, V_LB * mq * 4, V, V_LB * mq * 4, mcc);
        for (int64_t k = 0; k < vs; k++)
            vec_mul_rows(ctx, p[H_PART_BUF], (2 + k * C) * mcc * 4, V, V_LB * mq * 4, p[H_Y_BUF],
                         ((u * vs + k) * mq) * C * 4, mcc * C, C);
    }
}
