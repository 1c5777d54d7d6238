/* intrinsics/core.h — private helpers shared by the C intrinsics (csrc/intrinsics, superstep.c),
 * and the entry checks of the exported C tile kernels (kernel_enter, at the end).
 *
 * The Numba twin is emulator/intrinsics/core.py: the message and argument ids below are generated
 * from chipemu.emulator.tables.ids, which the twin reads too (tests/test_emulator_intrinsics.py
 * still parses this file and compares), and every check runs in the same order in both, so a
 * broken rule gives the same error from either backend. Events are filled by the same setters in
 * both: core_clear, core_set_range, peers / flags, core_commit (ev_* in Numba).
 * Not part of the public API: everything here is static inline and hidden.
 */
#ifndef CHIPEMU_INTRINSICS_CORE_H
#define CHIPEMU_INTRINSICS_CORE_H

#include <string.h>

#include "chipemu.h"

/* GENERATED BEGIN messages (from chipemu.emulator.tables.ids.MSG; csrc/gen_tables.py) */
/* message ids (sc[CHIPEMU_SC_MESSAGE]); the texts are in chipemu.emulator.tables.ids.MSG */
#define MSG_EVENTS 1        /* capacity: v0 = events_per_tile */
#define MSG_PEERS 2         /* capacity: v0 = peers_per_tile */
#define MSG_STAGE 3         /* capacity: v0 = stage_bytes_per_tile, v1 = bytes wanted */
#define MSG_BUF 4           /* shape: v0 = arg, v1 = buffer id, v2 = buffers */
#define MSG_BUF_KIND 5      /* shape: v0 = arg, v1 = buffer id, v2 = its kind, v3 = kind needed */
#define MSG_RANGE 6         /* shape: v0 = arg, v1 = offset, v2 = bytes, v3 = buffer id, v4 = size */
#define MSG_ALIGN 7         /* shape: v0 = arg, v1 = offset */
#define MSG_ARG 8           /* shape: v0 = arg, v1 = value, v2 = lowest, v3 = highest allowed */
#define MSG_MULTIPLE 9      /* shape: v0 = arg, v1 = value, v2 = required factor */
#define MSG_FMT 10          /* format: v0 = arg, v1 = code */
#define MSG_FMT_DIMC 11     /* format: v0 = arg, v1 = code */
#define MSG_FMT_CELLS 12    /* format: v0 = arg, v1 = code, v2 = element bits, v3 = cell bits */
#define MSG_CONVERT 13      /* format: v1 = fmt_to, v2 = fmt_from */
#define MSG_SLOT_EMPTY 14   /* state: v0 = arg, v1 = slot */
#define MSG_OVERLAP 15      /* shape: v0 = arg, v1 = buffer, v2 = offset, v3 = bytes, v4 = input arg */
#define MSG_DUP 16          /* shape: v0 = arg, v1 = tile */
#define MSG_SELF 17         /* shape: v0 = arg, v1 = tile */
#define MSG_PARAM 18        /* shape (a C tile kernel's own check): v1 = value, v2 = lowest, v3 = highest, v4 = word of p (-1: p itself, -2: the tile argument) */
/* GENERATED END messages */

/* GENERATED BEGIN arguments (from chipemu.emulator.tables.ids.ARG; csrc/gen_tables.py) */
/* argument ids (v0 of most messages); the name of ARG_X is x */
#define ARG_SLOT 0
#define ARG_ENGINE 1
#define ARG_FMT 2
#define ARG_FMT_TO 3
#define ARG_FMT_FROM 4
#define ARG_ROW0 5
#define ARG_NROWS 6
#define ARG_NVEC 7
#define ARG_K_ROWS 8
#define ARG_N 9
#define ARG_ROW_LEN 10
#define ARG_NBYTES 11
#define ARG_ACCUMULATE 12
#define ARG_SRC 13
#define ARG_A 14
#define ARG_B 15
#define ARG_DST 16
#define ARG_X 17
#define ARG_Y 18
#define ARG_DST_TILES 19
#define ARG_GROUP 20
#define ARG_ROWS_A 21
#define ARG_ROWS_B 22
#define ARG_LD 23
#define ARG_LINES 24
#define ARG_TRANS 25
#define ARG_NCOLS 26
/* GENERATED END arguments */

#define CORE_MAX_COUNT ((int64_t)CHIPEMU_LIMIT_COUNT_MAX)   /* largest element / byte / vector count */

/* Fill the DIMC scale tables at the start of ctx->scratch_f64 (dimc.c). Hidden. */
void chipemu_dimc_scale_tables(double *t);

/* dimc_mvm works on blocks of up to CORE_DIMC_VB input vectors (one weight pass serves them all).
 * Per-thread scratch sizes in elements, mirrored by dimc_scratch in emulator/intrinsics/core.py:
 * i8: the codes of a block; f64: scale tables, block scales [VB][rows], weight scales
 * [blocks_max][cols_max]; i32: packed weight pairs [rows/2+1][c8], activation pairs
 * [VB][rows/2+1], segment sums [VB][c8] (c8: cols_max rounded up to 8); f32: [VB][cols_max] + 1. */
#define CORE_DIMC_VB 4
static inline int64_t core_cols8(int64_t cmax) { return (cmax + 7) / 8 * 8; }
static inline void core_dimc_scratch(int64_t rows, int64_t cmax, int64_t bmax, int64_t n[4]) {
    int64_t pairs = rows / 2 + 1, c8 = core_cols8(cmax);
    n[0] = CORE_DIMC_VB * rows + 1;
    n[1] = 512 + CORE_DIMC_VB * rows + bmax * cmax;
    n[2] = pairs * c8 + CORE_DIMC_VB * pairs + CORE_DIMC_VB * c8;
    n[3] = CORE_DIMC_VB * cmax + 1;
}

/* One dimc_mvm call as the integer kernels of dimc_mvm.c see it. */
typedef struct {
    const int8_t *W;     /* the slot's weight codes, row r at W + r * cmax */
    int64_t cmax, k, seg, nseg, nc, c8;
    const double *ws;    /* [nseg][nc] weight scale of (segment, column) */
    int32_t *wp;         /* [(k+1)/2][c8] weight codes of rows 2p, 2p+1 as int16 pairs (SIMD) */
    int32_t *xp;         /* [VB][(k+1)/2] activation codes as int16 pairs (SIMD) */
    int32_t *isum;       /* [VB][c8] one segment's integer sums */
} core_dimc_job;
/* Pick the kernel (0 portable, 1 AVX2) and prepare the weights for it. Hidden. */
int chipemu_dimc_prepare(core_dimc_job *j);
/* The results y[v][c] of nv <= VB vectors (codes xi[v][k], segment scales xs[v][nseg]), each
 * the sum in float of its segment values from +0 in increasing K (in accf[v][c]), stored or added
 * to y (accumulate). Hidden. */
void chipemu_dimc_block(const core_dimc_job *j, int path, int64_t nv, const int8_t *xi,
                        const double *xs, float *accf, float *y, int64_t accumulate);

/* The ctx checks (csrc/runtime/superstep.c), hidden. A ctx is made by chipemu_launch, but every intrinsic
 * and exported kernel is callable by a host, so each checks at entry what a wrong ctx could make it
 * touch: the pointers it dereferences, the region counters against their capacities and the device
 * constants against the limits table (the buffer table against the memories: chipemu_launch, and
 * core_buf_bytes per operand). Each returns CHIPEMU_OK, CHIPEMU_ERR_NULL or CHIPEMU_ERR_SIZE and
 * writes nothing. The lengths behind the pointers cannot be checked in C: they must match the
 * sizes the ctx states. */
int32_t chipemu_dev_check(const int64_t *dev);
int32_t chipemu_bufs_check(const int64_t *bufs, int64_t n_bufs, uint64_t sram_bytes,
                           uint64_t dram_bytes, uint64_t host_bytes);
int32_t chipemu_ctx_check(const chipemu_ctx *ctx);

/* Entry of every intrinsic: the ctx's status, then CHIPEMU_ERR_KERNEL once the tile has an error
 * (every later intrinsic does nothing). Constant cost: a few loads and compares. */
static inline int32_t core_enter(const chipemu_ctx *ctx) {
    int32_t st = chipemu_ctx_check(ctx);
    if (st != CHIPEMU_OK) return st;
    return ctx->sc[CHIPEMU_SC_ERROR] ? CHIPEMU_ERR_KERNEL : CHIPEMU_OK;
}

static inline int32_t core_fail(chipemu_ctx *ctx, int64_t in, int64_t cls, int64_t msg, int64_t v0,
                                int64_t v1, int64_t v2, int64_t v3, int64_t v4) {
    int64_t *sc = ctx->sc;
    sc[CHIPEMU_SC_ERROR] = cls;
    sc[CHIPEMU_SC_MESSAGE] = msg;
    sc[CHIPEMU_SC_INTRINSIC] = in;
    sc[CHIPEMU_SC_VALUES + 0] = v0;
    sc[CHIPEMU_SC_VALUES + 1] = v1;
    sc[CHIPEMU_SC_VALUES + 2] = v2;
    sc[CHIPEMU_SC_VALUES + 3] = v3;
    sc[CHIPEMU_SC_VALUES + 4] = v4;
    return CHIPEMU_ERR_KERNEL;
}

static inline int core_functional(const chipemu_ctx *ctx) {
    return ctx->dev[CHIPEMU_DEV_MODE] == CHIPEMU_MODE_FUNCTIONAL;
}

/* Each check returns 1 if the rule holds, else records the error and returns 0. */
static inline int core_arg(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t v, int64_t lo, int64_t hi) {
    if (v >= lo && v <= hi) return 1;
    core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_ARG, arg, v, lo, hi, 0);
    return 0;
}

static inline int core_multiple(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t v, int64_t m) {
    if (v % m == 0) return 1;
    core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_MULTIPLE, arg, v, m, 0, 0);
    return 0;
}

/* Bytes of buffer b a range may reach: its size, or less where its memory ends sooner (a negative
 * value where none of it is in memory). In a ctx the launcher made both are the size, since
 * chipemu_launch checked the table; a host's own ctx with a table past its memories so gets
 * MSG_RANGE records, never an access outside them, at O(1) per operand. */
static inline int64_t core_buf_bytes(const chipemu_ctx *ctx, const int64_t *b) {
    int64_t size = b[CHIPEMU_BT_SIZE], store = b[CHIPEMU_BT_STORE], kind = b[CHIPEMU_BT_KIND];
    if (size < 0) return -1;                 /* -1 - len cannot wrap, as INT64_MIN - len would */
    if (ctx->dev[CHIPEMU_DEV_MODE] != CHIPEMU_MODE_FUNCTIONAL) return size;
    uint64_t room = kind == CHIPEMU_BUF_SRAM ? ctx->sram_bytes
                    : kind == CHIPEMU_BUF_DRAM ? ctx->dram_bytes : ctx->host_bytes;
    if (store < 0 || (uint64_t)store > room) return -1;
    return room - (uint64_t)store < (uint64_t)size ? (int64_t)(room - (uint64_t)store) : size;
}

static inline int core_range(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t buf, int64_t off,
                             int64_t len, int64_t kind) {
    if (buf < 0 || buf >= ctx->n_bufs) {
        core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_BUF, arg, buf, ctx->n_bufs, 0, 0);
        return 0;
    }
    const int64_t *b = ctx->bufs + buf * CHIPEMU_BT_COUNT;
    if (b[CHIPEMU_BT_KIND] != kind) {
        core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_BUF_KIND, arg, buf, b[CHIPEMU_BT_KIND], kind, 0);
        return 0;
    }
    int64_t size = core_buf_bytes(ctx, b);
    if (off < 0 || off > size - len) {
        core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_RANGE, arg, off, len, buf, size);
        return 0;
    }
    return 1;
}

static inline int core_align4(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t off) {
    if ((off & 3) == 0) return 1;
    core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_ALIGN, arg, off, 0, 0, 0);
    return 0;
}

static inline int core_fmt(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t fmt) {
    if (fmt >= 0 && fmt < CHIPEMU_NUM_FORMATS) return 1;
    core_fail(ctx, in, CHIPEMU_KERR_FORMAT, MSG_FMT, arg, fmt, 0, 0, 0);
    return 0;
}

static inline chipemu_format_info core_info(int64_t fmt) {
    chipemu_format_info f;
    memset(&f, 0, sizeof f);
    chipemu_format_info_get((int32_t)fmt, &f);
    return f;
}

static inline int core_dimc_fmt(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t fmt) {
    if (!core_fmt(ctx, in, arg, fmt)) return 0;
    int32_t kind = core_info(fmt).kind;
    if (kind == CHIPEMU_KIND_INT_TENSOR || kind == CHIPEMU_KIND_BLOCK_INT) return 1;
    core_fail(ctx, in, CHIPEMU_KERR_FORMAT, MSG_FMT_DIMC, arg, fmt, 0, 0, 0);
    return 0;
}

/* dst may equal a source range's start or be disjoint from it, never partly overlap it */
static inline int core_disjoint(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t dbuf, int64_t doff,
                                int64_t dlen, int64_t src_arg, int64_t sbuf, int64_t soff,
                                int64_t slen, int same_start_ok) {
    if (dbuf != sbuf || doff + dlen <= soff || soff + slen <= doff) return 1;
    if (same_start_ok && doff == soff) return 1;
    core_fail(ctx, in, CHIPEMU_KERR_SHAPE, MSG_OVERLAP, arg, dbuf, doff, dlen, src_arg);
    return 0;
}

/* Bytes of one row of n elements in a format's device layout (docs/intrinsics.md). */
static inline int64_t core_row_bytes(const chipemu_format_info *f, int64_t n) {
    switch (f->kind) {
    case CHIPEMU_KIND_FP32: return 4 * n;
    case CHIPEMU_KIND_BF16:
    case CHIPEMU_KIND_FP16: return 2 * n;
    case CHIPEMU_KIND_INT_TENSOR: return n + 4;
    default: return (n * f->elem_bits + 7) / 8 + (n + f->block_size - 1) / f->block_size;
    }
}

/* Bytes of nrows x ncols weights in the weights layout (docs/intrinsics.md): a DIMC format. */
static inline int64_t core_weight_bytes(const chipemu_format_info *f, int64_t nrows, int64_t ncols) {
    if (f->kind == CHIPEMU_KIND_INT_TENSOR) return nrows * ncols + 4;
    return nrows * ncols * f->elem_bits / 8 + nrows / f->block_size * ncols;
}

/* Reserve the next event of the tile's region, or record MSG_EVENTS. */
static inline chipemu_event *core_event(chipemu_ctx *ctx, int64_t in) {
    int64_t *sc = ctx->sc;
    if (sc[CHIPEMU_SC_EVENTS] >= sc[CHIPEMU_SC_EVENT_CAP]) {
        core_fail(ctx, in, CHIPEMU_KERR_CAPACITY, MSG_EVENTS, sc[CHIPEMU_SC_EVENT_CAP], 0, 0, 0, 0);
        return NULL;
    }
    return ctx->events + sc[CHIPEMU_SC_EVENTS];
}

/* Fill a reserved event (unused ranges: buf CHIPEMU_NO_BUF, off 0, len 0) and commit it. */
static inline void core_commit(chipemu_ctx *ctx, chipemu_event *e, int64_t op, int64_t fmt,
                               int64_t fmt2, int64_t unit, int64_t a, int64_t b, int64_t c) {
    e->op = (uint8_t)op;
    e->fmt = (int8_t)fmt;
    e->fmt2 = (int8_t)fmt2;
    e->unit = (uint8_t)unit;
    e->tile = (uint32_t)ctx->sc[CHIPEMU_SC_TILE];
    e->step = (uint32_t)ctx->dev[CHIPEMU_DEV_STEP];
    e->a = (uint32_t)a;
    e->b = (uint32_t)b;
    e->c = (uint16_t)c;
    ctx->sc[CHIPEMU_SC_EVENTS]++;
}

static inline void core_clear(chipemu_event *e) {
    memset(e, 0, sizeof *e);
    e->src0.buf = e->src1.buf = e->dst.buf = CHIPEMU_NO_BUF;
}

static inline void core_set_range(chipemu_range *r, int64_t buf, int64_t off, int64_t len) {
    r->buf = (uint32_t)buf;
    r->off = (uint32_t)off;
    r->len = (uint32_t)len;
}

/* Address of byte `off` of SRAM buffer `buf` on this tile (functional mode only). */
static inline uint8_t *core_sram(chipemu_ctx *ctx, int64_t buf, int64_t off) {
    return ctx->sram + ctx->bufs[buf * CHIPEMU_BT_COUNT + CHIPEMU_BT_STORE] + off;
}

static inline uint32_t core_load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void core_store_u32(uint8_t *p, uint32_t u) {
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
}

/* ---- entry checks of the exported C tile kernels (csrc/kernels/<kernel>/tile.c) ----
 * The kernels are public symbols, so a host may call one with a NULL or zeroed ctx, NULL params,
 * the wrong tile, or a header whose divisors are 0. They return void: with no usable ctx they just
 * return (every intrinsic would refuse it too); otherwise a bad argument is recorded in the tile's
 * scalars like a broken rule, so chipemu_launch returns CHIPEMU_ERR_KERNEL. The plans of
 * kernels/<kernel>/params.py always pass, so the checks never change a result and the Numba twins
 * need none. The length of p is not known to C: words past the checked header are trusted. */
/* A kernel's own parameters have no intrinsic or argument id: the record says intrinsic
 * KERNEL_IN and argument KERNEL_ARG, MSG_PARAM with v1 the value, v2..v3 the allowed range and v4
 * the word of p (-1: p itself, NULL; -2: the tile argument). */
#define KERNEL_IN (-1)
#define KERNEL_ARG (-1)
#define KERNEL_WORD_P (-1)
#define KERNEL_WORD_TILE (-2)

static inline int kernel_fail(chipemu_ctx *ctx, int64_t word, int64_t v, int64_t lo, int64_t hi) {
    core_fail(ctx, KERNEL_IN, CHIPEMU_KERR_SHAPE, MSG_PARAM, KERNEL_ARG, v, lo, hi, word);
    return 0;
}

/* 1 if the kernel may run: a usable ctx whose tile has no error yet, p not NULL, and the tile the
 * launcher gives (the ctx's own). */
static inline int kernel_enter(chipemu_ctx *ctx, int64_t tile, const int64_t *p) {
    if (core_enter(ctx) != CHIPEMU_OK) return 0;
    int64_t own = ctx->sc[CHIPEMU_SC_TILE];
    if (p == NULL) return kernel_fail(ctx, KERNEL_WORD_P, 0, 1, INT64_MAX);
    if (tile != own) return kernel_fail(ctx, KERNEL_WORD_TILE, tile, own, own);
    return 1;
}

/* 1 if header word p[word] lies in [lo, hi] (a divisor, a shift count), else records it. */
static inline int kernel_word(chipemu_ctx *ctx, const int64_t *p, int64_t word, int64_t lo, int64_t hi) {
    if (p[word] >= lo && p[word] <= hi) return 1;
    return kernel_fail(ctx, word, p[word], lo, hi);
}

#endif /* CHIPEMU_INTRINSICS_CORE_H */
