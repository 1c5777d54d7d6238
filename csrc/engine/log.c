/* engine/log.c — validation of the event log and barrier matching (docs/engine.md "Errors").
 *
 * Every record is checked before anything is timed, so a malformed log returns CHIPEMU_ERR_LOG
 * with the first offending event and nothing else. Barriers are matched here too: the k-th
 * BARRIER of each member tile whose peer list has the same content forms one instance.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define LOGERR(i, code, field, value, limit) \
    en_fail(c, CHIPEMU_ERR_LOG, (i), (code), (field), (int64_t)(value), (int64_t)(limit))

enum { REQ = 1, OPT = 0 };

/* A range of event i: `which` 0 src0, 1 src1, 2 dst; kind required (or any kind when kind < 0). */
static int32_t check_range(en_ctx *c, int64_t i, const chipemu_range *r, int which, int kind,
                           int required) {
    if (r->buf == CHIPEMU_NO_BUF) {
        if (required) return LOGERR(i, CHIPEMU_EE_BUFFER, which, r->buf, c->n_buf);
        return CHIPEMU_OK;
    }
    if ((int64_t)r->buf >= c->n_buf) return LOGERR(i, CHIPEMU_EE_BUFFER, which, r->buf, c->n_buf);
    const chipemu_buffer *b = &c->buf[r->buf];
    if (kind >= 0 && b->kind != (uint32_t)kind)
        return LOGERR(i, CHIPEMU_EE_BUFFER_KIND, which, b->kind, kind);
    uint64_t end = (uint64_t)r->off + r->len;
    if (end > b->size) return LOGERR(i, CHIPEMU_EE_RANGE, which, end, b->size);
    return CHIPEMU_OK;
}

static int32_t check_len(en_ctx *c, int64_t i, const chipemu_range *r, int which, uint32_t a) {
    if (r->len != a) return LOGERR(i, CHIPEMU_EE_LENGTH, which, r->len, a);
    return CHIPEMU_OK;
}

/* Messages need a D2D path between the chiplets of their two ends. */
static int32_t check_route(en_ctx *c, int64_t i, uint32_t from_tile, uint32_t to_chiplet) {
    uint32_t a = from_tile / c->T;
    if (a != to_chiplet && c->next_link[(size_t)a * c->C + to_chiplet] < 0)
        return LOGERR(i, CHIPEMU_EE_NO_ROUTE, (int32_t)a, to_chiplet, 0);
    return CHIPEMU_OK;
}

static int32_t check_peers(en_ctx *c, int64_t i, const chipemu_event *e) {
    if (e->peer_count == 0 || (int64_t)e->peer_first + e->peer_count > c->n_peers)
        return LOGERR(i, CHIPEMU_EE_PEERS, 0, (int64_t)e->peer_first + e->peer_count, c->n_peers);
    for (uint32_t k = 0; k < e->peer_count; k++)
        if (c->peers[e->peer_first + k] >= c->n_tiles)
            return LOGERR(i, CHIPEMU_EE_PEER, (int32_t)k, c->peers[e->peer_first + k], c->n_tiles);
    return CHIPEMU_OK;
}

/* ---- barrier groups: dedupe peer lists by content ---- */

static uint64_t hash_peers(const uint32_t *x, uint32_t n) {
    uint64_t h = 1469598103934665603ull ^ n;
    for (uint32_t k = 0; k < n; k++) h = (h ^ x[k]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int same_group(const en_ctx *c, const en_group *g, const chipemu_event *e) {
    if (g->count != e->peer_count) return 0;
    if (g->peer_first == e->peer_first) return 1;
    return memcmp(c->peers + g->peer_first, c->peers + e->peer_first,
                  (size_t)g->count * sizeof(uint32_t)) == 0;
}

static int32_t rehash(en_ctx *c) {
    int64_t cap = c->gtab_cap ? c->gtab_cap * 2 : 64;
    int32_t *t = malloc((size_t)cap * sizeof(int32_t));
    if (t == NULL) return CHIPEMU_ERR_NOMEM;
    for (int64_t k = 0; k < cap; k++) t[k] = -1;
    for (int32_t g = 0; g < c->n_groups; g++) {
        const en_group *gr = &c->groups[g];
        uint64_t h = hash_peers(c->peers + gr->peer_first, gr->count) & (uint64_t)(cap - 1);
        while (t[h] >= 0) h = (h + 1) & (uint64_t)(cap - 1);
        t[h] = g;
    }
    free(c->gtab);
    c->gtab = t;
    c->gtab_cap = cap;
    return CHIPEMU_OK;
}

static int32_t find_group(en_ctx *c, const chipemu_event *e, int32_t *out) {
    if ((int64_t)(c->n_groups + 1) * 2 > c->gtab_cap) {
        int32_t st = rehash(c);
        if (st != CHIPEMU_OK) return st;
    }
    uint64_t mask = (uint64_t)(c->gtab_cap - 1);
    uint64_t h = hash_peers(c->peers + e->peer_first, e->peer_count) & mask;
    for (; c->gtab[h] >= 0; h = (h + 1) & mask) {
        if (same_group(c, &c->groups[c->gtab[h]], e)) {
            *out = c->gtab[h];
            return CHIPEMU_OK;
        }
    }
    int64_t cap = c->cap_groups;
    if (en_grow((void **)&c->groups, &cap, c->n_groups + 1, sizeof(en_group)) != CHIPEMU_OK)
        return CHIPEMU_ERR_NOMEM;
    c->cap_groups = (int32_t)cap;
    en_group *g = &c->groups[c->n_groups];
    memset(g, 0, sizeof *g);
    g->peer_first = e->peer_first;
    g->count = e->peer_count;
    g->seen = en_calloc(g->count, sizeof(uint32_t));
    if (g->seen == NULL) return CHIPEMU_ERR_NOMEM;
    c->gtab[h] = c->n_groups;
    *out = c->n_groups++;
    return CHIPEMU_OK;
}

/* Barrier event i: its group must be a valid, strictly ascending peer slice with the issuer. */
static int32_t check_barrier(en_ctx *c, int64_t i, const chipemu_event *e) {
    int32_t st = check_peers(c, i, e);
    if (st != CHIPEMU_OK) return st;
    const uint32_t *g = c->peers + e->peer_first;
    uint32_t pos = UINT32_MAX;
    for (uint32_t k = 0; k < e->peer_count; k++) {
        if (k > 0 && g[k] <= g[k - 1]) return LOGERR(i, CHIPEMU_EE_BARRIER_GROUP, (int32_t)k, g[k], g[k - 1]);
        if (g[k] == e->tile) pos = k;
    }
    if (pos == UINT32_MAX) return LOGERR(i, CHIPEMU_EE_BARRIER_GROUP, -1, e->tile, 0);
    return CHIPEMU_OK;
}

/* Register checked barrier event i (rank r) with the k-th instance of its group. */
int32_t en_add_barrier(en_ctx *c, int64_t i, uint32_t r) {
    const chipemu_event *e = &c->ev[i];
    const uint32_t *g = c->peers + e->peer_first;
    uint32_t pos = 0;
    while (g[pos] != e->tile) pos++;
    int32_t gid, st;
    if ((st = find_group(c, e, &gid)) != CHIPEMU_OK) return st;
    en_group *gr = &c->groups[gid];
    uint32_t k = gr->seen[pos]++;
    if (k == gr->n_k) {                                        /* a new instance */
        int64_t cap = gr->cap_k, icap = c->cap_inst;
        if (en_grow((void **)&gr->inst_of_k, &cap, (int64_t)gr->n_k + 1, sizeof(int32_t)) != CHIPEMU_OK ||
            en_grow((void **)&c->inst, &icap, (int64_t)c->n_inst + 1, sizeof(en_inst)) != CHIPEMU_OK ||
            en_grow((void **)&c->members, &c->cap_members, c->n_members + gr->count,
                    sizeof(int32_t)) != CHIPEMU_OK)
            return CHIPEMU_ERR_NOMEM;
        gr->cap_k = (uint32_t)cap;
        c->cap_inst = (int32_t)icap;
        en_inst *in = &c->inst[c->n_inst];
        memset(in, 0, sizeof *in);
        in->off = c->n_members;
        in->group = gid;
        in->bnd = -1;
        for (uint32_t m = 0; m < gr->count; m++) c->members[c->n_members + m] = -1;
        c->n_members += gr->count;
        gr->inst_of_k[gr->n_k++] = c->n_inst++;
    }
    int32_t inst = gr->inst_of_k[k];
    c->members[c->inst[inst].off + pos] = (int32_t)r;
    c->inst[inst].registered++;
    c->ops[r].aux = inst;
    return CHIPEMU_OK;
}

int32_t en_check_barriers(en_ctx *c) {
    for (int32_t k = 0; k < c->n_inst; k++) {
        const en_inst *in = &c->inst[k];
        const en_group *g = &c->groups[in->group];
        if (in->registered == g->count) continue;
        int64_t first = -1, missing = -1;
        for (uint32_t m = 0; m < g->count; m++) {
            int32_t r = c->members[in->off + m];
            int64_t op = r >= 0 ? (int64_t)c->idx[r] : -1;             /* log index */
            if (op >= 0 && (first < 0 || op < first)) first = op;
            if (op < 0 && missing < 0) missing = c->peers[g->peer_first + m];
        }
        return LOGERR(first, CHIPEMU_EE_BARRIER_MATCH, 0, missing, 0);
    }
    return CHIPEMU_OK;
}

void en_free_groups(en_ctx *c) {
    for (int32_t g = 0; g < c->n_groups; g++) {
        free(c->groups[g].seen);
        free(c->groups[g].inst_of_k);
    }
    free(c->groups);
    free(c->gtab);
    free(c->inst);
    free(c->members);
    c->groups = NULL;
    c->gtab = NULL;
    c->inst = NULL;
    c->members = NULL;
    c->n_groups = 0;
}

static int32_t check_buffer_table(en_ctx *c) {
    for (int64_t b = 0; b < c->n_buf; b++) {
        const chipemu_buffer *x = &c->buf[b];
        int32_t f = b > INT32_MAX ? INT32_MAX : (int32_t)b;
        if (x->kind > CHIPEMU_BUF_HOST) return LOGERR(-1, CHIPEMU_EE_BUFFER_TABLE, f, x->kind, 3);
        if (x->base + x->size < x->base) return LOGERR(-1, CHIPEMU_EE_BUFFER_TABLE, f, x->size, 0);
        if (x->kind == CHIPEMU_BUF_SRAM && x->base + x->size > c->p->sram_capacity_bytes)
            return LOGERR(-1, CHIPEMU_EE_BUFFER_TABLE, f, x->base + x->size, c->p->sram_capacity_bytes);
        if (x->kind == CHIPEMU_BUF_DRAM && x->where >= c->n_chan)
            return LOGERR(-1, CHIPEMU_EE_BUFFER_TABLE, f, x->where, c->n_chan);
    }
    return CHIPEMU_OK;
}

static int32_t check_format(en_ctx *c, int64_t i, int fmt, int which, int required) {
    if ((required || fmt != -1) && (fmt < 0 || fmt >= CHIPEMU_NUM_FORMATS))
        return LOGERR(i, CHIPEMU_EE_FORMAT, which, fmt, CHIPEMU_NUM_FORMATS);
    return CHIPEMU_OK;
}

/* One record: CHIPEMU_OK or the first problem found. */
static int32_t check_event(en_ctx *c, int64_t i, const chipemu_event *e) {
    const chipemu_device_params *p = c->p;
    const int S = CHIPEMU_BUF_SRAM;
    int32_t st = CHIPEMU_OK;
#define TRY(x) do { if ((st = (x)) != CHIPEMU_OK) return st; } while (0)
    if (e->op < 1 || e->op >= CHIPEMU_OP_COUNT) return LOGERR(i, CHIPEMU_EE_OP, 0, e->op, CHIPEMU_OP_COUNT);
    if (e->tile >= c->n_tiles) return LOGERR(i, CHIPEMU_EE_TILE, 0, e->tile, c->n_tiles);
    TRY(check_format(c, i, e->fmt, 0, e->op == CHIPEMU_OP_DIMC_MVM));
    TRY(check_format(c, i, e->fmt2, 1, e->op == CHIPEMU_OP_DIMC_MVM));
    switch (e->op) {
    case CHIPEMU_OP_DIMC_LOAD:
        if (e->c >= p->dimc_slots) return LOGERR(i, CHIPEMU_EE_SLOT, 0, e->c, p->dimc_slots);
        if ((uint64_t)e->a + e->b > p->dimc_rows)
            return LOGERR(i, CHIPEMU_EE_ROWS, 0, (uint64_t)e->a + e->b, p->dimc_rows);
        TRY(check_range(c, i, &e->src0, 0, S, REQ));
        break;
    case CHIPEMU_OP_DIMC_MVM:
        if (e->unit >= p->dimc_engines) return LOGERR(i, CHIPEMU_EE_ENGINE, 0, e->unit, p->dimc_engines);
        if (e->c >= p->dimc_slots) return LOGERR(i, CHIPEMU_EE_SLOT, 0, e->c, p->dimc_slots);
        if (e->b > p->dimc_rows) return LOGERR(i, CHIPEMU_EE_ROWS, 0, e->b, p->dimc_rows);
        TRY(check_range(c, i, &e->src0, 0, S, REQ));
        TRY(check_range(c, i, &e->dst, 2, S, REQ));
        break;
    case CHIPEMU_OP_VEC:
        if (e->c >= CHIPEMU_VOP_COUNT) return LOGERR(i, CHIPEMU_EE_VOP, 0, e->c, CHIPEMU_VOP_COUNT);
        TRY(check_range(c, i, &e->src0, 0, S, OPT));
        TRY(check_range(c, i, &e->src1, 1, S, OPT));
        TRY(check_range(c, i, &e->dst, 2, S, OPT));
        break;
    case CHIPEMU_OP_SEND:
    case CHIPEMU_OP_DRAM_READ:
    case CHIPEMU_OP_DRAM_WRITE:
    case CHIPEMU_OP_HOST_READ: {
        static const int SRC[9] = {0, 0, 0, 0, CHIPEMU_BUF_SRAM, CHIPEMU_BUF_DRAM, CHIPEMU_BUF_SRAM, CHIPEMU_BUF_HOST, 0};
        static const int DST[9] = {0, 0, 0, 0, CHIPEMU_BUF_SRAM, CHIPEMU_BUF_SRAM, CHIPEMU_BUF_DRAM, CHIPEMU_BUF_SRAM, 0};
        if (e->op == CHIPEMU_OP_SEND) TRY(check_peers(c, i, e));
        if (e->a == 0) return LOGERR(i, CHIPEMU_EE_LENGTH, -1, 0, 1);
        TRY(check_range(c, i, &e->src0, 0, SRC[e->op], REQ));
        TRY(check_range(c, i, &e->dst, 2, DST[e->op], REQ));
        TRY(check_len(c, i, &e->src0, 0, e->a));
        TRY(check_len(c, i, &e->dst, 2, e->a));
        for (uint32_t k = 0; e->op == CHIPEMU_OP_SEND && k < e->peer_count; k++)
            TRY(check_route(c, i, e->tile, c->peers[e->peer_first + k] / c->T));
        if (e->op == CHIPEMU_OP_DRAM_READ || e->op == CHIPEMU_OP_DRAM_WRITE) {
            const chipemu_range *r = e->op == CHIPEMU_OP_DRAM_READ ? &e->src0 : &e->dst;
            TRY(check_route(c, i, e->tile, c->buf[r->buf].where / p->dram_channels));
        }
        if (e->op == CHIPEMU_OP_HOST_READ) TRY(check_route(c, i, e->tile, p->host_chiplet));
        break;
    }
    case CHIPEMU_OP_BARRIER:
        TRY(check_barrier(c, i, e));
        break;
    }
#undef TRY
    return st;
}

/* ---- validation: every record is checked, counted per tile for the rank layout, and its dynamic
 * energy computed (it depends on the log alone). It runs on one or two parts of the log (the
 * worker takes the second); the first error in log order wins, exactly as a single sequential
 * pass would report it. ---- */

typedef struct {
    en_ctx *c;
    int64_t x0, x1;
    int32_t st;                     /* first problem in this part, CHIPEMU_OK if none */
    chipemu_engine_error err;
    uint32_t *cnt, *dcnt, *bcnt;    /* [n_tiles]: events, DMA ops, barriers per tile */
    uint64_t max_packets;
    int64_t n_barriers;
    en_energy_acc *acc;
} vpart;

static void check_part(void *arg) {
    vpart *v = arg;
    en_ctx local = *v->c;                                  /* shared read-only; own error record */
    en_ctx *c = &local;
    memset(&v->err, 0, sizeof v->err);
    v->err.event = -1;
    c->err = &v->err;
    for (int64_t i = v->x0; i < v->x1; i++) {
        const chipemu_event *e = &c->ev[i];
        if (i > 0 && e->step < c->ev[i - 1].step) {
            v->st = LOGERR(i, CHIPEMU_EE_STEP, 0, e->step, c->ev[i - 1].step);
            return;
        }
        if ((v->st = check_event(c, i, e)) != CHIPEMU_OK) return;
        v->cnt[e->tile]++;
        if (en_is_dma(e->op)) {
            v->dcnt[e->tile]++;
            uint64_t P = en_unit_bytes(c), pk = ((uint64_t)e->a + P - 1) / P * (e->op == CHIPEMU_OP_SEND ? e->peer_count : 1);
            if (pk > v->max_packets) v->max_packets = pk;
        } else if (e->op == CHIPEMU_OP_BARRIER) {
            v->bcnt[e->tile]++;
            v->n_barriers++;
        }
        if ((v->st = en_energy_events(c, v->acc, i, i + 1)) != CHIPEMU_OK) return;
    }
}

int32_t en_validate(en_ctx *c, en_energy_acc *acc) {
    int32_t st = check_buffer_table(c);
    if (st != CHIPEMU_OK) return st;
    /* two parts only when the worker exists and the log is large next to the per-tile tables */
    int parts = c->wk != NULL && c->n >= 65536 && c->n >= 4 * (int64_t)c->n_tiles * c->U ? 2 : 1;
    vpart v[2];
    memset(v, 0, sizeof v);
    for (int k = 0; k < parts; k++) {
        v[k].c = c;
        v[k].x0 = c->n * k / parts;
        v[k].x1 = c->n * (k + 1) / parts;
        v[k].acc = &acc[k];
        v[k].cnt = en_calloc(c->n_tiles, sizeof(uint32_t));
        v[k].dcnt = en_calloc(c->n_tiles, sizeof(uint32_t));
        v[k].bcnt = en_calloc(c->n_tiles, sizeof(uint32_t));
        if (v[k].cnt == NULL || v[k].dcnt == NULL || v[k].bcnt == NULL) st = CHIPEMU_ERR_NOMEM;
    }
    if (st == CHIPEMU_OK) {
        if (parts == 2) en_worker_run(c, check_part, &v[1]);
        check_part(&v[0]);
        en_worker_join(c);
        for (int k = 0; k < parts && st == CHIPEMU_OK; k++) {
            if (v[k].st == CHIPEMU_OK) continue;
            if (c->err != NULL && v[k].err.code != CHIPEMU_EE_NONE) *c->err = v[k].err;
            st = v[k].st;
        }
    }
    /* tile t's ranks (and DMA ordinals) follow all earlier tiles' */
    c->parts = parts;
    c->tile_base = malloc(((size_t)c->n_tiles + 1) * sizeof(uint32_t));
    c->dma_base = malloc(((size_t)c->n_tiles + 1) * sizeof(uint32_t));
    if (c->tile_base == NULL || c->dma_base == NULL) st = CHIPEMU_ERR_NOMEM;
    uint64_t base = 0, dbase = 0;
    for (uint32_t t = 0; st == CHIPEMU_OK && t < c->n_tiles; t++) {
        c->tile_base[t] = (uint32_t)base;
        c->dma_base[t] = (uint32_t)dbase;
        for (int k = 0; k < parts; k++) {
            base += v[k].cnt[t];
            dbase += v[k].dcnt[t];
            if (k == 1) v[0].bcnt[t] += v[1].bcnt[t];
        }
    }
    c->n_dma = (int64_t)dbase;
    for (int k = 0; k < parts; k++) {
        if (v[k].max_packets > c->max_packets) c->max_packets = v[k].max_packets;
        c->n_barriers += v[k].n_barriers;
        c->vcnt[k] = v[k].cnt;                             /* the layout's part cursors */
        c->vdcnt[k] = v[k].dcnt;
        if (k > 0) free(v[k].bcnt);
    }
    c->bar_count = v[0].bcnt;
    if (st == CHIPEMU_OK) {
        size_t n = (size_t)(c->n ? c->n : 1);
        c->ops = en_big_alloc(n * sizeof(en_op));
        c->idx = en_big_alloc(n * sizeof(uint32_t));
        c->dmax = en_big_alloc((size_t)(c->n_dma ? c->n_dma : 1) * sizeof(en_dmax));
        if (!c->ops || !c->idx || !c->dmax) st = CHIPEMU_ERR_NOMEM;
        if (st == CHIPEMU_OK && c->p->noc_multicast == CHIPEMU_MCAST_TREE) {
            size_t nd = (size_t)(c->n_dma ? c->n_dma : 1);
            c->mc_off = malloc(nd * sizeof(int64_t));
            c->mc_nl = malloc(nd * sizeof(uint32_t));
            c->mc_scratch = malloc(2 * EN_MC_SCRATCH * sizeof(uint64_t));
            if (!c->mc_off || !c->mc_nl || !c->mc_scratch) st = CHIPEMU_ERR_NOMEM;
            else
                for (size_t k = 0; k < nd; k++) c->mc_off[k] = -1;
        }
    }
    return st;
}
