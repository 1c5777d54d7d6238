/* dimc.c — the C twin of emulator/intrinsics/dimc.py: dimc_load and dimc_mvm.
 *
 * The arithmetic is defined in docs/intrinsics.md and by emulator/reference/dimc.py: per input
 * vector and output column, integer products summed exactly (int32) within each segment where both
 * scales are constant, each segment sum scaled in double ((sum * scale_x) * scale_w, exact for block
 * scales) and rounded once to float, the segment values added in float in increasing K order from
 * 0; a NaN result is stored as 0x7FC00000. The integer sums and the float steps of a block of
 * vectors run in dimc_mvm.c; -ffp-contract=off keeps every float operation as written.
 */
#include <math.h>
#include <string.h>

#include "intrinsics/core.h"

static inline double pow2d(int64_t e) {           /* 2^e exactly, |e| < 1000 */
    uint64_t bits = (uint64_t)(e + 1023) << 52;
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

/* Scale value of each 8-bit scale code: 2^(code - 127 - frac_bits), NaN for 0xFF. The launcher
 * fills scratch_f64[0, 256) for 6 fraction bits and [256, 512) for 2 (chipemu_dimc_scale_tables). */
void chipemu_dimc_scale_tables(double *t) {
    for (int32_t row = 0; row < 2; row++) {
        int32_t frac = row == 0 ? 6 : 2;
        for (int32_t c = 0; c < 255; c++) t[256 * row + c] = pow2d(c - 127 - frac);
        t[256 * row + 255] = NAN;
    }
}

static inline const double *table_of(const chipemu_ctx *ctx, const chipemu_format_info *f) {
    return ctx->scratch_f64 + (f->mbits == 6 ? 0 : 256);
}

static inline int8_t nibble(uint8_t byte, int64_t hi) {
    int32_t v = hi ? byte >> 4 : byte & 0xF;
    return (int8_t)((v ^ 8) - 8);
}

/* n element codes (8 or 4 bits, two's complement, little-endian nibbles) into out */
static void unpack(const uint8_t *src, int64_t n, int32_t bits, int8_t *out) {
    if (bits == 8) {
        memcpy(out, src, (size_t)n);
        return;
    }
    for (int64_t i = 0; i < n; i++) out[i] = nibble(src[i >> 1], i & 1);
}

static inline int64_t cols_eff(const chipemu_ctx *ctx, const chipemu_format_info *f) {
    return chipemu_cols_eff(ctx->dev[CHIPEMU_DEV_COLS], ctx->dev[CHIPEMU_DEV_CELL_BITS], f->elem_bits);
}

/* Bytes of nrows weight rows in the device layout (docs/intrinsics.md). */
static inline int64_t weight_bytes(const chipemu_format_info *f, int64_t nrows, int64_t ncols) {
    if (f->kind == CHIPEMU_KIND_INT_TENSOR) return nrows * ncols + 4;
    return nrows * ncols * f->elem_bits / 8 + nrows / f->block_size * ncols;
}

static void load_rows(chipemu_ctx *ctx, int64_t slot, const uint8_t *src, int64_t row0,
                      int64_t nrows, const chipemu_format_info *f) {
    const int64_t *dev = ctx->dev;
    int64_t rows = dev[CHIPEMU_DEV_ROWS], cmax = dev[CHIPEMU_DEV_COLS_MAX];
    int64_t bmax = dev[CHIPEMU_DEV_BLOCKS_MAX], nc = cols_eff(ctx, f);
    int8_t *codes = ctx->dimc_codes + slot * rows * cmax;
    uint8_t *scales = ctx->dimc_scales + slot * bmax * cmax;
    int64_t rb = nc * f->elem_bits / 8;
    if (f->kind == CHIPEMU_KIND_INT_TENSOR) {
        for (int64_t r = 0; r < nrows; r++) unpack(src + r * rb, nc, 8, codes + (row0 + r) * cmax);
        uint32_t u = core_load_u32(src + nrows * rb);
        memcpy(&ctx->dimc_tscale[slot], &u, 4);
        return;
    }
    int64_t bs = f->block_size;
    for (int64_t g = 0; g < nrows / bs; g++) {
        const uint8_t *gs = src + g * (bs * rb + nc);
        for (int64_t r = 0; r < bs; r++)
            unpack(gs + r * rb, nc, f->elem_bits, codes + (row0 + g * bs + r) * cmax);
        memcpy(scales + ((row0 + g * bs) / bs) * cmax, gs + bs * rb, (size_t)nc);
    }
}

int32_t chipemu_in_dimc_load(chipemu_ctx *ctx, int64_t slot, int64_t src_buf, int64_t src_off,
                          int64_t row0, int64_t nrows, int64_t fmt) {
    const int64_t in = CHIPEMU_IN_DIMC_LOAD;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    const int64_t *dev = ctx->dev;
    int64_t rows = dev[CHIPEMU_DEV_ROWS], cell = dev[CHIPEMU_DEV_CELL_BITS];
    if (!core_arg(ctx, in, ARG_SLOT, slot, 0, dev[CHIPEMU_DEV_SLOTS] - 1)
        || !core_dimc_fmt(ctx, in, ARG_FMT, fmt))
        return CHIPEMU_ERR_KERNEL;
    chipemu_format_info f = core_info(fmt);
    if (cell % f.elem_bits != 0)
        return core_fail(ctx, in, CHIPEMU_KERR_FORMAT, MSG_FMT_CELLS, ARG_FMT, fmt, f.elem_bits, cell, 0);
    if (!core_arg(ctx, in, ARG_ROW0, row0, 0, rows - 1)
        || !core_arg(ctx, in, ARG_NROWS, nrows, 1, rows - row0)
        || !core_multiple(ctx, in, ARG_ROW0, row0, f.block_size)
        || !core_multiple(ctx, in, ARG_NROWS, nrows, f.block_size))
        return CHIPEMU_ERR_KERNEL;
    int64_t nbytes = weight_bytes(&f, nrows, cols_eff(ctx, &f));
    if (!core_range(ctx, in, ARG_SRC, src_buf, src_off, nbytes, CHIPEMU_BUF_SRAM))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    int functional = core_functional(ctx);
    if (ctx->dimc_wfmt[slot] != fmt) {            /* a new format re-formats the whole slot */
        ctx->dimc_wfmt[slot] = (int8_t)fmt;
        if (functional) {
            int64_t cmax = dev[CHIPEMU_DEV_COLS_MAX], bmax = dev[CHIPEMU_DEV_BLOCKS_MAX];
            memset(ctx->dimc_codes + slot * rows * cmax, 0, (size_t)(rows * cmax));
            memset(ctx->dimc_scales + slot * bmax * cmax, 0, (size_t)(bmax * cmax));
            ctx->dimc_tscale[slot] = 0.0f;
        }
    }
    if (functional) load_rows(ctx, slot, core_sram(ctx, src_buf, src_off), row0, nrows, &f);
    core_clear(e);
    core_set_range(&e->src0, src_buf, src_off, nbytes);
    core_commit(ctx, e, CHIPEMU_OP_DIMC_LOAD, -1, fmt, 0, row0, nrows, slot);
    return CHIPEMU_OK;
}

/* Weight scales per (segment, column) once per call, then blocks of CORE_DIMC_VB vectors: decode
 * their codes and scales, run the integer kernel and the float steps (dimc_mvm.c), store. */
static void mvm(chipemu_ctx *ctx, int64_t slot, const chipemu_format_info *fa,
                const chipemu_format_info *fw, const uint8_t *x, float *y, int64_t nvec, int64_t k,
                int64_t accumulate) {
    const int64_t *dev = ctx->dev;
    int64_t rows = dev[CHIPEMU_DEV_ROWS], cmax = dev[CHIPEMU_DEV_COLS_MAX];
    int64_t bmax = dev[CHIPEMU_DEV_BLOCKS_MAX], nc = cols_eff(ctx, fw);
    const uint8_t *WS = ctx->dimc_scales + slot * bmax * cmax;
    int8_t *xi = ctx->scratch_i8;
    const double *atab = table_of(ctx, fa), *wtab = table_of(ctx, fw);
    double *xs = ctx->scratch_f64 + 512, *ws = xs + CORE_DIMC_VB * rows;
    float *accf = ctx->scratch_f32;
    int a_int8 = fa->kind == CHIPEMU_KIND_INT_TENSOR, w_int8 = fw->kind == CHIPEMU_KIND_INT_TENSOR;
    int64_t bsa = a_int8 ? 32 : fa->block_size, bsw = w_int8 ? 32 : fw->block_size;
    int64_t seg = bsa < bsw ? bsa : bsw, nseg = (k + seg - 1) / seg, pairs = rows / 2 + 1;
    int64_t xrow = core_row_bytes(fa, k), xcodes = (k * fa->elem_bits + 7) / 8;
    int64_t c8 = core_cols8(nc);                          /* columns the kernel computes */
    for (int64_t s = 0; s < nseg; s++) {                  /* weight scale of (segment, column) */
        const uint8_t *wsc = WS + (s * seg / fw->block_size) * cmax;
        if (w_int8)
            for (int64_t c = 0; c < nc; c++) ws[s * nc + c] = (double)ctx->dimc_tscale[slot];
        else
            for (int64_t c = 0; c < nc; c++) ws[s * nc + c] = wtab[wsc[c]];
    }
    /* i32 scratch as core_dimc_scratch sizes it (c8 <= its cols_max rounded up) */
    core_dimc_job j = {ctx->dimc_codes + slot * rows * cmax, cmax, k, seg, nseg, nc, c8, ws,
                       ctx->scratch_i32, ctx->scratch_i32 + pairs * c8,
                       ctx->scratch_i32 + pairs * c8 + CORE_DIMC_VB * pairs};
    int path = chipemu_dimc_prepare(&j);
    for (int64_t v0 = 0; v0 < nvec; v0 += CORE_DIMC_VB) {
        int64_t nv = nvec - v0 < CORE_DIMC_VB ? nvec - v0 : CORE_DIMC_VB;
        for (int64_t b = 0; b < nv; b++) {
            const uint8_t *xv = x + (v0 + b) * xrow;
            double *xsb = xs + b * nseg;
            unpack(xv, k, fa->elem_bits, xi + b * k);
            if (a_int8) {
                uint32_t u = core_load_u32(xv + k);
                float s;
                memcpy(&s, &u, 4);
                for (int64_t s_ = 0; s_ < nseg; s_++) xsb[s_] = (double)s;
            } else {
                for (int64_t s_ = 0; s_ < nseg; s_++)
                    xsb[s_] = atab[xv[xcodes + s_ * seg / fa->block_size]];
            }
        }
        chipemu_dimc_block(&j, path, nv, xi, xs, accf, y + v0 * nc, accumulate);
    }
}

int32_t chipemu_in_dimc_mvm(chipemu_ctx *ctx, int64_t engine, int64_t slot, int64_t x_buf,
                         int64_t x_off, int64_t y_buf, int64_t y_off, int64_t nvec, int64_t k_rows,
                         int64_t fmt, int64_t accumulate) {
    const int64_t in = CHIPEMU_IN_DIMC_MVM;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    const int64_t *dev = ctx->dev;
    if (!core_arg(ctx, in, ARG_ENGINE, engine, 0, dev[CHIPEMU_DEV_ENGINES] - 1)
        || !core_arg(ctx, in, ARG_SLOT, slot, 0, dev[CHIPEMU_DEV_SLOTS] - 1)
        || !core_dimc_fmt(ctx, in, ARG_FMT, fmt))
        return CHIPEMU_ERR_KERNEL;
    int64_t wf = ctx->dimc_wfmt[slot];
    /* the slot's format is state the host owns: a code no dimc_load can store is a broken ctx */
    if (wf >= CHIPEMU_NUM_FORMATS
        || (wf >= 0 && core_info(wf).kind != CHIPEMU_KIND_INT_TENSOR
            && core_info(wf).kind != CHIPEMU_KIND_BLOCK_INT))
        return CHIPEMU_ERR_FORMAT;
    if (wf < 0) return core_fail(ctx, in, CHIPEMU_KERR_STATE, MSG_SLOT_EMPTY, ARG_SLOT, slot, 0, 0, 0);
    chipemu_format_info fa = core_info(fmt), fw = core_info(wf);
    if (!core_arg(ctx, in, ARG_NVEC, nvec, 1, CORE_MAX_COUNT)
        || !core_arg(ctx, in, ARG_K_ROWS, k_rows, 1, dev[CHIPEMU_DEV_ROWS])
        || !core_multiple(ctx, in, ARG_K_ROWS, k_rows, fa.block_size)
        || !core_multiple(ctx, in, ARG_K_ROWS, k_rows, fw.block_size)
        || !core_arg(ctx, in, ARG_ACCUMULATE, accumulate, 0, 1))
        return CHIPEMU_ERR_KERNEL;
    int64_t xlen = nvec * core_row_bytes(&fa, k_rows), ylen = nvec * cols_eff(ctx, &fw) * 4;
    if (!core_range(ctx, in, ARG_X, x_buf, x_off, xlen, CHIPEMU_BUF_SRAM)
        || !core_range(ctx, in, ARG_Y, y_buf, y_off, ylen, CHIPEMU_BUF_SRAM)
        || !core_align4(ctx, in, ARG_Y, y_off)
        || !core_disjoint(ctx, in, ARG_Y, y_buf, y_off, ylen, ARG_X, x_buf, x_off, xlen, 0))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx))
        mvm(ctx, slot, &fa, &fw, core_sram(ctx, x_buf, x_off),
            (float *)(void *)core_sram(ctx, y_buf, y_off), nvec, k_rows, accumulate);
    core_clear(e);
    core_set_range(&e->src0, x_buf, x_off, xlen);
    core_set_range(&e->dst, y_buf, y_off, ylen);
    e->flags = (uint32_t)accumulate;
    core_commit(ctx, e, CHIPEMU_OP_DIMC_MVM, fmt, wf, engine, nvec, k_rows, slot);
    return CHIPEMU_OK;
}
