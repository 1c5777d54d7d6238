/* layernorm/tile.c — the tile kernels of layernorm; Numba twin in kernels/layernorm/tile.py,
 * line for line. p is laid out by params.h (generated from kernels/layernorm/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter */
#include "params.h"
#include "kernels/reduce.h"   /* reduce_to_root, reduce_slots, reduce_multicast */

/* Host -> SRAM: the tile's columns of x, gamma and beta; the root also the constants. */
void chipemu_kernel_ln_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    host_read(ctx, p[H_X_HOST], r[R_X_HOST_OFF_BYTES], p[H_X], 0, p[H_ROWS] * r[R_COLS] * 4);
    host_read(ctx, p[H_GAMMA_HOST], r[R_GAMMA_HOST_OFF_BYTES], p[H_GAMMA], 0, r[R_COLS] * 4);
    host_read(ctx, p[H_BETA_HOST], r[R_GAMMA_HOST_OFF_BYTES], p[H_BETA], 0, r[R_COLS] * 4);
    if (r[R_IS_ROOT] != 0)
        host_read(ctx, p[H_CONSTS_HOST], 0, p[H_CONSTS], 0, 12);
}

/* parts[tile slot][row] = sum of the row over the tile's columns; to the root. */
void chipemu_kernel_ln_sum(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    vec_row_sum(ctx, p[H_X], 0, p[H_PARTS], r[R_PART_OFF_BYTES], p[H_ROWS] * r[R_COLS],
                r[R_COLS]);
    reduce_to_root(ctx, r[R_IS_ROOT], p + H_ROOT, p[H_PARTS], r[R_PART_OFF_BYTES], p[H_ROWS]);
}

/* Root: sums over the slots in tile order, shift = sum * (-1/hidden), its multicast. */
void chipemu_kernel_ln_mean(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0 || r[R_IS_ROOT] == 0) return;
    int64_t rows = p[H_ROWS];
    int64_t tiles = p[H_TILES];
    int64_t src = reduce_slots(ctx, p[H_PARTS], p[H_ACC], rows, tiles, 0);
    /* one "row" of `rows` values times consts[0] = -1/hidden: the constant broadcast */
    vec_mul_rows(ctx, src, 0, p[H_CONSTS], 0, p[H_SHIFT], 0, rows, rows);
    reduce_multicast(ctx, r + R_COUNT, tiles - 1, p[H_SHIFT], rows);
}

/* d = x + shift[row] into y, d * d in place, its row sums into the slot; to the root. */
void chipemu_kernel_ln_center(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t cols = r[R_COLS];
    int64_t n = p[H_ROWS] * cols;
    vec_add_rows(ctx, p[H_X], 0, p[H_SHIFT], 0, p[H_Y], 0, n, cols);
    vec_mul(ctx, p[H_Y], 0, p[H_Y], 0, p[H_Y], 0, n);     /* y holds d^2 until ln_apply */
    vec_row_sum(ctx, p[H_Y], 0, p[H_PARTS], r[R_PART_OFF_BYTES], n, cols);
    reduce_to_root(ctx, r[R_IS_ROOT], p + H_ROOT, p[H_PARTS], r[R_PART_OFF_BYTES], p[H_ROWS]);
}

/* Root: sums over the slots in tile order, the scales, and their multicast. */
void chipemu_kernel_ln_var(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0 || r[R_IS_ROOT] == 0) return;
    int64_t rows = p[H_ROWS];
    int64_t tiles = p[H_TILES];
    int64_t src = reduce_slots(ctx, p[H_PARTS], p[H_ACC], rows, tiles, 0);
    vec_mul_rows(ctx, src, 0, p[H_CONSTS], 4, p[H_SCALE], 0, rows, rows);        /* * 1/hidden */
    vec_add_rows(ctx, p[H_SCALE], 0, p[H_CONSTS], 8, p[H_SCALE], 0, rows, rows);  /* + eps */
    vec_rsqrt(ctx, p[H_SCALE], 0, p[H_SCALE], 0, rows);
    reduce_multicast(ctx, r + R_COUNT, tiles - 1, p[H_SCALE], rows);
}

/* y[row, :] = ((x[row, :] + shift[row]) * scale[row]) * gamma + beta. */
void chipemu_kernel_ln_apply(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t cols = r[R_COLS];
    int64_t n = p[H_ROWS] * cols;
    vec_add_rows(ctx, p[H_X], 0, p[H_SHIFT], 0, p[H_Y], 0, n, cols);
    vec_mul_rows(ctx, p[H_Y], 0, p[H_SCALE], 0, p[H_Y], 0, n, cols);
    for (int64_t row = 0; row < p[H_ROWS]; row++) {       /* gamma, beta along the row */
        vec_mul(ctx, p[H_Y], row * cols * 4, p[H_GAMMA], 0, p[H_Y], row * cols * 4, cols);
        vec_add(ctx, p[H_Y], row * cols * 4, p[H_BETA], 0, p[H_Y], row * cols * 4, cols);
    }
}
