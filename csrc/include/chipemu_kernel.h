/* chipemu_kernel.h — for C tile kernels: the intrinsics under the names the Numba twin uses.
 *
 * Include it in a kernel source (after chipemu.h's types are available) to write
 * `dimc_mvm(ctx, ...)`, `vec_exp(ctx, ...)`, `send(ctx, ...)` exactly as in Numba; each is a static
 * inline call of the exported chipemu_in_<name>. Short names such as `send` would clash with
 * <sys/socket.h>: include this header only in kernel files. Generated from chipemu.h's prototypes.
 */
#ifndef CHIPEMU_KERNEL_H
#define CHIPEMU_KERNEL_H

#include "chipemu.h"

static inline int32_t dimc_load(chipemu_ctx *ctx, int64_t slot, int64_t src_buf, int64_t src_off,
                                int64_t row0, int64_t nrows, int64_t fmt) {
    return chipemu_in_dimc_load(ctx, slot, src_buf, src_off, row0, nrows, fmt);
}

static inline int32_t dimc_mvm(chipemu_ctx *ctx, int64_t engine, int64_t slot, int64_t x_buf,
                               int64_t x_off, int64_t y_buf, int64_t y_off, int64_t nvec,
                               int64_t k_rows, int64_t fmt, int64_t accumulate) {
    return chipemu_in_dimc_mvm(ctx, engine, slot, x_buf, x_off,
                               y_buf, y_off, nvec, k_rows, fmt, accumulate);
}

static inline int32_t vec_copy(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                               int64_t dst_off, int64_t n) {
    return chipemu_in_vec_copy(ctx, src_buf, src_off, dst_buf, dst_off, n);
}

static inline int32_t vec_exp(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                              int64_t dst_off, int64_t n) {
    return chipemu_in_vec_exp(ctx, src_buf, src_off, dst_buf, dst_off, n);
}

static inline int32_t vec_reciprocal(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                     int64_t dst_buf, int64_t dst_off, int64_t n) {
    return chipemu_in_vec_reciprocal(ctx, src_buf, src_off, dst_buf, dst_off, n);
}

static inline int32_t vec_rsqrt(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                                int64_t dst_off, int64_t n) {
    return chipemu_in_vec_rsqrt(ctx, src_buf, src_off, dst_buf, dst_off, n);
}

static inline int32_t vec_add(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                              int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n) {
    return chipemu_in_vec_add(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n);
}

static inline int32_t vec_mul(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                              int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n) {
    return chipemu_in_vec_mul(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n);
}

static inline int32_t vec_max(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                              int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n) {
    return chipemu_in_vec_max(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n);
}

static inline int32_t vec_add_rows(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                   int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n,
                                   int64_t row_len) {
    return chipemu_in_vec_add_rows(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len);
}

static inline int32_t vec_mul_rows(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                   int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n,
                                   int64_t row_len) {
    return chipemu_in_vec_mul_rows(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len);
}

static inline int32_t vec_dot(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                              int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t rows_a,
                              int64_t rows_b, int64_t row_len, int64_t accumulate) {
    return chipemu_in_vec_dot(ctx, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, rows_a, rows_b,
                              row_len, accumulate);
}

static inline int32_t vec_row_sum(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                  int64_t dst_buf, int64_t dst_off, int64_t n, int64_t row_len) {
    return chipemu_in_vec_row_sum(ctx, src_buf, src_off, dst_buf, dst_off, n, row_len);
}

static inline int32_t vec_row_max(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                  int64_t dst_buf, int64_t dst_off, int64_t n, int64_t row_len) {
    return chipemu_in_vec_row_max(ctx, src_buf, src_off, dst_buf, dst_off, n, row_len);
}

static inline int32_t vec_convert(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                  int64_t dst_buf, int64_t dst_off, int64_t n, int64_t row_len,
                                  int64_t fmt_to, int64_t fmt_from) {
    return chipemu_in_vec_convert(ctx, src_buf, src_off, dst_buf, dst_off,
                                  n, row_len, fmt_to, fmt_from);
}

static inline int32_t send(chipemu_ctx *ctx, const int64_t *dst_tiles, int64_t n_dst,
                           int64_t src_buf, int64_t src_off, int64_t dst_buf, int64_t dst_off,
                           int64_t nbytes) {
    return chipemu_in_send(ctx, dst_tiles, n_dst, src_buf, src_off, dst_buf, dst_off, nbytes);
}

static inline int32_t dram_read(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                                int64_t dst_off, int64_t nbytes) {
    return chipemu_in_dram_read(ctx, src_buf, src_off, dst_buf, dst_off, nbytes);
}

static inline int32_t dram_write(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                 int64_t dst_buf, int64_t dst_off, int64_t nbytes) {
    return chipemu_in_dram_write(ctx, src_buf, src_off, dst_buf, dst_off, nbytes);
}

static inline int32_t host_read(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off, int64_t dst_buf,
                                int64_t dst_off, int64_t nbytes) {
    return chipemu_in_host_read(ctx, src_buf, src_off, dst_buf, dst_off, nbytes);
}

static inline int32_t barrier(chipemu_ctx *ctx, const int64_t *group, int64_t n) {
    return chipemu_in_barrier(ctx, group, n);
}

#endif /* CHIPEMU_KERNEL_H */
