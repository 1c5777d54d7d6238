/* tests/testkernels/tile.c — C tile kernels for tests and benchmarks; Numba twins in tile.py.
 *
 * chipemu_kernel_test_program interprets a list of intrinsic calls held in its params, so tests can
 * drive every intrinsic (and every error path) through both backends with one kernel. The others
 * are ordinary kernels: an empty one (launch overhead), a GEMV end to end, and an MVM loop.
 */
#include "chipemu_kernel.h"   /* the intrinsics by their Numba names */
#include "tile.h"

/* program: p[0] = instruction count; instruction i is p[1 + 12 i ...]: code, tile (-1: every
 * tile, else only that one), then up to ten arguments (tests/testkernels/tile.py documents them) */
#define P_WIDTH 12
enum { P_DIMC_LOAD = 1, P_DIMC_MVM, P_VEC, P_SEND, P_DRAM_READ, P_DRAM_WRITE, P_HOST_READ, P_BARRIER,
       P_VEC_ROWS, P_VEC_DOT, P_VEC_COL_ARGMAX, P_VEC_CONVERT_WEIGHTS };

CHIPEMU_API void chipemu_kernel_test_empty(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)ctx;
    (void)tile;
    (void)step;
    (void)p;
}

static void vec(chipemu_ctx *ctx, const int64_t *a) {
    switch (a[0]) {
    case CHIPEMU_VOP_COPY: vec_copy(ctx, a[1], a[2], a[3], a[4], a[5]); break;
    case CHIPEMU_VOP_EXP: vec_exp(ctx, a[1], a[2], a[3], a[4], a[5]); break;
    case CHIPEMU_VOP_RECIPROCAL: vec_reciprocal(ctx, a[1], a[2], a[3], a[4], a[5]); break;
    case CHIPEMU_VOP_RSQRT: vec_rsqrt(ctx, a[1], a[2], a[3], a[4], a[5]); break;
    case CHIPEMU_VOP_ADD: vec_add(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
    case CHIPEMU_VOP_MUL: vec_mul(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
    case CHIPEMU_VOP_MAX: vec_max(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
    case CHIPEMU_VOP_ROW_SUM: vec_row_sum(ctx, a[1], a[2], a[3], a[4], a[5], a[6]); break;
    case CHIPEMU_VOP_ROW_MAX: vec_row_max(ctx, a[1], a[2], a[3], a[4], a[5], a[6]); break;
    case CHIPEMU_VOP_CONVERT:
        vec_convert(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
        break;
    default: break;
    }
}

CHIPEMU_API void chipemu_kernel_test_program(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    int64_t n_tiles = ctx->dev[CHIPEMU_DEV_N_TILES];
    for (int64_t i = 0; i < p[0]; i++) {
        const int64_t *ins = p + 1 + P_WIDTH * i, *a = ins + 2;
        if (ins[1] >= 0 && ins[1] != tile) continue;
        int64_t pair[2] = {tile, (tile + a[1]) % n_tiles};
        int is_list = ins[0] == P_SEND || ins[0] == P_BARRIER ? a[0] == 0 : 0;
        const int64_t *ids = is_list ? p + a[1] : pair + 1;
        int64_t n_ids = is_list ? a[2] : 1;
        switch (ins[0]) {
        case P_DIMC_LOAD: dimc_load(ctx, a[0], a[1], a[2], a[3], a[4], a[5]); break;
        case P_DIMC_MVM:
            dimc_mvm(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
            break;
        case P_VEC: vec(ctx, a); break;
        case P_SEND: send(ctx, ids, n_ids, a[3], a[4], a[5], a[6], a[7]); break;
        case P_DRAM_READ: dram_read(ctx, a[0], a[1], a[2], a[3], a[4]); break;
        case P_DRAM_WRITE: dram_write(ctx, a[0], a[1], a[2], a[3], a[4]); break;
        case P_HOST_READ: host_read(ctx, a[0], a[1], a[2], a[3], a[4]); break;
        case P_BARRIER:
            if (a[0] == 0) barrier(ctx, ids, n_ids);
            else barrier(ctx, pair, pair[1] == tile ? 1 : 2);
            break;
        case P_VEC_ROWS:                 /* a[0]: add or mul, as the event's kind */
            if (a[0] == CHIPEMU_VOP_ADD)
                vec_add_rows(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
            else if (a[0] == CHIPEMU_VOP_MUL)
                vec_mul_rows(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
            break;
        case P_VEC_DOT: vec_dot(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]); break;
        case P_VEC_COL_ARGMAX: vec_col_argmax(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
        case P_VEC_CONVERT_WEIGHTS:
            vec_convert_weights(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
            break;
        default: break;
        }
    }
}

/* gemv: p = {w_host, x_host, w_sram, x_sram, xq_sram, y_sram, out_dram, k, fmt_w, fmt_a, nvec,
 *            w_bytes, x_bytes, y_bytes, y_elems}; every tile loads the same weights into slot 0,
 * reads its own nvec x k float32 inputs, quantizes them, multiplies, applies exp and writes y to
 * DRAM at tile * y_bytes. */
CHIPEMU_API void chipemu_kernel_test_gemv(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    host_read(ctx, p[0], 0, p[2], 0, p[11]);
    dimc_load(ctx, 0, p[2], 0, 0, p[7], p[8]);
    host_read(ctx, p[1], tile * p[12], p[3], 0, p[12]);
    vec_convert(ctx, p[3], 0, p[4], 0, p[10] * p[7], p[7], p[9], CHIPEMU_FMT_FP32);
    dimc_mvm(ctx, 0, 0, p[4], 0, p[5], 0, p[10], p[7], p[9], 0);
    vec_exp(ctx, p[5], 0, p[5], 0, p[14]);
    dram_write(ctx, p[5], 0, p[6], tile * p[13], p[13]);
}

/* mvm_loop: p = {slot, x_buf, y_buf, nvec, k, fmt, iterations}: y += x . W, repeatedly */
CHIPEMU_API void chipemu_kernel_test_mvm_loop(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)tile;
    (void)step;
    int64_t engines = ctx->dev[CHIPEMU_DEV_ENGINES];
    for (int64_t it = 0; it < p[6]; it++)
        dimc_mvm(ctx, it % engines, p[0], p[1], 0, p[2], 0, p[3], p[4], p[5], 1);
}
