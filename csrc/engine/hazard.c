/* engine/hazard.c — the hazard walk: each op's predecessors (docs/engine.md "Ordering").
 *
 * The walk visits the log in order, one superstep per call, and writes to the edge stream
 * (admit.c) each op's predecessor list — then, after the superstep, each SEND's delivery
 * predecessors. It runs on the worker thread when there is one, ahead of the simulation, and
 * touches nothing the simulation writes (it computes ranks with its own cursors). Edges
 * pred -> succ mean "succ may not start before pred completed" (or finished reading, for WAR):
 *   - RAW, WAR and WAW hazards on physical byte ranges: one interval map per memory (a tile's SRAM,
 *     a tile's DIMC slot (rows), a DRAM channel), visited in the order (superstep, phase, log index):
 *     each superstep's own accesses in log order, then its SEND deliveries (phase 1);
 *   - barriers: every DMA op and the last op of each other unit since the tile's previous barrier
 *     precede a BARRIER (a fence); the first op per unit after it follows it.
 * Unit order is not an edge: the op records chain each (tile, unit) in program order.
 *
 * An interval map is a sorted array of disjoint segments, each with its last writer and the readers
 * since; a write replaces everything it covers (pruning older accesses). Reader lists are immutable
 * shared lists with reference counts, so splitting a segment costs O(1); a reader on the same
 * non-DMA unit as the list's head replaces it (ops on such a unit complete in order). Duplicate
 * edges to one successor are merged (the stronger kind wins) within a window of its last 32
 * predecessors, exactly as far as the window reaches; entries stay unpublished while the window
 * may still change them.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/walk.h"



/* Entries: header, count (patched at the end), predecessors. Everything before the window's first
 * entry can be published. */
static void begin_entry(haz *h, uint32_t header) {
    if (h->st) return;
    uint64_t pub = h->win_start < h->es->written ? h->win_start : h->es->written;
    if (pub > atomic_load_explicit(&h->es->published, memory_order_relaxed))
        atomic_store_explicit(&h->es->published, pub, memory_order_release);
    if (en_stream_wait_room(h->es, h->threaded, pub)) {
        h->st = CHIPEMU_ERR_NOMEM;                          /* the consumer stopped: any status */
        return;
    }
    h->entry_start = h->es->written;
    en_walk_put(h, header, NULL);
    en_walk_put(h, 0, &h->count_loc);
    h->count = 0;
}

static void end_entry(haz *h) {
    if (h->st == CHIPEMU_OK) *h->count_loc = h->count;
}

/* pred -> succ (the open entry's op); `read` = wait for pred's read to finish (WAR), else for its
 * completion. Duplicates within the window are merged, keeping the stronger (completion) kind. */
static void edge(haz *h, int32_t pred, int32_t succ, int read) {
    if (pred < 0 || pred == succ || h->st) return;
    if (succ != h->cur_op) {
        h->cur_op = succ;
        h->n_cur = 0;
        h->win_start = h->entry_start;
    }
    for (int32_t k = 0; k < h->n_cur; k++) {
        if (h->cur[k] == pred) {
            if (!read) *h->cur_loc[k] &= ~EN_READ;
            return;
        }
    }
    if (h->n_edges >= (int64_t)UINT32_MAX - 1) {            /* the documented index limit */
        en_walk_fail(h, CHIPEMU_ERR_LOG, CHIPEMU_EE_TOO_LARGE, CHIPEMU_TOO_LARGE_EDGES, h->n_edges, UINT32_MAX);
        return;
    }
    uint32_t *loc = &h->dropped;
    if (pred != h->implied) {
        en_walk_put(h, (uint32_t)pred | (read ? EN_READ : 0), &loc);
        if (h->st) return;
        h->n_edges++;
        h->count++;
    }
    if (h->n_cur < 32) {
        h->cur[h->n_cur] = pred;
        h->cur_loc[h->n_cur++] = loc;
    }
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
        if (e->flags & CHIPEMU_FLAG_ACCUMULATE) sram_read(h, t, &e->dst, i, ukey);   /* vec_dot */
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

/* Phase 1 of a superstep: the SEND deliveries, in log order, one delivery list per SEND. Their
 * hazards gate the packets' destination writes, not the SEND's start (docs/engine.md). */
static void deliver(haz *h) {
    const en_ctx *c = h->c;
    for (int64_t k = 0; k < h->n_sends && !h->st; k++) {
        const chipemu_event *e = &c->ev[h->sends[k] >> 32];
        int32_t r = (int32_t)(h->sends[k] & 0xFFFFFFFF);
        begin_entry(h, (uint32_t)r | EN_ENT_DELIV);
        for (uint32_t j = 0; j < e->peer_count; j++) sram_write(h, c->peers[e->peer_first + j], &e->dst, r);
        end_entry(h);
    }
    h->n_sends = 0;
}

/* One superstep: its ops' lists in log order, then its delivery lists. 1: more to come; 0: done;
 * < 0: -status. */
int en_walk_step(en_ctx *ctx) {
    haz *h = ctx->walk;
    const en_ctx *c = h->c;
    if (h->st) return -h->st;
    if (h->done) return 0;
    uint32_t step = h->x < c->n ? c->ev[h->x].step : 0;
    for (; h->x < c->n && c->ev[h->x].step == step && !h->st; h->x++) {
        const chipemu_event *e = &c->ev[h->x];
        uint32_t t = e->tile;
        int32_t r = (int32_t)h->rc[t]++;
        begin_entry(h, (uint32_t)r | EN_ENT_OP);
        /* an MVM's edge from the previous MVM on its engine is implied by unit order: that one
         * releases the engine when it completes, and the release resolves this op first */
        int32_t *prev_mvm = e->op == CHIPEMU_OP_DIMC_MVM ? &h->mvm_last[(size_t)t * c->E + e->unit] : NULL;
        h->implied = prev_mvm != NULL ? *prev_mvm : -1;
        if (h->cur_bar != NULL) {
            size_t k = (size_t)t * c->U + en_unit_of(c, e);
            if (e->op == CHIPEMU_OP_BARRIER) {
                en_walk_fence(h, t);
                h->cur_bar[t] = r;
            } else if (h->cur_bar[t] >= 0 && h->gated[k] != h->cur_bar[t]) {
                edge(h, h->cur_bar[t], r, 0);
                h->gated[k] = h->cur_bar[t];
            }
        }
        accesses(h, r, e);
        end_entry(h);
        h->implied = -1;
        if (prev_mvm != NULL) *prev_mvm = r;
        if (e->op != CHIPEMU_OP_BARRIER) en_walk_fence_note(h, e, t, r);
        if (e->op == CHIPEMU_OP_SEND) {
            if (en_grow((void **)&h->sends, &h->cap_sends, h->n_sends + 1, sizeof(int64_t)) != CHIPEMU_OK)
                h->st = CHIPEMU_ERR_NOMEM;
            else
                h->sends[h->n_sends++] = h->x << 32 | r;
        }
    }
    deliver(h);
    if (h->st) return -h->st;
    h->cur_op = -1;                                         /* no later edge reaches this window */
    h->n_cur = 0;
    h->win_start = h->es->written;
    en_stream_publish(h->es);
    if (h->x < c->n) return 1;
    en_stream_publish(h->es);                               /* the end: the window is closed */
    h->done = 1;
    return 0;
}

