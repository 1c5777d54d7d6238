/* test_driver_null_intrinsics.c — the intrinsics part of the null-argument group (included by
 * test_driver_null.c, which provides NL_ST and nl_tried): every chipemu_in_* with a ctx that has
 * one thing broken (a status, nothing written) and with each integer argument at extreme values
 * (a recorded error or a valid call, never an access outside a buffer).
 */
/* ---- the intrinsics: one call each with arguments that are valid on rt_machine ---- */

typedef int32_t (*nl_call)(chipemu_ctx *c, const int64_t *a, const int64_t *tiles);
typedef struct {
    const char *name;
    int nargs;                                 /* integer arguments a[0..nargs) */
    int64_t a[10];
    nl_call call;
} nl_intrinsic;

static int32_t nl_dimc_load(chipemu_ctx *c, const int64_t *a, const int64_t *t) {
    (void)t; return chipemu_in_dimc_load(c, a[0], a[1], a[2], a[3], a[4], a[5]);
}
static int32_t nl_dimc_mvm(chipemu_ctx *c, const int64_t *a, const int64_t *t) {
    (void)t; return chipemu_in_dimc_mvm(c, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
}
/* wrappers by argument count; the exported name is spelled out (the Python test greps for it) */
#define NL_UNARY(name, fn) static int32_t nl_##name(chipemu_ctx *c, const int64_t *a, const int64_t *t) { \
    (void)t; return fn(c, a[0], a[1], a[2], a[3], a[4]); }
#define NL_BINARY(name, fn) static int32_t nl_##name(chipemu_ctx *c, const int64_t *a, const int64_t *t) { \
    (void)t; return fn(c, a[0], a[1], a[2], a[3], a[4], a[5], a[6]); }
#define NL_ROWS(name, fn) static int32_t nl_##name(chipemu_ctx *c, const int64_t *a, const int64_t *t) { \
    (void)t; return fn(c, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); }
#define NL_REDUCE(name, fn) static int32_t nl_##name(chipemu_ctx *c, const int64_t *a, const int64_t *t) { \
    (void)t; return fn(c, a[0], a[1], a[2], a[3], a[4], a[5]); }
NL_UNARY(vec_copy, chipemu_in_vec_copy)
NL_UNARY(vec_exp, chipemu_in_vec_exp)
NL_UNARY(vec_reciprocal, chipemu_in_vec_reciprocal)
NL_UNARY(vec_rsqrt, chipemu_in_vec_rsqrt)
NL_BINARY(vec_add, chipemu_in_vec_add)
NL_BINARY(vec_mul, chipemu_in_vec_mul)
NL_BINARY(vec_max, chipemu_in_vec_max)
NL_ROWS(vec_add_rows, chipemu_in_vec_add_rows)
NL_ROWS(vec_mul_rows, chipemu_in_vec_mul_rows)
NL_ROWS(vec_col_argmax, chipemu_in_vec_col_argmax)
NL_REDUCE(vec_row_sum, chipemu_in_vec_row_sum)
NL_REDUCE(vec_row_max, chipemu_in_vec_row_max)
NL_UNARY(dram_read, chipemu_in_dram_read)
NL_UNARY(dram_write, chipemu_in_dram_write)
NL_UNARY(host_read, chipemu_in_host_read)
static int32_t nl_vec_dot(chipemu_ctx *c, const int64_t *a, const int64_t *t) {
    (void)t; return chipemu_in_vec_dot(c, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
}
static int32_t nl_vec_convert_weights(chipemu_ctx *c, const int64_t *a, const int64_t *t) {
    (void)t;
    return chipemu_in_vec_convert_weights(c, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
}
static int32_t nl_vec_convert(chipemu_ctx *c, const int64_t *a, const int64_t *t) {
    (void)t; return chipemu_in_vec_convert(c, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
}
static int32_t nl_send(chipemu_ctx *c, const int64_t *a, const int64_t *t) {
    return chipemu_in_send(c, t, a[0], a[1], a[2], a[3], a[4], a[5]);
}
/* barrier's group is the issuing tile (four times over, so n up to 4 reads inside the array) */
static int32_t nl_barrier(chipemu_ctx *c, const int64_t *a, const int64_t *t) {
    int64_t self = c != NULL && c->sc != NULL ? c->sc[CHIPEMU_SC_TILE] : 0;
    const int64_t group[4] = {self, self, self, self};
    return chipemu_in_barrier(c, t != NULL ? group : NULL, a[0]);
}

/* rt_machine: buffers 0 a, 1 b, 2 w (SRAM), 3 d (DRAM), 4 h (HOST); 64 x 64 DIMC of 8-bit cells */
static const nl_intrinsic NL_INTRINSICS[] = {
    {"dimc_load", 6, {0, 2, 0, 0, 4, CHIPEMU_FMT_INT8}, nl_dimc_load},
    {"dimc_mvm", 10, {0, 0, 0, 0, 1, 0, 1, 4, CHIPEMU_FMT_INT8, 0}, nl_dimc_mvm},
    {"vec_copy", 5, {0, 0, 1, 0, 4}, nl_vec_copy},
    {"vec_exp", 5, {0, 0, 1, 0, 4}, nl_vec_exp},
    {"vec_reciprocal", 5, {0, 0, 1, 0, 4}, nl_vec_reciprocal},
    {"vec_rsqrt", 5, {0, 0, 1, 0, 4}, nl_vec_rsqrt},
    {"vec_add", 7, {0, 0, 0, 16, 1, 0, 4}, nl_vec_add},
    {"vec_mul", 7, {0, 0, 0, 16, 1, 0, 4}, nl_vec_mul},
    {"vec_max", 7, {0, 0, 0, 16, 1, 0, 4}, nl_vec_max},
    {"vec_add_rows", 8, {0, 0, 0, 64, 1, 0, 8, 4}, nl_vec_add_rows},
    {"vec_mul_rows", 8, {0, 0, 0, 64, 1, 0, 8, 4}, nl_vec_mul_rows},
    {"vec_dot", 10, {0, 0, 0, 64, 1, 0, 2, 2, 4, 0}, nl_vec_dot},
    {"vec_col_argmax", 8, {0, 0, 0, 64, 1, 0, 8, 4}, nl_vec_col_argmax},
    {"vec_row_sum", 6, {0, 0, 1, 0, 8, 4}, nl_vec_row_sum},
    {"vec_row_max", 6, {0, 0, 1, 0, 8, 4}, nl_vec_row_max},
    {"vec_convert", 8, {0, 0, 1, 0, 32, 32, CHIPEMU_FMT_MXINT8, CHIPEMU_FMT_FP32}, nl_vec_convert},
    {"vec_convert_weights", 10, {0, 0, 2, 2, 0, 1, 0, 32, 2, CHIPEMU_FMT_MXINT8}, nl_vec_convert_weights},
    {"send", 6, {1, 0, 0, 1, 0, 16}, nl_send},
    {"dram_read", 5, {3, 0, 0, 0, 16}, nl_dram_read},
    {"dram_write", 5, {0, 0, 3, 0, 16}, nl_dram_write},
    {"host_read", 5, {4, 0, 0, 0, 16}, nl_host_read},
    {"barrier", 1, {1}, nl_barrier},
};
#define NL_N_INTRINSICS ((int)(sizeof NL_INTRINSICS / sizeof NL_INTRINSICS[0]))

/* The tile's scalars as a fresh launch leaves them (the test resets them between calls). */
static void nl_reset(chipemu_ctx *ctx) {
    int64_t *sc = ctx->sc;
    sc[CHIPEMU_SC_EVENTS] = sc[CHIPEMU_SC_PEERS] = sc[CHIPEMU_SC_STAGED] = sc[CHIPEMU_SC_ERROR] = 0;
}

/* Every intrinsic on a ctx with one thing broken: the status, and nothing written. */
static void nl_broken_ctx(chipemu_ctx *c, const int64_t *tiles, int32_t want, const char *what) {
    int64_t sc_before[CHIPEMU_SC_COUNT];
    int have_sc = c->sc != NULL;
    if (have_sc) memcpy(sc_before, c->sc, sizeof sc_before);
    for (int k = 0; k < NL_N_INTRINSICS; k++) {
        const nl_intrinsic *in = &NL_INTRINSICS[k];
        NL_ST(in->call(c, in->a, tiles), want, "%s on a ctx with %s", in->name, what);
        if (have_sc) CHECK(memcmp(sc_before, c->sc, sizeof sc_before) == 0, "%s wrote (%s)", in->name, what);
    }
}

/* Every intrinsic on a ctx whose buffer table reaches past its memories: the intrinsics that name
 * a buffer it cuts short record a range error (ASan: no access outside the memories). */
static void nl_short_table(chipemu_ctx *c, const int64_t *tiles, const char *what) {
    int refused = 0;
    for (int k = 0; k < NL_N_INTRINSICS; k++) {
        const nl_intrinsic *in = &NL_INTRINSICS[k];
        nl_tried++;
        int32_t st = in->call(c, in->a, tiles);
        int recorded = c->sc[CHIPEMU_SC_ERROR] != 0;
        CHECK(st == (recorded ? CHIPEMU_ERR_KERNEL : CHIPEMU_OK), "%s on a ctx with %s: %d", in->name, what,
              (int)st);
        refused += recorded;
        nl_reset(c);
    }
    CHECK(refused > 0, "no intrinsic refused a ctx with %s", what);
}

static void nl_ctx_variants(chipemu_ctx *ctx, const int64_t *tiles, int functional) {
    chipemu_ctx c;
    int64_t dev[CHIPEMU_DEV_COUNT], sc[CHIPEMU_SC_COUNT], bufs[5 * CHIPEMU_BT_COUNT];
#define NL_BREAK(stmt, want, what) do { c = *ctx; stmt; nl_broken_ctx(&c, tiles, want, what); } while (0)
    NL_BREAK(c.sc = NULL, CHIPEMU_ERR_NULL, "sc NULL");
    NL_BREAK(c.dev = NULL, CHIPEMU_ERR_NULL, "dev NULL");
    NL_BREAK(c.dimc_wfmt = NULL, CHIPEMU_ERR_NULL, "dimc_wfmt NULL");
    NL_BREAK(c.bufs = NULL, CHIPEMU_ERR_NULL, "bufs NULL");
    NL_BREAK(c.events = NULL, CHIPEMU_ERR_NULL, "events NULL");
    NL_BREAK(c.peers = NULL, CHIPEMU_ERR_NULL, "peers NULL");
    NL_BREAK(c.n_bufs = -1, CHIPEMU_ERR_SIZE, "n_bufs -1");
    /* the device constants: each out of the limits */
    const struct { int i; int64_t v; } devs[] = {
        {CHIPEMU_DEV_N_TILES, 0}, {CHIPEMU_DEV_N_TILES, INT64_MAX}, {CHIPEMU_DEV_ROWS, 0},
        {CHIPEMU_DEV_ROWS, CHIPEMU_LIMIT_DIMC_ROWS_MAX + 1}, {CHIPEMU_DEV_COLS, -1},
        {CHIPEMU_DEV_CELL_BITS, 3}, {CHIPEMU_DEV_SLOTS, 0}, {CHIPEMU_DEV_ENGINES, INT64_MIN},
        {CHIPEMU_DEV_COLS_MAX, 64}, {CHIPEMU_DEV_COLS_MAX, INT64_MAX}, {CHIPEMU_DEV_BLOCKS_MAX, 1},
        {CHIPEMU_DEV_BLOCKS_MAX, 1 << 20}, {CHIPEMU_DEV_MODE, 2}, {CHIPEMU_DEV_STEP, -1}};
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        memcpy(dev, ctx->dev, sizeof dev);
        dev[devs[i].i] = devs[i].v;
        NL_BREAK(c.dev = dev, CHIPEMU_ERR_SIZE, "a device constant out of its limits");
    }
    /* the tile's counters and capacities */
    const struct { int i; int64_t v; } scs[] = {
        {CHIPEMU_SC_EVENTS, -1}, {CHIPEMU_SC_EVENTS, 1000}, {CHIPEMU_SC_PEERS, INT64_MAX},
        {CHIPEMU_SC_STAGED, -5}, {CHIPEMU_SC_STAGED, 1 << 20}, {CHIPEMU_SC_EVENT_CAP, -1},
        {CHIPEMU_SC_PEER_CAP, INT64_MIN}, {CHIPEMU_SC_TILE, RT_TILES}, {CHIPEMU_SC_TILE, -1}};
    for (size_t i = 0; i < sizeof scs / sizeof scs[0]; i++) {
        memcpy(sc, ctx->sc, sizeof sc);
        sc[scs[i].i] = scs[i].v;
        NL_BREAK(c.sc = sc, CHIPEMU_ERR_SIZE, "a counter beyond its capacity");
    }
    if (!functional) return;                  /* timing mode reads no data pointer */
    NL_BREAK(c.sram = NULL, CHIPEMU_ERR_NULL, "sram NULL");
    NL_BREAK(c.dimc_codes = NULL, CHIPEMU_ERR_NULL, "dimc_codes NULL");
    NL_BREAK(c.dimc_scales = NULL, CHIPEMU_ERR_NULL, "dimc_scales NULL");
    NL_BREAK(c.dimc_tscale = NULL, CHIPEMU_ERR_NULL, "dimc_tscale NULL");
    NL_BREAK(c.dram = NULL, CHIPEMU_ERR_NULL, "dram NULL");
    NL_BREAK(c.host = NULL, CHIPEMU_ERR_NULL, "host NULL");
    NL_BREAK(c.stage = NULL, CHIPEMU_ERR_NULL, "stage NULL");
    NL_BREAK(c.scratch_f64 = NULL, CHIPEMU_ERR_NULL, "scratch NULL");
    /* the buffer table against the memories */
    const struct { int b, i; int64_t v; } bts[] = {
        {0, CHIPEMU_BT_STORE, -4}, {2, CHIPEMU_BT_STORE, 1000}, {1, CHIPEMU_BT_STORE, INT64_MAX},
        {3, CHIPEMU_BT_STORE, 500}, {4, CHIPEMU_BT_STORE, 250}, {4, CHIPEMU_BT_KIND, 7},
        {0, CHIPEMU_BT_SIZE, INT64_MIN}};
    for (size_t i = 0; i < sizeof bts / sizeof bts[0]; i++) {
        memcpy(bufs, ctx->bufs, sizeof bufs);
        bufs[bts[i].b * CHIPEMU_BT_COUNT + bts[i].i] = bts[i].v;
        c = *ctx;
        c.bufs = bufs;
        nl_short_table(&c, tiles, "a buffer outside its memory");
    }
    /* a range inside the stated size but past the memory: the record quotes the bytes in memory */
    memcpy(bufs, ctx->bufs, sizeof bufs);
    bufs[2 * CHIPEMU_BT_COUNT + CHIPEMU_BT_SIZE] = 1 << 20;
    c = *ctx;
    c.bufs = bufs;
    NL_ST(chipemu_in_dimc_load(&c, 0, 2, 0, 0, 64, CHIPEMU_FMT_INT8), CHIPEMU_ERR_KERNEL, "dimc_load past memory");
    CHECK(c.sc[CHIPEMU_SC_MESSAGE] == 6 /* MSG_RANGE */ && c.sc[CHIPEMU_SC_VALUES + 2] == 64 * 64 + 4
          && c.sc[CHIPEMU_SC_VALUES + 4] == 512, "range record of a buffer past its memory");
    nl_reset(&c);
    c = *ctx;
    c.sram_bytes = 200;
    nl_short_table(&c, tiles, "less SRAM than its buffers");
    /* a slot holding a code no dimc_load stores: dimc_mvm refuses the ctx */
    int8_t wfmt[RT_SLOTS] = {CHIPEMU_FMT_FP32, 100};
    for (int slot = 0; slot < RT_SLOTS; slot++) {
        c = *ctx;
        c.dimc_wfmt = wfmt;
        int64_t a[10];
        memcpy(a, NL_INTRINSICS[1].a, sizeof a);
        a[1] = slot;
        NL_ST(chipemu_in_dimc_mvm(&c, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]),
              CHIPEMU_ERR_FORMAT, "dimc_mvm on slot format %d", (int)wfmt[slot]);
    }
#undef NL_BREAK
}

/* Each integer argument at extreme values: a recorded error (INT64_MIN and INT64_MAX are out of
 * range for every argument) or a call that was valid anyway, never an access outside a buffer. */
static void nl_extremes(chipemu_ctx *ctx, const int64_t *tiles) {
    static const int64_t vals[] = {INT64_MIN, INT64_MAX, -1, 0, 1LL << 31, 1LL << 40, 3};
    for (int k = 0; k < NL_N_INTRINSICS; k++) {
        const nl_intrinsic *in = &NL_INTRINSICS[k];
        NL_ST(in->call(ctx, in->a, tiles), CHIPEMU_OK, "%s with its valid arguments", in->name);
        nl_reset(ctx);
        for (int i = 0; i < in->nargs; i++) {
            for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
                int64_t a[10];
                memcpy(a, in->a, sizeof a);
                a[i] = vals[v];
                nl_tried++;
                int32_t st = in->call(ctx, a, tiles);
                int recorded = ctx->sc[CHIPEMU_SC_ERROR] != 0;
                CHECK(st == (recorded ? CHIPEMU_ERR_KERNEL : CHIPEMU_OK), "%s arg %d = %lld: status %d",
                      in->name, i, (long long)vals[v], (int)st);
                CHECK(v >= 2 || st == CHIPEMU_ERR_KERNEL, "%s accepted arg %d = %lld", in->name, i,
                      (long long)vals[v]);
                nl_reset(ctx);
            }
        }
    }
    /* the pointer arguments of send and barrier */
    NL_ST(nl_send(ctx, NL_INTRINSICS[15].a, NULL), CHIPEMU_ERR_KERNEL, "send(dst_tiles NULL)");
    nl_reset(ctx);
    NL_ST(nl_barrier(ctx, NL_INTRINSICS[19].a, NULL), CHIPEMU_ERR_KERNEL, "barrier(group NULL)");
    nl_reset(ctx);
}
