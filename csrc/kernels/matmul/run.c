/* kernels/matmul/run.c — a matmul run from C: the plan's parameter vector, the host layouts'
 * sizes and the launches, as kernels/matmul/api.py (sizes, params, load_phase, compute_phase)
 * and kernels/matmul/data.py (_tile_blocks, w_host, x_host, params) do in Python.
 *
 * The parameter vector is the one of kernels/matmul/params.py (params.h, generated); a test
 * compares it word for word with Python's for many plans, and the cost of a run with Python's
 * timing-mode Result. Positions are the whole device's: chiplet c, position i is tile c*T + i. */
#include <stdlib.h>
#include <string.h>

#include "host/machine.h"
#include "kernels/matmul/params.h"
#include "kernels/matmul/run.h"
#include "host/plan.h"
#include "runtime/error.h"


static int64_t nb_start(const chipemu_matmul_plan *pl, int64_t c) {
    return pl->nb * c / pl->chiplets_used;
}

static int64_t nb_count(const chipemu_matmul_plan *pl, int64_t c) {
    return nb_start(pl, c + 1) - nb_start(pl, c);
}

int64_t mm_rounds(const chipemu_matmul_plan *pl) { return cdiv(pl->chunks, pl->replicas); }

int64_t mm_compute_supersteps(const chipemu_matmul_plan *pl) {
    return mm_rounds(pl) * (pl->levels + 1) + 1;
}

/* Tiles of the K-group of K-run `mem` on chiplet c in replica rep (plan.kgroup_tiles). */
static int64_t kgroup_tiles(const chipemu_matmul_plan *pl, int64_t c, int64_t mem, int64_t rep,
                            int64_t *out) {
    int64_t T = pl->tiles_per_chiplet, base = rep * pl->span, cnt = nb_count(pl, c);
    if (pl->g == 1) cnt = min64(cnt, T);
    for (int64_t i = 0; i < cnt; i++)
        if (out) out[i] = c * T + base + (pl->g == 1 ? i : i * pl->g + mem);
    return cnt;
}

/* K-blocks of member mem's K-run (plan.k_run). */
static int64_t k_run(const chipemu_matmul_plan *pl, int64_t mem) {
    int64_t lo = mem * pl->kpt, hi = min64((mem + 1) * pl->kpt, pl->kb);
    return hi > lo ? hi - lo : 0;
}

/* (j, q) pieces of K-group index idx of K-run mem (plan.pieces_of), into out; their count. */
static int64_t pieces_of(const chipemu_matmul_plan *pl, int64_t idx, int64_t mem, int64_t *out) {
    int64_t nj = pl->g > 1 ? k_run(pl, mem) : pl->kb, n = 0;
    for (int64_t j = 0; j < nj; j++)
        for (int64_t q = 0; q < pl->parts; q++)
            if ((j * pl->parts + q) % pl->kgroup == idx) {
                if (out) out[2 * n] = j, out[2 * n + 1] = q;
                n++;
            }
    return n;
}

/* One tile that holds blocks: where it sits and what it holds. */
typedef struct {
    int64_t tile, c, rep, pos, mem, n_nb, k_run, nb0;
} mm_tile;

/* The tiles holding blocks, ascending (data._tile_blocks' keys, sorted); *n gets their count. */
static mm_tile *tiles_of(const chipemu_matmul_plan *pl, int64_t *n) {
    int64_t T = pl->tiles_per_chiplet, cap = 0;
    for (int64_t c = 0; c < pl->chiplets_used; c++)
        cap += pl->g == 1 ? min64(nb_count(pl, c), T) : nb_count(pl, c) * pl->g;
    cap *= pl->replicas;
    mm_tile *t = calloc((size_t)(cap > 0 ? cap : 1), sizeof *t);
    if (t == NULL) return NULL;
    int64_t k = 0;
    /* by chiplet, then position: ascending ids, since a chiplet's tiles follow the previous */
    for (int64_t c = 0; c < pl->chiplets_used; c++)
        for (int64_t pos = 0; pos < T; pos++) {
            int64_t rep = pos / pl->span, p = pos % pl->span;
            if (rep >= pl->replicas) break;
            mm_tile x = {c * T + pos, c, rep, p, 0, 0, 0, 0};
            if (pl->g == 1) {
                if (p >= min64(nb_count(pl, c), T)) continue;
                x.n_nb = cdiv(nb_count(pl, c) - p, T);          /* tile_nbs: p, p + T, ... */
                x.k_run = pl->kb;
                x.nb0 = nb_start(pl, c) + p;
            } else {
                if (p >= nb_count(pl, c) * pl->g) continue;
                x.mem = p % pl->g;
                x.n_nb = 1;
                x.k_run = k_run(pl, x.mem);
                x.nb0 = nb_start(pl, c) + p / pl->g;
            }
            t[k++] = x;
        }
    *n = k;
    return t;
}

/* x_host offset of holder (rep, mem, idx): holders in data.holder_pieces order, each the same size. */
static int64_t holder_offset(const chipemu_matmul_plan *pl, int64_t rep, int64_t mem, int64_t idx,
                             int64_t *total) {
    int64_t members = pl->g > 1 ? pl->g : 1, at = 0, found = -1;
    int64_t nbytes = mm_rounds(pl) * pl->pieces_per_tile * pl->piece_rows * pl->row_bytes;
    for (int64_t r = 0; r < pl->replicas; r++)
        for (int64_t mm = 0; mm < members; mm++)
            for (int64_t i = 0; i < pl->kgroup; i++) {
                if (!pieces_of(pl, i, mm, NULL)) continue;
                if (r == rep && mm == mem && i == idx) found = at;
                at += nbytes;
            }
    if (total) *total = at;
    return found;
}

void mm_free(mm_run *r) {
    free(r->tiles), free(r->params);
    memset(r, 0, sizeof *r);
}

int32_t mm_prepare(const chipemu_matmul_plan *pl, int64_t n_tiles, const int64_t bufs[], mm_run *r) {
    memset(r, 0, sizeof *r);
    int64_t nt = 0;
    mm_tile *tl = tiles_of(pl, &nt);
    if (tl == NULL) return rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for a matmul's tiles");
    r->n = nt;
    r->tiles = malloc(sizeof(int64_t) * (size_t)(nt > 0 ? nt : 1));
    int64_t nkg = 0, words = H_COUNT + n_tiles + R_COUNT;
    for (int64_t c = 0; c < pl->chiplets_used; c++) {
        int64_t k = kgroup_tiles(pl, c, 0, 0, NULL);
        if (k > nkg) nkg = k;
    }
    for (int64_t i = 0; i < nt; i++)
        words += R_COUNT + nkg + 2 * pl->pieces_per_tile * 4 + pl->g;   /* bounds of each tail */
    r->params = calloc((size_t)words, sizeof(int64_t));
    int64_t *kg = malloc(sizeof(int64_t) * (size_t)(pl->tiles_per_chiplet + 1));
    int64_t *pc = malloc(sizeof(int64_t) * (size_t)(2 * pl->kb * pl->parts + 2));
    if (r->tiles == NULL || r->params == NULL || kg == NULL || pc == NULL) {
        free(tl), free(kg), free(pc), mm_free(r);
        return rt_fail(CHIPEMU_ERR_NOMEM, "out of memory for a matmul's parameters");
    }
    int64_t *p = r->params;
    p[H_STEP] = 0, p[H_STAGES] = pl->levels + 1, p[H_CHUNK_ROWS] = pl->mc, p[H_M] = pl->m;
    p[H_PARTS] = pl->parts, p[H_ROW_BYTES] = pl->row_bytes, p[H_COLS] = pl->cols;
    p[H_ROWS] = pl->rows, p[H_FMT_X] = pl->fmt, p[H_FMT_W] = pl->weight_fmt;
    p[H_SLOTS] = pl->slots, p[H_PASSES] = pl->passes, p[H_GROUP] = pl->g, p[H_LEVELS] = pl->levels;
    p[H_BLOCK_BYTES] = pl->block_bytes, p[H_PIECE_ROWS] = pl->piece_rows;
    p[H_PIECES] = pl->pieces_per_tile;
    p[H_W_BUF] = bufs[MM_BUF_W], p[H_XHOME_BUF] = bufs[MM_BUF_XHOME], p[H_X_BUF] = bufs[MM_BUF_X];
    p[H_Y_BUF] = bufs[MM_BUF_Y], p[H_ACC_BUF] = bufs[MM_BUF_ACC], p[H_RECV_BUF] = bufs[MM_BUF_RECV];
    p[H_W_HOST] = bufs[MM_BUF_W_HOST], p[H_X_HOST] = bufs[MM_BUF_X_HOST];
    p[H_NB_PER_TILE] = pl->nb_per_tile, p[H_KPT] = pl->kpt, p[H_REPLICAS] = pl->replicas;
    p[H_ROUNDS] = mm_rounds(pl), p[H_SLOT_BASE] = 0;
    int64_t at = H_COUNT + n_tiles;
    for (int64_t t = 0; t < n_tiles; t++) p[H_COUNT + t] = at;       /* the shared zero record */
    at += R_COUNT;
    int64_t woff = 0;
    for (int64_t i = 0; i < nt; i++) {
        const mm_tile *x = &tl[i];
        r->tiles[i] = x->tile;
        int64_t nk = kgroup_tiles(pl, x->c, x->mem, x->rep, kg);
        int64_t idx = pl->g == 1 ? x->pos : x->pos / pl->g;
        int64_t np = idx < pl->kgroup ? pieces_of(pl, idx, x->mem, pc) : 0;
        int64_t xo = np ? holder_offset(pl, x->rep, x->mem, idx, NULL) : 0;
        int64_t *rec = p + at;
        p[H_COUNT + x->tile] = at;
        rec[R_ACTIVE] = 1, rec[R_MEMBER] = x->mem, rec[R_N_NB] = x->n_nb, rec[R_K_RUN] = x->k_run;
        rec[R_W_HOST_OFF] = woff, rec[R_X_HOST_OFF] = xo;
        rec[R_X_BYTES] = np ? mm_rounds(pl) * pl->pieces_per_tile * pl->piece_rows * pl->row_bytes : 0;
        rec[R_N_PIECES] = np, rec[R_REPLICA] = x->rep, rec[R_N_KG] = nk;
        int64_t *tail = rec + R_COUNT;
        memcpy(tail, kg, sizeof(int64_t) * (size_t)nk);
        memcpy(tail + nk, pc, sizeof(int64_t) * (size_t)(2 * np));
        tail += nk + 2 * np;
        if (pl->g > 1) {                       /* its group's tiles, member by member */
            int64_t g0 = x->tile - x->mem;
            for (int64_t j = 0; j < pl->g; j++) tail[j] = g0 + j;
            tail += pl->g;
        }
        at = tail - p;
        woff += x->n_nb * x->k_run * pl->block_bytes;
    }
    r->n_words = at;
    r->w_bytes = woff;
    holder_offset(pl, -1, -1, -1, &r->x_bytes);
    /* events and peers per tile and launch (api.sizes) */
    r->ev_load = 2 * pl->blocks_per_tile + 2;
    r->ev_step = pl->pieces_per_tile + pl->blocks_per_tile * (pl->passes > 1 ? 2 : 1) + 3;
    r->peers_step = pl->pieces_per_tile * nkg + 1;
    r->stage = pl->pieces_per_tile * pl->piece_rows * pl->row_bytes + pl->mc * pl->cols * 4 + 64;
    free(tl), free(kg), free(pc);
    return CHIPEMU_OK;
}

int32_t mm_launch_all(hm_machine *m, const chipemu_matmul_plan *pl, mm_run *r) {
    hm_phase_begin(m, "load");
    int32_t st = hm_launch(m, "mm_load", chipemu_kernel_mm_load, r->tiles, r->n, r->params,
                           r->ev_load, 1, 64);
    if (st == CHIPEMU_OK) st = hm_barrier(m, r->tiles, r->n);
    hm_phase_end(m);
    if (st != CHIPEMU_OK) return st;
    hm_phase_begin(m, "compute");
    for (int64_t s = 0; s < mm_compute_supersteps(pl) && st == CHIPEMU_OK; s++) {
        r->params[H_STEP] = s;
        st = hm_launch(m, "mm_step", chipemu_kernel_mm_step, r->tiles, r->n, r->params,
                       r->ev_step, r->peers_step, r->stage);
    }
    hm_phase_end(m);
    return st;
}

/* The machine's buffers for a plan, in api.matmul's order: host w, host x, then the SRAM ones. */
int32_t mm_buffers(hm_machine *m, const chipemu_matmul_plan *pl, const void *w_host,
                   int64_t w_bytes, const void *x_host, int64_t x_bytes, int64_t bufs[]) {
    for (int i = 0; i < MM_BUF_COUNT; i++) bufs[i] = -1;
    int32_t st = hm_alloc_host(m, w_host, w_bytes > 0 ? w_bytes : 1, &bufs[MM_BUF_W_HOST]);
    if (st == CHIPEMU_OK)
        st = hm_alloc_host(m, x_host, x_bytes > 0 ? x_bytes : 1, &bufs[MM_BUF_X_HOST]);
    uint64_t total = m->sram_used;
    for (int i = 0; i < CHIPEMU_MM_BUFFERS; i++) total += (uint64_t)pl->sram_bytes[i];
    if (st == CHIPEMU_OK) st = hm_reserve_sram(m, total);
    for (int i = 0; i < CHIPEMU_MM_BUFFERS && st == CHIPEMU_OK; i++)
        if (pl->sram_bytes[i] > 0) st = hm_alloc_sram(m, pl->sram_bytes[i], &bufs[i]);
    return st;
}

/* ---- functional runs: the host layouts with data, the gather (data.py w_host, x_host; api.py
 * out_blocks, gather) ---- */

/* Every tile's weight blocks back to back, in the tile's block order (data._tile_blocks). */
static int32_t fill_w_host(const chipemu_matmul_plan *pl, const float *b, uint8_t *out) {
    int64_t R = pl->rows, C = pl->cols, nt = 0;
    mm_tile *tl = tiles_of(pl, &nt);
    float *blk = malloc(sizeof(float) * (size_t)(R * C));
    int32_t st = tl && blk ? CHIPEMU_OK : CHIPEMU_ERR_NOMEM;
    for (int64_t i = 0, at = 0; i < nt && st == CHIPEMU_OK; i++) {
        const mm_tile *x = &tl[i];
        for (int64_t a = 0; a < x->n_nb; a++) {
            int64_t nb = x->nb0 + a * (pl->g == 1 ? pl->tiles_per_chiplet : 0);
            for (int64_t kk = 0; kk < x->k_run; kk++) {
                int64_t kbk = pl->g == 1 ? kk : x->mem * pl->kpt + kk;
                for (int64_t r = 0; r < R; r++)          /* the block, zero-padded past k, n */
                    for (int64_t c = 0; c < C; c++) {
                        int64_t row = kbk * R + r, col = nb * C + c;
                        blk[r * C + c] = row < pl->k && col < pl->n ? b[row * pl->n + col] : 0.0f;
                    }
                st = chipemu_encode_weights(pl->weight_fmt, blk, R, C, C, out + at);
                at += pl->block_bytes;
            }
        }
    }
    free(tl), free(blk);
    return st;
}

/* Every holder's pieces ([round][piece][piece_rows][row_bytes], data.x_host), from the rows
 * layout of each activation row's K-blocks. */
static int32_t fill_x_host(const chipemu_matmul_plan *pl, const float *a, uint8_t *out) {
    int64_t R = pl->rows, rb = pl->row_bytes, members = pl->g > 1 ? pl->g : 1;
    int64_t P = pl->pieces_per_tile, prow = pl->piece_rows, rounds = mm_rounds(pl);
    int64_t *pc = malloc(sizeof(int64_t) * (size_t)(2 * pl->kb * pl->parts + 2));
    float *row = malloc(sizeof(float) * (size_t)R);
    if (pc == NULL || row == NULL) {
        free(pc), free(row);
        return CHIPEMU_ERR_NOMEM;
    }
    int64_t at = 0, nbytes = rounds * P * prow * rb;
    for (int64_t rep = 0; rep < pl->replicas; rep++)
        for (int64_t mem = 0; mem < members; mem++)
            for (int64_t idx = 0; idx < pl->kgroup; idx++) {
                int64_t np = pieces_of(pl, idx, mem, pc);
                if (!np) continue;
                for (int64_t u = 0; u < rounds; u++) {
                    int64_t c = u * pl->replicas + rep;
                    if (c >= pl->chunks) break;
                    int64_t c0 = c * pl->mc, len = min64(pl->m, c0 + pl->mc) - c0;
                    for (int64_t i = 0; i < np; i++) {
                        int64_t j = pc[2 * i], q = pc[2 * i + 1];
                        int64_t r0 = len * q / pl->parts, r1 = len * (q + 1) / pl->parts;
                        int64_t kbk = pl->g > 1 ? mem * pl->kpt + j : j;
                        for (int64_t r = r0; r < r1; r++) {
                            const float *src = a + (c0 + r) * pl->k;
                            for (int64_t e = 0; e < R; e++)
                                row[e] = kbk * R + e < pl->k ? src[kbk * R + e] : 0.0f;
                            chipemu_encode_rows(pl->fmt, row, 1, R,
                                                out + at + ((u * P + i) * prow + r - r0) * rb);
                        }
                    }
                }
                at += nbytes;
            }
    free(pc), free(row);
    return CHIPEMU_OK;
}

/* Each chunk's reduced output, read from the tile that holds it (api.out_blocks, gather). */
static void gather(const hm_machine *m, const chipemu_matmul_plan *pl, int64_t ybuf, float *y) {
    int64_t C = pl->cols, T = pl->tiles_per_chiplet, yb = pl->mc * C * 4;
    const uint8_t *base = m->sram + m->bt[ybuf * CHIPEMU_BT_COUNT + CHIPEMU_BT_STORE];
    for (int64_t nb = 0; nb < pl->nb; nb++) {
        int64_t chip = 0;
        while (nb >= nb_start(pl, chip + 1)) chip++;
        int64_t local = nb - nb_start(pl, chip);
        for (int64_t c = 0; c < pl->chunks; c++) {
            int64_t rep = c % pl->replicas, u = c / pl->replicas, tile, off;
            if (pl->g == 1) {
                tile = chip * T + rep * pl->span + local % T;
                off = (u * pl->nb_per_tile + local / T) * yb;
            } else {
                tile = chip * T + rep * pl->span + local * pl->g + u % pl->g;
                off = (u / pl->g) * yb;
            }
            const float *src = (const float *)(base + tile * m->sram_stride + off);
            int64_t r0 = c * pl->mc, rows = min64(pl->m, r0 + pl->mc) - r0;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t e = 0; e < C && nb * C + e < pl->n; e++)
                    y[(r0 + r) * pl->n + nb * C + e] = src[r * C + e];
        }
    }
}

/* One matmul run on a fresh machine: timing (a, b, y NULL) or functional. */
static int32_t matmul_run(const chipemu_device *dev, const chipemu_matmul_plan *pl, const float *a,
                          const float *b, float *y, chipemu_cost *out) {
    hm_machine mach;
    mm_run run;
    memset(&run, 0, sizeof run);
    int64_t bufs[MM_BUF_COUNT], zero[MM_BUF_COUNT] = {0};
    uint8_t *wh = NULL, *xh = NULL;
    int functional = y != NULL;
    int32_t st = hm_init(&mach, chipemu_device_params_of(dev), functional);
    /* sizes first (the host buffers' sizes come from the layout), then the real buffer ids */
    if (st == CHIPEMU_OK) st = mm_prepare(pl, mach.n_tiles, zero, &run);
    if (st == CHIPEMU_OK && functional) {
        wh = calloc((size_t)run.w_bytes, 1), xh = calloc((size_t)run.x_bytes, 1);
        st = wh && xh ? fill_w_host(pl, b, wh) : CHIPEMU_ERR_NOMEM;
        if (st == CHIPEMU_OK) st = fill_x_host(pl, a, xh);
        if (st == CHIPEMU_ERR_NOMEM) rt_fail(st, "out of memory for a matmul's host data");
    }
    if (st == CHIPEMU_OK) st = mm_buffers(&mach, pl, wh, run.w_bytes, xh, run.x_bytes, bufs);
    free(wh), free(xh);
    if (st == CHIPEMU_OK) {
        mm_free(&run);
        st = mm_prepare(pl, mach.n_tiles, bufs, &run);
    }
    if (st == CHIPEMU_OK) st = mm_launch_all(&mach, pl, &run);
    if (st == CHIPEMU_OK && functional) gather(&mach, pl, bufs[MM_BUF_Y], y);
    if (st == CHIPEMU_OK && out != NULL) st = hm_time(&mach, out);
    mm_free(&run);
    hm_free(&mach);
    return st;
}

int32_t chipemu_matmul_run(const chipemu_device *dev, int64_t m, int64_t k, int64_t n, int32_t fmt,
                           int32_t weight_fmt, const float *a, const float *b, float *y,
                           chipemu_cost *out) {
    chipemu_matmul_plan pl;
    int32_t st = chipemu_matmul_plan_make(dev, m, k, n, fmt, weight_fmt, &pl);
    if (st != CHIPEMU_OK) return st;
    if (a == NULL || b == NULL || y == NULL)
        return rt_fail(CHIPEMU_ERR_NULL, "chipemu_matmul_run: %s is NULL",
                       a == NULL ? "a" : b == NULL ? "b" : "y");
    return matmul_run(dev, &pl, a, b, y, out);
}

int32_t chipemu_matmul_cost(const chipemu_device *dev, int64_t m, int64_t k, int64_t n,
                            int32_t fmt, int32_t weight_fmt, chipemu_cost *out) {
    if (out == NULL) return rt_fail(CHIPEMU_ERR_NULL, "chipemu_matmul_cost: out is NULL");
    chipemu_matmul_plan pl;
    int32_t st = chipemu_matmul_plan_make(dev, m, k, n, fmt, weight_fmt, &pl);
    return st != CHIPEMU_OK ? st : matmul_run(dev, &pl, NULL, NULL, NULL, out);
}
