/* scale_rows/tile.c — the tile kernels of scale_rows; Numba twin in kernels/scale_rows/tile.py,
 * line for line. p is laid out by params.h (generated from kernels/scale_rows/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

/* Host -> SRAM: the tile's rows of x and their scales. */
void chipemu_kernel_sr_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    host_read(ctx, p[H_X_HOST], r[R_X_HOST_OFF_BYTES], p[H_X], 0, r[R_ROWS] * p[H_COLS] * 4);
    host_read(ctx, p[H_S_HOST], r[R_S_HOST_OFF_BYTES], p[H_S], 0, r[R_ROWS] * 4);
}

/* y[r, :] = x[r, :] * s[r] for the tile's rows. */
void chipemu_kernel_sr_scale(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    vec_mul_rows(ctx, p[H_X], 0, p[H_S], 0, p[H_Y], 0, r[R_ROWS] * p[H_COLS], p[H_COLS]);
}
