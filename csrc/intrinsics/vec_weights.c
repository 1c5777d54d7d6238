/* vec_weights.c — the C twin of emulator/intrinsics/vec_weights.py: vec_convert_weights, float32
 * lines of SRAM quantized into the weights layout that dimc_load reads (docs/intrinsics.md).
 *
 * W (nrows x ncols): its first `lines` rows (trans 0) or columns (trans 1) are read from lines
 * ld floats apart, the others are +0. Block formats: each column's
 * block of B rows is quantized as vec_convert quantizes a row's block (chipemu_quantize), its
 * codes put row-major into the group of B rows, its scale byte after the group's codes; int8: one
 * float32 scale for the whole matrix (the largest |x| of the lines read). Checks run in the same
 * order, with the same ids, as the Numba twin's. Logged as a VEC of the convert kind with
 * a = nrows * ncols, b = ncols and CHIPEMU_FLAG_WEIGHTS under its own id. */
#include "chipemu_host.h"
#include "intrinsics/vec.h"

#define WEIGHTS_MAX_BLOCK 64          /* the largest block of a DIMC format (tables.formats) */

/* the argument checks, in the Numba twin's order */
static int shape(chipemu_ctx *ctx, int64_t in, int64_t ld, int64_t lines, int64_t trans,
                 int64_t nrows, int64_t ncols, int64_t fmt) {
    if (!core_dimc_fmt(ctx, in, ARG_FMT, fmt)) return 0;
    chipemu_format_info f = core_info(fmt);
    if (!core_arg(ctx, in, ARG_NROWS, nrows, 1, CORE_MAX_COUNT)
        || !core_multiple(ctx, in, ARG_NROWS, nrows, f.block_size)
        || !core_arg(ctx, in, ARG_NCOLS, ncols, 1, CORE_MAX_COUNT / nrows)
        || !core_arg(ctx, in, ARG_TRANS, trans, 0, 1))
        return 0;
    int64_t width = trans == 1 ? nrows : ncols;
    return core_arg(ctx, in, ARG_LINES, lines, 1, trans == 1 ? ncols : nrows)
           && core_arg(ctx, in, ARG_LD, ld, width, CORE_MAX_COUNT / lines);
}

/* W[i][j] (+0 outside the lines read) */
static float element(const float *x, int64_t i, int64_t j, int64_t ld, int64_t lines,
                     int64_t trans) {
    int64_t a = trans == 1 ? j : i, b = trans == 1 ? i : j;
    return a < lines ? x[a * ld + b] : 0.0f;
}

/* little-endian by element bits into bytes zeroed first, as vec.c's put_code */
static void put_code(uint8_t *p, int64_t i, int32_t bits, uint32_t code) {
    if (bits == 8) {
        p[i] = (uint8_t)code;
        return;
    }
    int64_t bit = i * bits, byte = bit >> 3;
    int32_t sh = (int32_t)(bit & 7);
    code &= (1u << bits) - 1u;
    p[byte] = (uint8_t)(p[byte] | (code << sh));
    if (sh + bits > 8) p[byte + 1] = (uint8_t)(p[byte + 1] | (code >> (8 - sh)));
}

static void convert(const float *x, int64_t ld, int64_t lines, int64_t trans, int64_t nrows,
                    int64_t ncols, const chipemu_format_info *f, uint8_t *out) {
    int32_t bits = f->elem_bits;
    int64_t width = trans == 1 ? nrows : ncols;
    int64_t bs = f->block_size;
    memset(out, 0, (size_t)core_weight_bytes(f, nrows, ncols));           /* codes are OR-ed in */
    if (f->kind == CHIPEMU_KIND_INT_TENSOR) {                         /* one scale: the matrix */
        uint32_t m = 0, a = 0;
        for (int64_t l = 0; l < lines; l++) {
            chipemu_absmax_bits(x + l * ld, width, &a);
            m = a > m ? a : m;
        }
        float ts = chipemu_int8_scale(m);
        for (int64_t i = 0; i < nrows; i++)
            for (int64_t j = 0; j < ncols; j++) {
                float v = element(x, i, j, ld, lines, trans);
                int8_t c = 0;
                chipemu_quantize(f->code, &v, 1, 1, 0, 1, &c, NULL, ts);
                put_code(out, i * ncols + j, bits, (uint32_t)(uint8_t)c);
            }
        uint32_t u;
        memcpy(&u, &ts, 4);
        core_store_u32(out + nrows * ncols, u);
        return;
    }
    float col[WEIGHTS_MAX_BLOCK];                                     /* one column's block */
    int8_t codes[WEIGHTS_MAX_BLOCK];
    int64_t group = bs * ncols * bits / 8 + ncols;          /* bytes of B rows and their scales */
    for (int64_t g = 0; g < nrows / bs; g++) {
        uint8_t *gp = out + g * group;
        for (int64_t j = 0; j < ncols; j++) {
            uint8_t scale = 0;
            for (int64_t r = 0; r < bs; r++) col[r] = element(x, g * bs + r, j, ld, lines, trans);
            chipemu_quantize(f->code, col, 1, bs, 0, 1, codes, &scale, 0.0f);
            for (int64_t r = 0; r < bs; r++) put_code(gp, r * ncols + j, bits, (uint32_t)(uint8_t)codes[r]);
            gp[bs * ncols * bits / 8 + j] = scale;
        }
    }
}

/* For hosts (chipemu_host.h): what vec_convert_weights writes for w[nrows][ncols], rows ld
 * floats apart, without a device. */
int32_t chipemu_encode_weights(int32_t fmt, const float *w, int64_t nrows, int64_t ncols, int64_t ld,
                               uint8_t *out) {
    chipemu_format_info f;
    if (chipemu_format_info_get(fmt, &f) != CHIPEMU_OK) return CHIPEMU_ERR_FORMAT;
    if (!((CHIPEMU_DIMC_FORMAT_MASK >> fmt) & 1)) return CHIPEMU_ERR_UNSUPPORTED;
    if (nrows < 1 || ncols < 1 || nrows % f.block_size || ncols > CORE_MAX_COUNT / nrows
        || ld < ncols || ld > CORE_MAX_COUNT / nrows)
        return CHIPEMU_ERR_SIZE;
    if (w == NULL || out == NULL) return CHIPEMU_ERR_NULL;
    convert(w, ld, nrows, 0, nrows, ncols, &f, out);
    return CHIPEMU_OK;
}

int32_t chipemu_in_vec_convert_weights(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                       int64_t ld, int64_t lines, int64_t trans, int64_t dst_buf,
                                       int64_t dst_off, int64_t nrows, int64_t ncols, int64_t fmt) {
    const int64_t in = CHIPEMU_IN_VEC_CONVERT_WEIGHTS;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!shape(ctx, in, ld, lines, trans, nrows, ncols, fmt)) return CHIPEMU_ERR_KERNEL;
    chipemu_format_info f = core_info(fmt);
    int64_t width = trans == 1 ? nrows : ncols;
    int64_t slen = 4 * ((lines - 1) * ld + width), dlen = core_weight_bytes(&f, nrows, ncols);
    if (!core_range(ctx, in, ARG_SRC, src_buf, src_off, slen, CHIPEMU_BUF_SRAM)
        || !core_align4(ctx, in, ARG_SRC, src_off)
        || !core_range(ctx, in, ARG_DST, dst_buf, dst_off, dlen, CHIPEMU_BUF_SRAM)
        || !core_disjoint(ctx, in, ARG_DST, dst_buf, dst_off, dlen, ARG_SRC, src_buf, src_off, slen, 0))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx))
        convert((const float *)(const void *)core_sram(ctx, src_buf, src_off), ld, lines, trans,
                nrows, ncols, &f, core_sram(ctx, dst_buf, dst_off));
    core_clear(e);
    core_set_range(&e->src0, src_buf, src_off, slen);
    core_set_range(&e->dst, dst_buf, dst_off, dlen);
    e->flags = CHIPEMU_FLAG_WEIGHTS;
    core_commit(ctx, e, CHIPEMU_OP_VEC, fmt, CHIPEMU_FMT_FP32, 0, nrows * ncols, ncols, CHIPEMU_VOP_CONVERT);
    return CHIPEMU_OK;
}
