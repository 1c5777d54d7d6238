/* host/machine.c — the emulated device of a C host's run (machine.h). */
#include <stdlib.h>
#include <string.h>

#include "host/machine.h"
#include "runtime/error.h"

#define ALIGN 64

static uint64_t align(uint64_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

static int32_t nomem(const char *what) {
    return rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for %s", what);
}

/* grow *buf (of *cap items of `size` bytes) to hold `need` items, doubling; new bytes zeroed */
static int grow(void **buf, int64_t *cap, int64_t need, size_t size) {
    if (need <= *cap) return 1;
    int64_t n = *cap * 2 > need ? *cap * 2 : need;
    void *p = realloc(*buf, (size_t)n * size);
    if (p == NULL) return 0;
    memset((char *)p + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
    *buf = p, *cap = n;
    return 1;
}

int32_t hm_init(hm_machine *m, const chipemu_device_params *p, int functional) {
    memset(m, 0, sizeof *m);
    chipemu_engine_error err;
    if (chipemu_engine_check_params(p, &err) != CHIPEMU_OK)
        return rt_fail(CHIPEMU_ERR_PARAMS, "engine params: %s", chipemu_engine_error_string(err.code));
    m->p = p;
    m->functional = functional;
    m->n_tiles = (int64_t)p->n_chiplets * p->tile_rows * p->tile_cols;
    int64_t *d = m->dev;
    d[CHIPEMU_DEV_N_TILES] = m->n_tiles;
    d[CHIPEMU_DEV_ROWS] = p->dimc_rows;
    d[CHIPEMU_DEV_COLS] = p->dimc_cols;
    d[CHIPEMU_DEV_CELL_BITS] = p->dimc_cell_bits;
    d[CHIPEMU_DEV_SLOTS] = p->dimc_slots;
    d[CHIPEMU_DEV_ENGINES] = p->dimc_engines;
    d[CHIPEMU_DEV_COLS_MAX] = chipemu_cols_eff(p->dimc_cols, p->dimc_cell_bits,
                                               CHIPEMU_DIMC_MIN_ELEM_BITS);
    d[CHIPEMU_DEV_BLOCKS_MAX] = (p->dimc_rows + 31) / 32;
    d[CHIPEMU_DEV_MODE] = functional ? CHIPEMU_MODE_FUNCTIONAL : CHIPEMU_MODE_TIMING;
    size_t slots = (size_t)m->n_tiles * p->dimc_slots;
    m->wfmt = malloc(slots);
    if (m->wfmt == NULL) return nomem("the DIMC slots");
    memset(m->wfmt, -1, slots);                          /* every slot empty */
    if (functional) {
        size_t cols = (size_t)d[CHIPEMU_DEV_COLS_MAX];
        /* calloc: untouched pages cost nothing, as NumPy's zeros on the Python side */
        m->codes = calloc(slots * p->dimc_rows, cols);
        m->scales = calloc(slots * (size_t)d[CHIPEMU_DEV_BLOCKS_MAX], cols);
        m->tscale = calloc(slots, sizeof(float));
        if (!m->codes || !m->scales || !m->tscale) return nomem("the DIMC slots");
    }
    return CHIPEMU_OK;
}

void hm_free(hm_machine *m) {
    free(m->bt), free(m->buffers), free(m->sram), free(m->host), free(m->codes), free(m->scales);
    free(m->tscale), free(m->wfmt), free(m->events), free(m->peers), free(m->stage), free(m->sc);
    memset(m, 0, sizeof *m);
}

static int32_t add(hm_machine *m, int64_t kind, uint64_t store, int64_t size, int64_t *id) {
    int64_t cap = m->cap_bufs;
    if (!grow((void **)&m->bt, &cap, m->n_bufs + 1, sizeof(int64_t) * CHIPEMU_BT_COUNT))
        return nomem("the buffer table");
    cap = m->cap_bufs;
    if (!grow((void **)&m->buffers, &cap, m->n_bufs + 1, sizeof(chipemu_buffer)))
        return nomem("the buffer table");
    m->cap_bufs = cap;
    int64_t *e = m->bt + m->n_bufs * CHIPEMU_BT_COUNT;
    e[CHIPEMU_BT_KIND] = kind, e[CHIPEMU_BT_STORE] = (int64_t)store, e[CHIPEMU_BT_SIZE] = size;
    e[CHIPEMU_BT_WHERE] = 0;
    chipemu_buffer *b = m->buffers + m->n_bufs;
    b->kind = (uint32_t)kind, b->where = 0, b->base = store, b->size = (uint64_t)size;
    *id = m->n_bufs++;
    return CHIPEMU_OK;
}

/* Every tile's SRAM row as `stride` bytes (functional mode), its contents kept. */
static int32_t sram_stride(hm_machine *m, uint64_t stride) {
    if (!m->functional || stride <= m->sram_stride) return CHIPEMU_OK;
    uint8_t *grown = calloc((size_t)m->n_tiles, (size_t)stride);
    if (grown == NULL) return nomem("the tiles' SRAM");
    for (int64_t t = 0; t < m->n_tiles && m->sram_stride; t++)
        memcpy(grown + t * stride, m->sram + t * m->sram_stride, (size_t)m->sram_stride);
    free(m->sram);
    m->sram = grown, m->sram_stride = stride;
    return CHIPEMU_OK;
}

int32_t hm_reserve_sram(hm_machine *m, uint64_t nbytes) {
    uint64_t cap = align(m->p->sram_capacity_bytes);
    return sram_stride(m, align(nbytes) < cap ? align(nbytes) : cap);
}

int32_t hm_alloc_sram(hm_machine *m, int64_t nbytes, int64_t *id) {
    uint64_t base = align(m->sram_used);
    if (nbytes < 1 || base + (uint64_t)nbytes > m->p->sram_capacity_bytes)
        return rt_fail(CHIPEMU_ERR_CAPACITY, "SRAM buffer of %lld bytes (at offset %llu) needs "
                       "%llu bytes of SRAM on every tile, beyond sram_capacity_bytes=%llu",
                       (long long)nbytes, (unsigned long long)base,
                       (unsigned long long)(base + (uint64_t)nbytes),
                       (unsigned long long)m->p->sram_capacity_bytes);
    if (m->sram_stride < base + (uint64_t)nbytes) {        /* grow 2x, as the Python State */
        uint64_t want = align(base + (uint64_t)nbytes), cap = align(m->p->sram_capacity_bytes);
        uint64_t twice = 2 * m->sram_stride < cap ? 2 * m->sram_stride : cap;
        int32_t st = sram_stride(m, want > twice ? want : twice);
        if (st != CHIPEMU_OK) return st;
    }
    int32_t st = add(m, CHIPEMU_BUF_SRAM, base, nbytes, id);
    if (st == CHIPEMU_OK) m->sram_used = base + (uint64_t)nbytes;
    return st;
}

int32_t hm_alloc_host(hm_machine *m, const void *data, int64_t nbytes, int64_t *id) {
    if (nbytes < 1) return rt_fail(CHIPEMU_ERR_SIZE, "host buffer of %lld bytes", (long long)nbytes);
    uint64_t store = align(m->host_used);
    if (m->functional) {
        int64_t cap = (int64_t)m->host_size;
        if (!grow((void **)&m->host, &cap, (int64_t)align(store + (uint64_t)nbytes), 1))
            return nomem("host memory");
        m->host_size = (uint64_t)cap;
        if (data != NULL) memcpy(m->host + store, data, (size_t)nbytes);
    }
    int32_t st = add(m, CHIPEMU_BUF_HOST, store, nbytes, id);
    if (st == CHIPEMU_OK) m->host_used = store + (uint64_t)nbytes;
    return st;
}

void hm_phase_begin(hm_machine *m, const char *name) {
    if (m->n_phases >= HM_MAX_PHASES) return;
    m->phase_name[m->n_phases] = name;
    m->phase_first[m->n_phases] = m->phase_end[m->n_phases] = m->step;
}

void hm_phase_end(hm_machine *m) {
    if (m->n_phases >= HM_MAX_PHASES) return;
    m->phase_end[m->n_phases++] = m->step;
}

int32_t hm_launch(hm_machine *m, const char *name, chipemu_tile_kernel kernel, const int64_t *tiles,
                  int64_t n, const int64_t *params, int64_t ecap, int64_t pcap, int64_t scap) {
    if (!grow((void **)&m->events, &m->cap_events, m->n_events + n * ecap, sizeof(chipemu_event))
        || !grow((void **)&m->peers, &m->cap_peers, m->n_peers + n * pcap, sizeof(uint32_t))
        || !grow((void **)&m->sc, &m->sc_rows, n, sizeof(int64_t) * CHIPEMU_SC_COUNT))
        return nomem("the event log");
    if (m->functional && !grow((void **)&m->stage, &m->stage_size, n * scap, 1))
        return nomem("the staging buffer");
    memset(m->sc, 0, (size_t)n * CHIPEMU_SC_COUNT * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) m->sc[i * CHIPEMU_SC_COUNT + CHIPEMU_SC_TILE] = tiles[i];
    m->dev[CHIPEMU_DEV_STEP] = m->step;
    chipemu_superstep s;
    memset(&s, 0, sizeof s);
    if (m->functional) {
        s.sram = m->sram, s.sram_stride = m->sram_stride;
        s.dimc_codes = m->codes, s.dimc_scales = m->scales, s.dimc_tscale = m->tscale;
        s.host = m->host, s.host_bytes = m->host_size;
        s.stage = m->stage;
    }
    s.dimc_wfmt = m->wfmt;
    s.bufs = m->bt, s.n_bufs = m->n_bufs;
    s.events = m->events + m->n_events;
    s.peers = m->peers + m->n_peers;
    s.sc = m->sc, s.dev = m->dev, s.n = n;
    s.event_cap = ecap, s.peer_cap = pcap, s.stage_cap = scap, s.peer_base = m->n_peers;
    int32_t st = chipemu_launch(&s, kernel, params, 0, n);
    if (st == CHIPEMU_ERR_KERNEL) {
        for (int64_t i = 0; i < n; i++) {
            const int64_t *sc = m->sc + i * CHIPEMU_SC_COUNT;
            if (sc[CHIPEMU_SC_ERROR])
                return rt_fail(CHIPEMU_ERR_KERNEL, "kernel '%s', tile %lld, superstep %lld broke a "
                               "hardware rule (message %lld, intrinsic %lld)", name,
                               (long long)sc[CHIPEMU_SC_TILE], (long long)m->step,
                               (long long)sc[CHIPEMU_SC_MESSAGE], (long long)sc[CHIPEMU_SC_INTRINSIC]);
        }
    }
    if (st != CHIPEMU_OK)
        return rt_fail(st, "kernel '%s', superstep %lld: chipemu_launch: %s", name,
                       (long long)m->step, chipemu_status_string(st));
    int64_t ne = 0, np = 0;
    st = chipemu_finish(&s, &ne, &np);
    if (st != CHIPEMU_OK)
        return rt_fail(st, "kernel '%s', superstep %lld: chipemu_finish: %s", name,
                       (long long)m->step, chipemu_status_string(st));
    m->n_events += ne, m->n_peers += np;
    m->step++;
    return CHIPEMU_OK;
}

int32_t hm_barrier(hm_machine *m, const int64_t *tiles, int64_t n) {
    int64_t *p = malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (p == NULL) return nomem("a barrier");
    p[0] = n;
    memcpy(p + 1, tiles, sizeof(int64_t) * (size_t)n);
    int32_t st = hm_launch(m, "barrier_all", chipemu_kernel_mb_barrier_all, tiles, n, p, 1, n, 0);
    free(p);
    return st;
}

int32_t hm_time(hm_machine *m, chipemu_cost *out) {
    const chipemu_device_params *p = m->p;
    int64_t n = m->n_events, nres = chipemu_engine_resource_count(p);
    chipemu_engine_result r;
    memset(&r, 0, sizeof r);
    size_t ne = (size_t)(n > 0 ? n : 1);
    r.start_cycles = malloc(ne * sizeof(int64_t));
    r.end_cycles = malloc(ne * sizeof(int64_t));
    r.energy_fj_event = malloc(ne * sizeof(int64_t));
    r.busy_cycles = malloc((size_t)(nres > 0 ? nres : 1) * sizeof(int64_t));
    r.energy_by_chiplet = malloc(((size_t)p->n_chiplets + 1) * sizeof(int64_t));
    r.energy_by_tile = malloc(((size_t)m->n_tiles + 1) * sizeof(int64_t));
    int32_t st = CHIPEMU_ERR_NOMEM;
    if (r.start_cycles && r.end_cycles && r.energy_fj_event && r.busy_cycles && r.energy_by_chiplet
        && r.energy_by_tile)
        st = chipemu_engine_run(p, m->events, n, m->peers, m->n_peers, m->buffers, m->n_bufs, &r);
    if (st == CHIPEMU_OK) {
        memset(out, 0, sizeof *out);
        out->cycles = r.makespan_cycles;
        out->seconds = (double)r.makespan_cycles / (p->clock_ghz * 1e9);
        out->energy_fj = r.energy_fj;
        memcpy(out->energy_by_component, r.energy_by_component, sizeof out->energy_by_component);
        out->events = n, out->supersteps = m->step, out->critical_class = r.critical_class;
        int64_t stat = r.energy_by_component[CHIPEMU_E_STATIC];
        /* the log's steps never decrease: each phase is one run of events */
        for (int i = 0; i < m->n_phases; i++) {
            chipemu_phase *ph = &out->phases[i];
            strncpy(ph->name, m->phase_name[i], sizeof ph->name - 1);
            int64_t lo = INT64_MAX, hi = INT64_MIN, dyn = 0, any = 0;
            for (int64_t e = 0; e < n; e++) {
                int64_t s = m->events[e].step;
                if (s < m->phase_first[i] || s >= m->phase_end[i]) continue;
                any = 1, dyn += r.energy_fj_event[e];
                if (r.start_cycles[e] < lo) lo = r.start_cycles[e];
                if (r.end_cycles[e] > hi) hi = r.end_cycles[e];
            }
            if (!any) continue;
            ph->cycles = hi - lo;
            /* static energy apportioned by cycles (floor), as Python's _phase: one formula */
            ph->energy_fj = dyn + (r.makespan_cycles
                                   ? (int64_t)((__int128)stat * ph->cycles / r.makespan_cycles) : 0);
        }
        out->n_phases = m->n_phases;
    } else if (st == CHIPEMU_ERR_NOMEM) {
        nomem("the engine's results");
    } else {
        rt_fail(st, "engine: %s (event %lld)", chipemu_engine_error_string(r.error.code),
                (long long)r.error.event);
    }
    free(r.start_cycles), free(r.end_cycles), free(r.energy_fj_event), free(r.busy_cycles);
    free(r.energy_by_chiplet), free(r.energy_by_tile);
    return st;
}
