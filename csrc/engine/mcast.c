/* engine/mcast.c — tree multicast (noc_multicast = CHIPEMU_MCAST_TREE; docs/engine.md section 4).
 *
 * A SEND's peers on the source's chiplet share one stream: routers copy each packet where the XY
 * routes to them part, so it crosses the union of those routes once. XY goes along the source row
 * first, so the union is the row segment east to the farthest east column and west to the farthest
 * west one, plus in each column with peers the vertical segments to its farthest peer north and
 * south. Peers on other chiplets keep a unicast stream each.
 *
 * The tree is walked with ranges of one sorted list of the local peers (en_mcast_order): the
 * source column (north part nearest first, the source itself, south part), then the east columns
 * nearest first, then the west ones; inside a column north part, on the source row, south part,
 * nearest first. Every branch of the tree is then a contiguous range.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

/* sort key of local peer (row, col) seen from the source (r0, c0) */
static uint64_t order_key(uint32_t r0, uint32_t c0, uint32_t row, uint32_t col) {
    uint64_t group = col == c0 ? 0 : col > c0 ? 1 : 2;
    uint64_t cdist = col > c0 ? col - c0 : c0 - col;
    uint64_t part = row < r0 ? 0 : row == r0 ? 1 : 2;
    uint64_t rdist = row < r0 ? r0 - row : row - r0;
    return group << 60 | cdist << 32 | part << 30 | rdist;         /* cdist, rdist < 2^24 */
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_pair(const void *a, const void *b) {          /* (key, position in the peers) */
    const uint64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* out[0, n): the local peers in tree order, then the others in peer order; returns how many are
 * local. scratch: 2n words. */
uint32_t en_mcast_order(const en_ctx *c, uint32_t src, const uint32_t *peers, uint32_t n,
                        uint32_t *out, uint64_t *scratch) {
    uint32_t T = c->T, ch = src / T, cols = c->p->tile_cols;
    uint32_t r0 = (src - ch * T) / cols, c0 = (src - ch * T) % cols, nl = 0, nr = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t d = peers[j];
        if (d / T != ch) continue;
        uint32_t l = d - ch * T;
        scratch[2 * nl] = order_key(r0, c0, l / cols, l % cols);
        scratch[2 * nl + 1] = j;
        nl++;
    }
    qsort(scratch, nl, 2 * sizeof(uint64_t), cmp_pair);
    for (uint32_t k = 0; k < nl; k++) out[k] = peers[scratch[2 * k + 1]];
    for (uint32_t j = 0; j < n; j++)
        if (peers[j] / T != ch) out[nl + nr++] = peers[j];
    return nl;
}

/* NoC links of the tree to the local peers (scratch: n words) */
int64_t en_mcast_edges(const en_ctx *c, uint32_t src, const uint32_t *peers, uint32_t n,
                       uint64_t *scratch) {
    uint32_t T = c->T, ch = src / T, cols = c->p->tile_cols;
    uint32_t r0 = (src - ch * T) / cols, c0 = (src - ch * T) % cols, nl = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t d = peers[j];
        if (d / T != ch) continue;
        uint32_t l = d - ch * T;
        scratch[nl++] = (uint64_t)(l % cols) << 32 | (l / cols);      /* (col, row) */
    }
    if (nl == 0) return 0;
    qsort(scratch, nl, sizeof(uint64_t), cmp_u64);
    uint32_t cmin = (uint32_t)(scratch[0] >> 32), cmax = (uint32_t)(scratch[nl - 1] >> 32);
    int64_t edges = (cmax > c0 ? cmax - c0 : 0) + (cmin < c0 ? c0 - cmin : 0);
    for (uint32_t k = 0; k < nl;) {                          /* one column at a time */
        uint32_t col = (uint32_t)(scratch[k] >> 32), lo = (uint32_t)scratch[k], hi = lo;
        while (k < nl && (uint32_t)(scratch[k] >> 32) == col) hi = (uint32_t)scratch[k++];
        edges += (lo < r0 ? r0 - lo : 0) + (hi > r0 ? hi - r0 : 0);
    }
    return edges;
}
