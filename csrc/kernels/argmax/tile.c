/* argmax/tile.c — the tile kernels of argmax; Numba twin in kernels/argmax/tile.py, line for
 * line. p is laid out by params.h (generated from kernels/argmax/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

/* Host -> SRAM: the tile's columns of x and their ids. */
void chipemu_kernel_amx_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    host_read(ctx, p[H_X_HOST], r[R_X_HOST_OFF_BYTES], p[H_X], 0, p[H_ROWS] * r[R_COLS] * 4);
    host_read(ctx, p[H_IDS_HOST], r[R_IDS_HOST_OFF_BYTES], p[H_IDS], 0, r[R_COLS] * 4);
}

/* mparts / gparts[tile slot][row] = the row's maximum over the tile's columns and the id of
 * its first occurrence; both slots to the root. */
void chipemu_kernel_amx_local(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t rows = p[H_ROWS];
    int64_t cols = r[R_COLS];
    int64_t off = r[R_PART_OFF_BYTES];
    vec_row_max(ctx, p[H_X], 0, p[H_MPARTS], off, rows * cols, cols);
    for (int64_t row = 0; row < rows; row++)              /* a row is one column of `cols` values */
        vec_col_argmax(ctx, p[H_X], row * cols * 4, p[H_IDS], 0, p[H_GPARTS], off + row * 4,
                       cols, 1);
    if (r[R_IS_ROOT] == 0) {
        send(ctx, p + H_ROOT, 1, p[H_MPARTS], off, p[H_MPARTS], off, rows * 4);
        send(ctx, p + H_ROOT, 1, p[H_GPARTS], off, p[H_GPARTS], off, rows * 4);
    }
}

/* Root: y[row] = the id in the first slot (tile order) holding the row's maximum. */
void chipemu_kernel_amx_pick(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0 || r[R_IS_ROOT] == 0) return;
    int64_t rows = p[H_ROWS];
    vec_col_argmax(ctx, p[H_MPARTS], 0, p[H_GPARTS], 0, p[H_Y], 0, p[H_TILES] * rows, rows);
}
