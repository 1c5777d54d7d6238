/* kernels/enter.h — the entry checks of the exported C tile kernels (csrc/kernels/<kernel>/tile.c).
 *
 * The kernels are public symbols, so a host may call one with a NULL or zeroed ctx, NULL params,
 * the wrong tile, or a header whose divisors are 0. They return void: with no usable ctx they just
 * return (every intrinsic would refuse it too, chipemu_ctx_check); otherwise a bad argument is
 * recorded in the tile's scalars like a broken rule, so chipemu_launch returns
 * CHIPEMU_ERR_KERNEL. The plans of kernels/<kernel>/params.py always pass these checks, so they
 * never change a result and the Numba twins need none. The length of p is not known to C: words
 * past the checked header are trusted as the plan laid them out.
 */
#ifndef CHIPEMU_KERNELS_ENTER_H
#define CHIPEMU_KERNELS_ENTER_H

#include "intrinsics/core.h"

/* No intrinsic or argument id names a kernel's own parameters: the record says intrinsic
 * KERNEL_IN and argument KERNEL_ARG, MSG_ARG with v1 the value, v2..v3 the allowed range and v4
 * the word of p (-1: p itself, NULL; -2: the tile argument). */
#define KERNEL_IN (-1)
#define KERNEL_ARG (-1)
#define KERNEL_WORD_P (-1)
#define KERNEL_WORD_TILE (-2)

static inline int kernel_fail(chipemu_ctx *ctx, int64_t word, int64_t v, int64_t lo, int64_t hi) {
    core_fail(ctx, KERNEL_IN, CHIPEMU_KERR_SHAPE, MSG_ARG, KERNEL_ARG, v, lo, hi, word);
    return 0;
}

/* 1 if the kernel may run: a usable ctx whose tile has no error yet, p not NULL, and the tile the
 * launcher gives (the ctx's own). */
static inline int kernel_enter(chipemu_ctx *ctx, int64_t tile, const int64_t *p) {
    if (core_enter(ctx) != CHIPEMU_OK) return 0;
    int64_t own = ctx->sc[CHIPEMU_SC_TILE];
    if (p == NULL) return kernel_fail(ctx, KERNEL_WORD_P, 0, 1, INT64_MAX);
    if (tile != own) return kernel_fail(ctx, KERNEL_WORD_TILE, tile, own, own);
    return 1;
}

/* 1 if header word p[word] lies in [lo, hi] (a divisor, a shift count), else records it. */
static inline int kernel_word(chipemu_ctx *ctx, const int64_t *p, int64_t word, int64_t lo, int64_t hi) {
    if (p[word] >= lo && p[word] <= hi) return 1;
    return kernel_fail(ctx, word, p[word], lo, hi);
}

#endif /* CHIPEMU_KERNELS_ENTER_H */
