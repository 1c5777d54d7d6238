/* microbench/tile.c — tile kernels of the microbenchmarks; Numba twins in
 * kernels/microbench/tile.py (params documented there, word for word the same). */
#include "chipemu_kernel.h"

void chipemu_kernel_mb_dimc_setup(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)tile;
    (void)step;
    host_read(ctx, p[0], 0, p[2], 0, p[9]);
    for (int64_t s = 0; s < p[11]; s++) dimc_load(ctx, s, p[2], 0, 0, p[8], p[6]);
    host_read(ctx, p[1], 0, p[3], 0, p[10]);
    vec_convert(ctx, p[3], 0, p[4], 0, p[7] * p[8], p[8], p[5], CHIPEMU_FMT_FP32);
}

void chipemu_kernel_mb_dimc_stream(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)tile;
    (void)step;
    for (int64_t it = 0; it < p[7]; it++) {
        int64_t e = it % p[6];
        dimc_mvm(ctx, e, e, p[0], 0, p[1], e * p[5], p[3], p[4], p[2], it >= p[6] ? 1 : 0);
    }
}

void chipemu_kernel_mb_send_table(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *row = p + 3 + 2 * tile;
    if (row[0] >= 0) send(ctx, row, 1, p[0], 0, p[1], row[1], p[2]);
}

void chipemu_kernel_mb_dram_table(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    int64_t buf = p[3 + tile];
    if (buf < 0) return;
    for (int64_t r = 0; r < p[2]; r++) dram_read(ctx, buf, r * p[1], p[0], (r % 2) * p[1], p[1]);
}
