/* kernels/reduce.h — the cross-tile row reduction the row kernels share (rmsnorm, layernorm,
 * softmax); Numba twin in kernels/reduce.py, line for line. Each member sends its slot of
 * `parts` ([T, rows] float32) to the root; the root combines the slots in tile order and
 * multicasts what it made of them. Included by the kernels' tile.c (static inline: no symbol). */
#ifndef CHIPEMU_KERNELS_REDUCE_H
#define CHIPEMU_KERNELS_REDUCE_H
#include "chipemu_kernel.h"

/* A member other than the root sends its slot (`rows` floats at parts + off) to the same place
 * on the root (`root`: the root's tile id, one word). */
static inline void reduce_to_root(chipemu_ctx *ctx, int64_t is_root, const int64_t *root,
                                int64_t parts, int64_t off, int64_t rows) {
    if (is_root == 0)
        send(ctx, root, 1, parts, off, parts, off, rows * 4);
}

static inline void reduce_combine(chipemu_ctx *ctx, int64_t take_max, int64_t a_buf,
                                  int64_t a_off, int64_t b_buf, int64_t b_off, int64_t dst_buf,
                                  int64_t n) {
    if (take_max != 0)
        vec_max(ctx, a_buf, a_off, b_buf, b_off, dst_buf, 0, n);
    else
        vec_add(ctx, a_buf, a_off, b_buf, b_off, dst_buf, 0, n);
}

/* Root: the slots' sums (take_max 0) or maxima (1) in tile order; returns the buffer that holds
 * them: `parts` itself for one member (its slot is the result), else `acc`. */
static inline int64_t reduce_slots(chipemu_ctx *ctx, int64_t parts, int64_t acc, int64_t rows,
                                    int64_t tiles, int64_t take_max) {
    int64_t src = parts;
    if (tiles > 1) {
        src = acc;
        reduce_combine(ctx, take_max, parts, 0, parts, rows * 4, src, rows);
        for (int64_t t = 2; t < tiles; t++)
            reduce_combine(ctx, take_max, src, 0, parts, t * rows * 4, src, rows);
    }
    return src;
}

/* Root: `rows` floats of buf to the same place on the other members (none for one tile). */
static inline void reduce_multicast(chipemu_ctx *ctx, const int64_t *members, int64_t n_members,
                             int64_t buf, int64_t rows) {
    if (n_members > 0)
        send(ctx, members, n_members, buf, 0, buf, 0, rows * 4);
}
#endif
