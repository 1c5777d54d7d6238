/* kernels/attention/run.c — an attention call from C (no mask or causal: mask.h): the tile
 * tables (records per round, bias blocks, merge actions), the parameter vector, the buffers and
 * the launches, as kernels/attention/api.py, steps.py and data.py (tile_tables, params) do in
 * Python for attention(q, k, v, is_causal=).
 *
 * Blocks the mask removes entirely are skipped; a partly kept block gets a bias block, one per
 * distinct pattern on a tile, numbered in the order the tile meets them (round by round, then
 * block by block). Tests compare costs and outputs with Python's. Positions are the whole
 * device's (kv_home 0: chiplet-major). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/machine.h"
#include "kernels/attention/mask.h"
#include "kernels/attention/params.h"
#include "host/plan.h"
#include "runtime/error.h"


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
    chipemu_attention_mask mask;
    uint8_t *status;     /* [chunks][kb] */
    uint8_t *live;       /* [chunks][members] */
    int64_t *tiles;      /* ascending */
    int64_t n;
    int64_t *params;
    int64_t *bias;       /* per tile, its bias blocks' (chunk, block), in the order met */
    int64_t *n_bias;     /* per tile */
    int64_t kv_bytes, q_bytes, bias_bytes;   /* host buffers */
    int64_t ev_kv, ev_step, stage_step;
} at_run;

/* host data of a functional run (NULL members: timing mode, sizes only) */
typedef struct {
    uint8_t *kv, *q, *bias, *consts;
} at_host;

/* Free the tables, keeping the mask (at_prepare runs twice: sizes, then buffer ids). */
static void at_free(at_run *r) {
    chipemu_attention_mask mask = r->mask;
    free(r->status), free(r->live), free(r->tiles), free(r->params), free(r->bias);
    free(r->n_bias);
    memset(r, 0, sizeof *r);
    r->mask = mask;
}

/* The status of every (chunk, key block) (data._status: the mask does not depend on the
 * unit), and for each chunk which members computed anything (the merge's live members). */
static int32_t at_status(const chipemu_attention_plan *pl, at_run *r) {
    int64_t C = pl->chunks, kb = pl->kb, M = pl->members;
    r->status = malloc((size_t)(C * kb));
    r->live = calloc((size_t)(C * M), 1);
    if (r->status == NULL || r->live == NULL) return CHIPEMU_ERR_NOMEM;
    for (int64_t c = 0; c < C; c++)
        for (int64_t j = 0; j < kb; j++) {
            r->status[c * kb + j] = (uint8_t)mask_status(&r->mask, pl->mq, c, j);
            r->live[c * M + j % M] |= r->status[c * kb + j] > 0;
        }
    return CHIPEMU_OK;
}

/* data.merge_script for one chunk: the action (0 none, 1 send, 2 merge, 3 take) and partner
 * member of `mem` at each level; returns whether the root has anything to normalize. */
static int merge_acts(const chipemu_attention_plan *pl, const uint8_t *live_in, int64_t mem,
                      uint8_t *live, int64_t acts[][2]) {
    int64_t M = pl->members;
    for (int64_t m = 0; m < M; m++) live[m] = live_in[m];
    for (int64_t lv = 0; lv < pl->levels; lv++) {
        int64_t step = (int64_t)1 << lv;
        acts[lv][0] = acts[lv][1] = 0;
        for (int64_t q = 0; q < M; q += 2 * step) {
            if (q + step >= M || !live[q + step]) continue;
            if (q + step == mem) acts[lv][0] = 1, acts[lv][1] = q;
            else if (q == mem) acts[lv][0] = live[q] ? 2 : 3, acts[lv][1] = q + step;
            live[q] = 1;
        }
    }
    return live[0];
}

/* The tile tables and parameter vector (data.tile_tables, data.params, steps.offsets). */
static int32_t at_prepare(const chipemu_attention_plan *pl, int64_t n_tiles, const int64_t bufs[],
                          at_run *r) {
    int64_t R = pl->replicas, rounds = rounds_of(pl), per = pl->d_splits + pl->v_splits;
    int64_t n = R * pl->span, nb_max = pl->n_bias > 1 ? pl->n_bias : 1;
    int64_t rec_max = R_COUNT + rounds * (pl->blocks_per_tile + 2 * pl->levels + 1);
    r->n = n;
    r->tiles = malloc(sizeof(int64_t) * (size_t)n);
    r->params = calloc((size_t)(H_COUNT + n_tiles + R_COUNT + n * rec_max), sizeof(int64_t));
    r->bias = malloc(sizeof(int64_t) * 2 * (size_t)(n * nb_max));
    r->n_bias = calloc((size_t)n, sizeof(int64_t));
    uint8_t *scratch = malloc((size_t)pl->members);
    int64_t (*acts)[2] = malloc(sizeof(int64_t[2]) * (size_t)(pl->levels + 1));
    if (r->tiles == NULL || r->params == NULL || r->bias == NULL || r->n_bias == NULL
        || scratch == NULL || acts == NULL
        || (r->status == NULL && at_status(pl, r) != CHIPEMU_OK)) {
        free(scratch), free(acts);
        return rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for an attention call's parameters");
    }
    int64_t kv_t = pl->blocks_per_tile * per * pl->slot_bytes;
    int64_t q_t = rounds * pl->d_splits * pl->mq * pl->q_row_bytes;
    int64_t b_t = nb_max * pl->mq * pl->bk * 4;
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
        int64_t nb = n_blocks(pl, mem), *bias = r->bias + 2 * i * nb_max, nbias = 0;
        r->tiles[i] = tile_of(pl, u, mem, rep);
        int64_t *rec = p + at;
        p[H_COUNT + r->tiles[i]] = at;
        int64_t *tail = rec + R_COUNT;
        for (int64_t rnd = 0; rnd < rounds; rnd++) {
            int64_t c = chunk_of(pl, rnd, rep), live = c < pl->chunks;
            for (int64_t b = 0; b < nb; b++) {            /* its blocks' codes: 2 + its bias */
                int64_t j = mem + b * pl->members, st = live ? r->status[c * pl->kb + j] : 0;
                if (st == 2) {
                    int64_t k = 0;
                    while (k < nbias && !mask_same(&r->mask, pl->mq, bias[2 * k], bias[2 * k + 1],
                                                   c, j))
                        k++;
                    if (k == nbias && nbias < nb_max) bias[2 * k] = c, bias[2 * k + 1] = j, nbias++;
                    st = 2 + k;
                }
                *tail++ = st;
            }
            int root = live ? merge_acts(pl, r->live + c * pl->members, mem, scratch, acts) : 0;
            for (int64_t lv = 0; lv < pl->levels; lv++) {
                *tail++ = live ? acts[lv][0] : 0;
                *tail++ = live && acts[lv][0] ? tile_of(pl, u, acts[lv][1], rep) : 0;
            }
            *tail++ = mem == 0 && root;
        }
        r->n_bias[i] = nbias;
        rec[R_ACTIVE] = 1, rec[R_MEMBER] = mem, rec[R_REPLICA] = rep, rec[R_N_BLOCKS] = nb;
        rec[R_KV_HOST_OFF] = i * kv_t, rec[R_Q_HOST_OFF] = i * q_t, rec[R_Q_BYTES] = q_t;
        rec[R_BIAS_HOST_OFF] = i * b_t, rec[R_BIAS_BYTES] = nbias * pl->mq * pl->bk * 4;
        rec[R_KV_DRAM_BUF] = -1, rec[R_KV_DRAM_OFF] = 0;
        at = tail - p;
    }
    free(scratch), free(acts);
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
                          const at_host *h, int64_t ids[]) {
    for (int i = 0; i < CHIPEMU_AT_BUFFERS + 4; i++) ids[i] = -1;
    int64_t host[4] = {r->kv_bytes, r->q_bytes, r->bias_bytes, 3 * pl->mq * 4};
    const uint8_t *data[4] = {h->kv, h->q, h->bias, h->consts};
    int32_t st = CHIPEMU_OK;
    for (int i = 0; i < 4 && st == CHIPEMU_OK; i++)
        st = hm_alloc_host(m, data[i], host[i], &ids[CHIPEMU_AT_BUFFERS + i]);
    uint64_t total = m->sram_used;
    for (int i = 0; i < CHIPEMU_AT_BUFFERS; i++) total += (uint64_t)pl->sram_bytes[i];
    if (st == CHIPEMU_OK) st = hm_reserve_sram(m, total);
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

/* ---- functional runs: the host data (data.q_units, kv_slots; steps.kv_bytes, write_queries,
 * write_biases, alloc's constants) and the gather ---- */

static void host_free(at_host *h) {
    free(h->kv), free(h->q), free(h->bias), free(h->consts);
    memset(h, 0, sizeof *h);
}

/* q[b][hq][sq][d] row `row` of unit u (rows head-major within the unit's GQA group) */
static const float *q_row(const chipemu_attention_plan *pl, const float *q, int64_t u, int64_t row) {
    int64_t bb = u / pl->hkv, kvh = u % pl->hkv, h = row / pl->sq, pos = row % pl->sq;
    return q + (((bb * pl->hq + kvh * pl->group + h) * pl->sq) + pos) * pl->d;
}

/* key `key` of unit u in k or v [b][hkv][skv][d] (NULL past the last key: padding) */
static const float *kv_row(const chipemu_attention_plan *pl, const float *x, int64_t u, int64_t key) {
    return key < pl->skv ? x + (u * pl->skv + key) * pl->d : NULL;
}

/* One tile's K/V slots: block b of its run, slot s (K^T splits, then V splits, or on the
 * vector path K then V^T in fp32). */
static int32_t kv_slot(const chipemu_attention_plan *pl, const float *k, const float *v, int64_t u,
                       int64_t j, int64_t s, float *tmp, uint8_t *out) {
    int64_t R = pl->rows, C = pl->cols, bk = pl->bk, d = pl->d;
    if (pl->path == 1) {                       /* [bk][d] K, or [d][bk] V^T */
        float *o = (float *)out;
        for (int64_t r = 0; r < bk; r++) {
            const float *src = kv_row(pl, s == 0 ? k : v, u, j * bk + r);
            for (int64_t e = 0; e < d; e++) {
                float x = src ? src[e] : 0.0f;
                if (s == 0) o[r * d + e] = x;
                else o[e * bk + r] = x;
            }
        }
        return CHIPEMU_OK;
    }
    for (int64_t r = 0; r < R; r++)            /* the slot's R x C matrix, zero-padded */
        for (int64_t c = 0; c < C; c++) {
            const float *src;
            int64_t dim;
            if (s < pl->d_splits) {             /* K^T: rows are dims, columns keys */
                src = kv_row(pl, k, u, j * bk + c), dim = s * R + r;
            } else {                            /* V: rows are keys, columns dims */
                src = kv_row(pl, v, u, j * bk + r), dim = (s - pl->d_splits) * C + c;
            }
            tmp[r * C + c] = src && dim < d ? src[dim] : 0.0f;
        }
    return chipemu_encode_weights(pl->kv_fmt, tmp, R, C, C, out);
}

static int32_t fill_host(const chipemu_attention_plan *pl, const at_run *r, const float *q,
                         const float *k, const float *v, float scale, at_host *h) {
    int64_t per = pl->d_splits + pl->v_splits, rounds = rounds_of(pl), mq = pl->mq, bk = pl->bk;
    int64_t kv_t = pl->blocks_per_tile * per * pl->slot_bytes;
    int64_t q_t = rounds * pl->d_splits * mq * pl->q_row_bytes;
    int64_t nb_max = pl->n_bias > 1 ? pl->n_bias : 1, b_t = nb_max * mq * bk * 4;
    int64_t width = pl->path == 1 ? pl->d : pl->dp;
    h->kv = calloc((size_t)r->kv_bytes, 1), h->q = calloc((size_t)r->q_bytes, 1);
    h->bias = calloc((size_t)r->bias_bytes, 1), h->consts = malloc((size_t)(3 * mq * 4));
    float *tmp = malloc(sizeof(float) * (size_t)(pl->rows * pl->cols + width));
    if (!h->kv || !h->q || !h->bias || !h->consts || !tmp) {
        free(tmp);
        return CHIPEMU_ERR_NOMEM;
    }
    float *qrow = tmp + pl->rows * pl->cols;
    int32_t st = CHIPEMU_OK;
    for (int64_t i = 0; i < r->n && st == CHIPEMU_OK; i++) {
        int64_t rep = i / pl->span, u = (i % pl->span) / pl->members, mem = i % pl->members;
        for (int64_t b = 0; b < n_blocks(pl, mem) && st == CHIPEMU_OK; b++)
            for (int64_t s = 0; s < per && st == CHIPEMU_OK; s++)
                st = kv_slot(pl, k, v, u, mem + b * pl->members, s, tmp,
                             h->kv + i * kv_t + (b * per + s) * pl->slot_bytes);
        const int64_t *cj = r->bias + 2 * i * nb_max;     /* its bias blocks' (chunk, block) */
        for (int64_t kk = 0; kk < r->n_bias[i]; kk++) {   /* 0 where kept, else -inf */
            int64_t c = cj[2 * kk], j = cj[2 * kk + 1], w = 0;
            float *bias = (float *)(h->bias + i * b_t) + kk * mq * bk;
            for (int64_t row = 0; row < mq; row++) {
                int64_t n = row < chunk_len(pl, c) ? mask_kept(&r->mask, c * mq + row, j, &w) : 0;
                for (int64_t e = 0; e < bk; e++) bias[row * bk + e] = e < n ? 0.0f : -INFINITY;
            }
        }
        for (int64_t rnd = 0; rnd < rounds; rnd++) {
            int64_t c = chunk_of(pl, rnd, rep);
            if (c >= pl->chunks) continue;
            int64_t len = chunk_len(pl, c);
            for (int64_t row = 0; row < len; row++) {       /* [round][split][mq][row bytes] */
                const float *src = q_row(pl, q, u, c * mq + row);
                for (int64_t e = 0; e < width; e++) qrow[e] = e < pl->d ? src[e] * scale : 0.0f;
                for (int64_t t = 0; t < pl->d_splits; t++) {
                    uint8_t *dst = h->q + i * q_t + ((rnd * pl->d_splits + t) * mq + row) * pl->q_row_bytes;
                    if (pl->path == 1) memcpy(dst, qrow, (size_t)(pl->d * 4));
                    else chipemu_encode_rows(pl->fmt, qrow + t * pl->rows, 1, pl->rows, dst);
                }
            }
        }
    }
    float *cst = (float *)h->consts;
    for (int64_t e = 0; e < mq; e++)
        cst[e] = -1e30f, cst[mq + e] = -1.0f, cst[2 * mq + e] = 1.17549435e-38f;  /* FLT_MIN */
    free(tmp);
    return st;
}

/* The output rows of every chunk from member 0 of its unit (steps.gather) into out[b][hq][sq][d]. */
static void at_gather(const hm_machine *m, const chipemu_attention_plan *pl, int64_t ybuf, float *out) {
    int64_t C = pl->cols, vs = pl->v_splits, mq = pl->mq;
    const uint8_t *base = m->sram + m->bt[ybuf * CHIPEMU_BT_COUNT + CHIPEMU_BT_STORE];
    for (int64_t c = 0; c < pl->chunks; c++) {
        int64_t rnd = c / pl->replicas, rep = rnd % 2 == 0 ? c % pl->replicas
                                                            : pl->replicas - 1 - c % pl->replicas;
        for (int64_t u = 0; u < pl->units; u++) {
            const uint8_t *tile = base + tile_of(pl, u, 0, rep) * m->sram_stride;
            for (int64_t row = 0; row < chunk_len(pl, c); row++) {
                float *dst = (float *)q_row(pl, out, u, c * mq + row);
                for (int64_t e = 0; e < pl->d; e++) {
                    int64_t t = e / C;
                    const float *y = (const float *)(tile + ((rnd * vs + t) * mq) * C * 4);
                    dst[e] = y[row * C + e % C];
                }
            }
        }
    }
}

/* One attention call on a fresh machine: timing (q, k, v, y NULL) or functional. */
static int32_t attention_run(const chipemu_device *dev, const chipemu_attention_plan *pl,
                             int32_t mask, const float *q, const float *k, const float *v,
                             float scale, float *y, chipemu_cost *out) {
    hm_machine mach;
    at_run run;
    at_host h;
    memset(&run, 0, sizeof run), memset(&h, 0, sizeof h);
    run.mask = (chipemu_attention_mask){mask, pl->sq, pl->skv, pl->bk, pl->nq};
    int64_t ids[CHIPEMU_AT_BUFFERS + 4], zero[CHIPEMU_AT_BUFFERS + 4] = {0};
    int32_t st = hm_init(&mach, chipemu_device_params_of(dev), y != NULL);
    /* sizes first (the host buffers' sizes come from the tables), then the real buffer ids */
    if (st == CHIPEMU_OK) st = at_prepare(pl, mach.n_tiles, zero, &run);
    if (st == CHIPEMU_OK && y != NULL && fill_host(pl, &run, q, k, v, scale, &h) != CHIPEMU_OK)
        st = rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for an attention call's host data");
    if (st == CHIPEMU_OK) st = at_buffers(&mach, pl, &run, &h, ids);
    host_free(&h);
    if (st == CHIPEMU_OK) {
        at_free(&run);
        st = at_prepare(pl, mach.n_tiles, ids, &run);
    }
    if (st == CHIPEMU_OK) st = at_launch_all(&mach, pl, &run);
    if (st == CHIPEMU_OK && y != NULL) at_gather(&mach, pl, ids[7], y);
    if (st == CHIPEMU_OK && out != NULL) st = hm_time(&mach, out);
    at_free(&run);
    hm_free(&mach);
    return st;
}

int32_t chipemu_attention_run(const chipemu_device *dev, const int64_t shape[6], int32_t mask,
                              int32_t fmt, int32_t kv_fmt, double scale, const float *q,
                              const float *k, const float *v, float *y, chipemu_cost *out) {
    chipemu_attention_plan pl;
    int32_t st = chipemu_attention_plan_make(dev, shape, mask, fmt, kv_fmt, &pl);
    if (st != CHIPEMU_OK) return st;
    if (q == NULL || k == NULL || v == NULL || y == NULL)
        return rt_fail(CHIPEMU_ERR_NULL, "chipemu_attention_run: %s is NULL",
                       q == NULL ? "q" : k == NULL ? "k" : v == NULL ? "v" : "y");
    /* Python's default, 1/sqrt(D) in double, then float32 (np.float32(scale)) */
    float sc = (float)(scale == scale && scale - scale == 0.0 ? scale : 1.0 / sqrt((double)pl.d));
    return attention_run(dev, &pl, mask, q, k, v, sc, y, out);
}

int32_t chipemu_attention_cost(const chipemu_device *dev, const int64_t shape[6], int32_t mask,
                               int32_t fmt, int32_t kv_fmt, chipemu_cost *out) {
    if (out == NULL) return rt_fail(CHIPEMU_ERR_NULL, "chipemu_attention_cost: out is NULL");
    chipemu_attention_plan pl;
    int32_t st = chipemu_attention_plan_make(dev, shape, mask, fmt, kv_fmt, &pl);
    return st != CHIPEMU_OK ? st
                            : attention_run(dev, &pl, mask, NULL, NULL, NULL, 0.0f, NULL, out);
}
