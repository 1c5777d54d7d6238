/* ctx.c — the checks that keep a wrong chipemu_ctx or chipemu_superstep from crashing the host.
 *
 * chipemu_launch builds every ctx a kernel sees, but the intrinsics and the exported tile kernels
 * are public functions: a host may call them with NULL, a zeroed struct or one whose sizes
 * disagree. They check the ctx at entry (core_enter in intrinsics/core.h) and return
 * CHIPEMU_ERR_NULL or CHIPEMU_ERR_SIZE without touching anything; chipemu_launch checks the same
 * device constants, and the buffer table against the memories, once per launch (the intrinsics
 * bound each operand's buffer by its memory instead: core_buf_bytes in intrinsics/core.h). A ctx the launcher made always passes, so
 * the checks never change a result or a log (the Numba twin, whose ctx is a tuple of arrays, has
 * nothing to check). The device constants are bounded by the limits table so that every product
 * of them the intrinsics form (slot offsets, range lengths) fits in int64.
 */
#include "intrinsics/core.h"

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
