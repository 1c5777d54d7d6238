/* microbench/tile.c — tile kernels of the microbenchmarks; Numba twins in
 * kernels/microbench/tile.py (documented there, word for word the same). The parameter layouts
 * are declared by name in kernels/microbench/params.py; params.h is generated from them. */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

void chipemu_kernel_mb_dimc_setup(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    host_read(ctx, p[SETUP_H_W_HOST], 0, p[SETUP_H_W_BUF], 0, p[SETUP_H_W_BYTES]);
    for (int64_t s = 0; s < p[SETUP_H_SLOTS]; s++)
        dimc_load(ctx, s, p[SETUP_H_W_BUF], 0, 0, p[SETUP_H_K], p[SETUP_H_FMT_W]);
    host_read(ctx, p[SETUP_H_X_HOST], 0, p[SETUP_H_X_BUF], 0, p[SETUP_H_X_BYTES]);
    vec_convert(ctx, p[SETUP_H_X_BUF], 0, p[SETUP_H_XQ_BUF], 0, p[SETUP_H_NVEC] * p[SETUP_H_K],
                p[SETUP_H_K], p[SETUP_H_FMT_X], CHIPEMU_FMT_FP32);
}

void chipemu_kernel_mb_dimc_stream(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p) || !kernel_word(ctx, p, STREAM_H_SLOTS, 1, INT64_MAX)) return;
    (void)step;
    for (int64_t it = 0; it < p[STREAM_H_ITERATIONS]; it++) {
        int64_t e = it % p[STREAM_H_SLOTS];
        dimc_mvm(ctx, e, e, p[STREAM_H_XQ_BUF], 0, p[STREAM_H_Y_BUF], e * p[STREAM_H_Y_BYTES],
                 p[STREAM_H_NVEC], p[STREAM_H_K], p[STREAM_H_FMT_X],
                 it >= p[STREAM_H_SLOTS] ? 1 : 0);
    }
}

void chipemu_kernel_mb_send_table(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[SEND_H_COUNT + tile];
    if (r[SEND_R_ACTIVE] != 0)
        send(ctx, r + SEND_R_DST_TILE, 1, p[SEND_H_SRC_BUF], 0, p[SEND_H_DST_BUF],
             r[SEND_R_DST_OFF], p[SEND_H_MSG_BYTES]);
}

void chipemu_kernel_mb_dram_table(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[DRAM_H_COUNT + tile];
    if (r[DRAM_R_ACTIVE] == 0) return;
    int64_t n = p[DRAM_H_CHUNK_BYTES];
    for (int64_t i = 0; i < p[DRAM_H_REPS]; i++)
        dram_read(ctx, r[DRAM_R_DRAM_BUF], i * n, p[DRAM_H_SRAM_BUF], (i % 2) * n, n);
}
