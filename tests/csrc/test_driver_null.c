/* test_driver_null.c — every exported function outside the engine, called with NULL, zeroed and
 * out-of-range arguments (included by test_driver.c after test_driver_runtime.c, whose rt_machine
 * it uses). chipemu.h promises a status (or a recorded kernel error), never a crash and never a
 * write on failure; `make sanitize` runs this under ASan/UBSan. tests/test_emulator_native_null.py
 * checks that every CHIPEMU_API function outside chipemu_engine_* is named in this file or in
 * test_driver_null_intrinsics.c.
 */
#include <limits.h>

static int64_t nl_tried;                        /* calls with a bad argument */

#define NL_ST(expr, want, ...)                                                  \
    do {                                                                        \
        nl_tried++;                                                             \
        int32_t nst_ = (expr);                                                  \
        CHECK(nst_ == (want), __VA_ARGS__);                                     \
    } while (0)

/* ---- numerics and versions: chipemu_abi_version ... chipemu_vec_rsqrt ---- */

static void test_null_numerics(void) {
    CHECK(chipemu_abi_version() == CHIPEMU_ABI_VERSION, "abi version");
    const int32_t codes[] = {INT32_MIN, -1, 0, 1, 5, 6, 15, 16, 18, 19, 1000, INT32_MAX};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++, nl_tried++) {
        const char *s = chipemu_status_string(codes[i]);
        CHECK(s != NULL && s[0] != '\0', "status_string(%d)", (int)codes[i]);
    }
    chipemu_format_info f, keep;
    memset(&f, 0xAB, sizeof f);
    keep = f;
    NL_ST(chipemu_format_info_get(0, NULL), CHIPEMU_ERR_NULL, "format_info_get(out NULL)");
    const int32_t bad_fmt[] = {INT32_MIN, -1, CHIPEMU_NUM_FORMATS, INT32_MAX};
    for (size_t i = 0; i < 4; i++)
        NL_ST(chipemu_format_info_get(bad_fmt[i], &f), CHIPEMU_ERR_FORMAT, "format_info_get(%d)", (int)bad_fmt[i]);
    CHECK(memcmp(&f, &keep, sizeof f) == 0, "format_info_get wrote on failure");

    float x[4] = {1, -2, 3, NAN}, y[4] = {0};
    uint32_t out = 77;
    NL_ST(chipemu_absmax_bits(NULL, 1, &out), CHIPEMU_ERR_NULL, "absmax(x NULL)");
    NL_ST(chipemu_absmax_bits(x, 4, NULL), CHIPEMU_ERR_NULL, "absmax(out NULL)");
    NL_ST(chipemu_absmax_bits(x, -1, &out), CHIPEMU_ERR_SIZE, "absmax(n -1)");
    NL_ST(chipemu_absmax_bits(x, INT64_MIN, &out), CHIPEMU_ERR_SIZE, "absmax(n min)");
    CHECK(out == 77, "absmax wrote on failure");
    NL_ST(chipemu_absmax_bits(NULL, 0, &out), CHIPEMU_OK, "absmax(NULL, 0)");
    CHECK(out == 0, "absmax of nothing");
    const uint32_t bits[] = {0, 1, 0x7F800000u, 0x7FC00000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < 5; i++, nl_tried++) {
        float s = chipemu_int8_scale(bits[i]);
        CHECK(s != s || s > 0.0f, "int8_scale(%08x) = %g", bits[i], (double)s);
    }
    /* the scalar vecmath functions cannot fail: specials give the documented values */
    CHECK(chipemu_exp_f32(x[3]) != chipemu_exp_f32(x[3]) && chipemu_reciprocal_f32(INFINITY) == 0.0f
          && chipemu_rsqrt_f32(-0.0f) == -INFINITY, "vecmath scalars on specials");
    nl_tried += 3;
    int32_t (*const vec[3])(const float *, float *, int64_t) = {chipemu_vec_exp, chipemu_vec_reciprocal,
                                                                 chipemu_vec_rsqrt};
    for (int k = 0; k < 3; k++) {
        NL_ST(vec[k](NULL, y, 1), CHIPEMU_ERR_NULL, "vec %d(x NULL)", k);
        NL_ST(vec[k](x, NULL, 1), CHIPEMU_ERR_NULL, "vec %d(y NULL)", k);
        NL_ST(vec[k](x, y, -1), CHIPEMU_ERR_SIZE, "vec %d(n -1)", k);
        NL_ST(vec[k](x, y, INT64_MIN), CHIPEMU_ERR_SIZE, "vec %d(n min)", k);
        NL_ST(vec[k](NULL, NULL, 0), CHIPEMU_OK, "vec %d(NULL, NULL, 0)", k);
    }
    CHECK(y[0] == 0.0f, "vec wrote on failure");

    int8_t codes8[8] = {0};
    uint8_t scales[2] = {0};
    for (int32_t fmt = -1; fmt <= CHIPEMU_NUM_FORMATS; fmt++) {
        int valid = fmt >= 0 && fmt < CHIPEMU_NUM_FORMATS;
        int32_t bad = valid ? CHIPEMU_ERR_NULL : CHIPEMU_ERR_FORMAT;
        NL_ST(chipemu_quantize(fmt, NULL, 1, 1, 0, 1, codes8, scales, 1.0f), bad, "quantize(%d, x NULL)", fmt);
        NL_ST(chipemu_quantize(fmt, x, 1, 1, 0, 1, NULL, scales, 1.0f), bad, "quantize(%d, codes NULL)", fmt);
        NL_ST(chipemu_dequantize(fmt, NULL, scales, 1.0f, 1, 1, 0, 1, y), bad, "dequantize(%d, codes NULL)", fmt);
        NL_ST(chipemu_dequantize(fmt, codes8, scales, 1.0f, 1, 1, 0, 1, NULL), bad, "dequantize(%d, out NULL)", fmt);
        int32_t size = valid ? CHIPEMU_ERR_SIZE : CHIPEMU_ERR_FORMAT;
        const int64_t shapes[][4] = {{-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 1, 0}, {1, 1, 0, 2},
                                     {1, 1, -1, 1}, {INT64_MAX, 2, 0, 1}, {INT64_MIN, INT64_MIN, 0, 1},
                                     {1, 1, INT64_MIN, INT64_MAX}};
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            const int64_t *sh = shapes[i];
            NL_ST(chipemu_quantize(fmt, x, sh[0], sh[1], sh[2], sh[3], codes8, scales, 1.0f), size,
                  "quantize(%d) shape %zu", fmt, i);
            NL_ST(chipemu_dequantize(fmt, codes8, scales, 1.0f, sh[0], sh[1], sh[2], sh[3], y), size,
                  "dequantize(%d) shape %zu", fmt, i);
        }
    }
    CHECK(y[0] == 0.0f && codes8[0] == 0, "codec wrote on failure");
}

#include "test_driver_null_intrinsics.c"   /* NL_INTRINSICS, nl_ctx_variants, nl_extremes */

/* The exported tile kernels (chipemu.h "kernels"), each with the ctx it is given. */
typedef void (*nl_kernel_fn)(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p);
static const struct { const char *name; nl_kernel_fn fn; } NL_KERNELS[] = {
    {"at_kv", chipemu_kernel_at_kv}, {"at_q", chipemu_kernel_at_q},
    {"at_append", chipemu_kernel_at_append}, {"at_step", chipemu_kernel_at_step},
    {"at_ingest", chipemu_kernel_at_ingest},
    {"mb_barrier_all", chipemu_kernel_mb_barrier_all}, {"mm_load", chipemu_kernel_mm_load},
    {"mm_step", chipemu_kernel_mm_step}, {"mb_dimc_setup", chipemu_kernel_mb_dimc_setup},
    {"mb_dimc_stream", chipemu_kernel_mb_dimc_stream}, {"mb_send_table", chipemu_kernel_mb_send_table},
    {"mb_dram_table", chipemu_kernel_mb_dram_table}, {"sr_load", chipemu_kernel_sr_load},
    {"sr_scale", chipemu_kernel_sr_scale},
    {"rms_load", chipemu_kernel_rms_load}, {"rms_partial", chipemu_kernel_rms_partial},
    {"rms_reduce", chipemu_kernel_rms_reduce}, {"rms_apply", chipemu_kernel_rms_apply},
    {"glu_load", chipemu_kernel_glu_load}, {"move_run", chipemu_kernel_move_run}, {"glu_apply", chipemu_kernel_glu_apply},
    {"res_load", chipemu_kernel_res_load}, {"res_add", chipemu_kernel_res_add},
    {"ln_load", chipemu_kernel_ln_load}, {"ln_sum", chipemu_kernel_ln_sum},
    {"ln_mean", chipemu_kernel_ln_mean}, {"ln_center", chipemu_kernel_ln_center},
    {"ln_var", chipemu_kernel_ln_var}, {"ln_apply", chipemu_kernel_ln_apply},
    {"emb_gather", chipemu_kernel_emb_gather},
    {"smx_load", chipemu_kernel_smx_load}, {"smx_max", chipemu_kernel_smx_max},
    {"smx_max_reduce", chipemu_kernel_smx_max_reduce}, {"smx_exp", chipemu_kernel_smx_exp},
    {"smx_sum_reduce", chipemu_kernel_smx_sum_reduce}, {"smx_scale", chipemu_kernel_smx_scale},
    {"amx_load", chipemu_kernel_amx_load}, {"amx_local", chipemu_kernel_amx_local},
    {"amx_pick", chipemu_kernel_amx_pick},
    {"rope_load", chipemu_kernel_rope_load}, {"rope_apply", chipemu_kernel_rope_apply},
};
#define NL_N_KERNELS ((int)(sizeof NL_KERNELS / sizeof NL_KERNELS[0]))
static const int64_t NL_ZEROS[512];           /* a zeroed parameter array, longer than any header */

/* A kernel's own checks record MSG_PARAM with v4 = the word of p (-1: p NULL, -2: the tile). */
static void nl_expect_param(chipemu_ctx *ctx, const char *name, int64_t word) {
    const int64_t *sc = ctx->sc;
    CHECK(sc[CHIPEMU_SC_ERROR] == CHIPEMU_KERR_SHAPE && sc[CHIPEMU_SC_MESSAGE] == 18 /* MSG_PARAM */
          && sc[CHIPEMU_SC_VALUES + 4] == word && sc[CHIPEMU_SC_EVENTS] == 0,
          "%s: record of parameter word %lld (error %lld, word %lld)", name, (long long)word,
          (long long)sc[CHIPEMU_SC_ERROR], (long long)sc[CHIPEMU_SC_VALUES + 4]);
    nl_reset(ctx);
}

static void nl_kernels(chipemu_ctx *ctx, int64_t tile) {
    for (int k = 0; k < NL_N_KERNELS; k++) {
        NL_KERNELS[k].fn(ctx, tile, 0, NULL);
        nl_expect_param(ctx, NL_KERNELS[k].name, -1);
        NL_KERNELS[k].fn(ctx, tile + 1, 0, NL_ZEROS);
        nl_expect_param(ctx, NL_KERNELS[k].name, -2);
        NL_KERNELS[k].fn(ctx, tile, 0, NL_ZEROS);            /* an error or nothing, no access */
        CHECK(ctx->sc[CHIPEMU_SC_EVENTS] == 0, "%s logged from zeroed params", NL_KERNELS[k].name);
        nl_reset(ctx);
        nl_tried += 3;
    }
    /* divisors and shift counts of the schedules (words from the generated params.h) */
    int64_t p[64] = {0};
    p[1] = 0;                                                 /* H_STAGES */
    chipemu_kernel_mm_step(ctx, tile, 0, p);
    nl_expect_param(ctx, "mm_step stages 0", 1);
    p[1] = 63;
    chipemu_kernel_mm_step(ctx, tile, 0, p);
    nl_expect_param(ctx, "mm_step stages 63", 1);
    p[1] = 2;                                                 /* then H_PARTS, H_GROUP, H_SLOTS */
    chipemu_kernel_mm_step(ctx, tile, 0, p);
    nl_expect_param(ctx, "mm_step parts 0", 4);
    p[4] = 1;
    chipemu_kernel_mm_step(ctx, tile, 0, p);
    nl_expect_param(ctx, "mm_step group 0", 12);
    p[12] = 1;
    chipemu_kernel_mm_step(ctx, tile, 0, p);
    nl_expect_param(ctx, "mm_step slots 0", 10);
    p[1] = 0;
    chipemu_kernel_at_step(ctx, tile, 0, p);
    nl_expect_param(ctx, "at_step stages 0", 1);
    p[7] = 5;                                                 /* STREAM_H_ITERATIONS, slots 0 */
    chipemu_kernel_mb_dimc_stream(ctx, tile, 0, p);
    nl_expect_param(ctx, "mb_dimc_stream slots 0", 6);
    nl_tried += 7;
}

/* Runs inside chipemu_launch: the ctx is valid, p[0] says the mode. Leaves the scalars clean. */
static void nl_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    int64_t next = (tile + 1) % RT_TILES;
    const int64_t tiles[RT_TILES] = {next, next, next, next};  /* send's n_dst may be up to 4 */
    nl_ctx_variants(ctx, tiles, (int)p[0]);
    nl_extremes(ctx, tiles);
    nl_kernels(ctx, tile);
}

/* ---- the runtime: chipemu_launch and chipemu_finish ---- */

static void rt_nop_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)ctx; (void)tile; (void)step; (void)p;
}

/* SEND b[0, 16) to the next tile at a + 128 and DRAM d[16 t, +16) = b: data staged for finish */
static void nl_stage_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step; (void)p;
    int64_t next = (tile + 1) % RT_TILES;
    chipemu_in_send(ctx, &next, 1, 1, 0, 0, 128, 16);
    chipemu_in_dram_write(ctx, 1, 0, 3, 16 * tile, 16);
}

static void nl_launch_errors(void) {
    rt_machine m;
    rt_init(&m, 1, 4, 3, 64);
    chipemu_superstep z;
    memset(&z, 0, sizeof z);
    int64_t ne = -7, np = -7;
    NL_ST(chipemu_launch(&z, rt_nop_kernel, NULL, 0, 0), CHIPEMU_ERR_NULL, "launch(zeroed superstep)");
    NL_ST(chipemu_finish(&z, &ne, &np), CHIPEMU_ERR_NULL, "finish(zeroed superstep)");
    NL_ST(chipemu_finish(NULL, &ne, &np), CHIPEMU_ERR_NULL, "finish(NULL)");
    NL_ST(chipemu_finish(&m.s, &ne, NULL), CHIPEMU_ERR_NULL, "finish(n_peers NULL)");
    CHECK(ne == -7 && np == -7, "finish wrote its outputs on failure");
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, -1, 1), CHIPEMU_ERR_SIZE, "launch(begin -1)");
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, INT64_MIN, INT64_MAX), CHIPEMU_ERR_SIZE, "launch(extremes)");
    /* a zeroed device and each constant out of its limits */
    int64_t dev[CHIPEMU_DEV_COUNT];
    memcpy(dev, m.dev, sizeof dev);
    memset(m.dev, 0, sizeof m.dev);
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(zeroed dev)");
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(zeroed dev)");
    memcpy(m.dev, dev, sizeof dev);
    m.dev[CHIPEMU_DEV_BLOCKS_MAX] = INT64_MAX;
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(blocks_max)");
    memcpy(m.dev, dev, sizeof dev);
    /* memories and the buffer table */
    m.s.n_bufs = -1;
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(n_bufs -1)");
    m.s.n_bufs = 5;
    m.bufs[4 * CHIPEMU_BT_COUNT + CHIPEMU_BT_KIND] = 9;
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(buffer kind 9)");
    m.bufs[4 * CHIPEMU_BT_COUNT + CHIPEMU_BT_KIND] = CHIPEMU_BUF_HOST;
    const uint8_t *host = m.s.host;
    m.s.host = NULL;
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, 0, 1), CHIPEMU_ERR_NULL, "launch(host NULL)");
    m.s.host = host;
    /* a tile's counters beyond the caps: refused before its kernel runs */
    m.sc[CHIPEMU_SC_PEERS] = 4;
    NL_ST(chipemu_launch(&m.s, rt_nop_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(peers past the cap)");
    m.sc[CHIPEMU_SC_PEERS] = 0;
    /* finish: a region the host wrote itself, refused before anything moves */
    CHECK_ST(chipemu_launch(&m.s, nl_stage_kernel, NULL, 0, RT_TILES), CHIPEMU_OK, "stage launch");
    uint8_t *sram_copy = xmalloc(RT_TILES * RT_SRAM);
    memcpy(sram_copy, m.s.sram, RT_TILES * RT_SRAM);
    chipemu_event *e0 = &m.s.events[0], *e1 = &m.s.events[1], keep0 = *e0, keep1 = *e1;
    e0->dst.buf = 9;
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(SEND to buffer 9)");
    *e0 = keep0;
    e0->dst.off = 250;
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(SEND past its buffer)");
    *e0 = keep0;
    m.s.peers[0] = 1000;
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(SEND to tile 1000)");
    m.s.peers[0] = 1;
    e0->peer_first = 5;
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(peer slice past the region)");
    *e0 = keep0;
    e1->dst.buf = 0;
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(DRAM_WRITE to an SRAM buffer)");
    *e1 = keep1;
    e1->a = 0xFFFFFFFFu;
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(more bytes than staged)");
    *e1 = keep1;
    m.sc[3 * CHIPEMU_SC_COUNT + CHIPEMU_SC_STAGED] = 65;
    NL_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(staged past the cap)");
    m.sc[3 * CHIPEMU_SC_COUNT + CHIPEMU_SC_STAGED] = 32;
    CHECK(memcmp(sram_copy, m.s.sram, RT_TILES * RT_SRAM) == 0 && ne == -7, "a failed finish moved data");
    CHECK_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_OK, "finish after the repairs");
    CHECK(ne == 2 * RT_TILES && np == RT_TILES, "finish counts %lld, %lld", (long long)ne, (long long)np);
    free(sram_copy);
    rt_free(&m);
}

/* ---- the device handle: chipemu_device_open ... chipemu_last_error ---- */

static void test_null_device(void) {
    chipemu_device *dev = (chipemu_device *)&nl_tried;           /* each failure sets it NULL */
    NL_ST(chipemu_device_open(NULL, &dev), CHIPEMU_ERR_NULL, "device_open(preset NULL)");
    CHECK(dev == NULL, "device_open left a handle");
    NL_ST(chipemu_device_open("tiny", NULL), CHIPEMU_ERR_NULL, "device_open(out NULL)");
    NL_ST(chipemu_device_open("", &dev), CHIPEMU_ERR_NAME, "device_open(\"\")");
    NL_ST(chipemu_device_from_params(NULL, &dev), CHIPEMU_ERR_NULL, "from_params(NULL)");
    chipemu_device_params zero;
    memset(&zero, 0, sizeof zero);
    NL_ST(chipemu_device_from_params(&zero, &dev), CHIPEMU_ERR_PARAMS, "from_params(zeroed)");
    NL_ST(chipemu_device_from_params(&zero, NULL), CHIPEMU_ERR_NULL, "from_params(out NULL)");
    CHECK(dev == NULL && chipemu_last_error()[0] != '\0', "from_params left a handle");
    CHECK(chipemu_device_params_of(NULL) == NULL && chipemu_device_name(NULL) == NULL,
          "getters of NULL");
    CHECK(chipemu_preset_count() > 0 && chipemu_preset_name(INT64_MIN) == NULL
          && chipemu_preset_name(INT64_MAX) == NULL, "preset names out of range");
    chipemu_device_close(NULL);
    nl_tried += 4;
    CHECK(chipemu_format_name(-1) == NULL && chipemu_format_name(CHIPEMU_NUM_FORMATS) == NULL
          && strcmp(chipemu_format_name(CHIPEMU_FMT_MXINT8), "mxint8") == 0, "format names");
}

/* ---- plans and costs: chipemu_matmul_plan_* and chipemu_matmul_cost ---- */

static void test_null_host(void) {
    chipemu_matmul_plan plan;
    chipemu_cost cost;
    const int32_t f8 = CHIPEMU_FMT_MXINT8;
    NL_ST(chipemu_matmul_plan_make(NULL, 1, 64, 64, f8, f8, &plan), CHIPEMU_ERR_NULL, "plan_make(dev NULL)");
    NL_ST(chipemu_matmul_plan_region(NULL, 1, 64, 64, f8, f8, 1, 1, 1, 1, 0, &plan), CHIPEMU_ERR_NULL,
          "plan_region(params NULL)");
    NL_ST(chipemu_matmul_cost(NULL, 1, 64, 64, f8, f8, &cost), CHIPEMU_ERR_NULL, "matmul_cost(dev NULL)");
    chipemu_device *dev = NULL;
    CHECK_ST(chipemu_device_open("tiny", &dev), CHIPEMU_OK, "open tiny");
    const chipemu_device_params *p = chipemu_device_params_of(dev);
    NL_ST(chipemu_matmul_plan_make(dev, 1, 64, 64, f8, f8, NULL), CHIPEMU_ERR_NULL, "plan_make(out NULL)");
    NL_ST(chipemu_matmul_cost(dev, 1, 64, 64, f8, f8, NULL), CHIPEMU_ERR_NULL, "matmul_cost(out NULL)");
    const int64_t bad[] = {0, -1, INT64_MIN, INT64_MAX, (int64_t)1 << 31};
    for (int i = 0; i < 5; i++) {
        NL_ST(chipemu_matmul_plan_make(dev, bad[i], 64, 64, f8, f8, &plan), CHIPEMU_ERR_SIZE, "plan m=%lld",
              (long long)bad[i]);
        NL_ST(chipemu_matmul_cost(dev, 1, bad[i], 64, f8, f8, &cost), CHIPEMU_ERR_SIZE, "cost k=%lld",
              (long long)bad[i]);
        NL_ST(chipemu_matmul_plan_region(p, 1, 64, bad[i], f8, f8, 1, 1, 1, 1, 0, &plan), CHIPEMU_ERR_SIZE,
              "plan_region n=%lld", (long long)bad[i]);
        NL_ST(chipemu_matmul_plan_region(p, 1, 64, 64, f8, f8, bad[i] < 1 ? bad[i] : 1, 1, 1,
                                         bad[i] < 1 ? 1 : bad[i], 0, &plan), CHIPEMU_ERR_SIZE,
              "plan_region region/replicas %lld", (long long)bad[i]);
    }
    const int32_t bad_fmt[] = {-1, CHIPEMU_FMT_FP32, CHIPEMU_FMT_BF16, CHIPEMU_NUM_FORMATS, INT32_MAX};
    for (int i = 0; i < 5; i++) {
        NL_ST(chipemu_matmul_plan_make(dev, 1, 64, 64, bad_fmt[i], f8, &plan), CHIPEMU_ERR_UNSUPPORTED,
              "plan fmt %d", (int)bad_fmt[i]);
        NL_ST(chipemu_matmul_cost(dev, 1, 64, 64, f8, bad_fmt[i], &cost), CHIPEMU_ERR_UNSUPPORTED,
              "cost weight_fmt %d", (int)bad_fmt[i]);
    }
    NL_ST(chipemu_matmul_cost(dev, 1, 1 << 20, 1 << 20, f8, f8, &cost), CHIPEMU_ERR_CAPACITY,
          "cost of weights beyond the device");
    CHECK(strstr(chipemu_last_error(), "do not fit the device") != NULL, "capacity text: %s",
          chipemu_last_error());
    /* a real run under the sanitizers: a decode GEMV and a small GEMM */
    CHECK_ST(chipemu_matmul_cost(dev, 1, 512, 256, f8, CHIPEMU_FMT_MXINT4, &cost), CHIPEMU_OK, "GEMV cost");
    CHECK(cost.cycles > 0 && cost.energy_fj > 0 && cost.n_phases == 2
          && cost.phases[1].cycles > 0 && strcmp(cost.phases[1].name, "compute") == 0, "GEMV figures");
    CHECK_ST(chipemu_matmul_cost(dev, 40, 300, 200, CHIPEMU_FMT_INT8, CHIPEMU_FMT_INT8, &cost), CHIPEMU_OK,
             "GEMM cost");
    CHECK(cost.phases[0].cycles + cost.phases[1].cycles >= cost.cycles - 1, "phases cover the run");
    /* a functional matmul and the encoders: NULLs, bad sizes, and a run checked by hand */
    {
        float a[2 * 64], b[64 * 3], y[2 * 3];
        uint8_t enc[4096];
        for (int i = 0; i < 2 * 64; i++) a[i] = (float)(i % 7) - 3.0f;
        for (int i = 0; i < 64 * 3; i++) b[i] = (i % 3) == 0 ? 1.0f : 0.0f;
        NL_ST(chipemu_matmul_run(dev, 2, 64, 3, f8, f8, NULL, b, y, NULL), CHIPEMU_ERR_NULL, "run(a NULL)");
        NL_ST(chipemu_matmul_run(dev, 2, 64, 3, f8, f8, a, NULL, y, NULL), CHIPEMU_ERR_NULL, "run(b NULL)");
        NL_ST(chipemu_matmul_run(dev, 2, 64, 3, f8, f8, a, b, NULL, NULL), CHIPEMU_ERR_NULL, "run(y NULL)");
        NL_ST(chipemu_matmul_run(NULL, 2, 64, 3, f8, f8, a, b, y, NULL), CHIPEMU_ERR_NULL, "run(dev NULL)");
        NL_ST(chipemu_matmul_run(dev, 0, 64, 3, f8, f8, a, b, y, NULL), CHIPEMU_ERR_SIZE, "run(m 0)");
        CHECK_ST(chipemu_matmul_run(dev, 2, 64, 3, f8, f8, a, b, y, &cost), CHIPEMU_OK, "a small functional run");
        /* column 0 of b sums every 3rd element of a row (exact in mxint8: small integers) */
        for (int r = 0; r < 2; r++) {
            float want = 0.0f;
            for (int i = 0; i < 64; i += 3) want += a[r * 64 + i];
            CHECK(y[r * 3] == want && y[r * 3 + 1] == 0.0f, "run row %d: %g, want %g", r, y[r * 3], want);
        }
        CHECK(cost.cycles > 0, "a functional run's cost");
        NL_ST(chipemu_encode_rows(f8, NULL, 1, 64, enc), CHIPEMU_ERR_NULL, "encode_rows(x NULL)");
        NL_ST(chipemu_encode_rows(f8, a, 1, 64, NULL), CHIPEMU_ERR_NULL, "encode_rows(out NULL)");
        NL_ST(chipemu_encode_rows(-1, a, 1, 64, enc), CHIPEMU_ERR_FORMAT, "encode_rows(fmt -1)");
        NL_ST(chipemu_encode_rows(f8, a, -1, 64, enc), CHIPEMU_ERR_SIZE, "encode_rows(rows -1)");
        NL_ST(chipemu_encode_rows(f8, a, 1, 0, enc), CHIPEMU_ERR_SIZE, "encode_rows(n 0)");
        NL_ST(chipemu_encode_rows(f8, a, INT64_MAX, 64, enc), CHIPEMU_ERR_SIZE, "encode_rows(rows max)");
        CHECK_ST(chipemu_encode_rows(f8, a, 2, 64, enc), CHIPEMU_OK, "encode_rows");
        NL_ST(chipemu_encode_weights(f8, NULL, 64, 3, 3, enc), CHIPEMU_ERR_NULL, "encode_weights(w NULL)");
        NL_ST(chipemu_encode_weights(CHIPEMU_FMT_FP32, b, 64, 3, 3, enc), CHIPEMU_ERR_UNSUPPORTED,
              "encode_weights(fp32)");
        NL_ST(chipemu_encode_weights(f8, b, 63, 3, 3, enc), CHIPEMU_ERR_SIZE, "encode_weights(63 rows)");
        NL_ST(chipemu_encode_weights(f8, b, 64, 3, 2, enc), CHIPEMU_ERR_SIZE, "encode_weights(ld < ncols)");
        NL_ST(chipemu_encode_weights(99, b, 64, 3, 3, enc), CHIPEMU_ERR_FORMAT, "encode_weights(fmt 99)");
        CHECK_ST(chipemu_encode_weights(f8, b, 64, 3, 3, enc), CHIPEMU_OK, "encode_weights");
    }
    /* attention: NULLs, bad shapes and formats, a real decode step and a vector-path call */
    chipemu_attention_plan ap;
    const int64_t decode[6] = {2, 4, 2, 1, 200, 64}, vec[6] = {2, 4, 4, 40, 496, 16};
    NL_ST(chipemu_attention_plan_make(NULL, decode, 0, f8, f8, &ap), CHIPEMU_ERR_NULL, "at plan(dev NULL)");
    NL_ST(chipemu_attention_plan_make(dev, NULL, 0, f8, f8, &ap), CHIPEMU_ERR_NULL, "at plan(shape NULL)");
    NL_ST(chipemu_attention_plan_make(dev, decode, 0, f8, f8, NULL), CHIPEMU_ERR_NULL, "at plan(out NULL)");
    NL_ST(chipemu_attention_cost(NULL, decode, 0, f8, f8, &cost), CHIPEMU_ERR_NULL, "at cost(dev NULL)");
    NL_ST(chipemu_attention_cost(dev, decode, 0, f8, f8, NULL), CHIPEMU_ERR_NULL, "at cost(out NULL)");
    NL_ST(chipemu_attention_plan_region(NULL, decode, f8, f8, 0, 1, -1, 0, 1, 1, 1, NULL, NULL, &ap),
          CHIPEMU_ERR_NULL, "at plan_region(params NULL)");
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 5; k++) {
            int64_t sh[6];
            memcpy(sh, decode, sizeof sh);
            sh[i] = bad[k];
            NL_ST(chipemu_attention_cost(dev, sh, 0, f8, f8, &cost), CHIPEMU_ERR_SIZE, "at cost shape[%d]=%lld",
                  i, (long long)bad[k]);
        }
    const int64_t gqa_bad[6] = {1, 3, 2, 1, 64, 64};
    NL_ST(chipemu_attention_cost(dev, gqa_bad, 0, f8, f8, &cost), CHIPEMU_ERR_SIZE, "at cost heads 3 / 2");
    for (int i = 0; i < 5; i++)
        NL_ST(chipemu_attention_cost(dev, decode, 0, bad_fmt[i], f8, &cost), CHIPEMU_ERR_UNSUPPORTED,
              "at cost fmt %d", (int)bad_fmt[i]);
    NL_ST(chipemu_attention_cost(dev, decode, 0, f8, CHIPEMU_FMT_MXINT4, &cost), CHIPEMU_ERR_UNSUPPORTED,
          "at cost with a non-square kv_fmt");
    NL_ST(chipemu_attention_plan_region(p, decode, f8, f8, -1, 1, -1, 0, 1, 1, 1, NULL, NULL, &ap),
          CHIPEMU_ERR_SIZE, "at plan_region mq -1");
    NL_ST(chipemu_attention_plan_region(p, decode, f8, f8, 0, 17, -1, 0, 1, 1, 1, NULL, NULL, &ap),
          CHIPEMU_ERR_SIZE, "at plan_region 17 replicas");
    NL_ST(chipemu_attention_plan_region(p, decode, f8, f8, 0, 1, 2, 0, 1, 1, 1, NULL, NULL, &ap),
          CHIPEMU_ERR_SIZE, "at plan_region path 2");
    const int64_t huge[6] = {64, 32, 8, 1, 65536, 128};
    NL_ST(chipemu_attention_cost(dev, huge, 0, f8, f8, &cost), CHIPEMU_ERR_CAPACITY, "at cost beyond the device");
    chipemu_attention_mask mk = {CHIPEMU_MASK_NONE, 1, 100, 64, 4};
    CHECK(chipemu_attention_mask_bias(&mk, 4, 1, 1, 1) == 1
          && chipemu_attention_mask_bias(&mk, 3, 1, 1, 1) == 2, "unmasked bias rule");
    mk.mask = CHIPEMU_MASK_CAUSAL, mk.sq = 100, mk.nq = 100;
    CHECK(chipemu_attention_mask_bias(&mk, 100, 1, 1, 1) == 2, "causal bias rule: %lld",
          (long long)chipemu_attention_mask_bias(&mk, 100, 1, 1, 1));
    CHECK(chipemu_attention_mask_bias(NULL, 4, 1, 1, 1) == -1
          && chipemu_attention_mask_bias(&mk, 0, 1, 1, 1) == -1, "bias rule of bad arguments");
    NL_ST(chipemu_attention_cost(dev, decode, 2, f8, f8, &cost), CHIPEMU_ERR_SIZE, "at cost mask 2");
    const int64_t prefill[6] = {1, 4, 2, 150, 150, 64};
    CHECK_ST(chipemu_attention_cost(dev, prefill, CHIPEMU_MASK_CAUSAL, f8, f8, &cost), CHIPEMU_OK,
             "causal prefill cost");
    {   /* a functional call: one query, one key: softmax of one score is 1, so y = v */
        const int64_t one[6] = {1, 1, 1, 1, 1, 64};
        float q[64], k[64], v[64], y[64];
        for (int i = 0; i < 64; i++) q[i] = 0.5f, k[i] = 0.25f, v[i] = (float)(i % 5) - 2.0f;
        NL_ST(chipemu_attention_run(NULL, one, 0, f8, f8, NAN, q, k, v, y, NULL), CHIPEMU_ERR_NULL, "at run(dev)");
        NL_ST(chipemu_attention_run(dev, NULL, 0, f8, f8, NAN, q, k, v, y, NULL), CHIPEMU_ERR_NULL, "at run(shape)");
        NL_ST(chipemu_attention_run(dev, one, 0, f8, f8, NAN, NULL, k, v, y, NULL), CHIPEMU_ERR_NULL, "at run(q)");
        NL_ST(chipemu_attention_run(dev, one, 0, f8, f8, NAN, q, NULL, v, y, NULL), CHIPEMU_ERR_NULL, "at run(k)");
        NL_ST(chipemu_attention_run(dev, one, 0, f8, f8, NAN, q, k, NULL, y, NULL), CHIPEMU_ERR_NULL, "at run(v)");
        NL_ST(chipemu_attention_run(dev, one, 0, f8, f8, NAN, q, k, v, NULL, NULL), CHIPEMU_ERR_NULL, "at run(y)");
        NL_ST(chipemu_attention_run(dev, gqa_bad, 0, f8, f8, NAN, q, k, v, y, NULL), CHIPEMU_ERR_SIZE, "at run(3/2)");
        CHECK_ST(chipemu_attention_run(dev, one, 0, f8, f8, INFINITY, q, k, v, y, &cost), CHIPEMU_OK,
                 "a functional attention call");
        int same = 1;
        for (int i = 0; i < 64; i++) same &= y[i] == v[i];
        CHECK(same && cost.cycles > 0, "attention of one key is its value: y[1] = %g", y[1]);
    }
    CHECK_ST(chipemu_attention_cost(dev, decode, 0, f8, f8, &cost), CHIPEMU_OK, "decode attention cost");
    CHECK(cost.cycles > 0 && cost.n_phases == 2 && cost.phases[1].cycles > 0, "decode figures");
    CHECK_ST(chipemu_attention_cost(dev, vec, 0, f8, f8, &cost), CHIPEMU_OK, "vector-path attention cost");
    CHECK_ST(chipemu_attention_plan_make(dev, vec, 0, f8, f8, &ap), CHIPEMU_OK, "vector-path plan");
    CHECK(ap.path == 1, "the vector path was not chosen");
    chipemu_device_close(dev);
}

static void test_null(void) {
    test_null_numerics();
    test_null_device();
    test_null_host();
    CHECK(chipemu_event_schema_version() == CHIPEMU_EVENT_SCHEMA_VERSION
          && chipemu_event_size() == (int64_t)sizeof(chipemu_event), "event schema");
    /* NULL and zeroed ctx: every intrinsic refuses, every kernel returns */
    chipemu_ctx z;
    memset(&z, 0, sizeof z);
    const int64_t one[RT_TILES] = {0};
    for (int k = 0; k < NL_N_INTRINSICS; k++) {
        const nl_intrinsic *in = &NL_INTRINSICS[k];
        NL_ST(in->call(NULL, in->a, one), CHIPEMU_ERR_NULL, "%s(NULL ctx)", in->name);
        NL_ST(in->call(&z, in->a, one), CHIPEMU_ERR_NULL, "%s(zeroed ctx)", in->name);
    }
    NL_ST(chipemu_in_vec_copy(NULL, 0, 0, 0, 0, 16), CHIPEMU_ERR_NULL, "the issue's vec_copy(NULL ...)");
    for (int k = 0; k < NL_N_KERNELS; k++) {
        NL_KERNELS[k].fn(NULL, 0, 0, NULL);
        NL_KERNELS[k].fn(NULL, 0, 0, NL_ZEROS);
        NL_KERNELS[k].fn(&z, 0, 0, NULL);
        NL_KERNELS[k].fn(&z, 0, 0, NL_ZEROS);
        nl_tried += 4;
    }
    CHECK(memcmp(&z, &(chipemu_ctx){0}, sizeof z) == 0, "a kernel wrote into a zeroed ctx");
    /* a valid ctx (made by the launcher) with one thing broken, and extreme arguments */
    for (int functional = 1; functional >= 0; functional--) {
        rt_machine m;
        rt_init(&m, functional, 4, 3, 64);
        const int64_t mode[1] = {functional};
        CHECK_ST(chipemu_launch(&m.s, nl_kernel, mode, 0, RT_TILES), CHIPEMU_OK, "null-argument launch");
        int64_t ne = -1, np = -1;
        CHECK_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_OK, "null-argument finish");
        CHECK(ne == 0 && np == 0, "the null-argument kernel left %lld events", (long long)ne);
        rt_free(&m);
    }
    nl_launch_errors();
    printf("test_driver_null: %d exported functions, %lld calls with bad arguments\n",
           NL_N_INTRINSICS + NL_N_KERNELS + 17, (long long)nl_tried);
}
