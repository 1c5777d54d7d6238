/* superstep.c — the C twin of emulator/runtime/superstep.py: the tile launcher and the end of a superstep.
 *
 * chipemu_launch runs a kernel on a contiguous range of the launch's tiles, giving each tile a
 * chipemu_ctx over its own SRAM, DIMC slots and regions (events, peers, staging, scalars), so
 * ranges can run on different threads and the result never depends on how tiles were split.
 * chipemu_finish then delivers staged SEND / DRAM_WRITE data in log order (BSP: visible from the
 * next superstep on) and compacts the per-tile regions into one contiguous log.
 */
#include <stdlib.h>
#include <string.h>

#include "intrinsics/core.h"

/* ---- the ctx checks --------------------------------------------------------------------------
 * chipemu_launch builds every ctx a kernel sees, but the intrinsics and the exported tile kernels
 * are public functions: a host may call them with NULL, a zeroed struct or one whose sizes
 * disagree. They check the ctx at entry (core_enter in intrinsics/core.h) and return
 * CHIPEMU_ERR_NULL or CHIPEMU_ERR_SIZE without touching anything; chipemu_launch checks the same
 * device constants, and the buffer table against the memories, once per launch (the intrinsics
 * bound each operand's buffer by its memory instead: core_buf_bytes). A ctx the launcher made
 * always passes, so the checks never change a result or a log (the Numba twin, whose ctx is a
 * tuple of arrays, has nothing to check). The device constants are bounded by the limits table so
 * that every product of them the intrinsics form (slot offsets, range lengths) fits in int64. */

/* Widest DIMC state a device within the limits has: cols_eff of its narrowest weight, and the
 * block-scale rows of its deepest array. */
#define DEV_COLS_MAX_MAX \
    ((int64_t)CHIPEMU_LIMIT_DIMC_COLS_MAX * CHIPEMU_LIMIT_DIMC_CELL_BITS_MAX / CHIPEMU_DIMC_MIN_ELEM_BITS)
#define DEV_BLOCKS_MAX_MAX (((int64_t)CHIPEMU_LIMIT_DIMC_ROWS_MAX + 31) / 32)

static inline int in_range(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

int32_t chipemu_dev_check(const int64_t *dev) {
    if (dev == NULL) return CHIPEMU_ERR_NULL;
    int64_t rows = dev[CHIPEMU_DEV_ROWS], cols = dev[CHIPEMU_DEV_COLS], cell = dev[CHIPEMU_DEV_CELL_BITS];
    int64_t mode = dev[CHIPEMU_DEV_MODE];
    int ok = in_range(dev[CHIPEMU_DEV_N_TILES], CHIPEMU_LIMIT_N_TILES_MIN, CHIPEMU_LIMIT_N_TILES_MAX)
             && in_range(rows, CHIPEMU_LIMIT_DIMC_ROWS_MIN, CHIPEMU_LIMIT_DIMC_ROWS_MAX)
             && in_range(cols, CHIPEMU_LIMIT_DIMC_COLS_MIN, CHIPEMU_LIMIT_DIMC_COLS_MAX)
             && in_range(cell, CHIPEMU_LIMIT_DIMC_CELL_BITS_MIN, CHIPEMU_LIMIT_DIMC_CELL_BITS_MAX)
             && in_range(dev[CHIPEMU_DEV_SLOTS], CHIPEMU_LIMIT_DIMC_SLOTS_MIN, CHIPEMU_LIMIT_DIMC_SLOTS_MAX)
             && in_range(dev[CHIPEMU_DEV_ENGINES], CHIPEMU_LIMIT_DIMC_ENGINES_MIN,
                         CHIPEMU_LIMIT_DIMC_ENGINES_MAX)
             /* the state must hold the widest weight rows: cols_eff of the narrowest element */
             && in_range(dev[CHIPEMU_DEV_COLS_MAX], chipemu_cols_eff(cols, cell, CHIPEMU_DIMC_MIN_ELEM_BITS),
                         DEV_COLS_MAX_MAX)
             && in_range(dev[CHIPEMU_DEV_BLOCKS_MAX], (rows + 31) / 32, DEV_BLOCKS_MAX_MAX)
             && (mode == CHIPEMU_MODE_FUNCTIONAL || mode == CHIPEMU_MODE_TIMING)
             && in_range(dev[CHIPEMU_DEV_STEP], 0, UINT32_MAX);            /* an event's step is u32 */
    return ok ? CHIPEMU_OK : CHIPEMU_ERR_SIZE;
}

int32_t chipemu_bufs_check(const int64_t *bufs, int64_t n_bufs, uint64_t sram_bytes,
                           uint64_t dram_bytes, uint64_t host_bytes) {
    if (n_bufs < 0) return CHIPEMU_ERR_SIZE;
    if (bufs == NULL && n_bufs > 0) return CHIPEMU_ERR_NULL;
    for (int64_t b = 0; b < n_bufs; b++) {          /* every buffer inside its memory */
        const int64_t *e = bufs + b * CHIPEMU_BT_COUNT;
        int64_t kind = e[CHIPEMU_BT_KIND], store = e[CHIPEMU_BT_STORE], size = e[CHIPEMU_BT_SIZE];
        uint64_t room = kind == CHIPEMU_BUF_SRAM ? sram_bytes
                        : kind == CHIPEMU_BUF_DRAM ? dram_bytes : host_bytes;
        if (kind < CHIPEMU_BUF_SRAM || kind > CHIPEMU_BUF_HOST || store < 0 || size < 0
            || (uint64_t)store + (uint64_t)size > room)
            return CHIPEMU_ERR_SIZE;
    }
    return CHIPEMU_OK;
}

/* The regions and scalars of one tile: counters within their capacities, pointers behind them. */
static int32_t regions_check(const chipemu_ctx *ctx, int functional) {
    const int64_t *sc = ctx->sc;
    int64_t ecap = sc[CHIPEMU_SC_EVENT_CAP], pcap = sc[CHIPEMU_SC_PEER_CAP];
    int64_t scap = sc[CHIPEMU_SC_STAGE_CAP];
    if ((ctx->events == NULL && ecap > 0) || (ctx->peers == NULL && pcap > 0)
        || (functional && ctx->stage == NULL && scap > 0))
        return CHIPEMU_ERR_NULL;
    if (!in_range(ecap, 0, INT64_MAX) || !in_range(pcap, 0, INT64_MAX) || !in_range(scap, 0, INT64_MAX)
        || !in_range(sc[CHIPEMU_SC_EVENTS], 0, ecap) || !in_range(sc[CHIPEMU_SC_PEERS], 0, pcap)
        || !in_range(sc[CHIPEMU_SC_STAGED], 0, scap)
        || !in_range(sc[CHIPEMU_SC_TILE], 0, ctx->dev[CHIPEMU_DEV_N_TILES] - 1))
        return CHIPEMU_ERR_SIZE;
    return CHIPEMU_OK;
}

int32_t chipemu_ctx_check(const chipemu_ctx *ctx) {
    if (ctx == NULL || ctx->sc == NULL || ctx->dev == NULL || ctx->dimc_wfmt == NULL)
        return CHIPEMU_ERR_NULL;
    int32_t st = chipemu_dev_check(ctx->dev);
    if (st != CHIPEMU_OK) return st;
    int functional = ctx->dev[CHIPEMU_DEV_MODE] == CHIPEMU_MODE_FUNCTIONAL;
    st = regions_check(ctx, functional);
    if (st != CHIPEMU_OK) return st;
    if (ctx->n_bufs < 0) return CHIPEMU_ERR_SIZE;
    if (ctx->bufs == NULL && ctx->n_bufs > 0) return CHIPEMU_ERR_NULL;
    if (!functional) return CHIPEMU_OK;              /* timing mode reads no data */
    if ((ctx->sram == NULL && ctx->sram_bytes > 0) || ctx->dimc_codes == NULL
        || ctx->dimc_scales == NULL || ctx->dimc_tscale == NULL
        || (ctx->dram == NULL && ctx->dram_bytes > 0) || (ctx->host == NULL && ctx->host_bytes > 0)
        || ctx->scratch_i8 == NULL || ctx->scratch_f64 == NULL || ctx->scratch_i32 == NULL
        || ctx->scratch_f32 == NULL)
        return CHIPEMU_ERR_NULL;
    return CHIPEMU_OK;               /* each operand's buffer against its memory: core_buf_bytes */
}

static int64_t store_of(const chipemu_superstep *s, uint32_t buf) {
    return s->bufs[(int64_t)buf * CHIPEMU_BT_COUNT + CHIPEMU_BT_STORE];
}

int32_t chipemu_launch(const chipemu_superstep *s, chipemu_tile_kernel kernel, const int64_t *params,
                       int64_t begin, int64_t end) {
    if (s == NULL || kernel == NULL || s->sc == NULL || s->dev == NULL || s->dimc_wfmt == NULL)
        return CHIPEMU_ERR_NULL;
    if (begin < 0 || end > s->n || begin > end || s->event_cap < 0 || s->peer_cap < 0 || s->stage_cap < 0)
        return CHIPEMU_ERR_SIZE;
    int32_t st = chipemu_dev_check(s->dev);        /* the bounds every intrinsic relies on */
    if (st != CHIPEMU_OK) return st;
    const int64_t *dev = s->dev;
    int64_t rows = dev[CHIPEMU_DEV_ROWS], cmax = dev[CHIPEMU_DEV_COLS_MAX];
    int64_t slots = dev[CHIPEMU_DEV_SLOTS], bmax = dev[CHIPEMU_DEV_BLOCKS_MAX];
    int functional = dev[CHIPEMU_DEV_MODE] == CHIPEMU_MODE_FUNCTIONAL;
    if (s->n_bufs < 0) return CHIPEMU_ERR_SIZE;
    if ((s->bufs == NULL && s->n_bufs > 0) || (s->events == NULL && s->event_cap > 0)
        || (s->peers == NULL && s->peer_cap > 0))
        return CHIPEMU_ERR_NULL;
    if (functional && ((s->sram == NULL && s->sram_stride > 0) || s->dimc_codes == NULL
                       || s->dimc_scales == NULL || s->dimc_tscale == NULL
                       || (s->dram == NULL && s->dram_bytes > 0) || (s->host == NULL && s->host_bytes > 0)
                       || (s->stage == NULL && s->stage_cap > 0)))
        return CHIPEMU_ERR_NULL;
    if (functional) {                                 /* every buffer inside its memory */
        st = chipemu_bufs_check(s->bufs, s->n_bufs, s->sram_stride, s->dram_bytes, s->host_bytes);
        if (st != CHIPEMU_OK) return st;
    }
    chipemu_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    int64_t nscr[4];
    core_dimc_scratch(rows, cmax, bmax, nscr);
    ctx.scratch_i8 = malloc((size_t)nscr[0]);
    ctx.scratch_f64 = malloc(sizeof(double) * (size_t)nscr[1]);
    ctx.scratch_i32 = malloc(sizeof(int32_t) * (size_t)nscr[2]);
    ctx.scratch_f32 = malloc(sizeof(float) * (size_t)nscr[3]);
    if (!ctx.scratch_i8 || !ctx.scratch_f64 || !ctx.scratch_i32 || !ctx.scratch_f32) st = CHIPEMU_ERR_NOMEM;
    else chipemu_dimc_scale_tables(ctx.scratch_f64);
    ctx.dram = s->dram;
    ctx.dram_bytes = s->dram_bytes;
    ctx.host = s->host;
    ctx.host_bytes = s->host_bytes;
    ctx.bufs = s->bufs;
    ctx.n_bufs = s->n_bufs;
    ctx.dev = dev;
    for (int64_t i = begin; i < end && st == CHIPEMU_OK; i++) {
        int64_t *sc = s->sc + i * CHIPEMU_SC_COUNT;
        int64_t t = sc[CHIPEMU_SC_TILE];
        if (t < 0 || t >= dev[CHIPEMU_DEV_N_TILES]) {
            st = CHIPEMU_ERR_SIZE;
            break;
        }
        sc[CHIPEMU_SC_EVENT_CAP] = s->event_cap;
        sc[CHIPEMU_SC_PEER_CAP] = s->peer_cap;
        sc[CHIPEMU_SC_STAGE_CAP] = s->stage_cap;
        if (functional) {
            ctx.sram = s->sram ? s->sram + t * (int64_t)s->sram_stride : NULL;
            ctx.sram_bytes = s->sram_stride;
            ctx.dimc_codes = s->dimc_codes + t * slots * rows * cmax;
            ctx.dimc_scales = s->dimc_scales + t * slots * bmax * cmax;
            ctx.dimc_tscale = s->dimc_tscale + t * slots;
        }
        ctx.dimc_wfmt = s->dimc_wfmt + t * slots;
        ctx.events = s->events ? s->events + i * s->event_cap : NULL;
        ctx.peers = s->peers ? s->peers + i * s->peer_cap : NULL;
        ctx.stage = s->stage ? s->stage + i * s->stage_cap : NULL;
        ctx.sc = sc;
        st = chipemu_ctx_check(&ctx);                 /* the tile's counters within their caps */
        if (st != CHIPEMU_OK) break;
        kernel(&ctx, t, dev[CHIPEMU_DEV_STEP], params);
        if (sc[CHIPEMU_SC_ERROR]) st = CHIPEMU_ERR_KERNEL;
    }
    free(ctx.scratch_i8);
    free(ctx.scratch_f64);
    free(ctx.scratch_i32);
    free(ctx.scratch_f32);
    return st;
}

/* Copy one tile's staged data to its destinations, in the tile's program order. */
static void deliver(const chipemu_superstep *s, const chipemu_event *ev, int64_t ne,
                    const uint32_t *peers, const uint8_t *stage) {
    int64_t cursor = 0;
    for (int64_t j = 0; j < ne; j++) {
        const chipemu_event *e = &ev[j];
        if (e->op == CHIPEMU_OP_SEND) {
            int64_t at = store_of(s, e->dst.buf) + e->dst.off;
            for (int64_t q = 0; q < e->peer_count; q++)
                memcpy(s->sram + (int64_t)peers[e->peer_first + q] * (int64_t)s->sram_stride + at,
                       stage + cursor, e->a);
            cursor += e->a;
        } else if (e->op == CHIPEMU_OP_DRAM_WRITE) {
            memcpy(s->dram + store_of(s, e->dst.buf) + e->dst.off, stage + cursor, e->a);
            cursor += e->a;
        }
    }
}

/* One launch tile's region before anything moves: counters within the caps and, where data is
 * staged, every SEND / DRAM_WRITE of the log landing inside its buffer (and the SRAM of a real
 * tile) with the staged bytes there to copy. The launcher's intrinsics only log such events; the
 * check keeps a region the host wrote itself from making chipemu_finish copy out of bounds. */
static int32_t region_check(const chipemu_superstep *s, int64_t i, int functional) {
    const int64_t *sc = s->sc + i * CHIPEMU_SC_COUNT;
    int64_t ne = sc[CHIPEMU_SC_EVENTS], np = sc[CHIPEMU_SC_PEERS], staged = sc[CHIPEMU_SC_STAGED];
    if (ne < 0 || ne > s->event_cap || np < 0 || np > s->peer_cap || staged < 0 || staged > s->stage_cap)
        return CHIPEMU_ERR_SIZE;
    if ((ne > 0 && s->events == NULL) || (np > 0 && s->peers == NULL)) return CHIPEMU_ERR_NULL;
    if (!functional || staged == 0) return CHIPEMU_OK;
    if (s->stage == NULL) return CHIPEMU_ERR_NULL;
    const chipemu_event *ev = s->events + i * s->event_cap;
    const uint32_t *pr = s->peers ? s->peers + i * s->peer_cap : NULL;
    int64_t cursor = 0;
    for (int64_t j = 0; j < ne; j++) {
        const chipemu_event *e = &ev[j];
        if (e->op != CHIPEMU_OP_SEND && e->op != CHIPEMU_OP_DRAM_WRITE) continue;
        int64_t kind = e->op == CHIPEMU_OP_SEND ? CHIPEMU_BUF_SRAM : CHIPEMU_BUF_DRAM;
        if ((int64_t)e->dst.buf >= s->n_bufs || e->a == 0) return CHIPEMU_ERR_SIZE;
        const int64_t *b = s->bufs + (int64_t)e->dst.buf * CHIPEMU_BT_COUNT;
        cursor += e->a;
        if (b[CHIPEMU_BT_KIND] != kind || (int64_t)e->dst.off + e->a > b[CHIPEMU_BT_SIZE] || cursor > staged)
            return CHIPEMU_ERR_SIZE;
        if (e->op == CHIPEMU_OP_DRAM_WRITE) continue;
        if ((int64_t)e->peer_first + e->peer_count > np) return CHIPEMU_ERR_SIZE;
        for (int64_t q = 0; q < e->peer_count; q++)
            if ((int64_t)pr[e->peer_first + q] >= s->dev[CHIPEMU_DEV_N_TILES]) return CHIPEMU_ERR_SIZE;
    }
    return CHIPEMU_OK;
}

/* Every region checked first, so a failed finish delivers and compacts nothing. */
static int32_t finish_check(const chipemu_superstep *s, int functional) {
    int32_t st = chipemu_dev_check(s->dev);
    if (st != CHIPEMU_OK) return st;
    if (s->n < 0 || s->event_cap < 0 || s->peer_cap < 0 || s->stage_cap < 0 || s->peer_base < 0)
        return CHIPEMU_ERR_SIZE;
    if (functional) {
        if ((s->sram == NULL && s->sram_stride > 0) || (s->dram == NULL && s->dram_bytes > 0))
            return CHIPEMU_ERR_NULL;
        st = chipemu_bufs_check(s->bufs, s->n_bufs, s->sram_stride, s->dram_bytes, s->host_bytes);
        if (st != CHIPEMU_OK) return st;
    }
    for (int64_t i = 0; i < s->n && st == CHIPEMU_OK; i++) st = region_check(s, i, functional);
    return st;
}

int32_t chipemu_finish(const chipemu_superstep *s, int64_t *n_events, int64_t *n_peers) {
    if (s == NULL || n_events == NULL || n_peers == NULL || s->sc == NULL || s->dev == NULL)
        return CHIPEMU_ERR_NULL;
    int functional = s->dev[CHIPEMU_DEV_MODE] == CHIPEMU_MODE_FUNCTIONAL;
    int32_t st = finish_check(s, functional);
    if (st != CHIPEMU_OK) return st;
    int64_t e_out = 0, p_out = 0;
    for (int64_t i = 0; i < s->n; i++) {
        const int64_t *sc = s->sc + i * CHIPEMU_SC_COUNT;
        int64_t ne = sc[CHIPEMU_SC_EVENTS], np = sc[CHIPEMU_SC_PEERS];
        if (ne == 0) continue;
        chipemu_event *ev = s->events + i * s->event_cap;
        const uint32_t *pr = np ? s->peers + i * s->peer_cap : NULL;
        if (functional && sc[CHIPEMU_SC_STAGED] > 0) deliver(s, ev, ne, pr, s->stage + i * s->stage_cap);
        for (int64_t j = 0; j < ne; j++)
            if (ev[j].peer_count) ev[j].peer_first += (uint32_t)(s->peer_base + p_out);
        memmove(s->events + e_out, ev, (size_t)ne * sizeof *ev);
        if (np) memmove(s->peers + p_out, pr, (size_t)np * sizeof *pr);
        e_out += ne;
        p_out += np;
    }
    *n_events = e_out;
    *n_peers = p_out;
    return CHIPEMU_OK;
}
