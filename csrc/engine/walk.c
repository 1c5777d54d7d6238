/* engine/walk.c — the hazard walk's setup and teardown, and the barrier fences: every DMA op and
 * the last op of each other unit since a tile's previous barrier precede its next BARRIER. They are
 * collected going forward and become that barrier's predecessors (not through the dedup window:
 * they merge with nothing). */
#include <stdlib.h>
#include <string.h>

#include "engine/walk.h"

int32_t en_walk_fail(haz *h, int32_t status, int32_t code, int32_t field, int64_t value, int64_t limit) {
    chipemu_engine_error *e = h->err;
    if (e->code == CHIPEMU_EE_NONE) {
        e->event = -1;
        e->code = code;
        e->field = field;
        e->value = value;
        e->limit = limit;
    }
    h->st = status;
    return status;
}

/* A barrier on tile t: its fence predecessors (not through the window: they merge with nothing). */
void en_walk_fence(haz *h, uint32_t t) {
    en_ctx *c = h->c;
    for (uint32_t u = 0; u < c->U; u++) {
        int32_t *f = &h->fence_last[(size_t)t * c->U + u];
        if (*f >= 0 && h->st == CHIPEMU_OK) {
            en_walk_put(h, (uint32_t)*f, NULL);
            h->count++;
            h->n_edges++;
        }
        *f = -1;
    }
    for (int32_t k = h->fence_dma[t]; k >= 0;) {
        int32_t next = h->fn[k].next;
        en_walk_put(h, (uint32_t)h->fn[k].rank, NULL);
        h->count++;
        h->n_edges++;
        h->fn[k].next = h->free_fn;
        h->free_fn = k;
        k = next;
    }
    h->fence_dma[t] = -1;
    h->bar_left[t]--;
    if (h->n_edges >= (int64_t)UINT32_MAX - 1)
        en_walk_fail(h, CHIPEMU_ERR_LOG, CHIPEMU_EE_TOO_LARGE, CHIPEMU_TOO_LARGE_EDGES, h->n_edges, UINT32_MAX);
}

/* After op r (not a barrier) on tile t: remember it for the tile's next barrier, if any. */
void en_walk_fence_note(haz *h, const chipemu_event *e, uint32_t t, int32_t r) {
    en_ctx *c = h->c;
    if (h->bar_left == NULL || h->bar_left[t] == 0) return;
    if (!en_is_dma(e->op)) {
        h->fence_last[(size_t)t * c->U + en_unit_of(c, e)] = r;
        return;
    }
    int32_t k = h->free_fn;
    if (k >= 0) {
        h->free_fn = h->fn[k].next;
    } else if (h->n_fn >= INT32_MAX || en_grow((void **)&h->fn, &h->cap_fn, h->n_fn + 1, sizeof(fnode)) != CHIPEMU_OK) {
        h->st = CHIPEMU_ERR_NOMEM;
        return;
    } else {
        k = (int32_t)h->n_fn++;
    }
    h->fn[k].rank = r;
    h->fn[k].next = h->fence_dma[t];
    h->fence_dma[t] = k;
}

int32_t en_walk_init(en_ctx *c) {
    haz *h = calloc(1, sizeof *h);
    if (h == NULL) return CHIPEMU_ERR_NOMEM;
    c->walk = h;
    h->cx = *c;                      /* the simulation writes the context; the walk never reads it */
    h->c = &h->cx;
    h->err = &c->walk_err;
    h->es = &c->es;
    h->threaded = c->wk != NULL;
    h->free_rn = h->free_fn = -1;
    h->cur_op = -1;
    uint64_t n_mem = (uint64_t)c->n_tiles * (1 + c->p->dimc_slots) + c->n_chan;   /* check_params
                                                                * bounds it (memory_regions) */
    h->n_mem = (int64_t)n_mem;
    h->mem = en_calloc((size_t)n_mem, sizeof(segvec));
    size_t tu = (size_t)c->n_tiles * c->U;
    h->rc = malloc((size_t)c->n_tiles * sizeof(uint32_t));
    h->mvm_last = malloc((size_t)c->n_tiles * c->E * sizeof(int32_t));
    if (h->mem == NULL || h->rc == NULL || h->mvm_last == NULL) return CHIPEMU_ERR_NOMEM;
    for (size_t k = 0; k < (size_t)c->n_tiles * c->E; k++) h->mvm_last[k] = -1;
    h->implied = -1;
    memcpy(h->rc, c->tile_base, (size_t)c->n_tiles * sizeof(uint32_t));
    if (c->n_barriers > 0) {
        h->cur_bar = malloc((size_t)c->n_tiles * sizeof(int32_t));
        h->fence_dma = malloc((size_t)c->n_tiles * sizeof(int32_t));
        h->gated = malloc(tu * sizeof(int32_t));
        h->fence_last = malloc(tu * sizeof(int32_t));
        h->bar_left = malloc((size_t)c->n_tiles * sizeof(uint32_t));
        if (!h->cur_bar || !h->fence_dma || !h->gated || !h->fence_last || !h->bar_left) return CHIPEMU_ERR_NOMEM;
        for (size_t k = 0; k < tu; k++) h->gated[k] = h->fence_last[k] = -1;
        for (uint32_t t = 0; t < c->n_tiles; t++) h->cur_bar[t] = h->fence_dma[t] = -1;
        memcpy(h->bar_left, c->bar_count, (size_t)c->n_tiles * sizeof(uint32_t));
    }
    return CHIPEMU_OK;
}

void en_walk_free(en_ctx *c) {
    haz *h = c->walk;
    if (h == NULL) return;
    for (int64_t m = 0; h->mem != NULL && m < h->n_mem; m++) free(h->mem[m].s);
    free(h->mem);
    free(h->rn);
    free(h->rc);
    free(h->mvm_last);
    free(h->sends);
    free(h->cur_bar);
    free(h->gated);
    free(h->fence_last);
    free(h->fence_dma);
    free(h->bar_left);
    free(h->fn);
    free(h);
    c->walk = NULL;
}
