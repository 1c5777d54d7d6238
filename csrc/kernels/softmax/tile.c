/* softmax/tile.c — the tile kernels of softmax; Numba twin in kernels/softmax/tile.py, line for
 * line. p is laid out by params.h (generated from kernels/softmax/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"
#include "kernels/reduce.h"   /* reduce_to_root, reduce_slots, reduce_multicast */

/* Host -> SRAM: the tile's columns of x; the root also the constant -1. */
void chipemu_kernel_smx_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    host_read(ctx, p[H_X_HOST], r[R_X_HOST_OFF_BYTES], p[H_X], 0, p[H_ROWS] * r[R_COLS] * 4);
    if (r[R_IS_ROOT] != 0)
        host_read(ctx, p[H_CONSTS_HOST], 0, p[H_CONSTS], 0, 4);
}

/* parts[tile slot][row] = max of the row over the tile's columns; to the root. */
void chipemu_kernel_smx_max(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    vec_row_max(ctx, p[H_X], 0, p[H_PARTS], r[R_PART_OFF_BYTES], p[H_ROWS] * r[R_COLS],
                r[R_COLS]);
    reduce_to_root(ctx, r[R_IS_ROOT], p + H_ROOT, p[H_PARTS], r[R_PART_OFF_BYTES], p[H_ROWS]);
}

/* Root: maximum of the slots in tile order, negated, multicast. */
void chipemu_kernel_smx_max_reduce(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0 || r[R_IS_ROOT] == 0) return;
    int64_t rows = p[H_ROWS];
    int64_t tiles = p[H_TILES];
    int64_t src = reduce_slots(ctx, p[H_PARTS], p[H_ACC], rows, tiles, 1);
    /* one "row" of `rows` values times consts[0] = -1: the constant broadcast */
    vec_mul_rows(ctx, src, 0, p[H_CONSTS], 0, p[H_NEGMAX], 0, rows, rows);
    reduce_multicast(ctx, r + R_COUNT, tiles - 1, p[H_NEGMAX], rows);
}

/* y = exp(x + negmax[row]); parts[tile slot][row] = the row's sum of y; to the root. */
void chipemu_kernel_smx_exp(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t cols = r[R_COLS];
    int64_t n = p[H_ROWS] * cols;
    vec_add_rows(ctx, p[H_X], 0, p[H_NEGMAX], 0, p[H_Y], 0, n, cols);
    vec_exp(ctx, p[H_Y], 0, p[H_Y], 0, n);
    vec_row_sum(ctx, p[H_Y], 0, p[H_PARTS], r[R_PART_OFF_BYTES], n, cols);
    reduce_to_root(ctx, r[R_IS_ROOT], p + H_ROOT, p[H_PARTS], r[R_PART_OFF_BYTES], p[H_ROWS]);
}

/* Root: sum of the slots in tile order, its reciprocal, multicast. */
void chipemu_kernel_smx_sum_reduce(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0 || r[R_IS_ROOT] == 0) return;
    int64_t rows = p[H_ROWS];
    int64_t tiles = p[H_TILES];
    int64_t src = reduce_slots(ctx, p[H_PARTS], p[H_ACC], rows, tiles, 0);
    vec_reciprocal(ctx, src, 0, p[H_INV], 0, rows);
    reduce_multicast(ctx, r + R_COUNT, tiles - 1, p[H_INV], rows);
}

/* y[row, :] = y[row, :] * inv[row] over the tile's columns. */
void chipemu_kernel_smx_scale(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t cols = r[R_COLS];
    vec_mul_rows(ctx, p[H_Y], 0, p[H_INV], 0, p[H_Y], 0, p[H_ROWS] * cols, cols);
}
