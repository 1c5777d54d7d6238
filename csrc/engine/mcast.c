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

#include "engine/hop.h"

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

/* ---- the SEND's peers in tree order, once per op ---- */

/* Tree multicast: SEND x's peers in tree order (once per op); *nl = how many are local. */
const uint32_t *en_tree_peers(en_ctx *c, int32_t x, uint32_t *nl) {
    const en_op *o = &c->ops[x];
    const en_dmax *d = &c->dmax[o->aux];
    if (c->mc_off[o->aux] < 0) {
        if (en_grow((void **)&c->mc_dst, &c->mc_cap, c->mc_n + d->streams, sizeof(uint32_t)) != CHIPEMU_OK)
            return NULL;
        c->mc_nl[o->aux] = en_mcast_order(c, o->tile, c->peers + d->where, d->streams,
                                          c->mc_dst + c->mc_n, c->mc_scratch);
        c->mc_off[o->aux] = c->mc_n;
        c->mc_n += d->streams;
    }
    *nl = c->mc_nl[o->aux];
    return c->mc_dst + c->mc_off[o->aux];
}

/* ---- a branch forks at its node ---- */

/* A copy of tree slot s leaving its node: to its eject port for peer d (dir < 0), or over link
 * `dir` with peers [lo, hi). s0, ser, lat, q, cls: the channel the packet just took. */
static int32_t tree_child(en_ctx *c, uint32_t s, int dir, uint32_t d, uint32_t lo, uint32_t hi,
                          int64_t s0, int64_t ser, int64_t lat, const en_cprop *q, uint32_t cls,
                          uint32_t hopn, int msg) {
    int32_t ns = en_slot_new(c);
    if (ns < 0) return CHIPEMU_ERR_NOMEM;
    c->pk[ns] = c->pk[s];
    if (c->pk[s].trk >= 0) {
        int32_t t2 = en_trk_new(c);
        if (t2 < 0) return CHIPEMU_ERR_NOMEM;
        memcpy(c->trk + (size_t)t2 * EN_BD_STRIDE, c->trk + (size_t)c->pk[s].trk * EN_BD_STRIDE,
               EN_BD_STRIDE * sizeof(int32_t));
        c->pk[ns].trk = t2;
    }
    en_pkt *k = &c->pk[ns];
    int nst;
    if (dir < 0) {
        k->cross = 0;
        k->tgt = d;
        k->lrow = k->crow;
        k->lcol = k->ccol;
        k->res = en_res(c, d, CHIPEMU_RES_EJECT);
        k->pid = CHIPEMU_RES_EJECT;
        nst = EN_ST_EJECT;
    } else {
        uint32_t from = k->cur, cols = c->p->tile_cols;
        k->tgt = lo;
        k->lrow = hi;
        k->lcol = (uint32_t)dir;
        k->res = (uint32_t)c->noc_id[(size_t)from * 4 + (uint32_t)dir];
        k->pid = CHIPEMU_RES_NOC_LINK;
        nst = EN_ST_NOC;
        if (dir == 0) k->ccol++, k->cur++;
        else if (dir == 1) k->ccol--, k->cur--;
        else if (dir == 2) k->crow++, k->cur += cols;
        else k->crow--, k->cur -= cols;
    }
    int64_t cycle = en_leave(c, k, nst, s0, ser, lat, q, cls, hopn, msg);
    return en_q_push(&c->q, cycle, en_qkey(&c->q, k->op, k->pkt, k->hop), (uint32_t)ns | EN_REF_PKT);
}

/* Tree slot s has reached its node: its peers there eject, the others go on in their branches
 * (the slot itself is freed; each branch is a copy). */
int32_t en_tree_fork(en_ctx *c, uint32_t s, int64_t s0, int64_t ser, int64_t lat,
                         const en_cprop *q, uint32_t cls, uint32_t hopn, int msg) {
    uint32_t nl;
    const uint32_t *dst = en_tree_peers(c, (int32_t)c->pk[s].op, &nl);
    if (dst == NULL) return CHIPEMU_ERR_NOMEM;
    const en_pkt *k = &c->pk[s];
    uint32_t lo = k->tgt, hi = k->lrow, kind = k->lcol, cols = c->p->tile_cols;
    uint32_t base = k->cch * c->T, r = k->crow, cc = k->ccol, i = lo;
#define ROW(j) ((dst[j] - base) / cols)
#define COL(j) ((dst[j] - base) % cols)
#define CHILD(dir, d, a, b)                                                                   \
    do {                                                                                      \
        int32_t st_ = tree_child(c, s, dir, d, a, b, s0, ser, lat, q, cls, hopn, msg);        \
        if (st_ != CHIPEMU_OK) return st_;                                                    \
        dst = c->mc_dst + c->mc_off[c->ops[c->pk[s].op].aux];                                 \
    } while (0)
    if (kind == EN_TK_ROOT || kind <= 1) {                   /* at the source, or along its row */
        uint32_t j = i;
        while (j < hi && COL(j) == cc && ROW(j) < r) j++;
        if (j > i) CHILD(3, 0, i, j);                        /* north in this column */
        for (i = j; i < hi && COL(i) == cc && ROW(i) == r; i++) CHILD(-1, dst[i], 0, 0);
        for (j = i; j < hi && COL(j) == cc && ROW(j) > r;) j++;
        if (j > i) CHILD(2, 0, i, j);                        /* south in this column */
        i = j;
        if (kind == EN_TK_ROOT) {
            for (j = i; j < hi && COL(j) > cc;) j++;
            if (j > i) CHILD(0, 0, i, j);                    /* east */
            if (hi > j) CHILD(1, 0, j, hi);                  /* west */
        } else if (hi > i) {
            CHILD((int)kind, 0, i, hi);                      /* on along the row */
        }
    } else {                                                 /* along a column */
        for (; i < hi && ROW(i) == r; i++) CHILD(-1, dst[i], 0, 0);
        if (hi > i) CHILD((int)kind, 0, i, hi);
    }
#undef ROW
#undef COL
#undef CHILD
    int32_t trk = c->pk[s].trk;
    if (trk >= 0) {
        c->trk[(size_t)trk * EN_BD_STRIDE] = c->trk_free;
        c->trk_free = trk;
    }
    en_slot_free(c, s);
    return CHIPEMU_OK;
}
