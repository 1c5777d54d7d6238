/* barrier/tile.c — the barrier every kernel uses between phases; Numba twin in
 * kernels/barrier/tile.py. The symbol keeps its first name (mb_: it began with the microbenchmarks)
 * because it is part of chipemu.h. */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */

/* p = [n, tile ids...]: one barrier over the n tiles, so the next superstep starts together. */
void chipemu_kernel_mb_barrier_all(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    barrier(ctx, p + 1, p[0]);
}
