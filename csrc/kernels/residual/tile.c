/* residual/tile.c — the tile kernels of the residual add; Numba twin in
 * kernels/residual/tile.py, line for line. p is laid out by params.h (generated from
 * kernels/residual/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter */
#include "params.h"

/* Host -> SRAM: the tile's columns of x and r. */
void chipemu_kernel_res_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t n = p[H_ROWS] * r[R_COLS];
    host_read(ctx, p[H_X_HOST], r[R_HOST_OFF_BYTES], p[H_X], 0, n * 4);
    host_read(ctx, p[H_R_HOST], r[R_HOST_OFF_BYTES], p[H_R], 0, n * 4);
}

/* y = x + r over the tile's rows x cols, one vector op. */
void chipemu_kernel_res_add(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    vec_add(ctx, p[H_X], 0, p[H_R], 0, p[H_Y], 0, p[H_ROWS] * r[R_COLS]);
}
