/* engine_hazard.c — the dependency graph of a log (docs/engine.md "Ordering").
 *
 * Edges pred -> succ mean "succ may not start before pred completed". They come from
 *   - RAW, WAR and WAW hazards on physical byte ranges: one interval map per memory (a tile's SRAM,
 *     a tile's DIMC slot (rows), a DRAM channel), visited in the order (superstep, phase, log index):
 *     each superstep's own accesses in log order, then its SEND deliveries (phase 1);
 *   - barrier fences: the last op per non-DMA unit and every DMA op before a BARRIER precede it; the
 *     first op per unit after it follows it.
 * Unit order is not an edge: next_unit[] chains the ops of each (tile, unit) in program order.
 *
 * An interval map is a sorted array of disjoint segments, each with its last writer and the readers
 * since; a write replaces everything it covers (pruning older accesses). Reader lists are immutable
 * shared lists with reference counts, so splitting a segment costs O(1); a reader on the same
 * non-DMA unit as the list's head replaces it (ops on such a unit complete in order).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

typedef struct { uint64_t lo, hi; int32_t writer, rd; } seg;
typedef struct { seg *s; uint32_t n, cap; } segvec;
typedef struct { int32_t op, next, ref, unit; } rnode;

typedef struct {
    en_ctx *c;
    segvec *mem;
    int64_t n_mem;
    rnode *rn;
    int64_t n_rn, cap_rn;
    int32_t free_rn;
    int32_t *ep, *es;                /* edge pairs (pred, succ) */
    int64_t n_e, cap_ep, cap_es;
    int32_t cur_op, n_cur;
    int32_t cur[32];                 /* preds already linked to cur_op ... */
    int64_t cur_e[32];               /* ... and the index of that edge */
    uint32_t deliv;                  /* EN_DELIVERY while adding phase-1 edges */
    int32_t st;                      /* sticky: CHIPEMU_ERR_NOMEM once an allocation failed */
} haz;

/* pred -> succ; `read` = wait for pred's read to finish (WAR), else for its completion; h->deliv
 * marks the edges of phase 1 (they gate a SEND's destination writes). Duplicate edges to the same
 * succ are merged, keeping the stronger (completion) kind. */
static void edge(haz *h, int32_t pred, int32_t succ, int read) {
    if (pred < 0 || pred == succ || h->st) return;
    if (succ != h->cur_op) {
        h->cur_op = succ;
        h->n_cur = 0;
    }
    for (int32_t k = 0; k < h->n_cur; k++) {
        if (h->cur[k] == pred) {
            if (!read) h->es[h->cur_e[k]] = (int32_t)((uint32_t)h->es[h->cur_e[k]] & ~EN_READ);
            return;
        }
    }
    if (h->n_e == h->cap_ep || h->n_e == h->cap_es) {
        if (en_grow((void **)&h->ep, &h->cap_ep, h->n_e + 1, sizeof(int32_t)) != CHIPEMU_OK ||
            en_grow((void **)&h->es, &h->cap_es, h->n_e + 1, sizeof(int32_t)) != CHIPEMU_OK) {
            h->st = CHIPEMU_ERR_NOMEM;
            return;
        }
    }
    if (h->n_cur < 32) {
        h->cur[h->n_cur] = pred;
        h->cur_e[h->n_cur++] = h->n_e;
    }
    h->ep[h->n_e] = pred;
    h->es[h->n_e++] = (int32_t)((uint32_t)succ | h->deliv | (read ? EN_READ : 0));
}

/* ---- reader lists ---- */

static int32_t node_new(haz *h) {
    if (h->free_rn >= 0) {
        int32_t x = h->free_rn;
        h->free_rn = h->rn[x].next;
        return x;
    }
    if (h->n_rn >= INT32_MAX ||
        en_grow((void **)&h->rn, &h->cap_rn, h->n_rn + 1, sizeof(rnode)) != CHIPEMU_OK) {
        h->st = CHIPEMU_ERR_NOMEM;
        return -1;
    }
    return (int32_t)h->n_rn++;
}

static void rd_release(haz *h, int32_t x) {
    while (x >= 0 && --h->rn[x].ref == 0) {
        int32_t next = h->rn[x].next;
        h->rn[x].next = h->free_rn;
        h->free_rn = x;
        x = next;
    }
}

/* The list `head` (one reference owned by the caller) with reader op added; returns the new head. */
static int32_t rd_add(haz *h, int32_t head, int32_t op, int32_t ukey) {
    if (head >= 0 && h->rn[head].op == op) return head;
    if (head >= 0 && ukey >= 0 && h->rn[head].unit == ukey) {
        if (h->rn[head].ref == 1) {
            h->rn[head].op = op;
            return head;
        }
        int32_t x = node_new(h);
        if (x < 0) return head;
        int32_t next = h->rn[head].next;
        h->rn[x] = (rnode){op, next, 1, ukey};
        if (next >= 0) h->rn[next].ref++;
        h->rn[head].ref--;                                   /* was shared: stays alive */
        return x;
    }
    int32_t x = node_new(h);
    if (x < 0) return head;
    h->rn[x] = (rnode){op, head, 1, ukey};
    return x;
}

/* ---- segment arrays ---- */

static uint32_t lower(const segvec *v, uint64_t lo) {       /* first segment with hi > lo */
    uint32_t a = 0, b = v->n;
    while (a < b) {
        uint32_t m = a + (b - a) / 2;
        if (v->s[m].hi > lo) b = m;
        else a = m + 1;
    }
    return a;
}

static int sv_insert(haz *h, segvec *v, uint32_t i, seg s) {
    if (v->n == v->cap) {
        uint32_t nc = v->cap ? v->cap * 2 : 4;
        seg *p = nc > v->cap ? realloc(v->s, (size_t)nc * sizeof(seg)) : NULL;
        if (p == NULL) {
            h->st = CHIPEMU_ERR_NOMEM;
            return 1;
        }
        v->s = p;
        v->cap = nc;
    }
    memmove(v->s + i + 1, v->s + i, (size_t)(v->n - i) * sizeof(seg));
    v->s[i] = s;
    v->n++;
    return 0;
}

static int split(haz *h, segvec *v, uint32_t i, uint64_t at) {   /* s[i] -> [lo, at) + [at, hi) */
    seg right = v->s[i];
    right.lo = at;
    if (sv_insert(h, v, i + 1, right)) return 1;
    v->s[i].hi = at;
    if (right.rd >= 0) h->rn[right.rd].ref++;
    return 0;
}

static void h_read(haz *h, uint32_t m, uint64_t lo, uint64_t hi, int32_t op, int32_t ukey) {
    if (lo >= hi || h->st) return;
    segvec *v = &h->mem[m];
    uint32_t i = lower(v, lo);
    if (i < v->n && v->s[i].lo == lo && v->s[i].hi == hi) {  /* the common case: the same range */
        seg *s = &v->s[i];
        edge(h, s->writer, op, 0);
        s->rd = rd_add(h, s->rd, op, ukey);
        return;
    }
    uint64_t pos = lo;
    while (pos < hi && !h->st) {
        if (i < v->n && v->s[i].lo <= pos) {
            if (v->s[i].lo < pos) {
                if (split(h, v, i, pos)) return;
                i++;
            }
            if (v->s[i].hi > hi && split(h, v, i, hi)) return;
            edge(h, v->s[i].writer, op, 0);
            int32_t rd = rd_add(h, v->s[i].rd, op, ukey);
            v->s[i].rd = rd;
            pos = v->s[i].hi;
        } else {
            uint64_t end = i < v->n && v->s[i].lo < hi ? v->s[i].lo : hi;
            int32_t rd = rd_add(h, -1, op, ukey);
            if (rd < 0 || sv_insert(h, v, i, (seg){pos, end, -1, rd})) return;
            pos = end;
        }
        i++;
    }
}

static void h_write(haz *h, uint32_t m, uint64_t lo, uint64_t hi, int32_t op) {
    if (lo >= hi || h->st) return;
    segvec *v = &h->mem[m];
    uint32_t i = lower(v, lo);
    if (i < v->n && v->s[i].lo == lo && v->s[i].hi == hi) {  /* the common case: the same range */
        seg *s = &v->s[i];
        if (s->rd < 0) edge(h, s->writer, op, 0);
        for (int32_t x = s->rd; x >= 0; x = h->rn[x].next) edge(h, h->rn[x].op, op, 1);
        rd_release(h, s->rd);
        s->writer = op;
        s->rd = -1;
        return;
    }
    if (i < v->n && v->s[i].lo < lo) {
        if (split(h, v, i, lo)) return;
        i++;
    }
    uint32_t j = i;
    while (j < v->n && v->s[j].lo < hi) {
        if (v->s[j].hi > hi && split(h, v, j, hi)) return;
        const seg *s = &v->s[j];
        if (s->rd < 0) edge(h, s->writer, op, 0);               /* readers already follow the writer */
        for (int32_t x = s->rd; x >= 0; x = h->rn[x].next) edge(h, h->rn[x].op, op, 1);
        rd_release(h, s->rd);
        j++;
    }
    seg ns = {lo, hi, op, -1};
    if (j > i) {
        v->s[i] = ns;
        memmove(v->s + i + 1, v->s + j, (size_t)(v->n - j) * sizeof(seg));
        v->n -= j - i - 1;
    } else {
        sv_insert(h, v, i, ns);
    }
}

/* ---- the accesses of one record ---- */

static void addr(const en_ctx *c, const chipemu_range *r, uint64_t *lo, uint64_t *hi) {
    *lo = c->buf[r->buf].base + r->off;
    *hi = *lo + r->len;
}

static void sram_read(haz *h, uint32_t tile, const chipemu_range *r, int32_t op, int32_t ukey) {
    uint64_t lo, hi;
    if (r->buf == CHIPEMU_NO_BUF || r->len == 0) return;
    addr(h->c, r, &lo, &hi);
    h_read(h, tile, lo, hi, op, ukey);
}

static void sram_write(haz *h, uint32_t tile, const chipemu_range *r, int32_t op) {
    uint64_t lo, hi;
    if (r->buf == CHIPEMU_NO_BUF || r->len == 0) return;
    addr(h->c, r, &lo, &hi);
    h_write(h, tile, lo, hi, op);
}

static uint32_t dram_mem(const en_ctx *c, const chipemu_range *r) {
    return c->n_tiles * (1 + c->p->dimc_slots) + c->buf[r->buf].where;
}

static void accesses(haz *h, int32_t i, const chipemu_event *e) {
    const en_ctx *c = h->c;
    uint32_t t = e->tile, slot = c->n_tiles + t * c->p->dimc_slots + e->c;
    int32_t ukey = (int32_t)(t * c->U + en_unit_of(c, e));
    uint64_t lo, hi;
    switch (e->op) {
    case CHIPEMU_OP_DIMC_LOAD:
        sram_read(h, t, &e->src0, i, ukey);
        h_write(h, slot, e->a, (uint64_t)e->a + e->b, i);
        break;
    case CHIPEMU_OP_DIMC_MVM:
        sram_read(h, t, &e->src0, i, ukey);
        h_read(h, slot, 0, e->b, i, ukey);
        if (e->flags & CHIPEMU_FLAG_ACCUMULATE) sram_read(h, t, &e->dst, i, ukey);
        sram_write(h, t, &e->dst, i);
        break;
    case CHIPEMU_OP_VEC:
        sram_read(h, t, &e->src0, i, ukey);
        sram_read(h, t, &e->src1, i, ukey);
        sram_write(h, t, &e->dst, i);
        break;
    case CHIPEMU_OP_SEND:
        sram_read(h, t, &e->src0, i, -1);                    /* the deliveries are phase 1 */
        break;
    case CHIPEMU_OP_DRAM_READ:
        addr(c, &e->src0, &lo, &hi);
        h_read(h, dram_mem(c, &e->src0), lo, hi, i, -1);
        sram_write(h, t, &e->dst, i);
        break;
    case CHIPEMU_OP_DRAM_WRITE:
        sram_read(h, t, &e->src0, i, -1);
        addr(c, &e->dst, &lo, &hi);
        h_write(h, dram_mem(c, &e->dst), lo, hi, i);
        break;
    case CHIPEMU_OP_HOST_READ:
        sram_write(h, t, &e->dst, i);                        /* host memory carries no hazards */
        break;
    default:
        break;
    }
}

/* Phase 1 of a superstep: the SEND deliveries, in log order. Their hazards gate the packets'
 * destination writes, not the SEND's start (see docs/engine.md "Ordering"). */
static void deliver(haz *h, const int32_t *sends, int64_t n) {
    const en_ctx *c = h->c;
    h->deliv = EN_DELIVERY;
    for (int64_t k = 0; k < n; k++) {
        const chipemu_event *e = &c->ev[sends[k]];
        for (uint32_t j = 0; j < e->peer_count; j++)
            sram_write(h, c->peers[e->peer_first + j], &e->dst, sends[k]);
    }
    h->deliv = 0;
}

/* The ops before each barrier precede it: every DMA op, and the last op of each other unit. */
static int32_t fence_edges(haz *h) {
    en_ctx *c = h->c;
    int32_t *nb = malloc((size_t)c->n_tiles * sizeof(int32_t));
    int32_t *linked = malloc((size_t)c->n_tiles * c->U * sizeof(int32_t));
    if (nb == NULL || linked == NULL) {
        free(nb);
        free(linked);
        return CHIPEMU_ERR_NOMEM;
    }
    for (uint32_t t = 0; t < c->n_tiles; t++) nb[t] = -1;
    for (size_t k = 0; k < (size_t)c->n_tiles * c->U; k++) linked[k] = -1;
    for (int64_t i = c->n - 1; i >= 0; i--) {
        const chipemu_event *e = &c->ev[i];
        uint32_t t = e->tile;
        if (e->op == CHIPEMU_OP_BARRIER) {
            nb[t] = (int32_t)i;
            continue;
        }
        if (nb[t] < 0) continue;
        size_t k = (size_t)t * c->U + en_unit_of(c, e);
        if (en_is_dma(e->op) || linked[k] != nb[t]) edge(h, (int32_t)i, nb[t], 0);
        linked[k] = nb[t];
    }
    free(nb);
    free(linked);
    return h->st;
}

/* Successor lists (CSR) from the edge pairs; pending[] counts each op's predecessors. */
static int32_t build_csr(en_ctx *c, haz *h) {
    if (h->n_e >= (int64_t)UINT32_MAX)
        return en_fail(c, CHIPEMU_ERR_LOG, -1, CHIPEMU_EE_TOO_LARGE, 1, h->n_e, UINT32_MAX);
    c->succ_off = en_big_alloc(((size_t)c->n + 1) * sizeof(uint32_t));
    c->succ = en_big_alloc((size_t)(h->n_e ? h->n_e : 1) * sizeof(int32_t));
    if (c->succ_off == NULL || c->succ == NULL) return CHIPEMU_ERR_NOMEM;
    memset(c->succ_off, 0, ((size_t)c->n + 1) * sizeof(uint32_t));
    c->dmax = en_calloc((size_t)c->n_dma, sizeof(en_dmax));
    if (c->dmax == NULL) return CHIPEMU_ERR_NOMEM;
    for (int64_t k = 0; k < c->n_dma; k++) {
        c->dmax[k].bnd = c->dmax[k].parked = -1;
        c->dmax[k].read_done = -1;
    }
    for (int64_t k = 0; k < h->n_e; k++) {
        uint32_t s = (uint32_t)h->es[k];
        c->succ_off[h->ep[k] + 1]++;
        if (s & EN_DELIVERY) c->dmax[c->ops[s & EN_SUCC_MASK].aux].pending++;
        else c->ops[s & EN_SUCC_MASK].pending++;
    }
    for (int64_t i = 0; i < c->n; i++) {
        c->succ_off[i + 1] += c->succ_off[i];
        if (c->ops[i].op == CHIPEMU_OP_SEND && c->dmax[c->ops[i].aux].pending > 0) c->ops[i].flags |= EN_OP_GATED;
    }
    for (int64_t k = 0; k < h->n_e; k++) c->succ[c->succ_off[h->ep[k]]++] = h->es[k];   /* with the flag */
    for (int64_t i = c->n; i > 0; i--) c->succ_off[i] = c->succ_off[i - 1];
    c->succ_off[0] = 0;
    return CHIPEMU_OK;
}

static void free_haz(haz *h) {
    for (int64_t m = 0; h->mem != NULL && m < h->n_mem; m++) free(h->mem[m].s);
    free(h->mem);
    free(h->rn);
    free(h->ep);
    free(h->es);
    h->mem = NULL;
    h->rn = NULL;
    h->ep = h->es = NULL;
}

static int32_t walk_log(en_ctx *c, haz *h) {
    size_t tu = (size_t)c->n_tiles * c->U;
    int32_t *last = malloc(tu * sizeof(int32_t)), *gated = NULL, *cur_bar = NULL, *sends = NULL;
    int64_t n_sends = 0, cap_sends = 0;
    int32_t st = CHIPEMU_OK;
    if (c->n_barriers > 0) {
        gated = malloc(tu * sizeof(int32_t));
        cur_bar = malloc((size_t)c->n_tiles * sizeof(int32_t));
    }
    if (last == NULL || (c->n_barriers > 0 && (gated == NULL || cur_bar == NULL))) st = CHIPEMU_ERR_NOMEM;
    for (size_t k = 0; st == CHIPEMU_OK && k < tu; k++) {
        last[k] = -1;
        if (gated) gated[k] = -1;
    }
    for (uint32_t t = 0; cur_bar != NULL && t < c->n_tiles; t++) cur_bar[t] = -1;
    uint32_t step = c->n > 0 ? c->ev[0].step : 0;
    for (int64_t i = 0; st == CHIPEMU_OK && i < c->n; i++) {
        const chipemu_event *e = &c->ev[i];
        if (e->step != step) {
            deliver(h, sends, n_sends);
            n_sends = 0;
            step = e->step;
        }
        uint32_t t = e->tile;
        size_t k = (size_t)t * c->U + en_unit_of(c, e);
        if (last[k] >= 0) {
            c->ops[last[k]].next_unit = (int32_t)i;
            c->ops[i].pending++;
        }
        last[k] = (int32_t)i;
        if (cur_bar != NULL) {
            if (e->op == CHIPEMU_OP_BARRIER) {
                cur_bar[t] = (int32_t)i;
            } else if (cur_bar[t] >= 0 && gated[k] != cur_bar[t]) {
                edge(h, cur_bar[t], (int32_t)i, 0);
                gated[k] = cur_bar[t];
            }
        }
        accesses(h, (int32_t)i, e);
        if (e->op == CHIPEMU_OP_SEND) {
            if (en_grow((void **)&sends, &cap_sends, n_sends + 1, sizeof(int32_t)) != CHIPEMU_OK)
                st = CHIPEMU_ERR_NOMEM;
            else
                sends[n_sends++] = (int32_t)i;
        }
        if (h->st) st = h->st;
    }
    if (st == CHIPEMU_OK) deliver(h, sends, n_sends);
    free(last);
    free(gated);
    free(cur_bar);
    free(sends);
    return st != CHIPEMU_OK ? st : h->st;
}

int32_t en_build_graph(en_ctx *c) {
    haz h;
    memset(&h, 0, sizeof h);
    h.c = c;
    h.free_rn = -1;
    h.cur_op = -1;
    uint64_t n_mem = (uint64_t)c->n_tiles * (1 + c->p->dimc_slots) + c->n_chan;
    if (n_mem > ((uint64_t)1 << 27))
        return en_fail(c, CHIPEMU_ERR_PARAMS, -1, CHIPEMU_EE_TOO_LARGE,
                       (int32_t)offsetof(chipemu_device_params, dimc_slots), (int64_t)n_mem, 1 << 27);
    h.n_mem = (int64_t)n_mem;
    h.mem = en_calloc((size_t)n_mem, sizeof(segvec));
    h.cap_ep = h.cap_es = 3 * c->n + 16;                      /* usual edges per op: 1-3 */
    h.ep = en_big_alloc((size_t)h.cap_ep * sizeof(int32_t));
    h.es = en_big_alloc((size_t)h.cap_es * sizeof(int32_t));
    if (h.ep == NULL || h.es == NULL) h.cap_ep = h.cap_es = 0;
    int32_t st = h.mem == NULL ? CHIPEMU_ERR_NOMEM : walk_log(c, &h);
    if (st == CHIPEMU_OK && c->n_barriers > 0) st = fence_edges(&h);
    for (int64_t m = 0; h.mem != NULL && m < h.n_mem; m++) free(h.mem[m].s);   /* maps done */
    free(h.mem);
    h.mem = NULL;
    free(h.rn);
    h.rn = NULL;
    if (st == CHIPEMU_OK) st = build_csr(c, &h);
    free_haz(&h);
    return st;
}
