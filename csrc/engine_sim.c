/* engine_sim.c — the discrete-event simulation of ops and packets (docs/engine.md "Timing").
 *
 * One queue (engine_queue.c) holds compute-op starts and packet hops keyed by (ready cycle, issuing
 * tile, event index, packet index, hop); `rank` encodes (issuing tile, event index). Each resource
 * keeps the cycle it is free from; an op or a packet takes it at max(ready, free) and holds it for
 * its occupancy (greedy, no backfilling). Ops become ready when their predecessors
 * (engine_hazard.c) complete and their unit is released. Energy is not counted here (see
 * en_count_actions): the simulation touches only the per-op records, the resources and the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define MAX64(a, b) ((a) > (b) ? (a) : (b))

static inline int64_t rlen(const chipemu_range *r) { return r->buf == CHIPEMU_NO_BUF ? 0 : r->len; }

void en_compute_costs(const en_ctx *c, const chipemu_event *e, en_costs *k) {
    const chipemu_device_params *p = c->p;
    memset(k, 0, sizeof *k);
    switch (e->op) {
    case CHIPEMU_OP_DIMC_MVM: {
        int64_t eb = c->elem_bits[e->fmt], eb2 = c->elem_bits[e->fmt2];
        int64_t cpv = en_ceil_div(eb, p->dimc_input_bits_per_cycle);
        int64_t io = rlen(&e->src0) + rlen(&e->dst) * ((e->flags & CHIPEMU_FLAG_ACCUMULATE) ? 2 : 1);
        k->dur = p->dimc_pipeline_cycles + MAX64((int64_t)e->a * cpv, en_ceil_div(io, p->dimc_io_bytes_per_cycle));
        k->unit_occ = k->dur;
        uint64_t cols_eff = (uint64_t)p->dimc_cols * p->dimc_cell_bits / (uint64_t)eb2;
        k->macs = (int64_t)((uint64_t)e->a * e->b * cols_eff);
        break;
    }
    case CHIPEMU_OP_DIMC_LOAD:
        k->write_occ = (int64_t)e->b * p->dimc_write_cycles_per_row;
        k->sram_occ = en_ceil_div(rlen(&e->src0), p->sram_port_bytes_per_cycle);
        k->dur = MAX64(k->write_occ, k->sram_occ);
        k->unit_occ = k->write_occ;
        break;
    case CHIPEMU_OP_VEC:
        k->unit_occ = en_ceil_div(e->a, p->vec_lanes) * p->vec_cycles[e->c];
        k->sram_occ = en_ceil_div(rlen(&e->src0) + rlen(&e->src1) + rlen(&e->dst), p->sram_port_bytes_per_cycle);
        k->dur = MAX64(k->unit_occ, k->sram_occ);
        break;
    default:
        break;
    }
}

uint32_t en_attach_tile(const en_ctx *c, uint32_t ch) {
    uint32_t per = c->p->dram_channels;
    return (ch / per) * c->T + c->p->dram_channel_tile[ch % per];
}

/* The per-op record of a validated event (the simulation reads no event record after this). */
void en_init_op(en_ctx *c, int64_t i) {
    const chipemu_event *e = &c->ev[i];
    en_op *o = &c->ops[i];
    o->start = 0;
    o->end = -1;
    o->tile = e->tile;
    o->op = e->op;
    o->unit = e->op == CHIPEMU_OP_DIMC_MVM ? e->unit : 0;
    o->streams = 1;
    if (en_is_dma(e->op)) {
        o->occ_a = e->a;
        if (e->op == CHIPEMU_OP_SEND) {
            o->occ_b = e->peer_first;
            o->streams = e->peer_count;
        } else if (e->op == CHIPEMU_OP_DRAM_READ) {
            o->occ_b = c->buf[e->src0.buf].where;
        } else if (e->op == CHIPEMU_OP_DRAM_WRITE) {
            o->occ_b = c->buf[e->dst.buf].where;
        }
    } else if (e->op != CHIPEMU_OP_BARRIER) {
        en_costs k;
        en_compute_costs(c, e, &k);
        int64_t a = e->op == CHIPEMU_OP_DIMC_MVM ? k.dur : k.unit_occ, b = k.sram_occ;
        int big = a > (int64_t)UINT32_MAX || b > (int64_t)UINT32_MAX;
        o->flags = (uint8_t)(big ? EN_OP_BIG : 0);
        o->occ_a = big ? 0 : (uint32_t)a;
        o->occ_b = big ? 0 : (uint32_t)b;
    }
}

/* ---- readiness and completion ---- */

static int32_t op_ready(en_ctx *c, int32_t x);

static inline int32_t resolve(en_ctx *c, int32_t x, int64_t t, int32_t pred, int kind) {
    if (x < 0) return CHIPEMU_OK;
    en_op *o = &c->ops[x];
    if (o->bnd < 0 || t > o->start) {
        o->start = t;
        o->bnd = pred;
        o->info = (uint8_t)((o->info & ~EN_BND_MASK) | kind);
    }
    if (--o->pending > 0) return CHIPEMU_OK;
    return op_ready(c, x);
}

static int32_t resolve_delivery(en_ctx *c, int32_t x, int64_t t, int32_t pred, int kind);

/* Resolve x's successor entries at time t: those that wait for its completion (reads = 0), or for
 * its read to finish (reads = 1). A compute op's read finishes when it completes. */
static int32_t notify(en_ctx *c, int32_t x, int64_t t, int reads) {
    int both = !en_is_dma(c->ops[x].op);
    for (uint32_t k = c->succ_off[x]; k < c->succ_off[x + 1]; k++) {
        uint32_t s = (uint32_t)c->succ[k];
        int is_read = (s & EN_READ) != 0;
        if (!both && is_read != reads) continue;
        int kind = is_read ? EN_BND_READ : EN_BND_DONE;
        int32_t y = (int32_t)(s & EN_SUCC_MASK);
        int32_t st = (s & EN_DELIVERY) ? resolve_delivery(c, y, t, x, kind) : resolve(c, y, t, x, kind);
        if (st != CHIPEMU_OK) return st;
    }
    return CHIPEMU_OK;
}

static int32_t complete(en_ctx *c, int32_t x, int64_t t) {
    if (t >= EN_TIME_LIMIT)
        return en_fail(c, CHIPEMU_ERR_LOG, x, CHIPEMU_EE_TOO_LARGE, 2, t, EN_TIME_LIMIT);
    c->ops[x].end = t;
    c->ops[x].flags |= EN_OP_DONE;
    c->n_done++;
    return notify(c, x, t, 0);
}

/* A DMA op's last packet finished reading its source (SRAM or DRAM): WAR successors may go. */
static int32_t read_done(en_ctx *c, int32_t x, int64_t t) {
    c->dmax[c->ops[x].aux].read_done = t;
    return notify(c, x, t, 1);
}

static int32_t barrier_arrive(en_ctx *c, int32_t x) {
    const en_op *o = &c->ops[x];
    en_inst *in = &c->inst[o->aux];
    if (in->arrived == 0 || o->start > in->ready) {
        in->ready = o->start;
        in->bnd = o->bnd;
    }
    if (++in->arrived < c->groups[in->group].count) return CHIPEMU_OK;
    int64_t cap = c->bs_cap;
    if (en_grow((void **)&c->bstack, &cap, c->bs_n + 1, sizeof(int32_t)) != CHIPEMU_OK)
        return CHIPEMU_ERR_NOMEM;
    c->bs_cap = (int32_t)cap;
    c->bstack[c->bs_n++] = o->aux;
    return CHIPEMU_OK;
}

/* Complete the barrier instances whose last member arrived (a stack, not recursion). */
static int32_t drain_barriers(en_ctx *c) {
    while (c->bs_n > 0) {
        const en_inst *in = &c->inst[c->bstack[--c->bs_n]];
        int64_t done = in->ready + c->p->barrier_cycles;
        for (uint32_t m = 0; m < c->groups[in->group].count; m++) {
            int32_t x = c->members[in->off + m];
            c->ops[x].bnd = in->bnd;
            c->ops[x].info = (uint8_t)((c->ops[x].info & ~EN_BND_MASK) | EN_BND_BARRIER);
            int32_t st = complete(c, x, done);
            if (st == CHIPEMU_OK) st = resolve(c, c->ops[x].next_unit, done, x, EN_BND_UNIT);
            if (st != CHIPEMU_OK) return st;
        }
    }
    return CHIPEMU_OK;
}

/* ---- packets ---- */

/* Next channel from global tile cur towards tgt: 1 (res, ncur set), 0 when cur == tgt, -1 no route. */
int en_route_step(const en_ctx *c, uint32_t cur, uint32_t tgt, uint32_t *res, uint32_t *ncur) {
    if (cur == tgt) return 0;
    uint32_t T = c->T, cols = c->p->tile_cols, ch = cur / T, cht = tgt / T, local = cur - ch * T;
    uint32_t tl = tgt - cht * T;
    if (ch != cht) {
        int32_t l = c->next_link[(size_t)ch * c->C + cht];
        if (l < 0) return -1;
        const chipemu_link *k = &c->p->links[l];
        int from_a = k->a == ch;
        tl = from_a ? k->phy_a : k->phy_b;
        if (local == tl) {
            *res = (uint32_t)(c->d2d_base + 2 * l + (from_a ? 0 : 1));
            *ncur = (from_a ? k->b : k->a) * T + (from_a ? k->phy_b : k->phy_a);
            return 1;
        }
    }
    uint32_t r = local / cols, q = local % cols, tr = tl / cols, tq = tl % cols;
    int d = q < tq ? 0 : q > tq ? 1 : r < tr ? 2 : 3;               /* X first, then Y */
    *res = (uint32_t)c->noc_id[(size_t)cur * 4 + d];
    *ncur = d == 0 ? cur + 1 : d == 1 ? cur - 1 : d == 2 ? cur + cols : cur - cols;
    return 1;
}

/* Queue packet `pkt` of DMA op x at its first channel. Packets are numbered stream by stream. */
static int32_t push_packet(en_ctx *c, int32_t x, uint64_t pkt, int64_t cycle) {
    const en_op *o = &c->ops[x];
    uint64_t P = c->p->noc_max_packet_bytes, npk = ((uint64_t)o->occ_a + P - 1) / P;
    uint64_t j = pkt / npk, k = pkt - j * npk;
    uint32_t t = o->tile;
    en_item it;
    it.cycle = cycle;
    it.rank = o->rank;
    it.op = (uint32_t)x;
    it.k3 = pkt << 16;
    it.bytes = (uint32_t)(k == npk - 1 ? o->occ_a - k * P : P);
    it.trk = -1;
    uint8_t fl = (uint8_t)((k == npk - 1 ? EN_F_LAST_STREAM : 0) |
                           (j == (uint64_t)o->streams - 1 && k == npk - 1 ? EN_F_LAST_OP : 0) |
                           ((o->flags & EN_OP_GATED) ? EN_F_GATED : 0));
    switch (o->op) {
    case CHIPEMU_OP_SEND:
        it.stage = EN_ST_SRC | fl;
        it.res = en_res(c, t, CHIPEMU_RES_SRAM);
        it.cur = t;
        it.tgt = c->peers[o->occ_b + j];
        break;
    case CHIPEMU_OP_DRAM_WRITE:
        it.stage = EN_ST_SRC | EN_F_TO_DRAM | fl;
        it.res = en_res(c, t, CHIPEMU_RES_SRAM);
        it.cur = t;
        it.tgt = en_attach_tile(c, o->occ_b);
        break;
    case CHIPEMU_OP_DRAM_READ:
        it.stage = EN_ST_DRAMR | fl;
        it.res = (uint32_t)(c->dram_base + o->occ_b);
        it.cur = en_attach_tile(c, o->occ_b);
        it.tgt = t;
        break;
    default:                                                 /* HOST_READ */
        it.stage = EN_ST_HOST | fl;
        it.res = (uint32_t)c->host_res;
        it.cur = c->p->host_chiplet * c->T + c->p->host_tile;
        it.tgt = t;
        break;
    }
    return en_q_push(&c->q, &it);
}

static int32_t trk_new(en_ctx *c) {
    int32_t x = c->trk_free;
    if (x >= 0) {
        c->trk_free = c->trk[(size_t)x * EN_BD_STRIDE];
    } else {
        int64_t cap = c->trk_cap;
        if (c->trk_n >= INT32_MAX / EN_BD_STRIDE - 1 ||
            en_grow((void **)&c->trk, &cap, ((int64_t)c->trk_n + 1) * EN_BD_STRIDE, sizeof(int32_t)) != CHIPEMU_OK)
            return -1;
        c->trk_cap = (int32_t)cap;
        x = c->trk_n++;
    }
    memset(c->trk + (size_t)x * EN_BD_STRIDE, 0, EN_BD_STRIDE * sizeof(int32_t));
    return x;
}

static inline void trk_add(en_ctx *c, int32_t trk, uint32_t cls, int64_t v) {
    if (trk < 0 || v == 0) return;
    int32_t *a = c->trk + (size_t)trk * EN_BD_STRIDE + (cls - EN_BD_FIRST);
    int64_t s = (int64_t)*a + v;
    *a = s > INT32_MAX ? INT32_MAX : (int32_t)s;
}

static int32_t release_dma(en_ctx *c, int32_t x, int64_t t) {
    en_op *o = &c->ops[x];
    c->res[en_res(c, o->tile, CHIPEMU_RES_DMA)].busy += t - o->start;
    return resolve(c, o->next_unit, t, x, EN_BND_UNIT);
}

static int32_t stream_done(en_ctx *c, int32_t x, int64_t delivered, int32_t trk) {
    en_op *o = &c->ops[x];
    if (delivered > o->end) {
        o->end = delivered;
        memcpy(c->dma_bd + (size_t)o->aux * EN_BD_STRIDE, c->trk + (size_t)trk * EN_BD_STRIDE,
               EN_BD_STRIDE * sizeof(int32_t));
    }
    c->trk[(size_t)trk * EN_BD_STRIDE] = c->trk_free;
    c->trk_free = trk;
    if (--o->pending > 0) return CHIPEMU_OK;
    return complete(c, x, o->end);
}

/* ---- delivery hazards: a SEND's destination writes wait for them (docs/engine.md) ---- */

static int32_t push_held(en_ctx *c, const en_dmax *d, en_item *it) {
    if (d->ready > it->cycle) {
        if (it->trk >= 0) c->trk[(size_t)it->trk * EN_BD_STRIDE + EN_BD_HELD] = 1;
        it->cycle = d->ready;
    }
    return en_q_push(&c->q, it);
}

/* A packet of SEND x reaches its destination write: go on, or park until the hazards clear. */
static int32_t gate_delivery(en_ctx *c, int32_t x, en_item *it) {
    en_dmax *d = &c->dmax[c->ops[x].aux];
    if (d->pending == 0) return push_held(c, d, it);
    int32_t k = c->park_free;
    if (k >= 0) {
        c->park_free = c->park[k].next;
    } else {
        if (c->park_n >= INT32_MAX ||
            en_grow((void **)&c->park, &c->park_cap, c->park_n + 1, sizeof(en_parked)) != CHIPEMU_OK)
            return CHIPEMU_ERR_NOMEM;
        k = (int32_t)c->park_n++;
    }
    c->park[k].it = *it;
    c->park[k].next = d->parked;
    d->parked = k;
    return CHIPEMU_OK;
}

static int32_t resolve_delivery(en_ctx *c, int32_t x, int64_t t, int32_t pred, int kind) {
    en_dmax *d = &c->dmax[c->ops[x].aux];
    if (d->bnd < 0 || t > d->ready) {
        d->ready = t;
        d->bnd = pred;
        d->bkind = (uint8_t)kind;
    }
    if (--d->pending > 0) return CHIPEMU_OK;
    for (int32_t k = d->parked; k >= 0;) {                   /* release the parked packets */
        int32_t next = c->park[k].next;
        en_item it = c->park[k].it;
        c->park[k].next = c->park_free;
        c->park_free = k;
        int32_t st = push_held(c, d, &it);
        if (st != CHIPEMU_OK) return st;
        k = next;
    }
    d->parked = -1;
    return CHIPEMU_OK;
}

/* Takes a channel for a packet ready at `ready`: returns the start cycle. */
static inline int64_t take(en_resv *r, int64_t ready, int64_t ser) {
    int64_t s = ready > r->free ? ready : r->free;
    r->free = s + ser;
    r->busy += ser;
    return s;
}

/* One hop of a packet: take the channel, then queue the next hop (or deliver). */
static int32_t hop(en_ctx *c, const en_item *it) {
    int32_t x = (int32_t)it->op, st = it->stage & 15, fl = it->stage & 0xF0, trk = it->trk;
    uint32_t hopn = (uint32_t)(it->k3 & 0xFFFF);
    uint64_t pkt = it->k3 >> 16;
    en_resv *rv = &c->res[it->res];
    int64_t bytes = it->bytes, ready = it->cycle;
    int64_t ser = en_ceil_div(bytes, rv->bw), lat = rv->lat;
    uint32_t cls = rv->cls;
    int32_t status = CHIPEMU_OK;
    if (hopn == 0) {
        en_op *o = &c->ops[x];
        if (pkt == 0) {                                      /* the op starts with its first packet */
            o->start = ready;
            o->end = ready;
            o->pending = o->streams;
        }
        if (fl & EN_F_LAST_STREAM) {
            if ((trk = trk_new(c)) < 0) return CHIPEMU_ERR_NOMEM;
            trk_add(c, trk, cls, ready - o->start);
        }
    }
    int64_t s = take(rv, ready, ser);
    trk_add(c, trk, cls, s - ready);
    if (hopn == 0 && !(fl & EN_F_LAST_OP) && (status = push_packet(c, x, pkt + 1, s + ser)) != CHIPEMU_OK)
        return status;
    if (hopn == 0 && (fl & EN_F_LAST_OP) && st != EN_ST_HOST && (status = read_done(c, x, s + ser)) != CHIPEMU_OK)
        return status;
    if (st == EN_ST_SRC) {                                   /* the inject port: only this tile's DMA */
        en_resv *r1 = &c->res[en_res(c, it->cur, CHIPEMU_RES_INJECT)];
        int64_t ser1 = en_ceil_div(bytes, r1->bw), ready1 = s + lat + (ser > ser1 ? ser - ser1 : 0);
        trk_add(c, trk, cls, ready1 - s);
        int64_t s1 = take(r1, ready1, ser1);
        trk_add(c, trk, CHIPEMU_RES_INJECT, s1 - ready1);
        if ((fl & EN_F_LAST_OP) && (status = release_dma(c, x, s1 + ser1)) != CHIPEMU_OK) return status;
        s = s1, ser = ser1, lat = r1->lat, cls = CHIPEMU_RES_INJECT, hopn = 1;
    } else if (st == EN_ST_DRAMR || st == EN_ST_HOST) {
        if ((fl & EN_F_LAST_OP) && (status = release_dma(c, x, s + ser)) != CHIPEMU_OK) return status;
    }
    if (st == EN_ST_DST || st == EN_ST_DRAMW) {
        int64_t delivered = s + ser + lat;
        trk_add(c, trk, cls, delivered - s);
        return (fl & EN_F_LAST_STREAM) ? stream_done(c, x, delivered, trk) : CHIPEMU_OK;
    }
    en_item nx = *it;
    int nst = EN_ST_NOC;
    if (st == EN_ST_EJECT) {
        nx.res = en_res(c, it->tgt, CHIPEMU_RES_SRAM);
        nst = EN_ST_DST;
    } else {
        int rs = en_route_step(c, it->cur, it->tgt, &nx.res, &nx.cur);
        if (rs < 0)
            return en_fail(c, CHIPEMU_ERR_LOG, x, CHIPEMU_EE_NO_ROUTE, (int32_t)(it->cur / c->T),
                           it->tgt / c->T, 0);
        if (rs == 0 && (fl & EN_F_TO_DRAM)) {
            nx.res = (uint32_t)(c->dram_base + c->ops[x].occ_b);
            nst = EN_ST_DRAMW;
        } else if (rs == 0) {
            nx.res = en_res(c, it->tgt, CHIPEMU_RES_EJECT);
            nst = EN_ST_EJECT;
        }
    }
    int64_t ser_n = en_ceil_div(bytes, c->res[nx.res].bw);
    nx.cycle = s + lat + (ser > ser_n ? ser - ser_n : 0);
    trk_add(c, trk, cls, nx.cycle - s);
    nx.k3 = pkt << 16 | (hopn < 0xFFFE ? hopn + 1 : 0xFFFF);
    nx.stage = (uint8_t)(nst | fl);
    nx.trk = trk;
    if (nst == EN_ST_DST && (fl & EN_F_GATED)) return gate_delivery(c, x, &nx);
    return en_q_push(&c->q, &nx);
}

/* ---- compute ops ---- */

static int32_t run_op(en_ctx *c, const en_item *it) {
    int32_t x = (int32_t)it->op;
    en_op *o = &c->ops[x];
    uint32_t t = o->tile, res[260];
    int64_t occ[260], a = o->occ_a, b = o->occ_b;
    int n = 0;
    if (o->flags & EN_OP_BIG) {                              /* occupancies beyond 32 bits */
        en_costs k;
        en_compute_costs(c, &c->ev[x], &k);
        a = o->op == CHIPEMU_OP_DIMC_MVM ? k.dur : k.unit_occ;
        b = k.sram_occ;
    }
    int64_t dur = o->op == CHIPEMU_OP_DIMC_MVM ? a : MAX64(a, b);
    switch (o->op) {
    case CHIPEMU_OP_DIMC_MVM:
        res[n] = en_res_engine(c, t, o->unit), occ[n++] = a;
        break;
    case CHIPEMU_OP_DIMC_LOAD:
        res[n] = en_res(c, t, CHIPEMU_RES_DIMC_WRITE), occ[n++] = a;
        res[n] = en_res(c, t, CHIPEMU_RES_SRAM), occ[n++] = b;
        for (uint32_t g = 0; !c->p->dimc_write_overlaps_compute && g < c->E; g++)
            res[n] = en_res_engine(c, t, g), occ[n++] = dur;
        break;
    default:                                                 /* VEC */
        res[n] = en_res(c, t, CHIPEMU_RES_VECTOR), occ[n++] = a;
        res[n] = en_res(c, t, CHIPEMU_RES_SRAM), occ[n++] = b;
        break;
    }
    int64_t start = it->cycle;
    int wait = -1;
    for (int i = 0; i < n; i++) {
        if (c->res[res[i]].free > start) {
            start = c->res[res[i]].free;
            wait = (int)c->res[res[i]].cls;
        }
    }
    for (int i = 0; i < n; i++) {
        c->res[res[i]].free = start + occ[i];
        c->res[res[i]].busy += occ[i];
    }
    o->start = start;
    o->info = (uint8_t)((o->info & EN_BND_MASK) | ((wait + 1) << EN_WAIT_SHIFT));
    int32_t st = resolve(c, o->next_unit, start + a, x, EN_BND_UNIT);
    return st != CHIPEMU_OK ? st : complete(c, x, start + dur);
}

static int32_t op_ready(en_ctx *c, int32_t x) {
    const en_op *o = &c->ops[x];
    if (o->op == CHIPEMU_OP_BARRIER) return barrier_arrive(c, x);
    if (en_is_dma(o->op)) return push_packet(c, x, 0, o->start);
    en_item it;
    memset(&it, 0, sizeof it);
    it.cycle = o->start;
    it.rank = o->rank;
    it.op = (uint32_t)x;
    it.trk = -1;
    it.stage = EN_ST_OP;
    return en_q_push(&c->q, &it);
}

int32_t en_simulate(en_ctx *c) {
    c->dma_bd = en_calloc((size_t)c->n_dma * EN_BD_STRIDE, sizeof(int32_t));
    c->park_free = -1;
    c->trk_free = -1;
    if (!c->dma_bd || en_q_init(&c->q) != CHIPEMU_OK) return CHIPEMU_ERR_NOMEM;
    int32_t st = CHIPEMU_OK;
    for (int64_t x = 0; st == CHIPEMU_OK && x < c->n; x++)
        if (c->ops[x].pending == 0) st = op_ready(c, (int32_t)x);
    if (st == CHIPEMU_OK) st = drain_barriers(c);
    en_item it;
    while (st == CHIPEMU_OK) {
        int r = en_q_pop(&c->q, &it);
        if (r < 0) st = CHIPEMU_ERR_NOMEM;
        if (r <= 0) break;
        st = (it.stage & 15) == EN_ST_OP ? run_op(c, &it) : hop(c, &it);
        if (st == CHIPEMU_OK && c->bs_n > 0) st = drain_barriers(c);
    }
    if (st != CHIPEMU_OK) return st;
    if (c->n_done < c->n) {
        for (int64_t x = 0; x < c->n; x++)
            if (!(c->ops[x].flags & EN_OP_DONE))
                return en_fail(c, CHIPEMU_ERR_LOG, x, CHIPEMU_EE_CYCLE, 0, c->ops[x].pending, 0);
    }
    int64_t ms = 0, *start = c->out->start_cycles, *end = c->out->end_cycles;
    for (int64_t x = 0; x < c->n; x++) {
        start[x] = c->ops[x].start;
        end[x] = c->ops[x].end;
        ms = end[x] > ms ? end[x] : ms;
    }
    c->out->makespan_cycles = ms;
    return CHIPEMU_OK;
}
