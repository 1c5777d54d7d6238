/* kernels/attention/mask.h — the masks a C host's attention call may have (chipemu_host.h
 * CHIPEMU_MASK_*): which keys of a key block each query row keeps, the block's status for a
 * chunk of rows, and whether two partial blocks have one bias block. The rules of
 * kernels/attention/data.py (keep_units, _status, mask_info, tile_tables) for an all-true
 * mask and for is_causal, without materialising the mask. */
#ifndef CHIPEMU_KERNELS_ATTENTION_MASK_H
#define CHIPEMU_KERNELS_ATTENTION_MASK_H

#include "chipemu_host.h"

/* Keys [j*bk, j*bk + width) of block j that query row `row` of a unit keeps (rows head-major:
 * position row mod sq): a prefix of the block, `kept` keys long. */
static inline int64_t mask_kept(const chipemu_attention_mask *k, int64_t row, int64_t j,
                                int64_t *width) {
    int64_t lo = j * k->bk, w = k->skv - lo < k->bk ? k->skv - lo : k->bk;
    *width = w;
    if (k->mask != CHIPEMU_MASK_CAUSAL) return w;
    int64_t last = row % k->sq + k->skv - k->sq;             /* the last key it sees */
    int64_t n = last - lo + 1;
    return n < 0 ? 0 : n > w ? w : n;
}

static inline int64_t mask_rows(const chipemu_attention_mask *k, int64_t mq, int64_t c) {
    int64_t r1 = (c + 1) * mq < k->nq ? (c + 1) * mq : k->nq;
    return r1 - c * mq;
}

/* 0: chunk c skips block j (nothing kept), 1: all kept (a whole block), 2: partly kept */
static inline int mask_status(const chipemu_attention_mask *k, int64_t mq, int64_t c, int64_t j) {
    int any = 0, all = 1;
    int64_t w = 0;
    for (int64_t r = c * mq; r < c * mq + mask_rows(k, mq, c); r++) {
        int64_t n = mask_kept(k, r, j, &w);
        any |= n > 0;
        all &= n == w;
    }
    return !any ? 0 : all && w == k->bk ? 1 : 2;
}

/* whether partial blocks (c1, j1) and (c2, j2) have the same bias block (shape and bytes) */
static inline int mask_same(const chipemu_attention_mask *k, int64_t mq, int64_t c1, int64_t j1,
                            int64_t c2, int64_t j2) {
    int64_t n = mask_rows(k, mq, c1), w1 = 0, w2 = 0;
    if (n != mask_rows(k, mq, c2)) return 0;
    for (int64_t r = 0; r < n; r++)
        if (mask_kept(k, c1 * mq + r, j1, &w1) != mask_kept(k, c2 * mq + r, j2, &w2) || w1 != w2)
            return 0;
    return 1;
}

#endif /* CHIPEMU_KERNELS_ATTENTION_MASK_H */
