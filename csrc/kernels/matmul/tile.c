/* matmul_tile.c — tile kernels of the matmul; Numba twins in kernels/matmul/tile.py (the
 * parameter layout and the superstep schedule are documented there, word for word the same). */
#include "chipemu_kernel.h"

enum {
    H_STEP, H_STAGES, H_CHUNKS, H_MC, H_M, H_PARTS, H_RB, H_C, H_R, H_FA, H_FW, H_SLOTS, H_PASSES,
    H_G, H_LEVELS, H_WB, H_PROW, H_PIECES, H_XHOME, H_X, H_Y, H_ACC, H_RECV, H_W, H_WHOST, H_XHOST,
    H_NBPT, H_KPT, H_REPLICAS, H_ROUNDS, H_COUNT
};
enum {
    R_ACTIVE, R_MEMBER, R_GBASE, R_NNB, R_KRUN, R_WOFF, R_XOFF, R_XBYTES, R_NPIECES, R_REPLICA,
    R_NKG
};

static int64_t x_off(const int64_t *p, int64_t u, int64_t j, int64_t row) {
    return (((u % 2) * p[H_KPT] + j) * p[H_MC] + row) * p[H_RB];
}

static int64_t rows_of(const int64_t *p, int64_t c) {
    int64_t end = p[H_M] < (c + 1) * p[H_MC] ? p[H_M] : (c + 1) * p[H_MC];
    return end - c * p[H_MC] > 0 ? end - c * p[H_MC] : 0;
}

void chipemu_kernel_mm_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t blocks = r[R_NNB] * r[R_KRUN], wb = p[H_WB];
    if (p[H_PASSES] == 1) {
        for (int64_t i = 0; i < blocks; i++) {
            host_read(ctx, p[H_WHOST], r[R_WOFF] + i * wb, p[H_W], 0, wb);
            dimc_load(ctx, i, p[H_W], 0, 0, p[H_R], p[H_FW]);
        }
    } else {
        host_read(ctx, p[H_WHOST], r[R_WOFF], p[H_W], 0, blocks * wb);
    }
    if (r[R_XBYTES] > 0) host_read(ctx, p[H_XHOST], r[R_XOFF], p[H_XHOME], 0, r[R_XBYTES]);
}

void chipemu_kernel_mm_step(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t s = p[H_STEP], stages = p[H_STAGES], rounds = p[H_ROUNDS], rb = p[H_RB];
    int64_t rep = r[R_REPLICA], nrep = p[H_REPLICAS];
    int64_t nkg = r[R_NKG];
    const int64_t *kg = r + R_NKG + 1;
    int64_t pc = R_NKG + 1 + nkg;
    int64_t um = s == 0 ? 0 : ((s - 1) % stages == 0 ? (s - 1) / stages + 1 : rounds);
    if (um < rounds) {                                     /* multicast the pieces of round um */
        int64_t mcc = rows_of(p, um * nrep + rep);
        for (int64_t i = 0; i < r[R_NPIECES]; i++) {
            int64_t j = r[pc + 2 * i], q = r[pc + 2 * i + 1];
            int64_t r0 = mcc * q / p[H_PARTS], r1 = mcc * (q + 1) / p[H_PARTS];
            if (r1 > r0)
                send(ctx, kg, nkg, p[H_XHOME], (um * p[H_PIECES] + i) * p[H_PROW] * rb, p[H_X],
                     x_off(p, um, j, r0), (r1 - r0) * rb);
        }
    }
    if (s < 1) return;
    int64_t u = (s - 1) / stages, t = (s - 1) % stages;
    int64_t mcc = u < rounds ? rows_of(p, u * nrep + rep) : 0;
    if (mcc == 0) return;
    int64_t ybytes = p[H_MC] * p[H_C] * 4, g = p[H_G];
    if (t == 0) {
        int64_t blocks = r[R_NNB] * r[R_KRUN], slots = p[H_SLOTS];
        for (int64_t i0 = 0; i0 < blocks; i0 += slots) {
            int64_t i1 = blocks < i0 + slots ? blocks : i0 + slots;
            if (p[H_PASSES] > 1)
                for (int64_t i = i0; i < i1; i++)
                    dimc_load(ctx, i % slots, p[H_W], i * p[H_WB], 0, p[H_R], p[H_FW]);
            for (int64_t i = i0; i < i1; i++) {
                int64_t nbi = i / r[R_KRUN], kbl = i % r[R_KRUN], dbuf, doff;
                if (g > 1) {
                    dbuf = p[H_ACC];
                    doff = (u % 2) * ybytes;
                } else {
                    dbuf = p[H_Y];
                    doff = (u * p[H_NBPT] + nbi) * ybytes;
                }
                dimc_mvm(ctx, 0, i % slots, p[H_X], x_off(p, u, kbl, 0), dbuf, doff, mcc, p[H_R],
                         p[H_FA], kbl > 0 ? 1 : 0);
            }
        }
    }
    if (g == 1) return;
    int64_t q = (r[R_MEMBER] - u % g + g) % g;
    int64_t ao = (u % 2) * ybytes;                         /* acc is double-buffered by round */
    if (t >= 1) {                                          /* receive level t - 1 */
        int64_t half = (int64_t)1 << (t - 1);
        if (q % (2 * half) == 0 && q + half < g) {
            if (q == 0 && t == p[H_LEVELS])
                vec_add(ctx, p[H_ACC], ao, p[H_RECV], (t - 1) * ybytes, p[H_Y], (u / g) * ybytes,
                        mcc * p[H_C]);
            else
                vec_add(ctx, p[H_ACC], ao, p[H_RECV], (t - 1) * ybytes, p[H_ACC], ao, mcc * p[H_C]);
        }
    }
    if (t < p[H_LEVELS]) {                                 /* send level t */
        int64_t half = (int64_t)1 << t;
        if (q % (2 * half) == half) {
            int64_t dst = r[R_GBASE] + (q - half + u % g) % g;
            send(ctx, &dst, 1, p[H_ACC], ao, p[H_RECV], t * ybytes, mcc * p[H_C] * 4);
        }
    }
}
