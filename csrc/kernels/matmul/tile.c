/* matmul/tile.c — tile kernels of the matmul; Numba twins in kernels/matmul/tile.py (the
 * superstep schedule is documented there, word for word the same). The parameter layout is
 * declared by name in kernels/matmul/params.py; params.h is generated from it. */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

static int64_t x_off(const int64_t *p, int64_t u, int64_t j, int64_t row) {
    return (((u % 2) * p[H_KPT] + j) * p[H_CHUNK_ROWS] + row) * p[H_ROW_BYTES];
}

static int64_t rows_of(const int64_t *p, int64_t c) {
    int64_t end = p[H_M] < (c + 1) * p[H_CHUNK_ROWS] ? p[H_M] : (c + 1) * p[H_CHUNK_ROWS];
    return end - c * p[H_CHUNK_ROWS] > 0 ? end - c * p[H_CHUNK_ROWS] : 0;
}

void chipemu_kernel_mm_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t blocks = r[R_N_NB] * r[R_K_RUN], wb = p[H_BLOCK_BYTES];
    if (p[H_PASSES] == 1) {
        for (int64_t i = 0; i < blocks; i++) {
            host_read(ctx, p[H_W_HOST], r[R_W_HOST_OFF] + i * wb, p[H_W_BUF], 0, wb);
            dimc_load(ctx, p[H_SLOT_BASE] + i, p[H_W_BUF], 0, 0, p[H_ROWS], p[H_FMT_W]);
        }
    } else {
        host_read(ctx, p[H_W_HOST], r[R_W_HOST_OFF], p[H_W_BUF], 0, blocks * wb);
    }
    if (r[R_X_BYTES] > 0)
        host_read(ctx, p[H_X_HOST], r[R_X_HOST_OFF], p[H_XHOME_BUF], 0, r[R_X_BYTES]);
}

void chipemu_kernel_mm_step(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    /* the schedule's divisors, and its shift counts below stages (a plan has stages <= 25) */
    if (!kernel_word(ctx, p, H_STAGES, 1, 62) || !kernel_word(ctx, p, H_PARTS, 1, INT64_MAX)
        || !kernel_word(ctx, p, H_GROUP, 1, INT64_MAX) || !kernel_word(ctx, p, H_SLOTS, 1, INT64_MAX))
        return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t s = p[H_STEP], stages = p[H_STAGES], rounds = p[H_ROUNDS], rb = p[H_ROW_BYTES];
    int64_t rep = r[R_REPLICA], nrep = p[H_REPLICAS];
    int64_t nkg = r[R_N_KG];
    const int64_t *kg = r + R_COUNT;             /* the tail: K-group tiles, pieces, group */
    int64_t pc = R_COUNT + nkg;
    int64_t um = s == 0 ? 0 : ((s - 1) % stages == 0 ? (s - 1) / stages + 1 : rounds);
    if (um < rounds) {                                     /* multicast the pieces of round um */
        int64_t mcc = rows_of(p, um * nrep + rep);
        for (int64_t i = 0; i < r[R_N_PIECES]; i++) {
            int64_t j = r[pc + 2 * i], q = r[pc + 2 * i + 1];
            int64_t r0 = mcc * q / p[H_PARTS], r1 = mcc * (q + 1) / p[H_PARTS];
            if (r1 > r0)
                send(ctx, kg, nkg, p[H_XHOME_BUF], (um * p[H_PIECES] + i) * p[H_PIECE_ROWS] * rb,
                     p[H_X_BUF], x_off(p, um, j, r0), (r1 - r0) * rb);
        }
    }
    if (s < 1) return;
    int64_t u = (s - 1) / stages, t = (s - 1) % stages;
    int64_t mcc = u < rounds ? rows_of(p, u * nrep + rep) : 0;
    if (mcc == 0) return;
    int64_t ybytes = p[H_CHUNK_ROWS] * p[H_COLS] * 4, g = p[H_GROUP];
    if (t == 0) {
        int64_t blocks = r[R_N_NB] * r[R_K_RUN], slots = p[H_SLOTS], s0 = p[H_SLOT_BASE];
        for (int64_t i0 = 0; i0 < blocks; i0 += slots) {
            int64_t i1 = blocks < i0 + slots ? blocks : i0 + slots;
            if (p[H_PASSES] > 1)
                for (int64_t i = i0; i < i1; i++)
                    dimc_load(ctx, s0 + i % slots, p[H_W_BUF], i * p[H_BLOCK_BYTES], 0,
                              p[H_ROWS], p[H_FMT_W]);
            for (int64_t i = i0; i < i1; i++) {
                int64_t nbi = i / r[R_K_RUN], kbl = i % r[R_K_RUN], dbuf, doff;
                if (g > 1) {
                    dbuf = p[H_ACC_BUF];
                    doff = (u % 2) * ybytes;
                } else {
                    dbuf = p[H_Y_BUF];
                    doff = (u * p[H_NB_PER_TILE] + nbi) * ybytes;
                }
                dimc_mvm(ctx, 0, s0 + i % slots, p[H_X_BUF], x_off(p, u, kbl, 0), dbuf, doff, mcc,
                         p[H_ROWS], p[H_FMT_X], kbl > 0 ? 1 : 0);
            }
        }
    }
    if (g == 1) return;
    int64_t q = (r[R_MEMBER] - u % g + g) % g;
    int64_t acc = p[H_ACC_BUF], recv = p[H_RECV_BUF], n = mcc * p[H_COLS];
    int64_t ao = (u % 2) * ybytes;                         /* acc is double-buffered by round */
    if (t >= 1) {                                          /* receive level t - 1 */
        int64_t half = (int64_t)1 << (t - 1);
        if (q % (2 * half) == 0 && q + half < g) {
            if (q == 0 && t == p[H_LEVELS])
                vec_add(ctx, acc, ao, recv, (t - 1) * ybytes, p[H_Y_BUF], (u / g) * ybytes, n);
            else
                vec_add(ctx, acc, ao, recv, (t - 1) * ybytes, acc, ao, n);
        }
    }
    if (t < p[H_LEVELS]) {                                 /* send level t */
        int64_t half = (int64_t)1 << t;
        if (q % (2 * half) == half) {
            int64_t dst = r[pc + 2 * r[R_N_PIECES] + (q - half + u % g) % g];  /* tail: group */
            send(ctx, &dst, 1, acc, ao, recv, t * ybytes, n * 4);
        }
    }
}
