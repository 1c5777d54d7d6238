/* rope/tile.c — the tile kernels of rope; Numba twin in kernels/rope/tile.py, line for line.
 * p is laid out by params.h (generated from kernels/rope/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

/* Host -> SRAM: the tile's heads of x, the two tables and the constant -1. */
void chipemu_kernel_rope_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    host_read(ctx, p[H_X_HOST], r[R_X_HOST_OFF_BYTES], p[H_X], 0, p[H_ROWS] * r[R_COLS] * 4);
    host_read(ctx, p[H_COS_HOST], 0, p[H_COS], 0, p[H_TABLE_BYTES]);
    host_read(ctx, p[H_SIN_HOST], 0, p[H_SIN], 0, p[H_TABLE_BYTES]);
    host_read(ctx, p[H_CONSTS_HOST], 0, p[H_CONSTS], 0, 4);
}

/* Per row: -s of its position, then per head y1 = x1 c + x2 (-s), y2 = x2 c + x1 s. */
void chipemu_kernel_rope_apply(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t half = p[H_HALF];
    int64_t hb = half * 4;                                /* bytes of a half head */
    int64_t x = p[H_X], y = p[H_Y], tmp = p[H_TMP];
    for (int64_t row = 0; row < p[H_ROWS]; row++) {
        int64_t t = r[R_COUNT + row] * hb;                /* the position's table row */
        vec_mul_rows(ctx, p[H_SIN], t, p[H_CONSTS], 0, p[H_NSIN], 0, half, half);
        for (int64_t h = 0; h < r[R_HEADS]; h++) {
            int64_t a = (row * r[R_COLS] + h * 2 * half) * 4;   /* x1; x2 is hb further */
            vec_mul(ctx, x, a, p[H_COS], t, y, a, half);
            vec_mul(ctx, x, a + hb, p[H_NSIN], 0, tmp, 0, half);
            vec_add(ctx, y, a, tmp, 0, y, a, half);
            vec_mul(ctx, x, a + hb, p[H_COS], t, y, a + hb, half);
            vec_mul(ctx, x, a, p[H_SIN], t, tmp, 0, half);
            vec_add(ctx, y, a + hb, tmp, 0, y, a + hb, half);
        }
    }
}
