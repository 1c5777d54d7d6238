/* move/tile.c — the data-movement tile kernel of programs; Numba twin in kernels/move/tile.py,
 * line for line. p is laid out by params.h (generated from kernels/move/params.py). */
#include "chipemu_kernel.h"
#include "intrinsics/core.h"       /* kernel_enter, kernel_word */
#include "params.h"

#define OP_WORDS 8

/* The tile's ops, in order: send, copy, host_read, convert, dram_read (params.py). */
void chipemu_kernel_move_run(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    if (!kernel_enter(ctx, tile, p)) return;
    (void)step;
    if (!(kernel_word(ctx, p, H_OP_WORDS, OP_WORDS, OP_WORDS) && kernel_word(ctx, p, H_KINDS, 5, 5)))
        return;
    int64_t base = p[H_COUNT + tile];
    const int64_t *r = p + base;
    if (r[R_ACTIVE] == 0) return;
    int64_t at = R_COUNT;
    for (int64_t i = 0; i < r[R_N_OPS]; i++) {
        if (!kernel_word(ctx, p, base + at, 0, 4)) return;
        int64_t kind = r[at];
        int64_t src = r[at + 1], soff = r[at + 2], dst = r[at + 3], doff = r[at + 4], n = r[at + 5];
        if (kind == 0) {
            if (!kernel_word(ctx, p, base + at + 6, 1, 65536)) return;
            int64_t nd = r[at + 6];
            send(ctx, r + at + OP_WORDS, nd, src, soff, dst, doff, n);
            at += OP_WORDS + nd;
            continue;
        }
        if (kind == 1)
            vec_copy(ctx, src, soff, dst, doff, n);
        else if (kind == 2)
            host_read(ctx, src, soff, dst, doff, n);
        else if (kind == 3)
            vec_convert(ctx, src, soff, dst, doff, n, r[at + 6], r[at + 7], CHIPEMU_FMT_FP32);
        else
            dram_read(ctx, src, soff, dst, doff, n);
        at += OP_WORDS;
    }
}
