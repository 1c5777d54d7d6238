/* engine_energy.c — the energy function and the critical path (docs/engine.md "Energy").
 *
 * en_energy is the ONE place energy is computed: the simulation only counts actions (per tile
 * bucket and per op kind); here each count is multiplied by its integer femtojoules per action.
 * Every action cost is an integer, so all breakdowns are exact integer sums of the same products
 * and add up to the same total. Static energy is rounded once per bucket (tile, chiplet, card).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* ---- action counts: a sequential pass over the log (they do not depend on timing) ---- */

static inline int64_t rlen(const chipemu_range *r) { return r->buf == CHIPEMU_NO_BUF ? 0 : r->len; }

static inline void count(en_ctx *c, uint32_t bucket, int op, int act, int64_t amount) {
    c->cnt_tile[(size_t)act * (c->n_tiles + 1) + bucket] += amount;
    c->cnt_op[(size_t)op * c->n_act + act] += amount;
}

/* NoC bit-hops and D2D bits of one stream's route. */
static void count_route(en_ctx *c, uint32_t from, uint32_t to, uint32_t tile, int op, int64_t bits) {
    uint32_t res, next;
    int64_t hops = 0;
    while (en_route_step(c, from, to, &res, &next) == 1) {
        if (c->res[res].cls == CHIPEMU_RES_NOC_LINK) hops++;
        else count(c, tile, op, EN_A_D2D + (int)((res - c->d2d_base) / 2), bits);
        from = next;
    }
    if (hops) count(c, tile, op, EN_A_NOC, bits * hops);
}

int32_t en_count_actions(en_ctx *c) {
    const chipemu_device_params *p = c->p;
    c->n_act = EN_A_D2D + (int32_t)p->n_links;
    c->cnt_tile = en_calloc(((size_t)c->n_tiles + 1) * c->n_act, sizeof(int64_t));
    c->cnt_op = en_calloc((size_t)CHIPEMU_OP_COUNT * c->n_act, sizeof(int64_t));
    if (!c->cnt_tile || !c->cnt_op) return CHIPEMU_ERR_NOMEM;
    for (int64_t i = 0; i < c->n; i++) {
        const chipemu_event *e = &c->ev[i];
        uint32_t t = e->tile;
        int op = e->op;
        int64_t bits = 8 * (int64_t)e->a;
        en_costs k;
        switch (op) {
        case CHIPEMU_OP_DIMC_MVM:
            en_compute_costs(c, e, &k);
            count(c, t, op, EN_A_MAC + e->fmt * CHIPEMU_NUM_FORMATS + e->fmt2, k.macs);
            count(c, t, op, EN_A_OVERHEAD, k.macs);
            count(c, t, op, EN_A_SRAM_READ,
                  8 * (rlen(&e->src0) + ((e->flags & CHIPEMU_FLAG_ACCUMULATE) ? rlen(&e->dst) : 0)));
            count(c, t, op, EN_A_SRAM_WRITE, 8 * rlen(&e->dst));
            break;
        case CHIPEMU_OP_DIMC_LOAD:
            count(c, t, op, EN_A_ROW_WRITE, e->b);
            count(c, t, op, EN_A_SRAM_READ, 8 * rlen(&e->src0));
            break;
        case CHIPEMU_OP_VEC:
            count(c, t, op, EN_A_VEC + e->c, e->a);
            count(c, t, op, EN_A_SRAM_READ, 8 * (rlen(&e->src0) + rlen(&e->src1)));
            count(c, t, op, EN_A_SRAM_WRITE, 8 * rlen(&e->dst));
            break;
        case CHIPEMU_OP_SEND:
            for (uint32_t j = 0; j < e->peer_count; j++) {
                count_route(c, t, c->peers[e->peer_first + j], t, op, bits);
                count(c, t, op, EN_A_SRAM_READ, bits);
                count(c, t, op, EN_A_SRAM_WRITE, bits);
            }
            break;
        case CHIPEMU_OP_DRAM_READ:
            count_route(c, en_attach_tile(c, c->buf[e->src0.buf].where), t, t, op, bits);
            count(c, t, op, EN_A_DRAM, bits);
            count(c, t, op, EN_A_SRAM_WRITE, bits);
            break;
        case CHIPEMU_OP_DRAM_WRITE:
            count(c, t, op, EN_A_SRAM_READ, bits);
            count_route(c, t, en_attach_tile(c, c->buf[e->dst.buf].where), t, op, bits);
            count(c, t, op, EN_A_DRAM, bits);
            break;
        case CHIPEMU_OP_HOST_READ:                           /* the host link is card-level */
            count(c, c->n_tiles, op, EN_A_HOST, bits);
            count_route(c, p->host_chiplet * c->T + p->host_tile, t, t, op, bits);
            count(c, t, op, EN_A_SRAM_WRITE, bits);
            break;
        default:
            break;
        }
    }
    return CHIPEMU_OK;
}

/* ---- energy ---- */

static int64_t static_fj(int64_t uw, int64_t cycles, double ghz) {
    return (int64_t)llround((double)uw * (double)cycles / ghz);   /* 1 uW x 1 ns = 1 fJ */
}

void en_energy(en_ctx *c) {
    const chipemu_device_params *p = c->p;
    chipemu_engine_result *out = c->out;
    int32_t A = c->n_act;
    int64_t *cost = calloc((size_t)A, sizeof(int64_t));
    uint8_t *comp = calloc((size_t)A, 1);
    if (cost == NULL || comp == NULL) {         /* cannot happen in practice: A < 300 */
        free(cost);
        free(comp);
        return;
    }
    for (int f = 0; f < CHIPEMU_NUM_FORMATS; f++) {
        for (int w = 0; w < CHIPEMU_NUM_FORMATS; w++) {
            cost[EN_A_MAC + f * CHIPEMU_NUM_FORMATS + w] = p->fj_mac[f] * c->elem_bits[w] / 8;
            comp[EN_A_MAC + f * CHIPEMU_NUM_FORMATS + w] = CHIPEMU_E_DIMC;
        }
    }
    cost[EN_A_OVERHEAD] = p->fj_overhead_per_mac, comp[EN_A_OVERHEAD] = CHIPEMU_E_OVERHEAD;
    cost[EN_A_ROW_WRITE] = p->fj_dimc_row_write, comp[EN_A_ROW_WRITE] = CHIPEMU_E_DIMC_WRITE;
    cost[EN_A_SRAM_READ] = p->fj_sram_read_bit, comp[EN_A_SRAM_READ] = CHIPEMU_E_SRAM;
    cost[EN_A_SRAM_WRITE] = p->fj_sram_write_bit, comp[EN_A_SRAM_WRITE] = CHIPEMU_E_SRAM;
    for (int k = 0; k < CHIPEMU_VOP_COUNT; k++)
        cost[EN_A_VEC + k] = p->fj_vec_op[k], comp[EN_A_VEC + k] = CHIPEMU_E_VECTOR;
    cost[EN_A_NOC] = p->fj_noc_bit_hop, comp[EN_A_NOC] = CHIPEMU_E_NOC;
    cost[EN_A_DRAM] = p->fj_dram_bit, comp[EN_A_DRAM] = CHIPEMU_E_DRAM;
    cost[EN_A_HOST] = p->fj_host_bit, comp[EN_A_HOST] = CHIPEMU_E_HOST;
    for (uint32_t l = 0; l < p->n_links; l++)
        cost[EN_A_D2D + l] = p->links[l].fj_per_bit, comp[EN_A_D2D + l] = CHIPEMU_E_D2D;

    /* dynamic energy: by tile bucket (and so by component), by op kind */
    size_t B = (size_t)c->n_tiles + 1;                       /* counts are action-major */
    for (int32_t a = 0; a < A; a++) {
        const int64_t *n = c->cnt_tile + (size_t)a * B;
        for (size_t t = 0; t < B; t++) {
            if (n[t] == 0) continue;
            int64_t fj = n[t] * cost[a];
            out->energy_by_tile[t] += fj;
            out->energy_by_component[comp[a]] += fj;
        }
    }
    for (int op = 1; op < CHIPEMU_OP_COUNT; op++) {
        const int64_t *n = c->cnt_op + (size_t)op * A;
        for (int32_t a = 0; a < A; a++) out->energy_by_op[op] += n[a] * cost[a];
    }

    /* static energy, rounded per bucket; a chiplet's share is split evenly over its tiles with the
     * remainder on its tile 0; the card's goes to the card bucket */
    int64_t ms = out->makespan_cycles;
    int64_t s_tile = static_fj(p->static_uw_tile, ms, p->clock_ghz);
    int64_t s_chip = static_fj(p->static_uw_chiplet, ms, p->clock_ghz);
    int64_t s_card = static_fj(p->static_uw_card, ms, p->clock_ghz);
    for (uint32_t t = 0; t < c->n_tiles; t++)
        out->energy_by_tile[t] += s_tile + s_chip / c->T + (t % c->T == 0 ? s_chip % c->T : 0);
    out->energy_by_tile[c->n_tiles] += s_card;
    int64_t s_total = s_tile * c->n_tiles + s_chip * c->C + s_card;
    out->energy_by_component[CHIPEMU_E_STATIC] = s_total;
    out->energy_by_op[0] = s_total;
    for (uint32_t ch = 0; ch < c->C; ch++) {
        int64_t sum = 0;
        for (uint32_t t = ch * c->T; t < (ch + 1) * c->T; t++) sum += out->energy_by_tile[t];
        out->energy_by_chiplet[ch] = sum;
    }
    out->energy_by_chiplet[c->C] = out->energy_by_tile[c->n_tiles];
    int64_t total = 0;
    for (int k = 0; k < CHIPEMU_E_COUNT; k++) total += out->energy_by_component[k];
    out->energy_fj = total;
    free(cost);
    free(comp);
}

/* ---- critical path ---- */

/* When op pred handed over to x: `via` = EN_BND_UNIT (its unit release), EN_BND_READ (its read
 * finished), else its completion. */
static int64_t handoff(const en_ctx *c, int32_t pred, int via, int32_t x) {
    const en_op *o = &c->ops[pred];
    if (via == EN_BND_READ && en_is_dma(o->op)) return c->dmax[o->aux].read_done;
    if (via != EN_BND_UNIT || o->op == CHIPEMU_OP_BARRIER) return o->end;
    if (en_is_dma(o->op)) return c->ops[x].start;            /* a DMA op starts at its ready */
    en_costs k;
    en_compute_costs(c, &c->ev[pred], &k);
    return o->start + k.unit_occ;
}

/* Cycles [start, h) of op x on the path, by class; `via` says what h is (see handoff). */
static void exec_cycles(const en_ctx *c, int32_t x, int64_t h, int via, int64_t *cp) {
    const chipemu_event *e = &c->ev[x];
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
    const int32_t *bd = c->dma_bd + (size_t)c->ops[x].aux * EN_BD_STRIDE;   /* latest-delivered stream */
    int64_t sum = 0;
    for (int k2 = 0; k2 < EN_BD_N; k2++) {
        cp[EN_BD_FIRST + k2] += bd[k2];
        sum += bd[k2];
    }
    cp[CHIPEMU_RES_DMA] += span - sum;                       /* 0 unless a count saturated */
}

/* Walk back from the op that ends last through what bound each start (docs/engine.md). The cycles
 * attributed along the way tile [0, makespan) exactly. */
int32_t en_critical_path(en_ctx *c) {
    chipemu_engine_result *out = c->out;
    if (c->n == 0) return CHIPEMU_OK;
    int32_t x = 0;
    for (int64_t y = 1; y < c->n; y++)
        if (c->ops[y].end > c->ops[x].end) x = (int32_t)y;
    int32_t *path = NULL;
    int64_t n_path = 0, cap = 0;
    int64_t *cp = out->critical_cycles;
    int64_t h = c->ops[x].end;
    int via = EN_BND_DONE;
    while (x >= 0) {
        if (en_grow((void **)&path, &cap, n_path + 1, sizeof(int32_t)) != CHIPEMU_OK) {
            free(path);
            return CHIPEMU_ERR_NOMEM;
        }
        path[n_path++] = x;
        const en_op *o = &c->ops[x];
        int32_t pred = o->bnd;
        int kind = o->info & EN_BND_MASK;
        if (o->op == CHIPEMU_OP_BARRIER) {                   /* [latest arrival, completion) */
            int64_t arrive = o->end - c->p->barrier_cycles;
            cp[CHIPEMU_CP_BARRIER] += h - arrive;
            h = arrive;
            via = EN_BND_DONE;
            x = pred;
            continue;
        }
        if (o->op == CHIPEMU_OP_SEND && via == EN_BND_DONE &&
            c->dma_bd[(size_t)o->aux * EN_BD_STRIDE + EN_BD_HELD]) {
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
