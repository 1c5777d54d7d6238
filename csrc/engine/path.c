/* engine/path.c — the critical path and the per-event times in log order (docs/engine.md
 * "Outputs"). Op records are in rank order; every output is indexed by log position.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

/* start_cycles / end_cycles of ranks [r0, r1) (two halves may run at once: disjoint writes). */
void en_write_times(en_ctx *c, int64_t r0, int64_t r1) {
    int64_t *start = c->out->start_cycles, *end = c->out->end_cycles;
    for (int64_t r = r0; r < r1; r++) {
        uint32_t x = c->idx[r];
        start[x] = c->ops[r].start;
        end[x] = en_op_end(c, (int32_t)r);
    }
}

/* When op pred handed over to x: `via` = EN_BND_UNIT (its unit release), EN_BND_READ (its read
 * finished), else its completion. */
static int64_t handoff(const en_ctx *c, int32_t pred, int via, int32_t x) {
    const en_op *o = &c->ops[pred];
    if (via == EN_BND_READ && en_is_dma(o->op)) return c->dmax[o->aux].read_done;
    if (via != EN_BND_UNIT || o->op == CHIPEMU_OP_BARRIER) return en_op_end(c, pred);
    if (en_is_dma(o->op)) return c->ops[x].start;            /* a DMA op starts at its ready */
    en_costs k;
    en_compute_costs(c, &c->ev[c->idx[pred]], &k);
    return o->start + k.unit_occ;
}

/* Cycles [start, h) of op x on the path, by class; `via` says what h is (see handoff). */
static void exec_cycles(const en_ctx *c, int32_t x, int64_t h, int via, int64_t *cp) {
    const chipemu_event *e = &c->ev[c->idx[x]];
    int64_t span = h - c->ops[x].start;
    if (span <= 0) return;
    int unit = via == EN_BND_UNIT;
    en_costs k;
    switch (e->op) {
    case CHIPEMU_OP_DIMC_MVM:
        cp[CHIPEMU_RES_DIMC] += span;
        return;
    case CHIPEMU_OP_DIMC_LOAD:
        en_compute_costs(c, e, &k);
        cp[unit || k.write_occ >= k.sram_occ ? CHIPEMU_RES_DIMC_WRITE : CHIPEMU_RES_SRAM] += span;
        return;
    case CHIPEMU_OP_VEC:
        en_compute_costs(c, e, &k);
        cp[unit || k.unit_occ >= k.sram_occ ? CHIPEMU_RES_VECTOR : CHIPEMU_RES_SRAM] += span;
        return;
    default:
        break;
    }
    if (unit) {                                              /* the next DMA op waited for this one */
        cp[CHIPEMU_RES_DMA] += span;
        return;
    }
    if (via == EN_BND_READ) {                                /* reading its source */
        cp[e->op == CHIPEMU_OP_DRAM_READ ? CHIPEMU_RES_DRAM : CHIPEMU_RES_SRAM] += span;
        return;
    }
    const int32_t *bd = c->dmax[c->ops[x].aux].bd;           /* latest-delivered stream */
    int64_t sum = 0;
    for (int k2 = 0; k2 < EN_BD_N; k2++) {
        cp[EN_BD_FIRST + k2] += bd[k2];
        sum += bd[k2];
    }
    cp[CHIPEMU_RES_DMA] += span - sum;                       /* 0 unless a count saturated */
}

/* Walk back from the op that ends last (lowest log index on ties) through what bound each start
 * (docs/engine.md). The cycles attributed along the way tile [0, makespan) exactly. */
int32_t en_critical_path(en_ctx *c) {
    chipemu_engine_result *out = c->out;
    if (c->n == 0) return CHIPEMU_OK;
    int32_t x = c->last_op;
    int32_t *path = NULL;
    int64_t n_path = 0, cap = 0;
    int64_t *cp = out->critical_cycles;
    int64_t h = en_op_end(c, x);
    int via = EN_BND_DONE;
    while (x >= 0) {
        if (en_grow((void **)&path, &cap, n_path + 1, sizeof(int32_t)) != CHIPEMU_OK) {
            free(path);
            return CHIPEMU_ERR_NOMEM;
        }
        path[n_path++] = (int32_t)c->idx[x];
        const en_op *o = &c->ops[x];
        int32_t pred = o->bnd;
        int kind = o->info & EN_BND_MASK;
        if (o->op == CHIPEMU_OP_BARRIER) {                   /* [latest arrival, completion) */
            int64_t arrive = en_op_end(c, x) - c->p->barrier_cycles;
            cp[CHIPEMU_CP_BARRIER] += h - arrive;
            h = arrive;
            via = EN_BND_DONE;
            x = pred;
            continue;
        }
        if (o->op == CHIPEMU_OP_SEND && via == EN_BND_DONE && c->dmax[o->aux].bd[EN_BD_HELD]) {
            /* its last delivery waited for a destination hazard: the path goes through that */
            const en_dmax *d = &c->dmax[o->aux];
            cp[CHIPEMU_RES_SRAM] += h - d->ready;
            h = d->ready;
            via = d->bkind;
            x = d->bnd;
            continue;
        }
        int64_t ready = pred < 0 ? 0 : handoff(c, pred, kind, x);
        exec_cycles(c, x, h, via, cp);
        int wait = (o->info >> EN_WAIT_SHIFT) - 1;
        if (o->start > ready) cp[wait >= 0 ? wait : CHIPEMU_RES_DMA] += o->start - ready;
        h = ready;
        via = kind;
        x = pred;
    }
    out->critical_path_len = n_path;
    int64_t keep = n_path < out->critical_path_capacity ? n_path : out->critical_path_capacity;
    for (int64_t k = 0; k < keep; k++) out->critical_path[k] = path[keep - 1 - k];
    free(path);
    int32_t best = 0;
    for (int k = 1; k < CHIPEMU_CP_COUNT; k++)
        if (cp[k] > cp[best]) best = k;
    out->critical_class = best;
    return CHIPEMU_OK;
}
