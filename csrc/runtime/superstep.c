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
