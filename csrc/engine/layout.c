/* engine/layout.c — the op records in rank order (internal.h), unit chains and barrier
 * instances, before anything is timed.
 *
 * Each op's record goes to its rank: (issuing tile, log index) order, from the per-tile counts of
 * the validation. The parts of the log validation used are laid out the same way (the worker takes
 * the second): each part keeps its own rank cursors and the first and last op it saw on every
 * (tile, unit); the main thread then links the parts' unit chains. An op with a unit predecessor
 * starts with pending = 1 (the release); its hazard predecessors are added when it is admitted
 * (admit.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

typedef struct {
    en_ctx *c;
    int64_t x0, x1;
    uint32_t *rc, *dc;              /* [n_tiles] rank and DMA-ordinal cursors */
    int32_t *ufirst, *ulast;        /* [n_tiles * U]: first and last op (rank) on each unit */
    int64_t last_first;             /* log index of the part's last op first on its unit */
    int64_t *bars;                  /* barriers: log index << 32 | rank */
    int64_t n_bars, cap_bars;
    int32_t st;
} lpart;

static void layout_part(void *arg) {
    lpart *v = arg;
    en_ctx *c = v->c;
    for (int64_t x = v->x0; x < v->x1; x++) {
        const chipemu_event *e = &c->ev[x];
        uint32_t t = e->tile;
        int32_t r = (int32_t)v->rc[t]++;
        c->idx[r] = (uint32_t)x;
        en_init_op(c, x, (uint32_t)r, en_is_dma(e->op) ? (int32_t)v->dc[t]++ : -1);
        size_t k = (size_t)t * c->U + en_unit_of(c, e);
        if (v->ulast[k] >= 0) {
            c->ops[v->ulast[k]].next_unit = r;
            c->ops[r].pending = 1;
        } else {
            v->ufirst[k] = r;
            v->last_first = x;
        }
        v->ulast[k] = r;
        if (e->op == CHIPEMU_OP_BARRIER) {
            if (en_grow((void **)&v->bars, &v->cap_bars, v->n_bars + 1, sizeof(int64_t)) != CHIPEMU_OK) {
                v->st = CHIPEMU_ERR_NOMEM;
                return;
            }
            v->bars[v->n_bars++] = x << 32 | r;
        }
    }
}

int32_t en_layout(en_ctx *c) {
    int parts = c->parts;
    size_t tu = (size_t)c->n_tiles * c->U;
    lpart v[2];
    memset(v, 0, sizeof v);
    int32_t st = CHIPEMU_OK;
    for (int k = 0; k < parts && st == CHIPEMU_OK; k++) {
        v[k].c = c;
        v[k].x0 = c->n * k / parts;
        v[k].x1 = c->n * (k + 1) / parts;
        v[k].last_first = -1;
        v[k].rc = malloc((size_t)c->n_tiles * sizeof(uint32_t));
        v[k].dc = malloc((size_t)c->n_tiles * sizeof(uint32_t));
        v[k].ufirst = malloc((tu ? tu : 1) * sizeof(int32_t));
        v[k].ulast = malloc((tu ? tu : 1) * sizeof(int32_t));
        if (!v[k].rc || !v[k].dc || !v[k].ufirst || !v[k].ulast) {
            st = CHIPEMU_ERR_NOMEM;
            break;
        }
        for (uint32_t t = 0; t < c->n_tiles; t++) {
            v[k].rc[t] = c->tile_base[t] + (k == 1 ? c->vcnt[0][t] : 0);
            v[k].dc[t] = c->dma_base[t] + (k == 1 ? c->vdcnt[0][t] : 0);
        }
        for (size_t j = 0; j < tu; j++) v[k].ufirst[j] = v[k].ulast[j] = -1;
    }
    if (st == CHIPEMU_OK) {
        if (parts == 2) en_worker_run(c, layout_part, &v[1]);
        layout_part(&v[0]);
        en_worker_join(c);
        for (int k = 0; k < parts; k++)
            if (v[k].st != CHIPEMU_OK) st = v[k].st;
    }
    c->last_first = v[0].last_first;
    if (st == CHIPEMU_OK && parts == 2) {                  /* link the parts' unit chains */
        for (size_t j = 0; j < tu; j++) {
            int32_t r = v[1].ufirst[j];
            if (r < 0) continue;
            if (v[0].ulast[j] >= 0) {
                c->ops[v[0].ulast[j]].next_unit = r;
                c->ops[r].pending = 1;
            } else if ((int64_t)c->idx[r] > c->last_first) {
                c->last_first = c->idx[r];
            }
        }
    }
    /* barrier instances, in log order */
    for (int k = 0; k < parts && st == CHIPEMU_OK; k++)
        for (int64_t j = 0; j < v[k].n_bars && st == CHIPEMU_OK; j++)
            st = en_add_barrier(c, v[k].bars[j] >> 32, (uint32_t)(v[k].bars[j] & 0xFFFFFFFF));
    for (int k = 0; k < parts; k++) {
        free(v[k].rc);
        free(v[k].dc);
        free(v[k].ufirst);
        free(v[k].ulast);
        free(v[k].bars);
    }
    if (st == CHIPEMU_OK) st = en_check_barriers(c);
    return st;
}
