/* glu/tile.c — the tile kernels of glu; Numba twin in kernels/glu/tile.py, line for line. p is
 * laid out by params.h (generated from kernels/glu/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

/* Host -> SRAM: the tile's columns of gate and up, and the constants. */
void chipemu_kernel_glu_load(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t n = p[H_ROWS] * r[R_COLS];
    host_read(ctx, p[H_GATE_HOST], r[R_HOST_OFF_BYTES], p[H_GATE], 0, n * 4);
    host_read(ctx, p[H_UP_HOST], r[R_HOST_OFF_BYTES], p[H_UP], 0, n * 4);
    host_read(ctx, p[H_CONSTS_HOST], 0, p[H_CONSTS], 0, 16);
}

/* y = (g * reciprocal(exp(-s) + 1)) * up, s = g (SiLU) or the GELU argument; y is scratch. */
void chipemu_kernel_glu_apply(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    const int64_t *r = p + p[H_COUNT + tile];
    if (r[R_ACTIVE] == 0) return;
    int64_t n = p[H_ROWS] * r[R_COLS];
    int64_t g = p[H_GATE], y = p[H_Y], c = p[H_CONSTS];
    if (p[H_ACT] == 0) {
        vec_mul_rows(ctx, g, 0, c, 4, y, 0, n, n);          /* -g */
    } else {
        vec_mul(ctx, g, 0, g, 0, y, 0, n);                  /* g^2 */
        vec_mul(ctx, y, 0, g, 0, y, 0, n);                  /* g^3 */
        vec_mul_rows(ctx, y, 0, c, 8, y, 0, n, n);          /* 0.044715 g^3 */
        vec_add(ctx, y, 0, g, 0, y, 0, n);                  /* g + 0.044715 g^3 */
        vec_mul_rows(ctx, y, 0, c, 12, y, 0, n, n);         /* -2 sqrt(2/pi) (...) */
    }
    vec_exp(ctx, y, 0, y, 0, n);
    vec_add_rows(ctx, y, 0, c, 0, y, 0, n, n);              /* 1 + exp(-s) */
    vec_reciprocal(ctx, y, 0, y, 0, n);                     /* sigmoid(s) */
    vec_mul(ctx, g, 0, y, 0, y, 0, n);                      /* act(g) */
    vec_mul(ctx, y, 0, p[H_UP], 0, y, 0, n);
}
