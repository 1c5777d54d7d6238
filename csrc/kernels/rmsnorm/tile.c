/* rmsnorm/tile.c — the tile kernels of rmsnorm; Numba twin in kernels/rmsnorm/tile.py, line for
 * line. p is laid out by params.h (generated from kernels/rmsnorm/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"
#include "kernels/reduce.h"   /* reduce_to_root, reduce_slots, reduce_multicast */

/* Host -> SRAM: the tile's columns of x and gamma; the root also 1/hidden and eps. */
void chipemu_kernel_rms_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    host_read(ctx, p[H_X_HOST], r[R_X_HOST_OFF_BYTES], p[H_X], 0, p[H_ROWS] * r[R_COLS] * 4);
    host_read(ctx, p[H_GAMMA_HOST], r[R_GAMMA_HOST_OFF_BYTES], p[H_GAMMA], 0, r[R_COLS] * 4);
    if (r[R_IS_ROOT] != 0)
        host_read(ctx, p[H_CONSTS_HOST], 0, p[H_CONSTS], 0, 8);
}

/* parts[tile slot][row] = sum of the row's squares over the tile's columns; to the root. */
void chipemu_kernel_rms_partial(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t n = p[H_ROWS] * r[R_COLS];
    vec_mul(ctx, p[H_X], 0, p[H_X], 0, p[H_Y], 0, n);     /* y holds the squares until rms_apply */
    vec_row_sum(ctx, p[H_Y], 0, p[H_PARTS], r[R_PART_OFF_BYTES], n, r[R_COLS]);
    reduce_to_root(ctx, r[R_IS_ROOT], p + H_ROOT, p[H_PARTS], r[R_PART_OFF_BYTES], p[H_ROWS]);
}

/* Root: sums over the slots in tile order, the scales, and their multicast. */
void chipemu_kernel_rms_reduce(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0 || r[R_IS_ROOT] == 0) return;
    int64_t rows = p[H_ROWS];
    int64_t tiles = p[H_TILES];
    int64_t src = reduce_slots(ctx, p[H_PARTS], p[H_ACC], rows, tiles, 0);
    /* one "row" of `rows` values times consts[0], plus consts[1]: the constants broadcast */
    vec_mul_rows(ctx, src, 0, p[H_CONSTS], 0, p[H_SCALE], 0, rows, rows);
    vec_add_rows(ctx, p[H_SCALE], 0, p[H_CONSTS], 4, p[H_SCALE], 0, rows, rows);
    vec_rsqrt(ctx, p[H_SCALE], 0, p[H_SCALE], 0, rows);
    reduce_multicast(ctx, r + R_COUNT, tiles - 1, p[H_SCALE], rows);
}

/* y[row, :] = (x[row, :] * scale[row]) * gamma over the tile's columns. */
void chipemu_kernel_rms_apply(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t cols = r[R_COLS];
    vec_mul_rows(ctx, p[H_X], 0, p[H_SCALE], 0, p[H_Y], 0, p[H_ROWS] * cols, cols);
    for (int64_t row = 0; row < p[H_ROWS]; row++)         /* gamma along the row: one op a row */
        vec_mul(ctx, p[H_Y], row * cols * 4, p[H_GAMMA], 0, p[H_Y], row * cols * 4, cols);
}
