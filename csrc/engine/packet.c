/* engine/packet.c — DMA ops as packets hop by hop (docs/engine.md "Messages, packets and routes").
 *
 * A packet in flight lives in one slot, updated in place hop by hop; the queue holds (key, slot).
 * The slot keeps the route state — chiplet and local coordinates of the tile the packet is at, and
 * those the current NoC leg heads for (the destination, or the PHY of the next link on the chiplet
 * route) — so each XY step is a comparison, with no division. Cut-through timing per channel i:
 * s_i = max(ready_i, free_i), free_i = s_i + ser_i, ready_{i+1} = s_i + lat_i + max(0, ser_i -
 * ser_{i+1}). Only a stream's last packet carries a tracker (its per-class breakdown, for the
 * critical path).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/hop.h"

/* ---- routes ---- */

static inline void local_rc(const en_ctx *c, uint32_t local, uint32_t *row, uint32_t *col) {
    *row = local / c->p->tile_cols;
    *col = local % c->p->tile_cols;
}

/* The NoC leg from the packet's chiplet: to the destination, or to the PHY of the next link. */
static int set_leg(const en_ctx *c, en_pkt *k) {
    uint32_t tl, tch = k->tgt / c->T;
    if (k->cch == tch) {
        tl = k->tgt - tch * c->T;
        k->cross = 0;
    } else {
        int32_t l = c->next_link[(size_t)k->cch * c->C + tch];
        if (l < 0) return -1;
        const chipemu_link *lk = &c->p->links[l];
        tl = lk->a == k->cch ? lk->phy_a : lk->phy_b;
        k->cross = 1;
    }
    local_rc(c, tl, &k->lrow, &k->lcol);
    return 0;
}

/* The packet starts its route at global tile `from` towards k->tgt. */
static int route_start(const en_ctx *c, en_pkt *k, uint32_t from) {
    k->cur = from;
    k->cch = from / c->T;
    local_rc(c, from - k->cch * c->T, &k->crow, &k->ccol);
    return set_leg(c, k);
}

/* Next channel towards k->tgt: 1 (k->res, k->cur and the coordinates updated), 0 when there,
 * -1 no route. XY on a chiplet (columns first), D2D at the PHY of the chiplet route's next link. */
static int route_next(const en_ctx *c, en_pkt *k) {
    if (k->crow == k->lrow && k->ccol == k->lcol) {
        if (!k->cross) return 0;
        int32_t l = c->next_link[(size_t)k->cch * c->C + k->tgt / c->T];
        const chipemu_link *lk = &c->p->links[l];
        int from_a = lk->a == k->cch;
        uint32_t nch = from_a ? lk->b : lk->a, phy = from_a ? lk->phy_b : lk->phy_a;
        k->res = (uint32_t)(c->d2d_base + 2 * l + (from_a ? 0 : 1));
        k->pid = EN_PID_D2D + (uint32_t)l;
        k->cur = nch * c->T + phy;
        k->cch = nch;
        local_rc(c, phy, &k->crow, &k->ccol);
        return set_leg(c, k) < 0 ? -1 : 1;
    }
    int d;
    uint32_t cols = c->p->tile_cols, from = k->cur;
    if (k->ccol < k->lcol) d = 0, k->ccol++, k->cur++;                 /* E */
    else if (k->ccol > k->lcol) d = 1, k->ccol--, k->cur--;            /* W */
    else if (k->crow < k->lrow) d = 2, k->crow++, k->cur += cols;      /* S */
    else d = 3, k->crow--, k->cur -= cols;                             /* N */
    k->res = (uint32_t)c->noc_id[(size_t)from * 4 + d];
    k->pid = CHIPEMU_RES_NOC_LINK;
    return 1;
}

/* ---- slots and trackers ---- */

int32_t en_slot_new(en_ctx *c) {
    int32_t s = c->pk_free;
    if (s >= 0) {
        c->pk_free = c->pk[s].trk;
        return s;
    }
    if (c->pk_n >= INT32_MAX || en_grow((void **)&c->pk, &c->pk_cap, c->pk_n + 1, sizeof(en_pkt)) != CHIPEMU_OK)
        return -1;
    c->q.pk = c->pk;
    return (int32_t)c->pk_n++;
}

int32_t en_trk_new(en_ctx *c) {
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

/* Queue packet `pkt` of DMA op x at its first channel. Packets are numbered stream by stream. */
int32_t en_push_packet(en_ctx *c, int32_t x, uint64_t pkt, int64_t cycle) {
    const en_op *o = &c->ops[x];
    const en_dmax *d = &c->dmax[o->aux];
    uint64_t P = en_unit_bytes(c), npk = ((uint64_t)o->occ_a + P - 1) / P;
    uint64_t j = npk == 1 ? pkt : pkt / npk, k = pkt - j * npk;
    uint32_t t = o->tile, nl = 0, pushed = d->streams;
    const uint32_t *order = NULL;
    if (o->op == CHIPEMU_OP_SEND && c->mc_off != NULL) {   /* the local peers share stream 0 */
        if ((order = en_tree_peers(c, x, &nl)) == NULL) return CHIPEMU_ERR_NOMEM;
        pushed = (nl > 0) + (d->streams - nl);
    }
    int32_t s = en_slot_new(c);
    if (s < 0) return CHIPEMU_ERR_NOMEM;
    en_pkt *it = &c->pk[s];
    it->pkt = pkt;
    it->op = (uint32_t)x;
    it->bytes = (uint32_t)(k == npk - 1 ? o->occ_a - k * P : P);
    it->trk = -1;
    it->hop = 0;
    it->lag = 0;
    uint8_t fl = (uint8_t)((k == npk - 1 ? EN_F_LAST_STREAM : 0) |
                           (j == (uint64_t)pushed - 1 && k == npk - 1 ? EN_F_LAST_OP : 0) |
                           (o->op == CHIPEMU_OP_SEND ? EN_F_GATED : 0));
    uint32_t from;
    switch (o->op) {
    case CHIPEMU_OP_SEND:
        it->stage = EN_ST_SRC | fl;
        it->res = en_res(c, t, CHIPEMU_RES_SRAM);
        it->pid = CHIPEMU_RES_SRAM;
        from = t;
        if (order != NULL && nl > 0 && j == 0) {             /* the tree, rooted at the source */
            it->tgt = 0;
            it->lrow = nl;
            it->lcol = EN_TK_ROOT;
            it->cross = EN_TREE;
            it->cur = t;
            it->cch = t / c->T;
            local_rc(c, t - it->cch * c->T, &it->crow, &it->ccol);
            return en_q_push(&c->q, cycle, en_qkey(&c->q, (uint32_t)x, pkt, 0), (uint32_t)s | EN_REF_PKT);
        }
        it->tgt = order != NULL ? order[nl + j - (nl > 0)] : c->peers[d->where + j];
        break;
    case CHIPEMU_OP_DRAM_WRITE:
        it->stage = EN_ST_SRC | EN_F_TO_DRAM | fl;
        it->res = en_res(c, t, CHIPEMU_RES_SRAM);
        it->pid = CHIPEMU_RES_SRAM;
        it->tgt = en_attach_tile(c, d->where);
        from = t;
        break;
    case CHIPEMU_OP_DRAM_READ:
        it->stage = EN_ST_DRAMR | fl;
        it->res = (uint32_t)(c->dram_base + d->where);
        it->pid = CHIPEMU_RES_DRAM;
        it->tgt = t;
        from = en_attach_tile(c, d->where);
        break;
    default:                                                 /* HOST_READ */
        it->stage = EN_ST_HOST | fl;
        it->res = (uint32_t)c->host_res;
        it->pid = CHIPEMU_RES_HOST;
        it->tgt = t;
        from = c->p->host_chiplet * c->T + c->p->host_tile;
        break;
    }
    if (route_start(c, it, from) < 0)                        /* validated: not reached */
        return en_fail(c, CHIPEMU_ERR_LOG, c->idx[x], CHIPEMU_EE_NO_ROUTE, (int32_t)(from / c->T), t / c->T, 0);
    return en_q_push(&c->q, cycle, en_qkey(&c->q, (uint32_t)x, pkt, 0), (uint32_t)s | EN_REF_PKT);
}

/* ---- DMA op completion ---- */

static int32_t release_dma(en_ctx *c, int32_t x, int64_t t) {
    en_op *o = &c->ops[x];
    c->res[en_res(c, o->tile, CHIPEMU_RES_DMA)].busy += t - o->start;
    return en_release_unit(c, x, t);
}

static int32_t stream_done(en_ctx *c, int32_t x, int64_t delivered, int32_t trk) {
    en_op *o = &c->ops[x];
    en_dmax *d = &c->dmax[o->aux];
    if (delivered > d->end) {
        d->end = delivered;
        memcpy(d->bd, c->trk + (size_t)trk * EN_BD_STRIDE, EN_BD_STRIDE * sizeof(int32_t));
    }
    c->trk[(size_t)trk * EN_BD_STRIDE] = c->trk_free;
    c->trk_free = trk;
    if (--o->pending > 0) return CHIPEMU_OK;
    return en_complete(c, x, d->end);
}

/* ---- delivery hazards: a SEND's destination writes wait for them (docs/engine.md) ---- */

static int32_t push_held(en_ctx *c, const en_dmax *d, uint32_t s, int64_t cycle) {
    const en_pkt *it = &c->pk[s];
    if (d->ready > cycle) {
        if (it->trk >= 0) c->trk[(size_t)it->trk * EN_BD_STRIDE + EN_BD_HELD] = 1;
        cycle = d->ready;
    }
    return en_q_push(&c->q, cycle, en_qkey(&c->q, it->op, it->pkt, it->hop), s | EN_REF_PKT);
}

/* A packet of SEND x reaches its destination write: go on, or park until the hazards clear. */
static int32_t gate_delivery(en_ctx *c, int32_t x, uint32_t s, int64_t cycle) {
    en_dmax *d = &c->dmax[c->ops[x].aux];
    if (!d->deliv_ok) {
        int32_t st = en_admit_deliv(c, x);
        if (st != CHIPEMU_OK) return st;
    }
    if (d->pending == 0) return push_held(c, d, s, cycle);
    int32_t k = c->park_free;
    if (k >= 0) {
        c->park_free = c->park[k].next;
    } else {
        if (c->park_n >= INT32_MAX ||
            en_grow((void **)&c->park, &c->park_cap, c->park_n + 1, sizeof(en_parked)) != CHIPEMU_OK)
            return CHIPEMU_ERR_NOMEM;
        k = (int32_t)c->park_n++;
    }
    c->park[k].cycle = cycle;
    c->park[k].slot = s;
    c->park[k].next = d->parked;
    d->parked = k;
    return CHIPEMU_OK;
}

int32_t en_resolve_delivery(en_ctx *c, int32_t x, int64_t t, int32_t pred, int kind) {
    en_dmax *d = &c->dmax[c->ops[x].aux];
    if (d->bnd < 0 || t > d->ready) {
        d->ready = t;
        d->bnd = pred;
        d->bkind = (uint8_t)kind;
    }
    if (--d->pending > 0) return CHIPEMU_OK;
    for (int32_t k = d->parked; k >= 0;) {                   /* release the parked packets */
        int32_t next = c->park[k].next;
        int64_t cycle = c->park[k].cycle;
        uint32_t s = c->park[k].slot;
        c->park[k].next = c->park_free;
        c->park_free = k;
        int32_t st = push_held(c, d, s, cycle);
        if (st != CHIPEMU_OK) return st;
        k = next;
    }
    d->parked = -1;
    return CHIPEMU_OK;
}

/* ---- one hop ---- */

/* Takes a channel of bw bytes/cycle for a packet of `bytes` ready at `ready`: returns the start
 * cycle and its cycles in *ser. A packet ready before the channel frees may fill what the previous
 * packet left of its last cycle, so a channel moves bw bytes per cycle whatever the packet size. */
static inline int64_t take(en_resv *r, int64_t ready, int64_t bytes, int64_t bw, int64_t *ser) {
    int64_t s, n, rest = bytes;
    if (ready < r->free && r->spare > 0) {
        s = r->free - 1;
        rest = bytes - r->spare;
        if (rest <= 0) {
            r->spare = -rest;
            *ser = 1;
            return s;
        }
        n = en_ceil_div(rest, bw);
        r->free += n;
    } else {
        s = ready > r->free ? ready : r->free;
        n = en_ceil_div(rest, bw);
        r->free = s + n;
    }
    r->busy += n;
    r->spare = n * bw - rest;
    *ser = r->free - s;
    return s;
}

/* Message model: a request for `tile`'s SRAM port ready at `ready` for `occ` cycles, while a
 * message's read or write holds the port (it frees when that ends), takes the port at the
 * transfer's next packet boundary, as the packet model would interleave them, and the rest of the
 * transfer waits: it, the port and the message's tail move `occ` cycles later. Its next packet has
 * been waiting since its run began, so a request that was ready by then comes after one more.
 * Returns the request's start, or -1 when it just waits for the port (nothing in progress, or
 * something reserved after it). Compute ops (VEC, DIMC_LOAD) call it; deliveries do not. */
int64_t en_preempt(en_ctx *c, uint32_t tile, en_resv *port, int64_t ready, int64_t occ) {
    en_rdv *rd = &c->rd[tile];
    if (rd->slot < 0 || port->free != rd->end || ready >= rd->end) return -1;
    int64_t serp = c->cprop[CHIPEMU_RES_SRAM].ser_full, t = rd->cur;
    t += ready > t ? en_ceil_div(ready - t, serp) * serp : serp;
    if (t >= rd->end) return -1;
    rd->cur = t + occ;
    rd->end += occ;
    port->free = rd->end;
    port->busy += occ;
    port->spare = 0;
    en_pkt *k = &c->pk[rd->slot];
    if (k->op == rd->op && k->pkt == rd->pkt)    /* still in flight: its tail follows later */
        k->lag = (uint64_t)k->lag + (uint64_t)occ > UINT32_MAX ? UINT32_MAX : (uint32_t)(k->lag + occ);
    return t;
}

/* The packet in slot s takes its next channel at `ready`, then is queued for the one after (or
 * delivered). Calls that may queue other packets can move the slots: k is reloaded after them.
 * Message model (docs/engine.md section 4): the head moves on after the channel's latency and the
 * tail follows `lag` cycles behind; a channel's reservation is its own serialization. */
int32_t en_hop(en_ctx *c, uint32_t s, int64_t ready) {
    en_pkt *k = &c->pk[s];
    const int msg = c->p->network == CHIPEMU_NET_MESSAGE;
    int32_t x = (int32_t)k->op, st = k->stage & 15, fl = k->stage & 0xF0, trk = k->trk;
    uint32_t hopn = k->hop;
    if (st == EN_ST_FIN) {                  /* the read was stretched by `lag` cycles since */
        if (k->lag > 0) {
            int64_t later = ready + k->lag;
            if (trk >= 0) en_trk_add(c, trk, CHIPEMU_RES_SRAM, k->lag);
            k->lag = 0;
            k->hop = en_next_hop(hopn);
            return en_q_push(&c->q, later, en_qkey(&c->q, (uint32_t)x, k->pkt, k->hop), s | EN_REF_PKT);
        }
        en_slot_free(c, s);
        return (fl & EN_F_LAST_STREAM) ? stream_done(c, x, ready, trk) : CHIPEMU_OK;
    }
    en_resv *rv = &c->res[k->res];
    const en_cprop *q = &c->cprop[k->pid];
    int64_t bytes = k->bytes;
    int64_t ser, lat = q->lat;
    uint32_t cls = q->cls;
    int32_t status = CHIPEMU_OK;
    if (hopn == 0) {
        en_op *o = &c->ops[x];
        if (k->pkt == 0) {                                   /* the op starts with its first packet */
            o->start = ready;
            c->dmax[o->aux].end = ready;
            o->pending = c->dmax[o->aux].streams;
        }
        if (fl & EN_F_LAST_STREAM) {
            if ((trk = en_trk_new(c)) < 0) return CHIPEMU_ERR_NOMEM;
            en_trk_add(c, trk, cls, ready - o->start);
        }
    }
    int64_t s0 = take(rv, ready, bytes, q->bw, &ser);
    en_span(msg, ready, k->lag, s0, &ser);
    if (msg && (st == EN_ST_SRC || st == EN_ST_DST)) {      /* others may interrupt it */
        en_rdv *rd = &c->rd[st == EN_ST_SRC ? c->ops[x].tile : k->tgt];
        rd->cur = s0;
        rd->end = rv->free;
        rd->pkt = k->pkt;
        rd->op = (uint32_t)x;
        rd->slot = (int32_t)s;
    }
    if (trk >= 0) en_trk_add(c, trk, cls, s0 - ready);
    if (hopn == 0) {
        /* the next packet may start in the cycle this one leaves partly unused */
        int64_t next = rv->spare > 0 ? rv->free - 1 : rv->free;
        if (!(fl & EN_F_LAST_OP)) status = en_push_packet(c, x, k->pkt + 1, next);
        else if (st != EN_ST_HOST) status = en_read_done(c, x, s0 + ser);
        if (status != CHIPEMU_OK) return status;
        k = &c->pk[s];
    }
    if (st == EN_ST_SRC) {                                   /* the inject port: only this tile's DMA */
        en_resv *r1 = &c->res[en_res(c, k->cur, CHIPEMU_RES_INJECT)];
        const en_cprop *q1 = &c->cprop[CHIPEMU_RES_INJECT];
        int64_t ser1 = en_ser_of(c, q1, bytes);
        int64_t ex = msg ? en_head_excess(c, q, q1, bytes) : ser > ser1 ? ser - ser1 : 0;
        int64_t ready1 = s0 + lat + ex;
        int64_t s1 = take(r1, ready1, bytes, q1->bw, &ser1);
        en_span(msg, ready1, ser - ex, s1, &ser1);
        if (trk >= 0) {
            en_trk_add(c, trk, cls, ready1 - s0);
            en_trk_add(c, trk, CHIPEMU_RES_INJECT, s1 - ready1);
        }
        if (fl & EN_F_LAST_OP) {
            if ((status = release_dma(c, x, s1 + ser1)) != CHIPEMU_OK) return status;
            k = &c->pk[s];
        }
        s0 = s1, ser = ser1, lat = q1->lat, cls = CHIPEMU_RES_INJECT, hopn = 1, q = q1;
    } else if ((st == EN_ST_DRAMR || st == EN_ST_HOST) && (fl & EN_F_LAST_OP)) {
        if ((status = release_dma(c, x, s0 + ser)) != CHIPEMU_OK) return status;
        k = &c->pk[s];
    }
    if (st == EN_ST_DST || st == EN_ST_DRAMW) {
        int64_t delivered = s0 + ser + lat;
        const en_rdv *rd = msg ? &c->rd[c->ops[x].tile] : NULL;
        const en_rdv *wr = msg && st == EN_ST_DST ? &c->rd[k->tgt] : NULL;
        if ((rd && rd->slot == (int32_t)s && rd->op == (uint32_t)x && rd->pkt == k->pkt &&
             rd->end > ready) ||
            (wr && wr->slot == (int32_t)s && wr->op == (uint32_t)x && wr->pkt == k->pkt)) {
            /* its read or its write may still be interrupted: it is delivered once they end */
            if (trk >= 0) en_trk_add(c, trk, cls, delivered - s0);
            k->stage = (uint8_t)(EN_ST_FIN | fl);
            k->lag = 0;
            k->hop = en_next_hop(hopn);
            return en_q_push(&c->q, delivered, en_qkey(&c->q, (uint32_t)x, k->pkt, k->hop), s | EN_REF_PKT);
        }
        en_slot_free(c, s);
        if (!(fl & EN_F_LAST_STREAM)) return CHIPEMU_OK;
        en_trk_add(c, trk, cls, delivered - s0);
        return stream_done(c, x, delivered, trk);
    }
    int nst = EN_ST_NOC;
    if (k->cross == EN_TREE && st != EN_ST_EJECT) {          /* a tree branch at its node */
        k->trk = trk;
        return en_tree_fork(c, s, s0, ser, lat, q, cls, hopn, msg);
    }
    if (st == EN_ST_EJECT) {
        k->res = en_res(c, k->tgt, CHIPEMU_RES_SRAM);
        k->pid = CHIPEMU_RES_SRAM;
        nst = EN_ST_DST;
    } else {
        uint32_t cur = k->cur;
        int rs = route_next(c, k);
        if (rs < 0)
            return en_fail(c, CHIPEMU_ERR_LOG, c->idx[x], CHIPEMU_EE_NO_ROUTE, (int32_t)(cur / c->T),
                           k->tgt / c->T, 0);
        if (rs == 0 && (fl & EN_F_TO_DRAM)) {
            k->res = (uint32_t)(c->dram_base + c->dmax[c->ops[x].aux].where);
            k->pid = CHIPEMU_RES_DRAM;
            nst = EN_ST_DRAMW;
        } else if (rs == 0) {
            k->res = en_res(c, k->tgt, CHIPEMU_RES_EJECT);
            k->pid = CHIPEMU_RES_EJECT;
            nst = EN_ST_EJECT;
        }
    }
    k->trk = trk;
    int64_t cycle = en_leave(c, k, nst, s0, ser, lat, q, cls, hopn, msg);
    if (nst == EN_ST_DST && (fl & EN_F_GATED)) return gate_delivery(c, x, s, cycle);
    return en_q_push(&c->q, cycle, en_qkey(&c->q, (uint32_t)x, k->pkt, k->hop), s | EN_REF_PKT);
}
