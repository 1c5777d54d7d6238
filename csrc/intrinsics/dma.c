/* dma.c — the C twin of emulator/intrinsics/dma.py: data movement and synchronisation.
 *
 * send, dram_read, dram_write, host_read, barrier (docs/intrinsics.md). Each validates its
 * arguments in the same order as the Numba twin, appends one event, and in functional mode moves
 * the data. BSP: SEND and DRAM_WRITE data is copied into the tile's staging region now and
 * delivered by chipemu_finish after every tile of the superstep ran; DRAM reads see DRAM as it was
 * when the superstep began. The DIMC intrinsics are in dimc.c, vector ones in
 * vec.c and vec_rows.c. Keep this file and its Numba twin in step.
 */
#include <stdlib.h>
#include <string.h>

#include "intrinsics/core.h"

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Copy n tile ids into the tile's peer region, sorted; check duplicates (and the issuer). Returns
 * the local index of the first id, or -1 after recording an error. */
static int64_t put_peers(chipemu_ctx *ctx, int64_t in, int64_t arg, const int64_t *ids, int64_t n,
                         int need_self) {
    int64_t *sc = ctx->sc;
    int64_t first = sc[CHIPEMU_SC_PEERS];
    if (first + n > sc[CHIPEMU_SC_PEER_CAP]) {
        core_fail(ctx, in, CHIPEMU_KERR_CAPACITY, MSG_PEERS, sc[CHIPEMU_SC_PEER_CAP], 0, 0, 0, 0);
        return -1;
    }
    uint32_t *p = ctx->peers + first;
    for (int64_t i = 0; i < n; i++) p[i] = (uint32_t)ids[i];
    qsort(p, (size_t)n, sizeof *p, cmp_u32);
    int self = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i > 0 && p[i] == p[i - 1]) {
            core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_DUP, arg, p[i], 0, 0, 0);
            return -1;
        }
        self |= (int64_t)p[i] == sc[CHIPEMU_SC_TILE];
    }
    if (need_self && !self) {
        core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_SELF, arg, sc[CHIPEMU_SC_TILE], 0, 0, 0);
        return -1;
    }
    return first;
}

static int check_tiles(chipemu_ctx *ctx, int64_t in, int64_t arg, const int64_t *ids, int64_t n) {
    int64_t n_tiles = ctx->dev[CHIPEMU_DEV_N_TILES];
    int64_t most = n_tiles < CHIPEMU_LIMIT_PEERS_MAX ? n_tiles : CHIPEMU_LIMIT_PEERS_MAX;
    if (!core_arg(ctx, in, arg, n, 1, most)) return 0;
    if (ids == NULL) {
        core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_ARG, arg, n, 0, 0, 0);
        return 0;
    }
    for (int64_t i = 0; i < n; i++)
        if (!core_arg(ctx, in, arg, ids[i], 0, n_tiles - 1)) return 0;
    return 1;
}

static int check_stage(chipemu_ctx *ctx, int64_t in, int64_t nbytes) {
    int64_t *sc = ctx->sc;
    if (sc[CHIPEMU_SC_STAGED] + nbytes <= sc[CHIPEMU_SC_STAGE_CAP]) return 1;
    core_fail(ctx, in, CHIPEMU_KERR_CAPACITY, MSG_STAGE, sc[CHIPEMU_SC_STAGE_CAP],
              sc[CHIPEMU_SC_STAGED] + nbytes, 0, 0, 0);
    return 0;
}

/* Stage nbytes of SRAM (functional mode) and count them in both modes. */
static void stage(chipemu_ctx *ctx, int64_t buf, int64_t off, int64_t nbytes) {
    int64_t *sc = ctx->sc;
    if (core_functional(ctx))
        memcpy(ctx->stage + sc[CHIPEMU_SC_STAGED], core_sram(ctx, buf, off), (size_t)nbytes);
    sc[CHIPEMU_SC_STAGED] += nbytes;
}

int32_t chipemu_in_send(chipemu_ctx *ctx, const int64_t *dst_tiles, int64_t n_dst, int64_t src_buf,
                     int64_t src_off, int64_t dst_buf, int64_t dst_off, int64_t nbytes) {
    const int64_t in = CHIPEMU_IN_SEND;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!check_tiles(ctx, in, ARG_DST_TILES, dst_tiles, n_dst)
        || !core_arg(ctx, in, ARG_NBYTES, nbytes, 1, CORE_MAX_COUNT)
        || !core_range(ctx, in, ARG_SRC, src_buf, src_off, nbytes, CHIPEMU_BUF_SRAM)
        || !core_range(ctx, in, ARG_DST, dst_buf, dst_off, nbytes, CHIPEMU_BUF_SRAM))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL || !check_stage(ctx, in, nbytes)) return CHIPEMU_ERR_KERNEL;
    int64_t first = put_peers(ctx, in, ARG_DST_TILES, dst_tiles, n_dst, 0);
    if (first < 0) return CHIPEMU_ERR_KERNEL;
    stage(ctx, src_buf, src_off, nbytes);
    core_clear(e);
    core_set_range(&e->src0, src_buf, src_off, nbytes);
    core_set_range(&e->dst, dst_buf, dst_off, nbytes);
    e->peer_first = (uint32_t)first;
    e->peer_count = (uint16_t)n_dst;
    ctx->sc[CHIPEMU_SC_PEERS] += n_dst;
    core_commit(ctx, e, CHIPEMU_OP_SEND, -1, -1, 0, nbytes, 0, 0);
    return CHIPEMU_OK;
}

/* The three DMA copies share one shape: src range of kind sk, dst range of kind dk. */
static int32_t dma(chipemu_ctx *ctx, int64_t in, int64_t op, int64_t sk, int64_t dk, int64_t src_buf,
                   int64_t src_off, int64_t dst_buf, int64_t dst_off, int64_t nbytes) {
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!core_arg(ctx, in, ARG_NBYTES, nbytes, 1, CORE_MAX_COUNT)
        || !core_range(ctx, in, ARG_SRC, src_buf, src_off, nbytes, sk)
        || !core_range(ctx, in, ARG_DST, dst_buf, dst_off, nbytes, dk))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (op == CHIPEMU_OP_DRAM_WRITE) {
        if (!check_stage(ctx, in, nbytes)) return CHIPEMU_ERR_KERNEL;
        stage(ctx, src_buf, src_off, nbytes);
    } else if (core_functional(ctx)) {
        const uint8_t *arena = op == CHIPEMU_OP_DRAM_READ ? ctx->dram : ctx->host;
        memcpy(core_sram(ctx, dst_buf, dst_off),
               arena + ctx->bufs[src_buf * CHIPEMU_BT_COUNT + CHIPEMU_BT_STORE] + src_off,
               (size_t)nbytes);
    }
    core_clear(e);
    core_set_range(&e->src0, src_buf, src_off, nbytes);
    core_set_range(&e->dst, dst_buf, dst_off, nbytes);
    core_commit(ctx, e, op, -1, -1, 0, nbytes, 0, 0);
    return CHIPEMU_OK;
}

int32_t chipemu_in_dram_read(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                          int64_t dst_off, int64_t nbytes) {
    return dma(ctx, CHIPEMU_IN_DRAM_READ, CHIPEMU_OP_DRAM_READ, CHIPEMU_BUF_DRAM, CHIPEMU_BUF_SRAM,
               src_buf, src_off, dst_buf, dst_off, nbytes);
}

int32_t chipemu_in_dram_write(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                           int64_t dst_off, int64_t nbytes) {
    return dma(ctx, CHIPEMU_IN_DRAM_WRITE, CHIPEMU_OP_DRAM_WRITE, CHIPEMU_BUF_SRAM, CHIPEMU_BUF_DRAM,
               src_buf, src_off, dst_buf, dst_off, nbytes);
}

int32_t chipemu_in_host_read(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                          int64_t dst_off, int64_t nbytes) {
    return dma(ctx, CHIPEMU_IN_HOST_READ, CHIPEMU_OP_HOST_READ, CHIPEMU_BUF_HOST, CHIPEMU_BUF_SRAM,
               src_buf, src_off, dst_buf, dst_off, nbytes);
}

int32_t chipemu_in_barrier(chipemu_ctx *ctx, const int64_t *group, int64_t n) {
    const int64_t in = CHIPEMU_IN_BARRIER;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!check_tiles(ctx, in, ARG_GROUP, group, n)) return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    int64_t first = put_peers(ctx, in, ARG_GROUP, group, n, 1);
    if (first < 0) return CHIPEMU_ERR_KERNEL;
    core_clear(e);
    e->peer_first = (uint32_t)first;
    e->peer_count = (uint16_t)n;
    ctx->sc[CHIPEMU_SC_PEERS] += n;
    core_commit(ctx, e, CHIPEMU_OP_BARRIER, -1, -1, 0, 0, 0, 0);
    return CHIPEMU_OK;
}
