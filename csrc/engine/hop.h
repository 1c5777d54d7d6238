/* engine/hop.h — packet slots, critical-path trackers and the per-hop arithmetic that packet.c and
 * mcast.c share (docs/engine.md section 4). */
#ifndef CHIPEMU_ENGINE_HOP_H
#define CHIPEMU_ENGINE_HOP_H

#include "engine/internal.h"

/* packet.c */
int32_t en_slot_new(en_ctx *c);
int32_t en_trk_new(en_ctx *c);

static inline void en_slot_free(en_ctx *c, uint32_t s) {
    c->pk[s].trk = c->pk_free;
    c->pk_free = (int32_t)s;
}

static inline void en_trk_add(en_ctx *c, int32_t trk, uint32_t cls, int64_t v) {
    if (v == 0) return;
    int32_t *a = c->trk + (size_t)trk * EN_BD_STRIDE + (cls - EN_BD_FIRST);
    int64_t s = (int64_t)*a + v;
    *a = s > INT32_MAX ? INT32_MAX : (int32_t)s;
}

/* cycles channel q needs for `bytes` (a full packet's are precomputed) */
static inline int64_t en_ser_of(const en_ctx *c, const en_cprop *q, int64_t bytes) {
    return bytes == c->p->noc_max_packet_bytes ? q->ser_full : en_ceil_div(bytes, q->bw);
}

/* Message model: a channel taken at s0 for `*ser` cycles of its own holds the message until its
 * tail has passed, which arrives `lag` cycles after its head (ready); *ser becomes that span. */
static inline void en_span(int msg, int64_t ready, int64_t lag, int64_t s0, int64_t *ser) {
    if (msg && ready + lag > s0 + *ser) *ser = ready + lag - s0;
}

/* Message model: the head is the message's first packet and moves as the packet model moves a
 * packet (from channel a to b: the latency, plus a's excess serialization over b's) */
static inline int64_t en_head_excess(const en_ctx *c, const en_cprop *a, const en_cprop *b, int64_t bytes) {
    int64_t h = bytes < (int64_t)c->p->noc_max_packet_bytes ? bytes : c->p->noc_max_packet_bytes;
    int64_t d = en_ser_of(c, a, h) - en_ser_of(c, b, h);
    return d > 0 ? d : 0;
}

static inline uint16_t en_next_hop(uint32_t hop) {      /* hop numbers saturate */
    return (uint16_t)(hop < 0xFFFE ? hop + 1 : 0xFFFF);
}

/* The packet in k took channel q at s0 for ser cycles (class cls, latency lat, hop hopn) and is
 * now bound for channel k->pid as stage nst: set its lag, hop and stage, charge its tracker, and
 * return the cycle it is ready there (both network models, docs/engine.md section 4). */
static inline int64_t en_leave(en_ctx *c, en_pkt *k, int nst, int64_t s0, int64_t ser, int64_t lat,
                               const en_cprop *q, uint32_t cls, uint32_t hopn, int msg) {
    const en_cprop *qn = &c->cprop[k->pid];
    int64_t ser_n = en_ser_of(c, qn, k->bytes);
    int64_t ex = msg ? en_head_excess(c, q, qn, k->bytes) : ser > ser_n ? ser - ser_n : 0;
    int64_t cycle = s0 + lat + ex;
    k->lag = msg ? (uint32_t)(ser - ex) : 0;
    if (k->trk >= 0) en_trk_add(c, k->trk, cls, cycle - s0);
    k->hop = en_next_hop(hopn);
    k->stage = (uint8_t)(nst | (k->stage & 0xF0));
    return cycle;
}

#endif /* CHIPEMU_ENGINE_HOP_H */
