/* engine/sim.c — the discrete-event simulation of ops and packets (docs/engine.md "Timing").
 *
 * One queue (queue.c) holds compute-op starts and packet hops keyed by (ready cycle, issuing
 * tile, event index, packet index, hop); an op's rank encodes (issuing tile, event index). Each
 * resource keeps the cycle it is free from; an op or a packet takes it at max(ready, free) and holds
 * it for its occupancy (greedy, no backfilling). Ops become ready when their predecessors
 * (hazard.c) complete and their unit is released. A packet in flight lives in one slot,
 * updated in place hop by hop; the queue holds (key, slot). Energy is not counted here
 * (energy.c): the simulation touches only the op records, the resources and the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define MAX64(a, b) ((a) > (b) ? (a) : (b))

void en_compute_costs(const en_ctx *c, const chipemu_event *e, en_costs *k) {
    const chipemu_device_params *p = c->p;
    memset(k, 0, sizeof *k);
    switch (e->op) {
    case CHIPEMU_OP_DIMC_MVM: {
        int64_t eb = c->elem_bits[e->fmt];
        int64_t cpv = en_ceil_div(eb, p->dimc_input_bits_per_cycle);
        int64_t io = en_rlen(&e->src0) + en_rlen(&e->dst) * ((e->flags & CHIPEMU_FLAG_ACCUMULATE) ? 2 : 1);
        k->dur = p->dimc_pipeline_cycles + MAX64((int64_t)e->a * cpv, en_ceil_div(io, p->dimc_io_bytes_per_cycle));
        k->unit_occ = k->dur;
        break;
    }
    case CHIPEMU_OP_DIMC_LOAD:
        k->write_occ = (int64_t)e->b * p->dimc_write_cycles_per_row;
        k->sram_occ = en_ceil_div(en_rlen(&e->src0), p->sram_port_bytes_per_cycle);
        k->dur = MAX64(k->write_occ, k->sram_occ);
        k->unit_occ = k->write_occ;
        break;
    case CHIPEMU_OP_VEC: {
        /* an accumulating op (vec_dot) also reads dst through the port */
        int64_t acc = (e->flags & CHIPEMU_FLAG_ACCUMULATE) ? en_rlen(&e->dst) : 0;
        /* < 2^32 x 2^16: check_params bounds vec_cycles (tables.limits), so times cannot wrap */
        k->unit_occ = en_ceil_div(e->a, p->vec_lanes) * p->vec_cycles[e->c];
        k->sram_occ = en_ceil_div(en_rlen(&e->src0) + en_rlen(&e->src1) + en_rlen(&e->dst) + acc,
                                  p->sram_port_bytes_per_cycle);
        k->dur = MAX64(k->unit_occ, k->sram_occ);
        break;
    }
    default:
        break;
    }
}

uint32_t en_attach_tile(const en_ctx *c, uint32_t ch) {
    uint32_t per = c->p->dram_channels;
    return (ch / per) * c->T + c->p->dram_channel_tile[ch % per];
}

/* The record of validated event x at rank r (the simulation reads no event record after this,
 * except for occupancies beyond 32 bits). DMA ops get their dmax entry (ordinal `dma`). */
void en_init_op(en_ctx *c, int64_t x, uint32_t r, int32_t dma) {
    const chipemu_event *e = &c->ev[x];
    en_op *o = &c->ops[r];
    memset(o, 0, sizeof *o);
    o->bnd = o->next_unit = o->aux = o->ovf_head = o->ovf_tail = -1;
    o->tile = e->tile;
    o->op = e->op;
    o->unit = e->op == CHIPEMU_OP_DIMC_MVM ? e->unit : 0;
    if (en_is_dma(e->op)) {
        o->occ_a = e->a;
        o->aux = dma;
        en_dmax *d = &c->dmax[dma];
        memset(d, 0, sizeof *d);
        d->read_done = d->end = -1;
        d->bnd = d->parked = -1;
        d->streams = 1;
        if (e->op == CHIPEMU_OP_SEND) {
            d->where = e->peer_first;
            d->streams = e->peer_count;
        } else if (e->op == CHIPEMU_OP_DRAM_READ) {
            d->where = c->buf[e->src0.buf].where;
        } else if (e->op == CHIPEMU_OP_DRAM_WRITE) {
            d->where = c->buf[e->dst.buf].where;
        }
    } else if (e->op != CHIPEMU_OP_BARRIER) {
        en_costs k;
        en_compute_costs(c, e, &k);
        int64_t a = e->op == CHIPEMU_OP_DIMC_MVM ? k.dur : k.unit_occ, b = k.sram_occ;
        int big = a > (int64_t)UINT32_MAX || b > (int64_t)UINT32_MAX;
        o->flags |= (uint8_t)(big ? EN_OP_BIG : 0);
        o->occ_a = big ? 0 : (uint32_t)a;
        o->occ_b = big ? 0 : (uint32_t)b;
    }
}

/* An op's completion (after the simulation): DMA ops keep it, the others derive it. */
int64_t en_op_end(const en_ctx *c, int32_t r) {
    const en_op *o = &c->ops[r];
    if (!(o->flags & EN_OP_DONE)) return -1;
    if (en_is_dma(o->op)) return c->dmax[o->aux].end;
    if (o->op == CHIPEMU_OP_BARRIER) return c->inst[o->aux].ready + c->p->barrier_cycles;
    int64_t a = o->occ_a, b = o->occ_b;
    if (o->flags & EN_OP_BIG) {
        en_costs k;
        en_compute_costs(c, &c->ev[c->idx[r]], &k);
        a = o->op == CHIPEMU_OP_DIMC_MVM ? k.dur : k.unit_occ;
        b = k.sram_occ;
    }
    return o->start + (o->op == CHIPEMU_OP_DIMC_MVM ? a : MAX64(a, b));
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

int32_t en_resolve(en_ctx *c, int32_t y, int64_t t, int32_t pred, int kind) {
    return resolve(c, y, t, pred, kind);
}

int32_t en_op_ready(en_ctx *c, int32_t y) { return op_ready(c, y); }

/* x releases its unit at t: the next op on the unit is resolved, once admitted (admit.c). */
static inline int32_t release_unit(en_ctx *c, int32_t x, int64_t t) {
    int32_t y = c->ops[x].next_unit;
    if (y < 0) return CHIPEMU_OK;
    if (!(c->ops[y].flags & EN_OP_ADMITTED)) {
        int32_t st = en_admit_op(c, y);
        if (st != CHIPEMU_OK) return st;
    }
    return resolve(c, y, t, x, EN_BND_UNIT);
}

/* Resolve x's successor entries at time t: those that wait for its completion (reads = 0), or for
 * its read to finish (reads = 1). A compute op's read finishes when it completes. */
static int32_t notify(en_ctx *c, int32_t x, int64_t t, int reads) {
    const en_op *o = &c->ops[x];
    int both = !en_is_dma(o->op);
    uint32_t n = o->n_succ, n_in = n < EN_SUCC_INLINE ? n : EN_SUCC_INLINE;
    int32_t inl[EN_SUCC_INLINE], chunk = o->ovf_head;
    for (uint32_t k = 0; k < n_in; k++) {
        inl[k] = o->succ[k];
        __builtin_prefetch(&c->ops[(uint32_t)inl[k] & EN_SUCC_MASK]);
    }
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v;
        if (k < EN_SUCC_INLINE) {
            v = (uint32_t)inl[k];
        } else {
            uint32_t j = (k - EN_SUCC_INLINE) % EN_SUCC_CHUNK;
            if (j == 0 && k > EN_SUCC_INLINE) chunk = c->sch[chunk].next;
            v = (uint32_t)c->sch[chunk].e[j];
        }
        int is_read = (v & EN_READ) != 0;
        if (!both && is_read != reads) continue;
        int kind = is_read ? EN_BND_READ : EN_BND_DONE;
        int32_t y = (int32_t)(v & EN_SUCC_MASK);
        int32_t st = (v & EN_DELIVERY) ? en_resolve_delivery(c, y, t, x, kind) : resolve(c, y, t, x, kind);
        if (st != CHIPEMU_OK) return st;
    }
    return CHIPEMU_OK;
}

int32_t en_release_unit(en_ctx *c, int32_t x, int64_t t) { return release_unit(c, x, t); }

static int32_t complete(en_ctx *c, int32_t x, int64_t t) {
    if (t >= EN_TIME_LIMIT)
        return en_fail(c, CHIPEMU_ERR_LOG, c->idx[x], CHIPEMU_EE_TOO_LARGE, CHIPEMU_TOO_LARGE_CYCLES, t, EN_TIME_LIMIT);
    en_op *o = &c->ops[x];
    o->flags |= EN_OP_DONE;
    o->pending = (int32_t)c->seq++;                          /* its place among completions */
    if ((++c->n_done & 0xFFFF) == 0) __atomic_store_n(&c->out->events_done, c->n_done, __ATOMIC_RELAXED);
    if (t > c->last_end || (t == c->last_end && c->idx[x] < c->idx[c->last_op])) {
        c->last_end = t;
        c->last_op = x;
    }
    return notify(c, x, t, 0);
}

int32_t en_complete(en_ctx *c, int32_t x, int64_t t) { return complete(c, x, t); }

/* A DMA op's last packet finished reading its source (SRAM or DRAM): WAR successors may go. */
int32_t en_read_done(en_ctx *c, int32_t x, int64_t t) {
    en_dmax *d = &c->dmax[c->ops[x].aux];
    d->read_done = t;
    d->read_seq = c->seq++;
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
            if (st == CHIPEMU_OK) st = release_unit(c, x, done);
            if (st != CHIPEMU_OK) return st;
        }
    }
    return CHIPEMU_OK;
}

/* ---- compute ops ---- */

/* Takes resource r for `occ` cycles from `start` (all of an op's resources start together). */
static inline void hold(en_resv *r, int64_t start, int64_t occ) {
    r->free = start + occ;
    r->busy += occ;
    r->spare = 0;
}

/* A compute op starts at max(ready, free time of each resource it occupies), in the order
 * unit, SRAM port, engines (the last resource that delayed it is the class it waited for). */
static int32_t run_op(en_ctx *c, int32_t x, int64_t ready) {
    en_op *o = &c->ops[x];
    int64_t a = o->occ_a, b = o->occ_b;
    if (o->flags & EN_OP_BIG) {                              /* occupancies beyond 32 bits */
        en_costs k;
        en_compute_costs(c, &c->ev[c->idx[x]], &k);
        a = o->op == CHIPEMU_OP_DIMC_MVM ? k.dur : k.unit_occ;
        b = k.sram_occ;
    }
    en_resv *base = &c->res[(size_t)o->tile * c->per_tile];
    int64_t start = ready, dur;
    int wait = -1;
    if (o->op == CHIPEMU_OP_DIMC_MVM) {
        en_resv *r0 = base + o->unit;
        if (r0->free > start) start = r0->free, wait = CHIPEMU_RES_DIMC;
        hold(r0, start, a);
        dur = a;
    } else if (c->rd) {
        /* message model: the SRAM port last, where a message read in progress yields to the op */
        en_resv *r0 = base + c->E + (o->op == CHIPEMU_OP_VEC ? 1 : 0), *r1 = base + c->E + 3;
        dur = MAX64(a, b);
        if (r0->free > start) start = r0->free, wait = o->op == CHIPEMU_OP_VEC ? CHIPEMU_RES_VECTOR : CHIPEMU_RES_DIMC_WRITE;
        int block = o->op == CHIPEMU_OP_DIMC_LOAD && !c->p->dimc_write_overlaps_compute;
        for (uint32_t g = 0; block && g < c->E; g++)
            if (base[g].free > start) start = base[g].free, wait = CHIPEMU_RES_DIMC;
        int64_t t = r1->free > start && b > 0 ? en_preempt(c, o->tile, r1, start, b) : -1;
        if (t >= 0) {
            if (t > start) start = t, wait = CHIPEMU_RES_SRAM;
        } else {
            if (r1->free > start) start = r1->free, wait = CHIPEMU_RES_SRAM;
            hold(r1, start, b);
        }
        hold(r0, start, a);
        for (uint32_t g = 0; block && g < c->E; g++) hold(&base[g], start, dur);
    } else {
        en_resv *r0 = base + c->E + (o->op == CHIPEMU_OP_VEC ? 1 : 0), *r1 = base + c->E + 3;   /* unit, SRAM */
        dur = MAX64(a, b);
        if (r0->free > start) start = r0->free, wait = o->op == CHIPEMU_OP_VEC ? CHIPEMU_RES_VECTOR : CHIPEMU_RES_DIMC_WRITE;
        if (r1->free > start) start = r1->free, wait = CHIPEMU_RES_SRAM;
        int block = o->op == CHIPEMU_OP_DIMC_LOAD && !c->p->dimc_write_overlaps_compute;
        for (uint32_t g = 0; block && g < c->E; g++)
            if (base[g].free > start) start = base[g].free, wait = CHIPEMU_RES_DIMC;
        hold(r0, start, a);
        hold(r1, start, b);
        for (uint32_t g = 0; block && g < c->E; g++) hold(&base[g], start, dur);
    }
    o->start = start;
    o->info = (uint8_t)((o->info & EN_BND_MASK) | ((wait + 1) << EN_WAIT_SHIFT));
    int32_t st = release_unit(c, x, start + a);
    return st != CHIPEMU_OK ? st : complete(c, x, start + dur);
}

static int32_t op_ready(en_ctx *c, int32_t x) {
    const en_op *o = &c->ops[x];
    if (o->op == CHIPEMU_OP_BARRIER) return barrier_arrive(c, x);
    if (en_is_dma(o->op)) return en_push_packet(c, x, 0, o->start);
    return en_q_push(&c->q, o->start, en_qkey(&c->q, (uint32_t)x, 0, 0), (uint32_t)x);
}

/* The items of the current cycle are known once it is sorted: fetch what the ones a few places
 * ahead will touch (their records, then the resources and successor lists those name), so the
 * cache misses of successive items overlap instead of queueing up. Only a hint: no effect on
 * results. */
static inline void prefetch_ahead(const en_ctx *c) {
    const en_queue *q = &c->q;
    int64_t far = q->cur_pos + 24, mid = q->cur_pos + 12, near = q->cur_pos + 4;
    if (far < q->cur_n) {                                    /* the slot or the record */
        uint32_t ref = q->cur[far].ref;
        if (ref & EN_REF_PKT) __builtin_prefetch(&c->pk[ref & ~EN_REF_PKT]);
        else __builtin_prefetch(&c->ops[ref]);
    }
    if (mid < q->cur_n) {                                    /* what those name */
        uint32_t ref = q->cur[mid].ref;
        if (ref & EN_REF_PKT) {
            const en_pkt *k = &c->pk[ref & ~EN_REF_PKT];
            __builtin_prefetch(&c->res[k->res]);
            if (k->hop == 0 || (k->stage & 15) >= EN_ST_DST) __builtin_prefetch(&c->ops[k->op]);
        } else {
            const en_op *o = &c->ops[ref];
            const en_resv *base = &c->res[(size_t)o->tile * c->per_tile];
            __builtin_prefetch(base);
            __builtin_prefetch(base + c->per_tile - 1);
            if (o->next_unit >= 0) __builtin_prefetch(&c->ops[o->next_unit]);
            for (uint32_t k = 0; k < o->n_succ && k < EN_SUCC_INLINE; k++)
                __builtin_prefetch(&c->ops[(uint32_t)o->succ[k] & EN_SUCC_MASK]);
        }
    }
    if (near < q->cur_n && (q->cur[near].ref & EN_REF_PKT)) {   /* a DMA op's extension */
        const en_pkt *k = &c->pk[q->cur[near].ref & ~EN_REF_PKT];
        if (k->hop == 0 || (k->stage & 15) >= EN_ST_DST) __builtin_prefetch(&c->dmax[c->ops[k->op].aux]);
    }
}

static int bits_for(uint64_t v) {                            /* bits to hold 0..v */
    int b = 0;
    while (b < 64 && (v >> b) != 0) b++;
    return b;
}

int32_t en_simulate(en_ctx *c) {
    c->park_free = c->trk_free = c->pk_free = -1;
    c->last_op = -1;
    c->last_end = -1;
    int hb = bits_for(c->max_route), pb = bits_for(c->max_packets > 0 ? c->max_packets - 1 : 0);
    if (en_q_init(&c->q, hb, hb + pb > 32, c->pk) != CHIPEMU_OK) return CHIPEMU_ERR_NOMEM;
    int32_t st = CHIPEMU_OK;
    /* every op without a unit predecessor is admitted (and readied, if it has no predecessor at
     * all) in log order before the first cycle; the others when their unit releases them */
    c->admitted = -1;
    if (c->last_first >= 0) st = en_admit_to(c, c->last_first);
    if (st == CHIPEMU_OK) st = drain_barriers(c);
    en_qc e;
    while (st == CHIPEMU_OK) {
        int r = en_q_pop(&c->q, &e);
        if (r < 0) st = CHIPEMU_ERR_NOMEM;
        if (r == 0) {                                        /* nothing left to run: the rest of */
            st = en_admit_all(c);                            /* the stream cannot start anything, */
            if (st == CHIPEMU_OK && (r = en_q_pop(&c->q, &e)) < 0) st = CHIPEMU_ERR_NOMEM;
        }                                                    /* but it is read to its end */
        if (r <= 0) break;
        prefetch_ahead(c);
        st = (e.ref & EN_REF_PKT) ? en_hop(c, e.ref & ~EN_REF_PKT, e.cycle) : run_op(c, (int32_t)e.ref, e.cycle);
        if (st == CHIPEMU_OK && c->bs_n > 0) st = drain_barriers(c);
    }
    if (st != CHIPEMU_OK) return st;
    if (c->n_done < c->n) {                                  /* the first op (log order) left */
        int64_t first = -1;
        for (int64_t r = 0; r < c->n; r++)
            if (!(c->ops[r].flags & EN_OP_DONE) && (first < 0 || c->idx[r] < c->idx[first])) first = r;
        return en_fail(c, CHIPEMU_ERR_LOG, c->idx[first], CHIPEMU_EE_CYCLE, 0, c->ops[first].pending, 0);
    }
    c->out->makespan_cycles = c->last_end > 0 ? c->last_end : 0;
    return CHIPEMU_OK;
}
