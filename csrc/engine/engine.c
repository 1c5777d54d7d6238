/* engine/engine.c — the timing and energy engine's entry points (docs/engine.md).
 *
 * chipemu_engine_run is a pure function of (device params, event log, peers, buffer table): it
 * validates everything (params.c, log.c), numbers the resources, builds the dependency graph
 * (hazard.c), runs one discrete-event simulation of ops and packets (sim.c), then computes the
 * critical path and the energy (energy.c). All state lives in one en_ctx on the stack and in malloc'ed
 * arrays freed before returning; nothing is global, so concurrent calls are safe.
 */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE                 /* madvise */
#endif
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "engine/internal.h"

int32_t en_fail(en_ctx *c, int32_t status, int64_t event, int32_t code, int32_t field, int64_t value,
                int64_t limit) {
    if (c->err != NULL && c->err->code == CHIPEMU_EE_NONE) {
        c->err->event = event;
        c->err->code = code;
        c->err->field = field;
        c->err->value = value;
        c->err->limit = limit;
    }
    return status;
}

void *en_calloc(size_t n, size_t size) {
    if (n == 0) n = 1;
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    return calloc(n, size);
}

/* A large array, 64-byte aligned; big ones 2 MiB-aligned and, on Linux, backed by transparent huge
 * pages (first touches fault 512x less often). Freed with free(). */
void *en_big_alloc(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    if (bytes < 4 * huge) return aligned_alloc(64, (bytes + 63) / 64 * 64 + 64 * (bytes == 0));
    if (bytes > SIZE_MAX - huge) return NULL;
    size_t rounded = (bytes + huge - 1) & ~(huge - 1);
    void *p = aligned_alloc(huge, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p != NULL) madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

/* Grow *arr (capacity *cap elements of `size` bytes) to hold at least `need` elements. */
int32_t en_grow(void **arr, int64_t *cap, int64_t need, size_t size) {
    if (need <= *cap) return CHIPEMU_OK;
    int64_t nc = *cap < 16 ? 16 : *cap + *cap / 2;
    if (nc < need) nc = need;
    if ((uint64_t)nc > SIZE_MAX / size) return CHIPEMU_ERR_NOMEM;
    void *p = realloc(*arr, (size_t)nc * size);
    if (p == NULL) return CHIPEMU_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return CHIPEMU_OK;
}

const char *chipemu_engine_error_string(int32_t code) {
/* GENERATED BEGIN engine_error_strings (from chipemu.emulator.tables.ids.ENGINE_ERRORS; csrc/gen_tables.py) */
    switch (code) {
    case CHIPEMU_EE_NONE: return "no error";
    case CHIPEMU_EE_PARAM: return "device parameter out of range";
    case CHIPEMU_EE_LINK: return "die-to-die link parameter out of range";
    case CHIPEMU_EE_TOO_LARGE: return "too large for the engine's index range";
    case CHIPEMU_EE_OP: return "unknown op code";
    case CHIPEMU_EE_TILE: return "tile out of range";
    case CHIPEMU_EE_STEP: return "superstep smaller than the previous record's";
    case CHIPEMU_EE_PEERS: return "peer slice outside the peers array or empty";
    case CHIPEMU_EE_PEER: return "peer tile out of range";
    case CHIPEMU_EE_BUFFER: return "buffer id out of the buffer table or missing";
    case CHIPEMU_EE_BUFFER_KIND: return "buffer of the wrong kind for this range";
    case CHIPEMU_EE_RANGE: return "range beyond the end of its buffer";
    case CHIPEMU_EE_LENGTH: return "message length zero or different from the range length";
    case CHIPEMU_EE_ENGINE: return "DIMC engine out of range";
    case CHIPEMU_EE_SLOT: return "DIMC slot out of range";
    case CHIPEMU_EE_ROWS: return "DIMC rows beyond the array";
    case CHIPEMU_EE_FORMAT: return "format code out of range";
    case CHIPEMU_EE_VOP: return "unknown vector op kind";
    case CHIPEMU_EE_BUFFER_TABLE: return "buffer table entry invalid for this device";
    case CHIPEMU_EE_BARRIER_GROUP: return "barrier group not strictly ascending or without the issuing tile";
    case CHIPEMU_EE_BARRIER_MATCH: return "a member of the barrier group has no matching barrier";
    case CHIPEMU_EE_NO_ROUTE: return "no die-to-die route between the chiplets";
    case CHIPEMU_EE_CYCLE: return "hazards, unit order and barriers form a cycle (deadlock)";
    default: return "unknown engine error code";
    }
/* GENERATED END engine_error_strings */
}

/* ---- device parameters ------------------------------------------------------------------------ */

static void set_geometry(en_ctx *c, const chipemu_device_params *p) {
    c->p = p;
    c->C = p->n_chiplets;
    c->T = p->tile_rows * p->tile_cols;
    c->n_tiles = c->C * c->T;
    c->E = p->dimc_engines;
    c->U = c->E + 4;
    c->per_tile = c->E + 6;
    c->n_chan = c->C * p->dram_channels;
    c->noc_base = (int64_t)c->n_tiles * c->per_tile;
    int64_t noc = 2 * (int64_t)c->C * ((int64_t)p->tile_rows * (p->tile_cols - 1) +
                                       (int64_t)p->tile_cols * (p->tile_rows - 1));
    c->d2d_base = c->noc_base + noc;
    c->dram_base = c->d2d_base + 2 * (int64_t)p->n_links;
    c->host_res = c->dram_base + c->n_chan;
    c->n_res = c->host_res + 1;
}

int32_t chipemu_engine_check_params(const chipemu_device_params *p, chipemu_engine_error *err) {
    en_ctx c;
    memset(&c, 0, sizeof c);
    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->event = -1;
    }
    c.err = err;
    if (p == NULL) return CHIPEMU_ERR_NULL;
    return en_check_params(&c, p);
}

int64_t chipemu_engine_resource_count(const chipemu_device_params *p) {
    en_ctx c;
    memset(&c, 0, sizeof c);
    if (p == NULL || en_check_params(&c, p) != CHIPEMU_OK) return -1;
    set_geometry(&c, p);
    return c.n_res;
}

static const int DX[4] = {1, -1, 0, 0}, DY[4] = {0, 0, 1, -1};   /* E, W, S, N */

/* Calls fn for every resource in id order (the numbering of docs/engine.md). */
typedef void (*res_fn)(void *arg, int64_t id, int cls, int64_t chiplet, int64_t tile, int64_t index,
                       uint32_t bw, uint32_t lat);

static void for_each_resource(const en_ctx *c, res_fn fn, void *arg) {
    const chipemu_device_params *p = c->p;
    int64_t id = 0;
    for (uint32_t g = 0; g < c->n_tiles; g++) {
        int64_t ch = g / c->T;
        for (uint32_t e = 0; e < c->E; e++) fn(arg, id++, CHIPEMU_RES_DIMC, ch, g, e, 1, 0);
        fn(arg, id++, CHIPEMU_RES_DIMC_WRITE, ch, g, 0, 1, 0);
        fn(arg, id++, CHIPEMU_RES_VECTOR, ch, g, 0, 1, 0);
        fn(arg, id++, CHIPEMU_RES_DMA, ch, g, 0, 1, 0);
        fn(arg, id++, CHIPEMU_RES_SRAM, ch, g, 0, p->sram_port_bytes_per_cycle, 0);
        fn(arg, id++, CHIPEMU_RES_INJECT, ch, g, 0, p->dma_inject_bytes_per_cycle, 0);
        fn(arg, id++, CHIPEMU_RES_EJECT, ch, g, 0, p->dma_eject_bytes_per_cycle, 0);
    }
    for (uint32_t g = 0; g < c->n_tiles; g++) {
        int64_t local = g % c->T, row = local / p->tile_cols, col = local % p->tile_cols;
        for (int d = 0; d < 4; d++) {
            int64_t r = row + DY[d], q = col + DX[d];
            if (r < 0 || q < 0 || r >= p->tile_rows || q >= p->tile_cols) continue;
            fn(arg, id++, CHIPEMU_RES_NOC_LINK, g / c->T, g, d, p->noc_link_bytes_per_cycle,
               p->noc_hop_cycles);
        }
    }
    for (uint32_t l = 0; l < p->n_links; l++) {
        const chipemu_link *k = &p->links[l];
        fn(arg, id++, CHIPEMU_RES_D2D, k->a, -1, l, k->bytes_per_cycle, k->latency_cycles);
        fn(arg, id++, CHIPEMU_RES_D2D, k->b, -1, l, k->bytes_per_cycle, k->latency_cycles);
    }
    for (uint32_t ch = 0; ch < c->n_chan; ch++)
        fn(arg, id++, CHIPEMU_RES_DRAM, ch / p->dram_channels, -1, ch, p->dram_bytes_per_cycle,
           p->dram_latency_cycles);
    fn(arg, id++, CHIPEMU_RES_HOST, -1, -1, 0, p->host_bytes_per_cycle, p->host_latency_cycles);
}

typedef struct { int32_t *cls, *chiplet, *tile, *index; } table_arg;

static void put_table(void *arg, int64_t id, int cls, int64_t chiplet, int64_t tile, int64_t index,
                      uint32_t bw, uint32_t lat) {
    table_arg *t = arg;
    (void)bw;
    (void)lat;
    t->cls[id] = cls;
    t->chiplet[id] = (int32_t)chiplet;
    t->tile[id] = (int32_t)tile;
    t->index[id] = (int32_t)index;
}

int32_t chipemu_engine_resources(const chipemu_device_params *p, int64_t n, int32_t *cls,
                                 int32_t *chiplet, int32_t *tile, int32_t *index) {
    en_ctx c;
    memset(&c, 0, sizeof c);
    if (p == NULL || cls == NULL || chiplet == NULL || tile == NULL || index == NULL)
        return CHIPEMU_ERR_NULL;
    int32_t st = en_check_params(&c, p);
    if (st != CHIPEMU_OK) return st;
    set_geometry(&c, p);
    if (n != c.n_res) return CHIPEMU_ERR_SIZE;
    table_arg t = {cls, chiplet, tile, index};
    for_each_resource(&c, put_table, &t);
    return CHIPEMU_OK;
}

static void put_channel(void *arg, int64_t id, int cls, int64_t chiplet, int64_t tile, int64_t index,
                        uint32_t bw, uint32_t lat) {
    en_ctx *c = arg;
    (void)chiplet;
    (void)id;
    (void)bw;
    (void)lat;
    if (cls == CHIPEMU_RES_NOC_LINK) c->noc_id[tile * 4 + index] = (int32_t)id;
}

/* Chiplet routes: BFS from each source over links in ascending index; next_link[s][t] = the first
 * link of the path to t. Each chiplet forwards by its own row, so every route is a shortest path.
 * The links at each chiplet are listed once (CSR, ascending index), so a source costs
 * O(chiplets + links), not a scan of every link per chiplet reached. */
static int32_t build_routes(en_ctx *c) {
    const chipemu_device_params *p = c->p;
    uint32_t C = c->C, L = p->n_links, depth = 0;
    int32_t *via = malloc(sizeof(int32_t) * C), *queue = malloc(sizeof(int32_t) * C);
    uint32_t *start = calloc((size_t)C + 1, sizeof(uint32_t)), *adj = malloc(sizeof(uint32_t) * (2 * (size_t)L + 1));
    if (via == NULL || queue == NULL || start == NULL || adj == NULL) {
        free(via);
        free(queue);
        free(start);
        free(adj);
        return CHIPEMU_ERR_NOMEM;
    }
    for (uint32_t l = 0; l < L; l++) {
        start[p->links[l].a + 1]++;
        start[p->links[l].b + 1]++;
    }
    for (uint32_t u = 0; u < C; u++) start[u + 1] += start[u];
    for (uint32_t l = 0; l < L; l++) {                  /* ascending l: each list stays sorted */
        adj[start[p->links[l].a]++] = l;
        adj[start[p->links[l].b]++] = l;
    }
    for (uint32_t u = C; u > 0; u--) start[u] = start[u - 1];     /* undo the fill's advance */
    start[0] = 0;
    for (uint32_t s = 0; s < C; s++) {
        int32_t *row = c->next_link + (size_t)s * C;
        for (uint32_t t = 0; t < C; t++) via[t] = -2;                 /* -2: not reached */
        via[s] = -1;
        uint32_t qh = 0, qt = 0, level_end = 1, level = 0;
        queue[qt++] = (int32_t)s;
        while (qh < qt) {
            if (qh == level_end) {                             /* BFS levels: links on a route */
                level++;
                level_end = qt;
            }
            uint32_t u = (uint32_t)queue[qh++];
            for (uint32_t e = start[u]; e < start[u + 1]; e++) {
                const chipemu_link *k = &p->links[adj[e]];
                uint32_t v = k->a == u ? k->b : k->a;
                if (via[v] != -2) continue;
                via[v] = u == s ? (int32_t)adj[e] : via[u];            /* the first link from s */
                queue[qt++] = (int32_t)v;
            }
        }
        for (uint32_t t = 0; t < C; t++) row[t] = t == s ? -1 : via[t] >= 0 ? via[t] : -1;
        if (level > depth) depth = level;
    }
    free(via);
    free(queue);
    free(start);
    free(adj);
    /* channels on a route: source and inject (or DRAM / host), XY hops on each chiplet it crosses,
     * its D2D links, eject and destination */
    uint64_t bound = 4 + ((uint64_t)depth + 1) * (p->tile_rows + p->tile_cols) + depth;
    c->max_route = bound > 0xFFFF ? 0xFFFF : (uint32_t)bound;
    return CHIPEMU_OK;
}

static void set_prop(en_cprop *q, int cls, uint32_t bw, uint32_t lat, uint32_t packet) {
    q->bw = bw ? bw : 1;                                    /* DRAM without channels: unused */
    q->lat = lat;
    q->cls = (uint32_t)cls;
    q->ser_full = (uint32_t)en_ceil_div(packet, q->bw);
}

static int32_t setup_resources(en_ctx *c) {
    const chipemu_device_params *p = c->p;
    c->res = en_calloc((size_t)c->n_res, sizeof(en_resv));
    if (p->network == CHIPEMU_NET_MESSAGE) {
        c->rd = en_calloc(c->n_tiles, sizeof(en_rdv));
        if (!c->rd) return CHIPEMU_ERR_NOMEM;
        for (uint32_t t = 0; t < c->n_tiles; t++) c->rd[t].slot = -1;
    }
    c->cprop = malloc((EN_PID_D2D + (size_t)p->n_links) * sizeof(en_cprop));
    c->noc_id = malloc((size_t)c->n_tiles * 4 * sizeof(int32_t));
    c->next_link = malloc((size_t)c->C * c->C * sizeof(int32_t));
    if (!c->res || !c->cprop || !c->noc_id || !c->next_link) return CHIPEMU_ERR_NOMEM;
    uint32_t P = p->noc_max_packet_bytes;
    for (int k = 0; k < EN_PID_D2D; k++) set_prop(&c->cprop[k], k, 1, 0, P);
    set_prop(&c->cprop[CHIPEMU_RES_SRAM], CHIPEMU_RES_SRAM, p->sram_port_bytes_per_cycle, 0, P);
    set_prop(&c->cprop[CHIPEMU_RES_INJECT], CHIPEMU_RES_INJECT, p->dma_inject_bytes_per_cycle, 0, P);
    set_prop(&c->cprop[CHIPEMU_RES_EJECT], CHIPEMU_RES_EJECT, p->dma_eject_bytes_per_cycle, 0, P);
    set_prop(&c->cprop[CHIPEMU_RES_NOC_LINK], CHIPEMU_RES_NOC_LINK, p->noc_link_bytes_per_cycle, p->noc_hop_cycles, P);
    set_prop(&c->cprop[CHIPEMU_RES_DRAM], CHIPEMU_RES_DRAM, p->dram_bytes_per_cycle, p->dram_latency_cycles, P);
    set_prop(&c->cprop[CHIPEMU_RES_HOST], CHIPEMU_RES_HOST, p->host_bytes_per_cycle, p->host_latency_cycles, P);
    for (uint32_t l = 0; l < p->n_links; l++)
        set_prop(&c->cprop[EN_PID_D2D + l], CHIPEMU_RES_D2D, p->links[l].bytes_per_cycle, p->links[l].latency_cycles, P);
    for (size_t i = 0; i < (size_t)c->n_tiles * 4; i++) c->noc_id[i] = -1;
    for_each_resource(c, put_channel, c);
    for (int f = 0; f < CHIPEMU_NUM_FORMATS; f++) {
        chipemu_format_info info;
        c->elem_bits[f] = chipemu_format_info_get(f, &info) == CHIPEMU_OK ? info.elem_bits : 8;
    }
    return build_routes(c);
}

static void free_ctx(en_ctx *c) {
    en_worker_stop(c);
    free(c->res);
    free(c->rd);
    free(c->mc_off);
    free(c->mc_nl);
    free(c->mc_dst);
    free(c->mc_scratch);
    free(c->cprop);
    free(c->noc_id);
    free(c->next_link);
    free(c->ops);
    free(c->idx);
    free(c->tile_base);
    free(c->dma_base);
    free(c->sch);
    en_free_groups(c);
    free(c->dmax);
    free(c->pk);
    free(c->park);
    free(c->trk);
    free(c->bstack);
    en_walk_free(c);
    en_stream_free(&c->es);
    free(c->bar_count);
    free(c->imm);
    en_q_free(&c->q);
}

typedef struct {
    en_ctx *c;
    int64_t r0, r1;
} times_task;

static void times_run(void *arg) {
    times_task *t = arg;
    en_write_times(t->c, t->r0, t->r1);
}

/* The engine has work for two threads at most; small logs are not worth a second one. */
static int auto_threads(int32_t want, int64_t n) {
    if (want == 1 || (want <= 0 && n < 4096)) return 1;
    return 2;
}

static int32_t run(en_ctx *c) {
    chipemu_engine_result *out = c->out;
    int32_t st = setup_resources(c);
    if (st == CHIPEMU_OK && c->threads > 1 && !en_worker_start(c)) c->threads = 1;
    en_energy_acc acc[2];
    memset(acc, 0, sizeof acc);
    if (st == CHIPEMU_OK && (en_energy_init(c, &acc[0]) != CHIPEMU_OK || en_energy_init(c, &acc[1]) != CHIPEMU_OK))
        st = CHIPEMU_ERR_NOMEM;
    if (st == CHIPEMU_OK) st = en_validate(c, acc);
    if (st == CHIPEMU_OK) st = en_layout(c);
    for (int k = 0; k < 2; k++) {
        free(c->vcnt[k]);
        free(c->vdcnt[k]);
        c->vcnt[k] = c->vdcnt[k] = NULL;
    }
    if (st == CHIPEMU_OK) st = en_stream_init(&c->es);
    if (st == CHIPEMU_OK) st = en_walk_init(c);
    if (st == CHIPEMU_OK) {
        /* the hazard walk runs ahead on the worker (or on demand, single-threaded) */
        if (c->wk != NULL) en_worker_run(c, en_walk_task, c);
        st = en_simulate(c);
        if (st != CHIPEMU_OK) en_stream_stop(&c->es);
        en_worker_join(c);
        if (st != CHIPEMU_OK && c->walk_err.code != CHIPEMU_EE_NONE && c->err != NULL &&
            c->err->code == CHIPEMU_EE_NONE)
            *c->err = c->walk_err;
    }
    if (st == CHIPEMU_OK) {
        for (int64_t r = 0; r < c->n_res; r++) out->busy_cycles[r] = c->res[r].busy;
        int64_t half = c->n / 2;
        times_task tt = {c, half, c->n};
        en_worker_run(c, times_run, &tt);
        en_write_times(c, 0, half);
        en_worker_join(c);
        st = en_critical_path(c);
    }
    if (st == CHIPEMU_OK) {
        en_energy_acc *parts[2] = {&acc[0], &acc[1]};
        st = en_energy_finish(c, parts, 2);
    }
    en_energy_free(&acc[0]);
    en_energy_free(&acc[1]);
    return st;
}

int32_t chipemu_engine_run(const chipemu_device_params *p, const chipemu_event *events,
                           int64_t n_events, const uint32_t *peers, int64_t n_peers,
                           const chipemu_buffer *buffers, int64_t n_buffers,
                           chipemu_engine_result *out) {
    if (out == NULL) return CHIPEMU_ERR_NULL;
    int64_t *by_chiplet = out->energy_by_chiplet, *by_tile = out->energy_by_tile;
    memset(&out->makespan_cycles, 0, sizeof *out - offsetof(chipemu_engine_result, makespan_cycles));
    out->error.event = -1;
    out->critical_class = -1;
    en_ctx c;
    memset(&c, 0, sizeof c);
    c.err = &out->error;
    if (p == NULL) return CHIPEMU_ERR_NULL;
    int32_t st = en_check_params(&c, p);
    if (st != CHIPEMU_OK) return st;
    if (n_events < 0 || n_peers < 0 || n_buffers < 0 || out->critical_path_capacity < 0)
        return CHIPEMU_ERR_SIZE;
    if (n_events > EN_MAX_EVENTS)
        return en_fail(&c, CHIPEMU_ERR_LOG, -1, CHIPEMU_EE_TOO_LARGE, CHIPEMU_TOO_LARGE_EVENTS, n_events, EN_MAX_EVENTS);
    if ((n_events > 0 && (events == NULL || out->start_cycles == NULL || out->end_cycles == NULL)) ||
        (n_peers > 0 && peers == NULL) || (n_buffers > 0 && buffers == NULL) ||
        out->busy_cycles == NULL || by_chiplet == NULL || by_tile == NULL ||
        (out->critical_path_capacity > 0 && out->critical_path == NULL))
        return CHIPEMU_ERR_NULL;
    set_geometry(&c, p);
    c.ev = events;
    c.n = n_events;
    c.peers = peers;
    c.n_peers = n_peers;
    c.buf = buffers;
    c.n_buf = n_buffers;
    c.out = out;
    memset(out->busy_cycles, 0, (size_t)c.n_res * sizeof(int64_t));
    memset(by_chiplet, 0, (c.C + 1) * sizeof(int64_t));
    memset(by_tile, 0, ((size_t)c.n_tiles + 1) * sizeof(int64_t));

    c.threads = auto_threads(out->threads, n_events);
    st = run(&c);
    free_ctx(&c);
    return st;
}
