/* vec.c — the C twin of emulator/intrinsics/vec.py: the vector unit.
 *
 * Elementwise float32 ops (copy, add, mul, max, exp, reciprocal, rsqrt), row reductions (row_sum,
 * row_max) and vec_convert (float32 <-> any format's device layout, the codec's rules, blocks
 * along each row); the row-broadcast ops and vec_dot are in vec_rows.c. Row sums run left to
 * right from the row's first element; add, mul, max, row_sum and row_max store a NaN result as
 * 0x7FC00000 (docs/intrinsics.md). Keep in step with the Numba twin.
 */
#include <string.h>

#include "chipemu_host.h"
#include "intrinsics/vec.h"

#define CHUNK 64                     /* elements converted at a time: at least one whole block */

static inline int sign_clear(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return (u >> 31) == 0;
}

/* maximum: NaN if either is NaN, +0 over -0 */
static inline float vmax(float a, float b) {
    if (a != a || b != b) return canon(a + b);
    if (a > b) return a;
    if (b > a) return b;
    return sign_clear(a) ? a : b;
}

static inline float vop(int64_t op, float a, float b) {
    switch (op) {
    case CHIPEMU_VOP_ADD: return canon(a + b);
    case CHIPEMU_VOP_MUL: return canon(a * b);
    case CHIPEMU_VOP_MAX: return vmax(a, b);
    case CHIPEMU_VOP_EXP: return chipemu_exp_f32(a);
    case CHIPEMU_VOP_RECIPROCAL: return chipemu_reciprocal_f32(a);
    case CHIPEMU_VOP_RSQRT: return chipemu_rsqrt_f32(a);
    default: return a;                                       /* copy */
    }
}

static int32_t elementwise(chipemu_ctx *ctx, int64_t op, int64_t a_buf, int64_t a_off, int64_t b_buf,
                           int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n) {
    int64_t in = CHIPEMU_IN_VEC + op;
    int binary = op == CHIPEMU_VOP_ADD || op == CHIPEMU_VOP_MUL || op == CHIPEMU_VOP_MAX;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!core_arg(ctx, in, ARG_N, n, 1, CORE_MAX_COUNT)) return CHIPEMU_ERR_KERNEL;
    int64_t len = 4 * n, arg_a = binary ? ARG_A : ARG_SRC;
    if (!f32_operand(ctx, in, arg_a, a_buf, a_off, len)
        || (binary && !f32_operand(ctx, in, ARG_B, b_buf, b_off, len))
        || !f32_operand(ctx, in, ARG_DST, dst_buf, dst_off, len)
        || !core_disjoint(ctx, in, ARG_DST, dst_buf, dst_off, len, arg_a, a_buf, a_off, len, 1)
        || (binary && !core_disjoint(ctx, in, ARG_DST, dst_buf, dst_off, len, ARG_B, b_buf, b_off, len, 1)))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx)) {
        const float *a = (const float *)(const void *)core_sram(ctx, a_buf, a_off);
        const float *b = binary ? (const float *)(const void *)core_sram(ctx, b_buf, b_off) : a;
        float *d = (float *)(void *)core_sram(ctx, dst_buf, dst_off);
        if (op == CHIPEMU_VOP_COPY) {
            if (d != a) memcpy(d, a, (size_t)len);
        } else {
            for (int64_t i = 0; i < n; i++) d[i] = vop(op, a[i], b[i]);
        }
    }
    core_clear(e);
    core_set_range(&e->src0, a_buf, a_off, len);
    if (binary) core_set_range(&e->src1, b_buf, b_off, len);
    core_set_range(&e->dst, dst_buf, dst_off, len);
    core_commit(ctx, e, CHIPEMU_OP_VEC, -1, -1, 0, n, 0, op);
    return CHIPEMU_OK;
}

#define UNARY(name, op)                                                                        \
    int32_t name(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,         \
                 int64_t dst_off, int64_t n) {                                                \
        return elementwise(ctx, op, src_buf, src_off, -1, 0, dst_buf, dst_off, n);            \
    }
#define BINARY(name, op)                                                                       \
    int32_t name(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf, int64_t b_off, \
                 int64_t dst_buf, int64_t dst_off, int64_t n) {                               \
        return elementwise(ctx, op, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n);         \
    }

UNARY(chipemu_in_vec_copy, CHIPEMU_VOP_COPY)
UNARY(chipemu_in_vec_exp, CHIPEMU_VOP_EXP)
UNARY(chipemu_in_vec_reciprocal, CHIPEMU_VOP_RECIPROCAL)
UNARY(chipemu_in_vec_rsqrt, CHIPEMU_VOP_RSQRT)
BINARY(chipemu_in_vec_add, CHIPEMU_VOP_ADD)
BINARY(chipemu_in_vec_mul, CHIPEMU_VOP_MUL)
BINARY(chipemu_in_vec_max, CHIPEMU_VOP_MAX)

static int32_t row_op(chipemu_ctx *ctx, int64_t op, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                      int64_t dst_off, int64_t n, int64_t row_len) {
    int64_t in = CHIPEMU_IN_VEC + op;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!rows_shape(ctx, in, n, row_len)) return CHIPEMU_ERR_KERNEL;
    int64_t rows = n / row_len, slen = 4 * n, dlen = 4 * rows;
    if (!f32_operand(ctx, in, ARG_SRC, src_buf, src_off, slen)
        || !f32_operand(ctx, in, ARG_DST, dst_buf, dst_off, dlen)
        || !core_disjoint(ctx, in, ARG_DST, dst_buf, dst_off, dlen, ARG_SRC, src_buf, src_off, slen, 1))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx)) {
        const float *s = (const float *)(const void *)core_sram(ctx, src_buf, src_off);
        float *d = (float *)(void *)core_sram(ctx, dst_buf, dst_off);
        for (int64_t r = 0; r < rows; r++) {
            const float *row = s + r * row_len;
            float acc = row[0];
            if (op == CHIPEMU_VOP_ROW_SUM)
                for (int64_t i = 1; i < row_len; i++) acc = acc + row[i];
            else
                for (int64_t i = 1; i < row_len; i++) acc = vmax(acc, row[i]);
            d[r] = canon(acc);
        }
    }
    core_clear(e);
    core_set_range(&e->src0, src_buf, src_off, slen);
    core_set_range(&e->dst, dst_buf, dst_off, dlen);
    core_commit(ctx, e, CHIPEMU_OP_VEC, -1, -1, 0, n, row_len, op);
    return CHIPEMU_OK;
}

int32_t chipemu_in_vec_row_sum(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                            int64_t dst_off, int64_t n, int64_t row_len) {
    return row_op(ctx, CHIPEMU_VOP_ROW_SUM, src_buf, src_off, dst_buf, dst_off, n, row_len);
}

int32_t chipemu_in_vec_row_max(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                            int64_t dst_off, int64_t n, int64_t row_len) {
    return row_op(ctx, CHIPEMU_VOP_ROW_MAX, src_buf, src_off, dst_buf, dst_off, n, row_len);
}

/* ---- vec_convert: element codes packed little-endian by element bits, then the row's scales ---- */

static uint32_t get_code(const uint8_t *p, int64_t i, int32_t bits) {
    switch (bits) {
    case 32: return core_load_u32(p + 4 * i);
    case 16: return (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
    case 8: return p[i];
    default: {
        int64_t bit = i * bits, byte = bit >> 3;
        int32_t sh = (int32_t)(bit & 7);
        uint32_t v = (uint32_t)p[byte] >> sh;
        if (sh + bits > 8) v |= (uint32_t)p[byte + 1] << (8 - sh);
        return v & ((1u << bits) - 1u);
    }
    }
}

static void put_code(uint8_t *p, int64_t i, int32_t bits, uint32_t code) {
    switch (bits) {
    case 32: core_store_u32(p + 4 * i, code); return;
    case 16: p[2 * i] = (uint8_t)code; p[2 * i + 1] = (uint8_t)(code >> 8); return;
    case 8: p[i] = (uint8_t)code; return;
    default: {                                   /* the row's code bytes were zeroed first */
        int64_t bit = i * bits, byte = bit >> 3;
        int32_t sh = (int32_t)(bit & 7);
        code &= (1u << bits) - 1u;
        p[byte] = (uint8_t)(p[byte] | (code << sh));
        if (sh + bits > 8) p[byte + 1] = (uint8_t)(p[byte + 1] | (code >> (8 - sh)));
    }
    }
}

/* container value <-> uint32 code: int containers hold signed codes */
static uint32_t from_container(const void *c, int64_t i, const chipemu_format_info *f) {
    switch (f->elem_bits) {
    case 32: return ((const uint32_t *)c)[i];
    case 16: return ((const uint16_t *)c)[i];
    default: return (uint32_t)((const uint8_t *)c)[i];
    }
}

static void to_container(void *c, int64_t i, const chipemu_format_info *f, uint32_t code) {
    int signed_int = f->kind == CHIPEMU_KIND_INT_TENSOR || f->kind == CHIPEMU_KIND_BLOCK_INT;
    switch (f->elem_bits) {
    case 32: ((uint32_t *)c)[i] = code; return;
    case 16: ((uint16_t *)c)[i] = (uint16_t)code; return;
    default:
        if (signed_int && f->elem_bits < 8 && (code >> (f->elem_bits - 1)) & 1u)
            code |= ~((1u << f->elem_bits) - 1u);            /* sign-extend 4-bit codes */
        ((uint8_t *)c)[i] = (uint8_t)code;
    }
}

static void quantize_row(const float *x, int64_t n, const chipemu_format_info *f, uint8_t *out) {
    int64_t cbytes = (n * f->elem_bits + 7) / 8;
    float ts = 0.0f;
    if (f->kind == CHIPEMU_KIND_INT_TENSOR) {
        uint32_t amax = 0;
        chipemu_absmax_bits(x, n, &amax);
        ts = chipemu_int8_scale(amax);
        uint32_t u;
        memcpy(&u, &ts, 4);
        core_store_u32(out + n, u);
    }
    memset(out, 0, (size_t)cbytes);
    int64_t step = f->block_size > 1 ? f->block_size : CHUNK;
    uint32_t codes[CHUNK];
    for (int64_t c0 = 0; c0 < n; c0 += step) {
        int64_t len = n - c0 < step ? n - c0 : step;
        uint8_t scale = 0;
        chipemu_quantize(f->code, x + c0, 1, len, 0, f->block_size > 1 ? 1 : len, codes, &scale, ts);
        for (int64_t j = 0; j < len; j++) put_code(out, c0 + j, f->elem_bits, from_container(codes, j, f));
        if (f->scale_bits) out[cbytes + c0 / step] = scale;
    }
}

static void dequantize_row(const uint8_t *in, int64_t n, const chipemu_format_info *f, float *y) {
    int64_t cbytes = (n * f->elem_bits + 7) / 8;
    float ts = 0.0f;
    if (f->kind == CHIPEMU_KIND_INT_TENSOR) {
        uint32_t u = core_load_u32(in + n);
        memcpy(&ts, &u, 4);
    }
    int64_t step = f->block_size > 1 ? f->block_size : CHUNK;
    uint32_t codes[CHUNK];
    for (int64_t c0 = 0; c0 < n; c0 += step) {
        int64_t len = n - c0 < step ? n - c0 : step;
        uint8_t scale = f->scale_bits ? in[cbytes + c0 / step] : 0;
        for (int64_t j = 0; j < len; j++) to_container(codes, j, f, get_code(in, c0 + j, f->elem_bits));
        chipemu_dequantize(f->code, codes, &scale, ts, 1, len, 0, f->block_size > 1 ? 1 : len, y + c0);
    }
}

/* For hosts (chipemu_host.h): what vec_convert writes, without a device. */
int32_t chipemu_encode_rows(int32_t fmt, const float *x, int64_t rows, int64_t n, uint8_t *out) {
    chipemu_format_info f;
    if (chipemu_format_info_get(fmt, &f) != CHIPEMU_OK) return CHIPEMU_ERR_FORMAT;
    if (rows < 0 || n < 1 || rows > CORE_MAX_COUNT / n) return CHIPEMU_ERR_SIZE;
    if (rows > 0 && (x == NULL || out == NULL)) return CHIPEMU_ERR_NULL;
    int64_t rb = core_row_bytes(&f, n);
    for (int64_t r = 0; r < rows; r++) quantize_row(x + r * n, n, &f, out + r * rb);
    return CHIPEMU_OK;
}

int32_t chipemu_in_vec_convert(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                            int64_t dst_off, int64_t n, int64_t row_len, int64_t fmt_to,
                            int64_t fmt_from) {
    const int64_t in = CHIPEMU_IN_VEC + CHIPEMU_VOP_CONVERT;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!rows_shape(ctx, in, n, row_len) || !core_fmt(ctx, in, ARG_FMT_TO, fmt_to)
        || !core_fmt(ctx, in, ARG_FMT_FROM, fmt_from))
        return CHIPEMU_ERR_KERNEL;
    if (fmt_to != CHIPEMU_FMT_FP32 && fmt_from != CHIPEMU_FMT_FP32)
        return core_fail(ctx, in, CHIPEMU_KERR_FORMAT, MSG_CONVERT, ARG_FMT_TO, fmt_to, fmt_from, 0, 0);
    chipemu_format_info ft = core_info(fmt_to), ff = core_info(fmt_from);
    int64_t rows = n / row_len, srow = core_row_bytes(&ff, row_len), drow = core_row_bytes(&ft, row_len);
    int64_t slen = rows * srow, dlen = rows * drow;
    if (!core_range(ctx, in, ARG_SRC, src_buf, src_off, slen, CHIPEMU_BUF_SRAM)
        || (fmt_from == CHIPEMU_FMT_FP32 && !core_align4(ctx, in, ARG_SRC, src_off))
        || !core_range(ctx, in, ARG_DST, dst_buf, dst_off, dlen, CHIPEMU_BUF_SRAM)
        || (fmt_to == CHIPEMU_FMT_FP32 && !core_align4(ctx, in, ARG_DST, dst_off))
        || !core_disjoint(ctx, in, ARG_DST, dst_buf, dst_off, dlen, ARG_SRC, src_buf, src_off, slen, 0))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx)) {
        const uint8_t *s = core_sram(ctx, src_buf, src_off);
        uint8_t *d = core_sram(ctx, dst_buf, dst_off);
        for (int64_t r = 0; r < rows; r++) {
            if (fmt_from == CHIPEMU_FMT_FP32 && fmt_to == CHIPEMU_FMT_FP32)
                memcpy(d + r * drow, s + r * srow, (size_t)srow);
            else if (fmt_from == CHIPEMU_FMT_FP32)
                quantize_row((const float *)(const void *)(s + r * srow), row_len, &ft, d + r * drow);
            else
                dequantize_row(s + r * srow, row_len, &ff, (float *)(void *)(d + r * drow));
        }
    }
    core_clear(e);
    core_set_range(&e->src0, src_buf, src_off, slen);
    core_set_range(&e->dst, dst_buf, dst_off, dlen);
    core_commit(ctx, e, CHIPEMU_OP_VEC, fmt_to, fmt_from, 0, n, row_len, CHIPEMU_VOP_CONVERT);
    return CHIPEMU_OK;
}
