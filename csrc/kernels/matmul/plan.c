/* kernels/matmul/plan.c — the matmul planner: shapes and a device in, a plan out.
 *
 * The one definition of the rules docs/matmul.md explains (blocks, chiplets, groups, replicas,
 * chunks and pieces, the reduction tree); Python's kernels/matmul/plan.py validates its
 * arguments, resolves a region and calls chipemu_matmul_plan_region, then derives the positions
 * (tile ids, groups, trees) from the fields. Products are formed in 128 bits: the Python
 * original compared them as unbounded integers.
 */
#include <stdio.h>
#include <string.h>

#include "chipemu_host.h"
#include "host/plan.h"
#include "runtime/error.h"

typedef __int128 wide;

#define MAX_DIM ((int64_t)1 << 31)

static const char *BUF_NAMES[CHIPEMU_MM_BUFFERS] = {"w", "xhome", "x", "y", "acc", "recv"};
enum { B_W, B_XHOME, B_X, B_Y, B_ACC, B_RECV };


/* The SRAM buffers of one choice of chunk rows (Python: _buffers); b[acc], b[recv] only if g > 1. */
static void buffers(const chipemu_matmul_plan *pl, int64_t mc, int64_t parts, int64_t b[],
                    int64_t *chunks, int64_t *pieces, int64_t *prow) {
    *chunks = cdiv(pl->m, mc);
    int64_t rounds = cdiv(*chunks, pl->replicas);
    *pieces = cdiv(pl->kpt * parts, pl->kgroup);
    *prow = cdiv(mc, parts);
    int64_t own = cdiv(rounds, pl->g);
    int64_t C = pl->cols;
    b[B_W] = up((pl->passes > 1 ? pl->blocks_per_tile : 1) * pl->block_bytes);
    b[B_XHOME] = up(rounds * *pieces * *prow * pl->row_bytes);
    b[B_X] = up(2 * pl->kpt * mc * pl->row_bytes);
    b[B_Y] = up(own * pl->nb_per_tile * mc * C * 4);
    b[B_ACC] = pl->g > 1 ? up(2 * mc * C * 4) : 0;
    b[B_RECV] = pl->g > 1 ? up(pl->levels * mc * C * 4) : 0;
}

static int64_t total(const int64_t b[]) {
    int64_t s = 0;
    for (int i = 0; i < CHIPEMU_MM_BUFFERS; i++) s += b[i];
    return s;
}

/* The search over groups (Python: the loop over `choices`), best so far in *best. */
typedef struct {
    const chipemu_device_params *p;
    int64_t T, nbc, max_replicas, cyc, pkt_cycles, wcyc;
    int have;
    wide key;
    int64_t span_reps, g;
} choice;

/* One candidate: g tiles per N-block, kp K-blocks per member, npt N-blocks per tile. The
 * estimate is MVM cycles per row against the reduction's packets per row, plus latencies and
 * weight passes; ties take fewer tiles, then the smaller g. */
static void consider(choice *ch, chipemu_matmul_plan *pl, int64_t gg, int64_t kp, int64_t npt) {
    int64_t blk = kp * npt;
    int64_t ps = cdiv(blk, pl->slots);
    if (ps > 1 && (wide)blk * pl->block_bytes > (wide)(ch->p->sram_capacity_bytes / 2))
        return;                                /* a streamed tile keeps its blocks in SRAM */
    int64_t span = gg == 1 ? min64(ch->nbc, ch->T) : ch->nbc * gg;
    int64_t reps = npt == 1 ? max64(1, min64(min64(ch->max_replicas, ch->T / span), pl->m)) : 1;
    int64_t rows = cdiv(pl->m, reps), lv = log2up(gg);
    wide mvm = (wide)blk * ch->cyc, red = (wide)lv * ch->pkt_cycles;
    wide est = (wide)rows * (mvm > red ? mvm : red) + (wide)blk * ch->p->dimc_pipeline_cycles
               + 64 * lv + (ps > 1 ? (wide)cdiv(rows, 256) * blk * ch->wcyc : 0);
    /* a replica costs a one-time weight load (and the emulator's memory): only where it cuts
     * the estimate by more than a quarter */
    wide key = reps > 1 ? est * 5 / 4 + 1 : est;
    int64_t sr = span * reps;
    if (ch->have && (key > ch->key || (key == ch->key && (sr > ch->span_reps
                                                          || (sr == ch->span_reps && gg >= ch->g)))))
        return;
    ch->have = 1, ch->key = key, ch->span_reps = sr, ch->g = gg;
    pl->g = gg, pl->kpt = kp, pl->nb_per_tile = npt, pl->span = span, pl->replicas = reps;
}

/* Groups, replicas and weight passes: 0, or 1 when no choice fits even streamed. */
static int choose_groups(const chipemu_device_params *p, chipemu_matmul_plan *pl, int64_t T,
                         int64_t nbc, int64_t max_replicas, int64_t cyc) {
    choice ch = {p, T, nbc, max_replicas, cyc, cdiv(pl->cols * 4, p->dma_eject_bytes_per_cycle),
                 pl->rows * (int64_t)p->dimc_write_cycles_per_row, 0, 0, 0, 0};
    if (nbc > T) {                             /* more N-blocks than tiles: a tile owns several */
        consider(&ch, pl, 1, pl->kb, cdiv(nbc, T));
    } else {
        /* one candidate per distinct K-run length; lengths only shrink as the group grows */
        int64_t last = -1;
        for (int64_t cand = 1; cand <= min64(pl->kb, T / nbc); cand++) {
            int64_t kp = cdiv(pl->kb, cand);
            if (kp == last) continue;
            last = kp;
            consider(&ch, pl, cdiv(pl->kb, kp), kp, 1);
        }
    }
    return ch.have ? 0 : 1;
}

int32_t chipemu_matmul_plan_region(const chipemu_device_params *p, int64_t m, int64_t k, int64_t n,
                                   int32_t fmt, int32_t weight_fmt, int64_t chiplets, int64_t tiles,
                                   int64_t slots, int64_t max_replicas, int64_t sram_bytes,
                                   chipemu_matmul_plan *out) {
    if (p == NULL || out == NULL)
        return rt_fail(CHIPEMU_ERR_NULL, "chipemu_matmul_plan: %s is NULL", p ? "out" : "params");
    const char *dn[3] = {"m", "k", "n"};
    int64_t dv[3] = {m, k, n};
    for (int i = 0; i < 3; i++)
        if (dv[i] < 1 || dv[i] >= MAX_DIM)
            return rt_fail(CHIPEMU_ERR_SIZE, "%s=%lld: every matmul dimension must be an integer "
                           ">= 1 (and below 2^31)", dn[i], (long long)dv[i]);
    int32_t fc[2] = {fmt, weight_fmt};
    const char *fn[2] = {"fmt", "weight_fmt"};
    chipemu_format_info fi[2];
    for (int i = 0; i < 2; i++)
        if (chipemu_format_info_get(fc[i], &fi[i]) != CHIPEMU_OK
            || !((CHIPEMU_DIMC_FORMAT_MASK >> fc[i]) & 1))
            return rt_fail(CHIPEMU_ERR_UNSUPPORTED, "%s=%d is not a DIMC format; allowed: the "
                           "CHIPEMU_FMT_* codes of CHIPEMU_DIMC_FORMAT_MASK", fn[i], (int)fc[i]);
    if (max_replicas < 1 || max_replicas > CHIPEMU_MM_MAX_REPLICAS)
        return rt_fail(CHIPEMU_ERR_SIZE, "max_replicas=%lld; allowed: an integer in 1..%d",
                       (long long)max_replicas, CHIPEMU_MM_MAX_REPLICAS);
    if (chiplets < 1 || tiles < 1 || slots < 1 || sram_bytes < 0)
        return rt_fail(CHIPEMU_ERR_SIZE, "region of %lld chiplets x %lld tiles x %lld slots, "
                       "sram_bytes=%lld; allowed: at least 1 of each, sram_bytes >= 0",
                       (long long)chiplets, (long long)tiles, (long long)slots,
                       (long long)sram_bytes);
    if (p->dimc_input_bits_per_cycle < 1 || p->dma_eject_bytes_per_cycle < 1 || p->dimc_rows < 1)
        return rt_fail(CHIPEMU_ERR_PARAMS, "chipemu_matmul_plan: device parameters with a zero "
                       "rate (dimc_input_bits_per_cycle, dma_eject_bytes_per_cycle, dimc_rows)");
    chipemu_matmul_plan pl;
    memset(&pl, 0, sizeof pl);
    const chipemu_format_info *fa = &fi[0], *fw = &fi[1];
    pl.m = m, pl.k = k, pl.n = n, pl.fmt = fmt, pl.weight_fmt = weight_fmt;
    int64_t R = p->dimc_rows, C = chipemu_cols_eff(p->dimc_cols, p->dimc_cell_bits, fw->elem_bits);
    int64_t P = chiplets, T = tiles;
    pl.rows = R, pl.cols = C, pl.slots = slots, pl.tiles_per_chiplet = T;
    pl.kb = cdiv(k, R), pl.nb = cdiv(n, C);
    int64_t used = min64(P, pl.nb);
    pl.chiplets_used = used;
    /* N-blocks per chiplet: nb*c/used .. nb*(c+1)/used, so counts are floor or ceil of nb/used */
    int64_t nbc = cdiv(pl.nb, used), nb_min = pl.nb / used;
    int64_t cyc = cdiv(fa->elem_bits, p->dimc_input_bits_per_cycle);
    pl.row_bytes = core_row_bytes(fa, R), pl.block_bytes = core_weight_bytes(fw, R, C);
    if (choose_groups(p, &pl, T, nbc, max_replicas, cyc))
        return rt_fail(CHIPEMU_ERR_CAPACITY, "matmul k=%lld n=%lld (%s weights): the weights do "
                       "not fit the device even streamed: %lld blocks of %lld B over %lld tiles "
                       "need more than half of each tile's %llu B of SRAM", (long long)k,
                       (long long)n, chipemu_format_name(weight_fmt), (long long)(pl.kb * pl.nb),
                       (long long)pl.block_bytes, (long long)(used * T),
                       (unsigned long long)p->sram_capacity_bytes);
    pl.blocks_per_tile = pl.nb_per_tile * pl.kpt;
    pl.passes = cdiv(pl.blocks_per_tile, slots);
    pl.levels = log2up(pl.g);
    pl.kgroup = pl.g > 1 ? nb_min : min64(nb_min, T);
    int64_t cap = (int64_t)p->sram_capacity_bytes;
    if (sram_bytes > 0 && sram_bytes < cap) cap = sram_bytes;
    pl.sram_capacity_bytes = cap;
    /* Working buffers of all tiles together stay near the problem's own bytes (the emulator
     * materialises every tile's SRAM), and a chunk never exceeds 1024 rows. */
    wide data_bytes = (wide)m * pl.kb * pl.row_bytes + (wide)m * pl.nb * C * 4
                      + (wide)pl.kb * pl.nb * pl.block_bytes;
    int64_t hi = pl.nb % used;                 /* chiplets holding nb_min + 1 N-blocks */
    int64_t tiles_used = (pl.g == 1 ? hi * min64(nb_min + 1, T) + (used - hi) * min64(nb_min, T)
                                    : pl.nb * pl.g) * pl.replicas;
    wide roof = 2 * data_bytes > ((wide)128 << 20) ? 2 * data_bytes : ((wide)128 << 20);
    int64_t b[CHIPEMU_MM_BUFFERS], chunks, pieces, prow;
    int found = 0;
    for (int64_t mc = min64(cdiv(m, pl.replicas), 1024); mc >= 1; mc = mc > 16 ? mc * 3 / 4 : mc - 1) {
        int64_t parts = pl.kgroup >= pl.kpt ? max64(1, min64(mc, pl.kgroup / pl.kpt)) : 1;
        buffers(&pl, mc, parts, b, &chunks, &pieces, &prow);
        int64_t working = b[B_X] + b[B_ACC] + b[B_RECV];
        if (total(b) <= cap && ((wide)working * tiles_used <= roof || mc <= 16)) {
            pl.mc = mc, pl.parts = parts, pl.chunks = chunks, pl.pieces_per_tile = pieces;
            pl.piece_rows = prow;
            memcpy(pl.sram_bytes, b, sizeof b);
            found = 1;
            break;
        }
    }
    if (!found) {
        buffers(&pl, 1, 1, b, &chunks, &pieces, &prow);
        char detail[256] = "";
        for (int i = 0, first = 1; i < CHIPEMU_MM_BUFFERS; i++) {
            if (i >= B_ACC && pl.g == 1) continue;
            size_t at = strlen(detail);
            snprintf(detail + at, sizeof detail - at, "%s%s %lld B", first ? "" : ", ",
                     BUF_NAMES[i], (long long)b[i]);
            first = 0;
        }
        return rt_fail(CHIPEMU_ERR_CAPACITY, "matmul m=%lld k=%lld n=%lld (%s x %s) does not fit "
                       "the device: with one row per chunk a tile needs %lld bytes of SRAM (%s), "
                       "it has %lld", (long long)m, (long long)k, (long long)n,
                       chipemu_format_name(fmt), chipemu_format_name(weight_fmt),
                       (long long)total(b), detail, (long long)cap);
    }
    *out = pl;
    return CHIPEMU_OK;
}

int32_t chipemu_matmul_plan_make(const chipemu_device *dev, int64_t m, int64_t k, int64_t n,
                                 int32_t fmt, int32_t weight_fmt, chipemu_matmul_plan *out) {
    const chipemu_device_params *p = chipemu_device_params_of(dev);
    if (p == NULL) return rt_fail(CHIPEMU_ERR_NULL, "chipemu_matmul_plan_make: dev is NULL");
    return chipemu_matmul_plan_region(p, m, k, n, fmt, weight_fmt, p->n_chiplets,
                                      (int64_t)p->tile_rows * p->tile_cols, p->dimc_slots,
                                      CHIPEMU_MM_MAX_REPLICAS, 0, out);
}
