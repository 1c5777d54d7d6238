/* test_driver_runtime.c — the runtime and intrinsics from plain C (included by test_driver.c,
 * which provides CHECK, CHECK_ST and xmalloc).
 *
 * Builds a superstep by hand (every array malloc'ed at its exact size, so ASan catches any
 * overrun), runs a kernel written here and the test tile kernels (tests/testkernels/tile.c)
 * through chipemu_launch and chipemu_finish, and checks delivery, the log, and that broken rules
 * and bad arguments give statuses and recorded errors, never a crash.
 */

#define CORE_MAX 2147483647LL
enum { RT_TILES = 4, RT_ROWS = 64, RT_COLS = 64, RT_SLOTS = 2, RT_CMAX = 128, RT_BMAX = 2, RT_SRAM = 1024 };

typedef struct {
    chipemu_superstep s;
    int64_t dev[CHIPEMU_DEV_COUNT], bufs[5 * CHIPEMU_BT_COUNT], sc[RT_TILES * CHIPEMU_SC_COUNT];
    int8_t wfmt[RT_TILES * RT_SLOTS];
} rt_machine;

/* buffers: 0 SRAM a [0, 256), 1 SRAM b [256, 512), 2 SRAM w [512, 1024), 3 DRAM d (512 bytes),
 * 4 HOST h (256 bytes) */
static void rt_init(rt_machine *m, int functional, int64_t event_cap, int64_t peer_cap, int64_t stage_cap) {
    memset(m, 0, sizeof *m);
    const int64_t dev[CHIPEMU_DEV_COUNT] = {RT_TILES, RT_ROWS, RT_COLS, 8, RT_SLOTS, 1, RT_CMAX, RT_BMAX,
                                            functional ? CHIPEMU_MODE_FUNCTIONAL : CHIPEMU_MODE_TIMING, 0};
    const int64_t bufs[5 * CHIPEMU_BT_COUNT] = {CHIPEMU_BUF_SRAM, 0, 256, 0, CHIPEMU_BUF_SRAM, 256, 256, 0,
                                                CHIPEMU_BUF_SRAM, 512, 512, 0, CHIPEMU_BUF_DRAM, 0, 512, 0,
                                                CHIPEMU_BUF_HOST, 0, 256, 0};
    memcpy(m->dev, dev, sizeof dev);
    memcpy(m->bufs, bufs, sizeof bufs);
    memset(m->wfmt, -1, sizeof m->wfmt);
    for (int t = 0; t < RT_TILES; t++) m->sc[t * CHIPEMU_SC_COUNT + CHIPEMU_SC_TILE] = t;
    chipemu_superstep *s = &m->s;
    if (functional) {
        s->sram = calloc(RT_TILES, RT_SRAM);
        s->sram_stride = RT_SRAM;
        s->dimc_codes = calloc(RT_TILES * RT_SLOTS * RT_ROWS, RT_CMAX);
        s->dimc_scales = calloc(RT_TILES * RT_SLOTS * RT_BMAX, RT_CMAX);
        s->dimc_tscale = calloc(RT_TILES * RT_SLOTS, sizeof(float));
        s->dram = calloc(1, 512);
        s->dram_bytes = 512;
        s->host = calloc(1, 256);
        s->host_bytes = 256;
        s->stage = xmalloc((size_t)(RT_TILES * stage_cap));
    }
    s->dimc_wfmt = m->wfmt;
    s->bufs = m->bufs;
    s->n_bufs = 5;
    s->events = xmalloc(sizeof(chipemu_event) * (size_t)(RT_TILES * event_cap));
    s->peers = xmalloc(sizeof(uint32_t) * (size_t)(RT_TILES * peer_cap));
    s->sc = m->sc;
    s->dev = m->dev;
    s->n = RT_TILES;
    s->event_cap = event_cap;
    s->peer_cap = peer_cap;
    s->stage_cap = stage_cap;
}

static void rt_free(rt_machine *m) {
    free(m->s.sram); free(m->s.dimc_codes); free(m->s.dimc_scales); free(m->s.dimc_tscale);
    free(m->s.dram); free((void *)m->s.host); free(m->s.stage); free(m->s.events); free(m->s.peers);
}

/* b = a + a; send b[0, 16) to tile + 1 at a + 128; DRAM d[16 t, +16) = b; barrier {t, t ^ 1} */
static void rt_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    (void)p;
    int64_t next = (tile + 1) % RT_TILES, group[2] = {tile ^ 1, tile};
    chipemu_in_vec_add(ctx, 0, 0, 0, 0, 1, 0, 4);
    chipemu_in_send(ctx, &next, 1, 1, 0, 0, 128, 16);
    chipemu_in_dram_write(ctx, 1, 0, 3, 16 * tile, 16);
    chipemu_in_barrier(ctx, group, 2);
}

static void rt_bad_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    (void)p;
    if (tile != 2) return;
    CHECK_ST(chipemu_in_vec_copy(ctx, 0, 0, 1, 0, 4), CHIPEMU_OK, "copy before the error");
    CHECK_ST(chipemu_in_vec_copy(ctx, 9, 0, 1, 0, 4), CHIPEMU_ERR_KERNEL, "copy from buffer 9");
    CHECK_ST(chipemu_in_vec_copy(ctx, 0, 0, 1, 0, 4), CHIPEMU_ERR_KERNEL, "copy after the error");
    CHECK_ST(chipemu_in_send(ctx, NULL, 1, 0, 0, 1, 0, 4), CHIPEMU_ERR_KERNEL, "send after the error");
}

/* row broadcasts: d = a + b[row] out of place into b's buffer past b, then a *= b[row] in place */
static void rt_rows_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)tile;
    (void)step;
    (void)p;
    CHECK_ST(chipemu_in_vec_add_rows(ctx, 0, 0, 1, 0, 1, 64, 16, 4), CHIPEMU_OK, "add_rows");
    CHECK_ST(chipemu_in_vec_mul_rows(ctx, 0, 0, 1, 0, 0, 0, 16, 4), CHIPEMU_OK, "mul_rows in place");
}

/* extreme arguments: each must be an error record, never an access */
static void rt_rows_bad_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)step;
    const int64_t *a = p + 6 * tile;
    CHECK_ST(chipemu_in_vec_add_rows(ctx, a[0], a[1], a[2], a[3], 1, 128, a[4], a[5]), CHIPEMU_ERR_KERNEL,
             "bad add_rows");
}

static void test_rows(void) {
    rt_machine m;
    for (int functional = 1; functional >= 0; functional--) {
        rt_init(&m, functional, 2, 1, 16);
        float *a = NULL, *b = NULL;
        for (int t = 0; functional && t < RT_TILES; t++) {
            a = (float *)(void *)(m.s.sram + t * RT_SRAM);
            b = (float *)(void *)(m.s.sram + t * RT_SRAM + 256);
            for (int i = 0; i < 16; i++) a[i] = (float)(i + t);
            for (int r = 0; r < 4; r++) b[r] = (float)(r - 1) * 0.5f;
            b[3] = NAN;
        }
        int64_t ne = -1, np = -1;
        CHECK_ST(chipemu_launch(&m.s, rt_rows_kernel, NULL, 0, RT_TILES), CHIPEMU_OK, "rows launch");
        CHECK_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_OK, "rows finish");
        CHECK(ne == 2 * RT_TILES, "rows events %lld", (long long)ne);
        const chipemu_event *e = &m.s.events[1];
        CHECK(e->op == CHIPEMU_OP_VEC && e->c == CHIPEMU_VOP_MUL && e->a == 16 && e->b == 4
              && e->flags == CHIPEMU_FLAG_ROW_BROADCAST && e->src1.len == 16 && e->dst.len == 64,
              "mul_rows event");
        for (int t = 0; functional && t < RT_TILES; t++) {
            a = (float *)(void *)(m.s.sram + t * RT_SRAM);
            const float *d = (const float *)(const void *)(m.s.sram + t * RT_SRAM + 256 + 64);
            uint32_t u;
            memcpy(&u, &a[15], 4);
            CHECK(d[5] == (float)(5 + t) + 0.0f && a[5] == 0.0f && a[9] == (float)(9 + t) * 0.5f
                  && u == 0x7FC00000u, "tile %d: rows results", t);
        }
        rt_free(&m);
    }
    /* per tile: a_buf, a_off, b_buf, b_off, n, row_len */
    const int64_t bad[6 * RT_TILES] = {0, 0, 1, 0, CORE_MAX, CORE_MAX, 0, 0, 1, 0, 16, -5,
                                       0, 0, 1, INT64_MAX - 3, 16, 4, -1, 0, 1, 0, 16, 4};
    rt_init(&m, 1, 2, 1, 16);
    for (int t = 0; t < RT_TILES; t++) {
        CHECK_ST(chipemu_launch(&m.s, rt_rows_bad_kernel, bad, t, t + 1), CHIPEMU_ERR_KERNEL, "bad rows");
        CHECK(m.sc[t * CHIPEMU_SC_COUNT + CHIPEMU_SC_INTRINSIC] == CHIPEMU_IN_VEC_ADD_ROWS
              && m.sc[t * CHIPEMU_SC_COUNT + CHIPEMU_SC_EVENTS] == 0, "bad rows record %d", t);
    }
    rt_free(&m);
}

/* vec_dot: w[0, 24) = a[2x4] . b[3x4]^T, then w[64, 80) += a . (b's rows 1, 2)^T */
static void rt_dot_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)tile;
    (void)step;
    (void)p;
    CHECK_ST(chipemu_in_vec_dot(ctx, 0, 0, 1, 0, 2, 0, 2, 3, 4, 0), CHIPEMU_OK, "dot");
    CHECK_ST(chipemu_in_vec_dot(ctx, 0, 0, 1, 16, 2, 64, 2, 2, 4, 1), CHIPEMU_OK, "dot accumulate");
}

/* p = {a_off, b_off, dst_buf, dst_off, rows_a, rows_b, row_len, accumulate}: must be an error
 * record, never an access or an overflow */
static void rt_dot_bad_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p) {
    (void)tile;
    (void)step;
    CHECK_ST(chipemu_in_vec_dot(ctx, 0, p[0], 1, p[1], p[2], p[3], p[4], p[5], p[6], p[7]),
             CHIPEMU_ERR_KERNEL, "bad dot");
}

static void test_dot(void) {
    static const float A[8] = {1, 2, 3, 4, 0.5f, -1, 2, 1e30f};
    static const float B[12] = {1, 1, 1, 1, -1, 0, 0.25f, 0, 2, 2, 2, INFINITY};
    static const float OLD[4] = {5, -INFINITY, 0, 0};
    /* row-major results; NAN stands for the canonical quiet NaN */
    static const float W0[6] = {10, -0.25f, INFINITY, 1e30f, 0, INFINITY};
    static const float W1[4] = {4.75f, NAN, 0, INFINITY};
    rt_machine m;
    for (int functional = 1; functional >= 0; functional--) {
        rt_init(&m, functional, 2, 1, 16);
        for (int t = 0; functional && t < RT_TILES; t++) {
            uint8_t *s = m.s.sram + t * RT_SRAM;
            memcpy(s, A, sizeof A);
            memcpy(s + 256, B, sizeof B);
            memcpy(s + 512 + 64, OLD, sizeof OLD);
        }
        int64_t ne = -1, np = -1;
        CHECK_ST(chipemu_launch(&m.s, rt_dot_kernel, NULL, 0, RT_TILES), CHIPEMU_OK, "dot launch");
        CHECK_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_OK, "dot finish");
        CHECK(ne == 2 * RT_TILES, "dot events %lld", (long long)ne);
        const chipemu_event *e = &m.s.events[0], *f = &m.s.events[1];
        CHECK(e->op == CHIPEMU_OP_VEC && e->c == CHIPEMU_VOP_MUL && e->a == 2 * 2 * 3 * 4 && e->b == 4
              && e->flags == CHIPEMU_FLAG_DOT && e->fmt == -1 && e->fmt2 == -1 && e->peer_count == 0
              && e->src0.buf == 0 && e->src0.len == 32 && e->src1.buf == 1 && e->src1.len == 48
              && e->dst.buf == 2 && e->dst.off == 0 && e->dst.len == 24, "dot event");
        CHECK(f->a == 2 * 2 * 2 * 4 && f->flags == (CHIPEMU_FLAG_DOT | CHIPEMU_FLAG_ACCUMULATE)
              && f->src1.off == 16 && f->src1.len == 32 && f->dst.off == 64 && f->dst.len == 16,
              "dot accumulate event");
        for (int t = 0; functional && t < RT_TILES; t++) {
            const uint8_t *w = m.s.sram + t * RT_SRAM + 512;
            for (int i = 0; i < 10; i++) {
                float want = i < 6 ? W0[i] : W1[i - 6], got;
                memcpy(&got, w + (i < 6 ? 4 * i : 64 + 4 * (i - 6)), 4);
                uint32_t u;
                memcpy(&u, &got, 4);
                CHECK(want != want ? u == 0x7FC00000u : got == want, "tile %d: dot value %d = %g", t, i,
                      (double)got);
            }
        }
        rt_free(&m);
    }
    static const int64_t bad[][8] = {
        {0, 0, 2, 0, CORE_MAX, CORE_MAX, CORE_MAX, 0},         /* rows_a * rows_b past the limit */
        {0, 0, 2, 0, INT64_MIN, 1, 1, 0},
        {0, 0, 2, 0, 1 << 16, 1 << 14, 1 << 14, 0},            /* the product 2^44 */
        {0, 0, 2, 0, 1, 1, 1, 2},                              /* accumulate 2 */
        {INT64_MAX - 3, 0, 2, 0, 1, 1, 1, 0},                  /* a offset */
        {0, INT64_MIN, 2, 0, 1, 1, 1, 0},                      /* b offset */
        {0, 0, 2, 508, 2, 2, 1, 0},                            /* dst past w */
        {0, 0, 0, 4, 2, 2, 4, 0},                              /* dst inside a */
        {0, 0, 1, 0, 2, 2, 4, 1},                              /* dst = b */
        {0, 0, 7, 0, 1, 1, 1, 0},                              /* no buffer 7 */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rt_init(&m, k % 2 == 0, 2, 1, 16);
        CHECK_ST(chipemu_launch(&m.s, rt_dot_bad_kernel, bad[k], 0, 1), CHIPEMU_ERR_KERNEL, "bad dot");
        CHECK(m.sc[CHIPEMU_SC_INTRINSIC] == CHIPEMU_IN_VEC_DOT && m.sc[CHIPEMU_SC_ERROR] == CHIPEMU_KERR_SHAPE
              && m.sc[CHIPEMU_SC_EVENTS] == 0, "bad dot record %zu", k);
        rt_free(&m);
    }
}

static void test_runtime(void) {
    rt_machine m;
    rt_init(&m, 1, 4, 3, 64);
    for (int t = 0; t < RT_TILES; t++)
        for (int i = 0; i < 4; i++) ((float *)(void *)(m.s.sram + t * RT_SRAM))[i] = (float)(10 * t + i);
    int64_t ne = -1, np = -1;
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 0, 2), CHIPEMU_OK, "launch tiles 0..1");
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 2, 4), CHIPEMU_OK, "launch tiles 2..3");
    CHECK(((float *)(void *)(m.s.sram + RT_SRAM))[128 / 4] == 0.0f, "send visible before finish");
    CHECK_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_OK, "finish");
    CHECK(ne == 16 && np == 12, "finish counted %lld events, %lld peers", (long long)ne, (long long)np);
    for (int t = 0; t < RT_TILES; t++) {
        int src = (t + RT_TILES - 1) % RT_TILES;
        const float *a = (const float *)(const void *)(m.s.sram + t * RT_SRAM);
        CHECK(a[128 / 4 + 1] == 2.0f * (float)(10 * src + 1), "tile %d got %g from tile %d", t,
              (double)a[128 / 4 + 1], src);
        const float *dram = (const float *)(const void *)m.s.dram;
        CHECK(dram[4 * t + 3] == 2.0f * (float)(10 * t + 3), "DRAM of tile %d", t);
    }
    static const uint8_t ops[4] = {CHIPEMU_OP_VEC, CHIPEMU_OP_SEND, CHIPEMU_OP_DRAM_WRITE,
                                   CHIPEMU_OP_BARRIER};
    for (int64_t i = 0; i < ne; i++) {
        const chipemu_event *e = &m.s.events[i];
        CHECK(e->tile == (uint32_t)(i / 4) && e->op == ops[i % 4], "event %lld", (long long)i);
    }
    const chipemu_event *b3 = &m.s.events[15];
    CHECK(b3->peer_count == 2 && b3->peer_first == 10 && m.s.peers[10] == 2 && m.s.peers[11] == 3,
          "barrier of tile 3: peers %u..+%u", b3->peer_first, b3->peer_count);
    rt_free(&m);

    /* timing mode: no data arrays, the same events */
    rt_machine t;
    rt_init(&t, 0, 4, 3, 64);
    CHECK_ST(chipemu_launch(&t.s, rt_kernel, NULL, 0, 4), CHIPEMU_OK, "timing launch");
    CHECK_ST(chipemu_finish(&t.s, &ne, &np), CHIPEMU_OK, "timing finish");
    CHECK(ne == 16 && t.s.events[5].op == CHIPEMU_OP_SEND && t.s.events[5].a == 16, "timing log");
    rt_free(&t);

    /* a broken rule: recorded in the tile's scalars, the launch stops there */
    rt_init(&m, 1, 4, 3, 64);
    CHECK_ST(chipemu_launch(&m.s, rt_bad_kernel, NULL, 0, 4), CHIPEMU_ERR_KERNEL, "bad kernel");
    const int64_t *sc2 = m.sc + 2 * CHIPEMU_SC_COUNT;
    CHECK(sc2[CHIPEMU_SC_ERROR] == CHIPEMU_KERR_SHAPE && sc2[CHIPEMU_SC_INTRINSIC] == CHIPEMU_IN_VEC
          && sc2[CHIPEMU_SC_EVENTS] == 1 && sc2[CHIPEMU_SC_VALUES + 1] == 9, "error record of tile 2");
    CHECK(m.sc[3 * CHIPEMU_SC_COUNT + CHIPEMU_SC_EVENT_CAP] == 0, "tile 3 ran after the error");
    rt_free(&m);

    /* the event bound */
    rt_init(&m, 1, 3, 2, 64);
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 0, 4), CHIPEMU_ERR_KERNEL, "event bound");
    CHECK(m.sc[CHIPEMU_SC_ERROR] == CHIPEMU_KERR_CAPACITY && m.sc[CHIPEMU_SC_EVENTS] == 3, "bound record");
    rt_free(&m);

    /* bad arguments of the launcher */
    rt_init(&m, 1, 4, 3, 64);
    CHECK_ST(chipemu_launch(NULL, rt_kernel, NULL, 0, 1), CHIPEMU_ERR_NULL, "launch(NULL)");
    CHECK_ST(chipemu_launch(&m.s, NULL, NULL, 0, 1), CHIPEMU_ERR_NULL, "launch(kernel NULL)");
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 3, 2), CHIPEMU_ERR_SIZE, "launch(end < begin)");
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 0, 5), CHIPEMU_ERR_SIZE, "launch(end > n)");
    m.bufs[2 * CHIPEMU_BT_COUNT + CHIPEMU_BT_SIZE] = 600;               /* w past the SRAM */
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(buffer past SRAM)");
    m.bufs[2 * CHIPEMU_BT_COUNT + CHIPEMU_BT_SIZE] = 512;
    m.dev[CHIPEMU_DEV_COLS_MAX] = 64;                                    /* too few state columns */
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(cols_max)");
    m.dev[CHIPEMU_DEV_COLS_MAX] = RT_CMAX;
    m.sc[CHIPEMU_SC_TILE] = 7;
    CHECK_ST(chipemu_launch(&m.s, rt_kernel, NULL, 0, 1), CHIPEMU_ERR_SIZE, "launch(tile 7 of 4)");
    CHECK_ST(chipemu_finish(&m.s, NULL, &np), CHIPEMU_ERR_NULL, "finish(NULL)");
    m.sc[CHIPEMU_SC_EVENTS] = 99;
    CHECK_ST(chipemu_finish(&m.s, &ne, &np), CHIPEMU_ERR_SIZE, "finish(events beyond the cap)");
    rt_free(&m);

    /* the library's PROGRAM kernel: 4 rows of int8 weights (codes 1, scale 2) x int8 activations
     * (codes 3, scale 0.5): every output is (4 * 3 * 1) * 0.5 * 2 = 12 */
    rt_init(&m, 1, 4, 3, 64);
    for (int tt = 0; tt < RT_TILES; tt++) {
        uint8_t *w = m.s.sram + tt * RT_SRAM + 512, *x = m.s.sram + tt * RT_SRAM;
        float two = 2.0f, half = 0.5f;
        memset(w, 1, 4 * RT_COLS);
        memcpy(w + 4 * RT_COLS, &two, 4);
        memset(x, 3, 4);
        memcpy(x + 4, &half, 4);
    }
    const int64_t prog[1 + 2 * 12] = {2, 1, -1, 0, 2, 0, 0, 4, CHIPEMU_FMT_INT8, 0, 0, 0, 0,
                                      2, -1, 0, 0, 0, 0, 1, 0, 1, 4, CHIPEMU_FMT_INT8, 0};
    CHECK_ST(chipemu_launch(&m.s, chipemu_kernel_test_program, prog, 0, 4), CHIPEMU_OK, "program");
    for (int tt = 0; tt < RT_TILES; tt++) {
        const float *y = (const float *)(const void *)(m.s.sram + tt * RT_SRAM + 256);
        CHECK(y[0] == 12.0f && y[63] == 12.0f, "tile %d: y = %g, %g", tt, (double)y[0], (double)y[63]);
    }
    CHECK(m.wfmt[RT_SLOTS * 3] == CHIPEMU_FMT_INT8 && m.wfmt[RT_SLOTS * 3 + 1] == -1, "slot formats");
    rt_free(&m);
    rt_init(&m, 1, 4, 3, 64);
    const int64_t too_many_rows[1 + 12] = {1, 1, -1, 0, 2, 0, 0, 64, CHIPEMU_FMT_INT8, 0, 0, 0, 0};
    CHECK_ST(chipemu_launch(&m.s, chipemu_kernel_test_program, too_many_rows, 0, 4), CHIPEMU_ERR_KERNEL,
             "program: 64 rows do not fit buffer w");
    CHECK(m.sc[CHIPEMU_SC_ERROR] == CHIPEMU_KERR_SHAPE && m.sc[CHIPEMU_SC_VALUES + 2] == 64 * 64 + 4,
          "range error record");
    rt_free(&m);
    test_rows();
    test_dot();
}
