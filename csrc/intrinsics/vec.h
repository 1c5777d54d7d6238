/* vec.h — helpers shared by the vector-unit intrinsics (vec.c, vec_rows.c); private, static inline.
 * Their Numba twins are the helpers of emulator/intrinsics/vec.py that vec_rows.py imports. */
#ifndef CHIPEMU_INTRINSICS_VEC_H
#define CHIPEMU_INTRINSICS_VEC_H

#include <string.h>

#include "intrinsics/core.h"

#define CANONICAL_NAN 0x7FC00000u

static inline float canon(float r) {
    if (r == r) return r;
    uint32_t u = CANONICAL_NAN;
    memcpy(&r, &u, 4);
    return r;
}

static inline int f32_operand(chipemu_ctx *ctx, int64_t in, int64_t arg, int64_t buf, int64_t off, int64_t len) {
    return core_range(ctx, in, arg, buf, off, len, CHIPEMU_BUF_SRAM) && core_align4(ctx, in, arg, off);
}

/* row_sum / row_max over rows of row_len; convert also has rows (shape checks shared) */
static inline int rows_shape(chipemu_ctx *ctx, int64_t in, int64_t n, int64_t row_len) {
    return core_arg(ctx, in, ARG_N, n, 1, CORE_MAX_COUNT)
        && core_arg(ctx, in, ARG_ROW_LEN, row_len, 1, n)
        && core_multiple(ctx, in, ARG_N, n, row_len);
}

#endif /* CHIPEMU_INTRINSICS_VEC_H */
