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
    const int64_t *dev = s->dev;
    int64_t rows = dev[CHIPEMU_DEV_ROWS], cmax = dev[CHIPEMU_DEV_COLS_MAX];
    int64_t slots = dev[CHIPEMU_DEV_SLOTS], bmax = dev[CHIPEMU_DEV_BLOCKS_MAX];
    int functional = dev[CHIPEMU_DEV_MODE] == CHIPEMU_MODE_FUNCTIONAL;
    if (rows < 1 || slots < 1 || dev[CHIPEMU_DEV_CELL_BITS] < CHIPEMU_LIMIT_DIMC_CELL_BITS_MIN
        || dev[CHIPEMU_DEV_ENGINES] < 1
        || cmax < chipemu_cols_eff(dev[CHIPEMU_DEV_COLS], dev[CHIPEMU_DEV_CELL_BITS],
                                   CHIPEMU_DIMC_MIN_ELEM_BITS) || bmax * 32 < rows
        || s->n_bufs < 0)
        return CHIPEMU_ERR_SIZE;
    if ((s->bufs == NULL && s->n_bufs > 0) || (s->events == NULL && s->event_cap > 0)
        || (s->peers == NULL && s->peer_cap > 0))
        return CHIPEMU_ERR_NULL;
    if (functional && ((s->sram == NULL && s->sram_stride > 0) || s->dimc_codes == NULL
                       || s->dimc_scales == NULL || s->dimc_tscale == NULL
                       || (s->stage == NULL && s->stage_cap > 0)))
        return CHIPEMU_ERR_NULL;
    for (int64_t b = 0; functional && b < s->n_bufs; b++) {   /* every buffer inside its memory */
        const int64_t *e = s->bufs + b * CHIPEMU_BT_COUNT;
        uint64_t room = e[CHIPEMU_BT_KIND] == CHIPEMU_BUF_SRAM ? s->sram_stride
                        : e[CHIPEMU_BT_KIND] == CHIPEMU_BUF_DRAM ? s->dram_bytes : s->host_bytes;
        if (e[CHIPEMU_BT_STORE] < 0 || e[CHIPEMU_BT_SIZE] < 0
            || (uint64_t)e[CHIPEMU_BT_STORE] + (uint64_t)e[CHIPEMU_BT_SIZE] > room)
            return CHIPEMU_ERR_SIZE;
    }
    chipemu_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    int64_t nscr[4];
    core_dimc_scratch(rows, cmax, bmax, nscr);
    ctx.scratch_i8 = malloc((size_t)nscr[0]);
    ctx.scratch_f64 = malloc(sizeof(double) * (size_t)nscr[1]);
    ctx.scratch_i32 = malloc(sizeof(int32_t) * (size_t)nscr[2]);
    ctx.scratch_f32 = malloc(sizeof(float) * (size_t)nscr[3]);
    int32_t st = CHIPEMU_OK;
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

int32_t chipemu_finish(const chipemu_superstep *s, int64_t *n_events, int64_t *n_peers) {
    if (s == NULL || n_events == NULL || n_peers == NULL || s->sc == NULL || s->dev == NULL)
        return CHIPEMU_ERR_NULL;
    int functional = s->dev[CHIPEMU_DEV_MODE] == CHIPEMU_MODE_FUNCTIONAL;
    int64_t e_out = 0, p_out = 0;
    for (int64_t i = 0; i < s->n; i++) {
        const int64_t *sc = s->sc + i * CHIPEMU_SC_COUNT;
        int64_t ne = sc[CHIPEMU_SC_EVENTS], np = sc[CHIPEMU_SC_PEERS];
        if (ne < 0 || ne > s->event_cap || np < 0 || np > s->peer_cap
            || sc[CHIPEMU_SC_STAGED] > s->stage_cap)
            return CHIPEMU_ERR_SIZE;
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
