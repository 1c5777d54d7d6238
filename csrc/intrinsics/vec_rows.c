/* vec_rows.c — the C twin of emulator/intrinsics/vec_rows.py: row-broadcast add/mul (vec_add_rows,
 * vec_mul_rows), dot products (vec_dot) and the column argmax (vec_col_argmax) on the vector unit. Shape, range, alignment and overlap
 * checks run in the same order, with the same ids, as the Numba twin's (docs/intrinsics.md).
 */
#include "intrinsics/vec.h"

/* ---- row broadcast: dst[r*row_len + i] = a[r*row_len + i] op b[r], b one float32 per row ----
 * Own intrinsic ids (CHIPEMU_IN_VEC_*_ROWS) but the plain add/mul kind in the event, so the
 * engine costs the elements as add/mul; CHIPEMU_FLAG_ROW_BROADCAST tells the records apart. */
/* a, b and dst as float32 operands, in that order; dst disjoint from b, and from a unless
 * dst_on_a allows the same start (in place) */
static int three(chipemu_ctx *ctx, int64_t in, int64_t a_buf, int64_t a_off, int64_t alen,
                 int64_t b_buf, int64_t b_off, int64_t blen, int64_t dst_buf, int64_t dst_off,
                 int64_t dlen, int dst_on_a) {
    return f32_operand(ctx, in, ARG_A, a_buf, a_off, alen)
           && f32_operand(ctx, in, ARG_B, b_buf, b_off, blen)
           && f32_operand(ctx, in, ARG_DST, dst_buf, dst_off, dlen)
           && core_disjoint(ctx, in, ARG_DST, dst_buf, dst_off, dlen, ARG_A, a_buf, a_off, alen,
                            dst_on_a)
           && core_disjoint(ctx, in, ARG_DST, dst_buf, dst_off, dlen, ARG_B, b_buf, b_off, blen, 0);
}

static int32_t rows_broadcast(chipemu_ctx *ctx, int64_t in, int64_t op, int64_t a_buf, int64_t a_off,
                              int64_t b_buf, int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n,
                              int64_t row_len) {
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!rows_shape(ctx, in, n, row_len)) return CHIPEMU_ERR_KERNEL;
    int64_t rows = n / row_len, len = 4 * n, blen = 4 * rows;
    /* dst may be a in place, but never overlap b at all: a row's results would overwrite the
     * values of later rows before they are read */
    if (!three(ctx, in, a_buf, a_off, len, b_buf, b_off, blen, dst_buf, dst_off, len, 1))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx)) {
        const float *a = (const float *)(const void *)core_sram(ctx, a_buf, a_off);
        const float *b = (const float *)(const void *)core_sram(ctx, b_buf, b_off);
        float *d = (float *)(void *)core_sram(ctx, dst_buf, dst_off);
        for (int64_t r = 0; r < rows; r++) {
            float br = b[r];
            int64_t r0 = r * row_len;
            if (op == CHIPEMU_VOP_ADD)
                for (int64_t i = r0; i < r0 + row_len; i++) d[i] = canon(a[i] + br);
            else
                for (int64_t i = r0; i < r0 + row_len; i++) d[i] = canon(a[i] * br);
        }
    }
    core_clear(e);
    core_set_range(&e->src0, a_buf, a_off, len);
    core_set_range(&e->src1, b_buf, b_off, blen);
    core_set_range(&e->dst, dst_buf, dst_off, len);
    e->flags = CHIPEMU_FLAG_ROW_BROADCAST;
    core_commit(ctx, e, CHIPEMU_OP_VEC, -1, -1, 0, n, row_len, op);
    return CHIPEMU_OK;
}

int32_t chipemu_in_vec_add_rows(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n,
                                int64_t row_len) {
    return rows_broadcast(ctx, CHIPEMU_IN_VEC_ADD_ROWS, CHIPEMU_VOP_ADD, a_buf, a_off, b_buf, b_off,
                          dst_buf, dst_off, n, row_len);
}

int32_t chipemu_in_vec_mul_rows(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n,
                                int64_t row_len) {
    return rows_broadcast(ctx, CHIPEMU_IN_VEC_MUL_ROWS, CHIPEMU_VOP_MUL, a_buf, a_off, b_buf, b_off,
                          dst_buf, dst_off, n, row_len);
}

/* ---- vec_dot: dst[i*rows_b + j] (+)= sum_k a[i*row_len + k] * b[j*row_len + k] ----
 * Each product is rounded to float32, then added to s (from +0, increasing k): no contraction
 * (the build forbids it), so both twins and the NumPy reference agree bit for bit. Logged as the
 * mul kind with a = 2 * rows_a * rows_b * row_len (a multiply and an add per term, each a vector
 * slot) and CHIPEMU_FLAG_DOT; rows_a, rows_b follow from the range lengths (docs/events.md). */
int32_t chipemu_in_vec_dot(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf, int64_t b_off,
                           int64_t dst_buf, int64_t dst_off, int64_t rows_a, int64_t rows_b,
                           int64_t row_len, int64_t accumulate) {
    const int64_t in = CHIPEMU_IN_VEC_DOT;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    /* rows_a * rows_b * row_len <= CORE_MAX_COUNT: then every range length fits and the event's
     * u32 a = 2 * that product cannot wrap (each bound divides by positive values already checked) */
    if (!core_arg(ctx, in, ARG_ROWS_A, rows_a, 1, CORE_MAX_COUNT)
        || !core_arg(ctx, in, ARG_ROWS_B, rows_b, 1, CORE_MAX_COUNT / rows_a)
        || !core_arg(ctx, in, ARG_ROW_LEN, row_len, 1, CORE_MAX_COUNT / (rows_a * rows_b))
        || !core_arg(ctx, in, ARG_ACCUMULATE, accumulate, 0, 1))
        return CHIPEMU_ERR_KERNEL;
    int64_t alen = 4 * rows_a * row_len, blen = 4 * rows_b * row_len, dlen = 4 * rows_a * rows_b;
    /* dst disjoint from both: it is written while later outputs still read a and b; a and b are
     * only read, so they may overlap (a . a^T) */
    if (!three(ctx, in, a_buf, a_off, alen, b_buf, b_off, blen, dst_buf, dst_off, dlen, 0))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx)) {
        const float *a = (const float *)(const void *)core_sram(ctx, a_buf, a_off);
        const float *b = (const float *)(const void *)core_sram(ctx, b_buf, b_off);
        float *d = (float *)(void *)core_sram(ctx, dst_buf, dst_off);
        for (int64_t i = 0; i < rows_a; i++) {
            const float *ai = a + i * row_len;
            for (int64_t j = 0; j < rows_b; j++) {
                const float *bj = b + j * row_len;
                float s = 0.0f;
                for (int64_t k = 0; k < row_len; k++) {
                    float p = ai[k] * bj[k];
                    s = s + p;
                }
                float *o = d + i * rows_b + j;
                *o = canon(accumulate ? *o + s : s);
            }
        }
    }
    core_clear(e);
    core_set_range(&e->src0, a_buf, a_off, alen);
    core_set_range(&e->src1, b_buf, b_off, blen);
    core_set_range(&e->dst, dst_buf, dst_off, dlen);
    e->flags = CHIPEMU_FLAG_DOT | (accumulate ? CHIPEMU_FLAG_ACCUMULATE : 0);
    core_commit(ctx, e, CHIPEMU_OP_VEC, -1, -1, 0, 2 * rows_a * rows_b * row_len, row_len, CHIPEMU_VOP_MUL);
    return CHIPEMU_OK;
}

/* ---- vec_col_argmax: dst[c] = b[k*row_len + c], k the first row of column c's maximum ----
 * A NaN ranks above every number (the first NaN wins), otherwise IEEE order (-0 == +0), ties to
 * the smaller row; b's words are copied as they are (int32 ids, or a itself for the maximum).
 * Logged as the row_max kind (the engine costs the n compares as a row maximum's) with
 * b = row_len, src1 the b words and CHIPEMU_FLAG_ARGMAX. */
int32_t chipemu_in_vec_col_argmax(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                  int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n,
                                  int64_t row_len) {
    const int64_t in = CHIPEMU_IN_VEC_COL_ARGMAX;
    int32_t st = core_enter(ctx);
    if (st != CHIPEMU_OK) return st;
    if (!rows_shape(ctx, in, n, row_len)) return CHIPEMU_ERR_KERNEL;
    int64_t len = 4 * n, dlen = 4 * row_len;
    /* dst disjoint from both: a column's result would overwrite values other columns still
     * compare; a and b are only read, so they may overlap (b = a gives the maxima) */
    if (!three(ctx, in, a_buf, a_off, len, b_buf, b_off, len, dst_buf, dst_off, dlen, 0))
        return CHIPEMU_ERR_KERNEL;
    chipemu_event *e = core_event(ctx, in);
    if (e == NULL) return CHIPEMU_ERR_KERNEL;
    if (core_functional(ctx)) {
        const float *a = (const float *)(const void *)core_sram(ctx, a_buf, a_off);
        const uint32_t *b = (const uint32_t *)(const void *)core_sram(ctx, b_buf, b_off);
        uint32_t *d = (uint32_t *)(void *)core_sram(ctx, dst_buf, dst_off);
        int64_t rows = n / row_len;
        for (int64_t c = 0; c < row_len; c++) {
            float best = a[c];
            int64_t k = 0;
            for (int64_t r = 1; r < rows; r++) {
                if (best != best) break;                    /* a NaN is never beaten */
                float v = a[r * row_len + c];
                if (v != v || v > best) {
                    best = v;
                    k = r;
                }
            }
            d[c] = b[k * row_len + c];
        }
    }
    core_clear(e);
    core_set_range(&e->src0, a_buf, a_off, len);
    core_set_range(&e->src1, b_buf, b_off, len);
    core_set_range(&e->dst, dst_buf, dst_off, dlen);
    e->flags = CHIPEMU_FLAG_ARGMAX;
    core_commit(ctx, e, CHIPEMU_OP_VEC, -1, -1, 0, n, row_len, CHIPEMU_VOP_ROW_MAX);
    return CHIPEMU_OK;
}
