/* embedding/tile.c — the tile kernel of embedding; Numba twin in kernels/embedding/tile.py,
 * line for line. p is laid out by params.h (generated from kernels/embedding/params.py); the
 * token ids follow the records, from word p[H_IDS_AT]. */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

/* y[row, :] = the tile's columns of table[ids[row], :] for every row. */
void chipemu_kernel_emb_gather(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p) || !kernel_word(ctx, p, H_VOCAB, 1, INT64_MAX)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t at = p[H_IDS_AT];
    for (int64_t row = 0; row < p[H_ROWS]; row++)         /* every id first: refuse, then read */
        if (!kernel_word(ctx, p, at + row, 0, p[H_VOCAB] - 1)) return;
    int64_t cols = r[R_COLS];
    for (int64_t row = 0; row < p[H_ROWS]; row++)
        dram_read(ctx, r[R_TABLE_BUF], r[R_TABLE_OFF_BYTES] + p[at + row] * cols * 4, p[H_Y],
                  row * cols * 4, cols * 4);
}
