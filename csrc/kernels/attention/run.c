/* kernels/attention/run.c — an unmasked attention call from C: the tile tables (records per
 * round, bias blocks, merge actions), the parameter vector, the buffers and the launches, as
 * kernels/attention/api.py, steps.py and data.py (tile_tables, params) do in Python for
 * attention(q, k, v) without attn_mask or is_causal.
 *
 * Without a mask every block is computed; only the last key block is partial (when kv_len is
 * not a multiple of the block), its bias one per distinct chunk length on a tile, numbered in
 * the order the tile meets them (round by round). A test compares the cost with Python's
 * timing-mode Result. Positions are the whole device's (kv_home 0: chiplet-major). */
#include <stdlib.h>
#include <string.h>

#include "host/machine.h"
#include "kernels/attention/params.h"
#include "runtime/error.h"

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int64_t rounds_of(const chipemu_attention_plan *pl) { return cdiv(pl->chunks, pl->replicas); }

/* plan.tile_of on the whole device: position replica * span + unit * members + member,
 * chiplet-major, is the global id */
static int64_t tile_of(const chipemu_attention_plan *pl, int64_t u, int64_t m, int64_t r) {
    return r * pl->span + u * pl->members + m;
}

/* plan.chunk_of: the chunk replica r runs in round rnd (zigzag; may be >= chunks) */
static int64_t chunk_of(const chipemu_attention_plan *pl, int64_t rnd, int64_t r) {
    return rnd * pl->replicas + (rnd % 2 == 0 ? r : pl->replicas - 1 - r);
}

static int64_t n_blocks(const chipemu_attention_plan *pl, int64_t m) {
    return m < pl->kb ? cdiv(pl->kb - m, pl->members) : 0;
}

static int64_t chunk_len(const chipemu_attention_plan *pl, int64_t c) {
    int64_t r1 = (c + 1) * pl->mq < pl->nq ? (c + 1) * pl->mq : pl->nq;
    return r1 - c * pl->mq;
}

typedef struct {
    int64_t *tiles;      /* ascending */
    int64_t n;
    int64_t *params;
    int64_t kv_bytes, q_bytes, bias_bytes;   /* host buffers */
    int64_t ev_kv, ev_step, stage_step;
} at_run;

static void at_free(at_run *r) {
    free(r->tiles), free(r->params);
    memset(r, 0, sizeof *r);
}

/* The tile tables and parameter vector (data.tile_tables, data.params, steps.offsets). */
static int32_t at_prepare(const chipemu_attention_plan *pl, int64_t n_tiles, const int64_t bufs[],
                          at_run *r) {
    memset(r, 0, sizeof *r);
    int64_t R = pl->replicas, rounds = rounds_of(pl), per = pl->d_splits + pl->v_splits;
    int64_t n = R * pl->span, partial = pl->skv % pl->bk != 0;
    int64_t rec_max = R_COUNT + rounds * (pl->blocks_per_tile + 2 * pl->levels + 1);
    r->n = n;
    r->tiles = malloc(sizeof(int64_t) * (size_t)n);
    r->params = calloc((size_t)(H_COUNT + n_tiles + R_COUNT + n * rec_max), sizeof(int64_t));
    if (r->tiles == NULL || r->params == NULL) {
        at_free(r);
        return rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for an attention call's parameters");
    }
    int64_t kv_t = pl->blocks_per_tile * per * pl->slot_bytes;
    int64_t q_t = rounds * pl->d_splits * pl->mq * pl->q_row_bytes;
    int64_t b_t = (pl->n_bias > 1 ? pl->n_bias : 1) * pl->mq * pl->bk * 4;
    int64_t *p = r->params;
    p[H_STEP] = 0, p[H_STAGES] = pl->levels + 1, p[H_ROUNDS] = rounds, p[H_CHUNK_ROWS] = pl->mq;
    p[H_Q_ROWS] = pl->nq, p[H_ROWS] = pl->rows, p[H_COLS] = pl->cols, p[H_BLOCK_KEYS] = pl->bk;
    p[H_D_SPLITS] = pl->d_splits, p[H_V_SPLITS] = pl->v_splits, p[H_FMT] = pl->fmt;
    p[H_KV_FMT] = pl->kv_fmt, p[H_SLOT_BYTES] = pl->slot_bytes, p[H_Q_ROW_BYTES] = pl->q_row_bytes;
    p[H_LEVELS] = pl->levels, p[H_REPLICAS] = R, p[H_VECTOR] = pl->path == 1;
    p[H_SLOT_BASE] = 0, p[H_CONSTS] = 1, p[H_KV_DRAM] = 0;
    for (int i = 0; i < CHIPEMU_AT_BUFFERS; i++) p[H_W_BUF + i] = bufs[i];
    for (int i = 0; i < 4; i++) p[H_KV_HOST + i] = bufs[CHIPEMU_AT_BUFFERS + i];
    int64_t at = H_COUNT + n_tiles;
    for (int64_t t = 0; t < n_tiles; t++) p[H_COUNT + t] = at;      /* the shared zero record */
    at += R_COUNT;
    /* positions are ids here: tile i of the sorted list is position i */
    for (int64_t i = 0; i < n; i++) {
        int64_t rep = i / pl->span, u = (i % pl->span) / pl->members, mem = i % pl->members;
        int64_t nb = n_blocks(pl, mem);
        r->tiles[i] = tile_of(pl, u, mem, rep);
        int64_t *rec = p + at;
        p[H_COUNT + r->tiles[i]] = at;
        int64_t *tail = rec + R_COUNT;
        int64_t bias_len[2] = {-1, -1}, n_bias = 0;    /* chunk lengths, in the order met */
        for (int64_t rnd = 0; rnd < rounds; rnd++) {
            int64_t c = chunk_of(pl, rnd, rep), live = c < pl->chunks;
            for (int64_t b = 0; b < nb; b++) {
                int64_t j = mem + b * pl->members, st = live ? 1 : 0;
                if (live && partial && j == pl->kb - 1) {
                    int64_t len = chunk_len(pl, c), k = 0;
                    while (k < n_bias && bias_len[k] != len) k++;
                    if (k == n_bias) bias_len[n_bias++] = len;
                    st = 2 + k;
                }
                *tail++ = st;
            }
            /* every member is live (or none): each level merges q + 2^l into q */
            for (int64_t lv = 0; lv < pl->levels; lv++) {
                int64_t step = (int64_t)1 << lv, a = 0, t = 0;
                if (live && mem % (2 * step) == step) {
                    a = 1, t = tile_of(pl, u, mem - step, rep);
                } else if (live && mem % (2 * step) == 0 && mem + step < pl->members) {
                    a = 2, t = tile_of(pl, u, mem + step, rep);
                }
                *tail++ = a, *tail++ = t;
            }
            *tail++ = live && mem == 0;
        }
        rec[R_ACTIVE] = 1, rec[R_MEMBER] = mem, rec[R_REPLICA] = rep, rec[R_N_BLOCKS] = nb;
        rec[R_KV_HOST_OFF] = i * kv_t, rec[R_Q_HOST_OFF] = i * q_t, rec[R_Q_BYTES] = q_t;
        rec[R_BIAS_HOST_OFF] = i * b_t, rec[R_BIAS_BYTES] = n_bias * pl->mq * pl->bk * 4;
        rec[R_KV_DRAM_BUF] = -1, rec[R_KV_DRAM_OFF] = 0;
        at = tail - p;
    }
    r->kv_bytes = n * kv_t, r->q_bytes = n * q_t, r->bias_bytes = n * b_t;
    r->ev_kv = 2 * pl->blocks_per_tile * per;
    /* steps._ev_step (kv_home 0: no streaming) */
    r->ev_step = pl->blocks_per_tile * (2 * per + 18) + 6 * pl->v_splits + 20;
    r->stage_step = (2 + pl->v_splits * pl->cols) * pl->mq * 4 + 64;
    return CHIPEMU_OK;
}

/* steps.alloc: the host buffers (kv, q, bias, const), then the plan's SRAM buffers. ids:
 * [the CHIPEMU_AT_BUFFERS SRAM ones][kv_host, q_host, bias_host, const_host]. */
static int32_t at_buffers(hm_machine *m, const chipemu_attention_plan *pl, const at_run *r,
                          int64_t ids[]) {
    for (int i = 0; i < CHIPEMU_AT_BUFFERS + 4; i++) ids[i] = -1;
    int64_t host[4] = {r->kv_bytes, r->q_bytes, r->bias_bytes, 3 * pl->mq * 4};
    int32_t st = CHIPEMU_OK;
    for (int i = 0; i < 4 && st == CHIPEMU_OK; i++)
        st = hm_alloc_host(m, NULL, host[i], &ids[CHIPEMU_AT_BUFFERS + i]);
    for (int i = 0; i < CHIPEMU_AT_BUFFERS && st == CHIPEMU_OK; i++)
        if (pl->sram_bytes[i]) st = hm_alloc_sram(m, pl->sram_bytes[i], &ids[i]);
    return st;
}

/* Phases "load" (at_kv; at_q and a barrier) and "compute" (at_step, round by round). */
static int32_t at_launch_all(hm_machine *m, const chipemu_attention_plan *pl, at_run *r) {
    hm_phase_begin(m, "load");
    int32_t st = hm_launch(m, "at_kv", chipemu_kernel_at_kv, r->tiles, r->n, r->params, r->ev_kv,
                           1, 64);
    if (st == CHIPEMU_OK)
        st = hm_launch(m, "at_q", chipemu_kernel_at_q, r->tiles, r->n, r->params, 3, 1, 64);
    if (st == CHIPEMU_OK) st = hm_barrier(m, r->tiles, r->n);
    hm_phase_end(m);
    if (st != CHIPEMU_OK) return st;
    hm_phase_begin(m, "compute");
    for (int64_t s = 0; s < rounds_of(pl) * (pl->levels + 1) && st == CHIPEMU_OK; s++) {
        r->params[H_STEP] = s;
        st = hm_launch(m, "at_step", chipemu_kernel_at_step, r->tiles, r->n, r->params,
                       r->ev_step, 1, r->stage_step);
    }
    hm_phase_end(m);
    return st;
}

int32_t chipemu_attention_cost(const chipemu_device *dev, const int64_t shape[6], int32_t fmt,
                               int32_t kv_fmt, chipemu_cost *out) {
    if (out == NULL) return rt_fail(CHIPEMU_ERR_NULL, "chipemu_attention_cost: out is NULL");
    chipemu_attention_plan pl;
    int32_t st = chipemu_attention_plan_make(dev, shape, fmt, kv_fmt, &pl);
    if (st != CHIPEMU_OK) return st;
    hm_machine mach;
    at_run run;
    memset(&run, 0, sizeof run);
    int64_t ids[CHIPEMU_AT_BUFFERS + 4], zero[CHIPEMU_AT_BUFFERS + 4] = {0};
    st = hm_init(&mach, chipemu_device_params_of(dev), 0);
    /* sizes first (the host buffers' sizes come from the tables), then the real buffer ids */
    if (st == CHIPEMU_OK) st = at_prepare(&pl, mach.n_tiles, zero, &run);
    if (st == CHIPEMU_OK) st = at_buffers(&mach, &pl, &run, ids);
    if (st == CHIPEMU_OK) {
        at_free(&run);
        st = at_prepare(&pl, mach.n_tiles, ids, &run);
    }
    if (st == CHIPEMU_OK) st = at_launch_all(&mach, &pl, &run);
    if (st == CHIPEMU_OK) st = hm_time(&mach, out);
    at_free(&run);
    hm_free(&mach);
    return st;
}
