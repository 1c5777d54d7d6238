/* test_driver.c — exercises the public API of libchipemu.so (csrc/include/chipemu.h) from plain C.
 *
 * No framework: every failed check prints FAIL file:line and a message, and the exit status is
 * non-zero if any failed. `make test` runs it; `make sanitize` runs it under ASan/UBSan, so every
 * buffer here is malloc'ed at its exact size and an overrun by the library is caught.
 * Bit-exactness against the NumPy reference is tested in Python; here we test the C contract:
 * statuses, bounds, unit ranges, and that bad input never crashes or writes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chipemu.h"
#include "chipemu_host.h"
#include "tile.h"                  /* the test tile kernels (tests/testkernels) */

static int n_checks, n_failed;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        n_checks++;                                                             \
        if (!(cond)) {                                                          \
            n_failed++;                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

#define CHECK_ST(expr, want, what)                                              \
    do {                                                                        \
        int32_t st_ = (expr);                                                   \
        CHECK(st_ == (want), "%s: status %d (%s), want %d", what, (int)st_,     \
              chipemu_status_string(st_), (int)(want));                         \
    } while (0)

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static uint32_t rng_state = 0x9E3779B9u;
static uint32_t rng(void) {                 /* xorshift32: fixed sequence on every platform */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* ---- format geometry, from chipemu_format_info ---- */

static chipemu_format_info info_of(int32_t fmt) {
    chipemu_format_info f;
    memset(&f, 0, sizeof f);
    CHECK_ST(chipemu_format_info_get(fmt, &f), CHIPEMU_OK, "format_info_get");
    return f;
}
static size_t container(const chipemu_format_info *f) {
    return f->elem_bits == 32 ? 4 : f->elem_bits == 16 ? 2 : 1;
}
static int64_t n_blocks(const chipemu_format_info *f, int64_t cols) {
    return (cols + f->block_size - 1) / f->block_size;
}
static int64_t n_units(const chipemu_format_info *f, int64_t rows, int64_t cols) {
    return rows * n_blocks(f, cols);
}
static size_t n_scales(const chipemu_format_info *f, int64_t rows, int64_t cols) {
    return f->scale_bits ? (size_t)n_units(f, rows, cols) : 0;
}
static int64_t unit_of(const chipemu_format_info *f, int64_t cols, int64_t i) {
    return (i / cols) * n_blocks(f, cols) + (i % cols) / f->block_size;
}
/* largest finite element value at scale 1 (mxint8: 127/64, e4m3: 448) */
static double max_value(const chipemu_format_info *f) {
    if (f->kind == CHIPEMU_KIND_BLOCK_INT) return ldexp(f->max_mag, -f->mbits);
    int32_t m = f->max_mag & ((1 << f->mbits) - 1);
    return ldexp(1.0 + ldexp(m, -f->mbits), (f->max_mag >> f->mbits) - f->bias);
}

/* ---- test data: rows x cols floats covering the awkward cases ---- */

enum { ROWS = 7, COLS = 45 };               /* 45 = 32 + 13 and < 64: partial blocks everywhere */

static void make_data(float *x, int special) {
    static const uint32_t edge[] = {
        0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x00400000, 0x00800000, 0x80800000,
        0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3F000000, 0x3F808000, 0x3F818000,
        0x477FE000, 0x477FF000, 0xC77FF000, 0x477FEFFF, 0x43E00000, 0x43F00000, 0x44000000,
        0x40C00000, 0x40E00000, 0x33800000, 0x33000000, 0x33400000, 0x7F7F8000, 0x7F7F7FFF,
    };
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
            uint32_t u, sign = (rng() & 1u) << 31;
            switch (r) {
            case 0: u = sign | (uint32_t)(117 + rng() % 20) << 23 | (rng() & 0x7FFFFF); break;
            case 1: u = c < (int)(sizeof edge / 4) ? edge[c] : rng(); break;
            case 2: u = rng(); break;                          /* any bit pattern */
            case 3: u = sign | (rng() & 0x7FFFFF); break;      /* subnormals (and zero) */
            case 4: u = sign; break;                           /* +-0 */
            case 5: u = sign | (uint32_t)(c * 254 / (COLS - 1)) << 23 | (uint32_t)c; break;
            default: u = f2u((float)(((c * 37) % 128) + 0.5) / 64.0f) | sign; break; /* ties */
            }
            if ((u & 0x7F800000u) == 0x7F800000u) u &= ~0x40000000u;   /* keep it finite */
            x[r * COLS + c] = u2f(u);
        }
    }
    if (special) {
        x[2 * COLS + 3] = u2f(0x7FC00000u);                    /* quiet NaN */
        x[2 * COLS + 40] = u2f(0x7F800000u);                   /* +Inf */
        x[0 * COLS + 33] = u2f(0xFF800000u);                   /* -Inf, in the partial block */
        x[6 * COLS + 5] = u2f(0xFFC00001u);                    /* -NaN with payload */
        x[3 * COLS + 44] = u2f(0x7F800001u);                   /* signalling NaN */
    }
}

/* ---- per-element check of a round trip against the format's error bound ---- */

static void check_value(int32_t fmt, const chipemu_format_info *f, float x, float d, int64_t i,
                        const uint8_t *scales, int64_t unit, float tscale) {
    double xd = x, dd = d;
    switch (f->kind) {
    case CHIPEMU_KIND_FP32:
        CHECK(f2u(x) == f2u(d), "fmt %d [%lld]: fp32 %08x -> %08x", (int)fmt, (long long)i,
              (unsigned)f2u(x), (unsigned)f2u(d));
        return;
    case CHIPEMU_KIND_BF16:
    case CHIPEMU_KIND_FP16: {
        if (isnan(x)) { CHECK(isnan(d), "fmt %d [%lld]: NaN -> %g", (int)fmt, (long long)i, dd); return; }
        if (isinf(d) || isinf(x)) {
            CHECK(isinf(d) && signbit(d) == signbit(x) && fabs(xd) >= max_value(f),
                  "fmt %d [%lld]: %g -> %g", (int)fmt, (long long)i, xd, dd);
            return;
        }
        double bound = fmax(fabs(xd) * ldexp(1.0, -f->mbits - 1), ldexp(1.0, -f->bias - f->mbits));
        CHECK(fabs(dd - xd) <= bound && (x != 0 || (d == 0 && signbit(d) == signbit(x))),
              "fmt %d [%lld]: %a -> %a (bound %a)", (int)fmt, (long long)i, xd, dd, bound);
        return;
    }
    case CHIPEMU_KIND_INT_TENSOR: {
        if (isnan(tscale)) { CHECK(isnan(d), "int8 [%lld]: NaN tensor gives %g", (long long)i, dd); return; }
        /* float32(127) * s can round past FLT_MAX when max|x| is near it: +-Inf, as documented */
        if (isinf(d) && 127.0 * tscale > 0x1.fffffep127) {
            CHECK(signbit(d) == signbit(x), "int8 [%lld]: %a -> %a", (long long)i, xd, dd);
            return;
        }
        double bound = tscale * (0.5 + 0x1p-10) + fabs(xd) * 0x1p-20;
        CHECK(fabs(dd - xd) <= bound, "int8 [%lld]: %a -> %a (scale %a)", (long long)i, xd, dd,
              (double)tscale);
        return;
    }
    default: {
        if (scales[unit] == 0xFF) {
            CHECK(isnan(d), "fmt %d [%lld]: NaN block gives %g", (int)fmt, (long long)i, dd);
            return;
        }
        int s = (int)scales[unit] - 127;
        /* amax < 2^(s+emax+1): error is at most half a step of the top binade, or the gap
         * between the largest element and that power of two (saturation), whichever is larger */
        double half_step = ldexp(1.0, s + f->emax - f->mbits - 1);
        double gap = ldexp(1.0, s + f->emax + 1) - ldexp(max_value(f), s);
        double bound = fmax(half_step, gap);
        CHECK(!isnan(x) && !isinf(x) && fabs(dd - xd) <= bound && (x != 0 || d == 0),
              "fmt %d [%lld]: %a -> %a (scale 2^%d, bound %a)", (int)fmt, (long long)i, xd, dd, s,
              bound);
    }
    }
}

/* The shared scale code a block must get, derived here from the floats (docs/formats.md). */
static int expected_scale(const chipemu_format_info *f, const float *row, int64_t c0, int64_t len) {
    double amax = 0;
    for (int64_t i = c0; i < c0 + len; i++) {
        if (isnan(row[i]) || isinf(row[i])) return 0xFF;
        amax = fmax(amax, fabs((double)row[i]));
    }
    if (amax == 0) return 0;
    int e;
    frexp(amax, &e);                           /* amax = m * 2^e, 0.5 <= m < 1 */
    int s = (e - 1) - f->emax;
    return (s < -127 ? -127 : s) + 127;
}

/* ---- one format, one shape: round trip, idempotence, unit splits, untouched bytes ---- */

static void check_format_shape(int32_t fmt, const float *x, int64_t rows, int64_t cols) {
    chipemu_format_info f = info_of(fmt);
    int64_t n = rows * cols, units = n_units(&f, rows, cols);
    size_t cb = container(&f), cbytes = (size_t)n * cb, ns = n_scales(&f, rows, cols);
    uint8_t *codes = xmalloc(cbytes), *codes2 = xmalloc(cbytes), *codes3 = xmalloc(cbytes);
    uint8_t *sc = xmalloc(ns), *sc2 = xmalloc(ns), *sc3 = xmalloc(ns);
    float *out = xmalloc((size_t)n * 4), *out2 = xmalloc((size_t)n * 4);
    float tscale = 0.0f;
    char what[96];
    snprintf(what, sizeof what, "fmt %d %lldx%lld", (int)fmt, (long long)rows, (long long)cols);

    if (f.kind == CHIPEMU_KIND_INT_TENSOR) {
        uint32_t am = 0;
        CHECK_ST(chipemu_absmax_bits(x, n, &am), CHIPEMU_OK, what);
        tscale = chipemu_int8_scale(am);
    }
    CHECK_ST(chipemu_quantize(fmt, x, rows, cols, 0, units, codes, sc, tscale), CHIPEMU_OK, what);
    CHECK_ST(chipemu_dequantize(fmt, codes, sc, tscale, rows, cols, 0, units, out), CHIPEMU_OK, what);
    for (int64_t i = 0; i < n; i++) {
        int64_t u = unit_of(&f, cols, i);
        check_value(fmt, &f, x[i], out[i], i, sc, u, tscale);
    }
    if (f.scale_bits) {
        for (int64_t u = 0; u < units; u++) {
            int64_t r = u / n_blocks(&f, cols), c0 = (u % n_blocks(&f, cols)) * f.block_size;
            int64_t len = c0 + f.block_size <= cols ? f.block_size : cols - c0;
            int want = expected_scale(&f, x + r * cols, c0, len);
            CHECK(sc[u] == want, "%s: scale[%lld] = %d, want %d", what, (long long)u, sc[u], want);
        }
    }

    /* quantize(dequantize(q)) == q: every code, NaN blocks included */
    CHECK_ST(chipemu_quantize(fmt, out, rows, cols, 0, units, codes2, sc2, tscale), CHIPEMU_OK, what);
    CHECK(memcmp(codes, codes2, cbytes) == 0 && (ns == 0 || memcmp(sc, sc2, ns) == 0),
          "%s: requantizing the dequantized values changed the codes", what);

    /* [0,k) + [k,units) == [0,units), for quantize and dequantize */
    int64_t ks[] = {0, 1, units / 2, units - 1, units};
    for (int j = 0; j < 5; j++) {
        int64_t k = ks[j] < 0 ? 0 : ks[j] > units ? units : ks[j];
        memset(codes2, 0xAB, cbytes);
        if (ns) memset(sc2, 0xAB, ns);
        CHECK_ST(chipemu_quantize(fmt, x, rows, cols, 0, k, codes2, sc2, tscale), CHIPEMU_OK, what);
        CHECK_ST(chipemu_quantize(fmt, x, rows, cols, k, units, codes2, sc2, tscale), CHIPEMU_OK, what);
        CHECK(memcmp(codes, codes2, cbytes) == 0 && (ns == 0 || memcmp(sc, sc2, ns) == 0),
              "%s: quantize split at %lld differs from one call", what, (long long)k);
        memset(out2, 0xAB, (size_t)n * 4);
        CHECK_ST(chipemu_dequantize(fmt, codes, sc, tscale, rows, cols, k, units, out2), CHIPEMU_OK, what);
        CHECK_ST(chipemu_dequantize(fmt, codes, sc, tscale, rows, cols, 0, k, out2), CHIPEMU_OK, what);
        CHECK(memcmp(out, out2, (size_t)n * 4) == 0,
              "%s: dequantize split at %lld differs from one call", what, (long long)k);
    }

    /* a middle range writes exactly its units' bytes (threads rely on this) */
    int64_t a = units / 3, b = units - units / 3;
    memset(codes3, 0xAB, cbytes);
    if (ns) memset(sc3, 0xAB, ns);
    memset(out2, 0xAB, (size_t)n * 4);
    CHECK_ST(chipemu_quantize(fmt, x, rows, cols, a, b, codes3, sc3, tscale), CHIPEMU_OK, what);
    CHECK_ST(chipemu_dequantize(fmt, codes, sc, tscale, rows, cols, a, b, out2), CHIPEMU_OK, what);
    int bad_codes = 0, bad_out = 0, bad_sc = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t u = unit_of(&f, cols, i);
        int in = u >= a && u < b;
        for (size_t k = 0; k < cb; k++) {
            uint8_t got = codes3[i * cb + k];
            bad_codes += in ? got != codes[i * cb + k] : got != 0xAB;
        }
        uint32_t ob = f2u(out2[i]);
        bad_out += in ? ob != f2u(out[i]) : ob != 0xABABABABu;
    }
    for (size_t u = 0; u < ns; u++) {
        int in = (int64_t)u >= a && (int64_t)u < b;
        bad_sc += in ? sc3[u] != sc[u] : sc3[u] != 0xAB;
    }
    CHECK(bad_codes == 0 && bad_out == 0 && bad_sc == 0,
          "%s: units [%lld,%lld): %d code, %d scale, %d output bytes wrong or outside the range",
          what, (long long)a, (long long)b, bad_codes, bad_sc, bad_out);

    free(codes); free(codes2); free(codes3); free(sc); free(sc2); free(sc3); free(out); free(out2);
}

static void test_round_trips(void) {
    float *x = xmalloc(ROWS * COLS * 4);
    static const int64_t shapes[][2] = {{1, 1}, {3, 31}, {2, 33}, {1, 45}, {0, 5}, {4, 0}};
    for (int special = 0; special < 2; special++) {
        make_data(x, special);
        for (int32_t fmt = 0; fmt < CHIPEMU_NUM_FORMATS; fmt++) {
            check_format_shape(fmt, x, ROWS, COLS);
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                /* copy into an exact-size buffer so ASan sees any overread */
                int64_t n = shapes[s][0] * shapes[s][1];
                float *xs = xmalloc((size_t)n * 4);
                memcpy(xs, x + COLS, (size_t)n * 4);           /* row 1 onwards: edge values */
                check_format_shape(fmt, xs, shapes[s][0], shapes[s][1]);
                free(xs);
            }
        }
    }
    free(x);
}

/* ---- hand-derived codes (docs/formats.md; the same values the Python reference gives) ---- */

static void test_known_codes(void) {
    float x4[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    int8_t i8[4];
    uint8_t u8[4], sc[1];
    uint16_t u16[4];
    CHECK_ST(chipemu_quantize(CHIPEMU_FMT_MXINT8, x4, 1, 4, 0, 1, i8, sc, 0), CHIPEMU_OK, "mxint8");
    CHECK(sc[0] == 129 && i8[0] == 16 && i8[1] == 32 && i8[2] == 48 && i8[3] == 64,
          "mxint8 [1,2,3,4]: scale %d codes %d %d %d %d", sc[0], i8[0], i8[1], i8[2], i8[3]);

    float one = 1.0f, six = 6.0f;
    CHECK_ST(chipemu_quantize(CHIPEMU_FMT_MXFP8_E4M3, &one, 1, 1, 0, 1, u8, sc, 0), CHIPEMU_OK, "e4m3");
    CHECK(sc[0] == 119 && u8[0] == 0x78, "e4m3 [1]: scale %d code %#x", sc[0], u8[0]);
    CHECK_ST(chipemu_quantize(CHIPEMU_FMT_MXFP4_E2M1, &six, 1, 1, 0, 1, u8, sc, 0), CHIPEMU_OK, "e2m1");
    CHECK(sc[0] == 127 && u8[0] == 0x7, "e2m1 [6]: scale %d code %#x", sc[0], u8[0]);

    CHECK_ST(chipemu_quantize(CHIPEMU_FMT_BF16, &one, 1, 1, 0, 1, u16, NULL, 0), CHIPEMU_OK, "bf16");
    CHECK(u16[0] == 0x3F80, "bf16 1.0 -> %#x", u16[0]);

    float h[4] = {1.0f, 65520.0f, 0x1p-24f, 65519.0f};
    CHECK_ST(chipemu_quantize(CHIPEMU_FMT_FP16, h, 1, 4, 0, 4, u16, NULL, 0), CHIPEMU_OK, "fp16");
    CHECK(u16[0] == 0x3C00 && u16[1] == 0x7C00 && u16[2] == 0x0001 && u16[3] == 0x7BFF,
          "fp16 codes %#x %#x %#x %#x", u16[0], u16[1], u16[2], u16[3]);

    float t[4] = {127.0f, -63.5f, 0.5f, 1.5f};                /* ties go to even */
    uint32_t am = 0;
    CHECK_ST(chipemu_absmax_bits(t, 4, &am), CHIPEMU_OK, "absmax");
    float s = chipemu_int8_scale(am);
    CHECK(s == 1.0f, "int8 scale %g, want 1", (double)s);
    CHECK_ST(chipemu_quantize(CHIPEMU_FMT_INT8, t, 1, 4, 0, 4, i8, NULL, s), CHIPEMU_OK, "int8");
    CHECK(i8[0] == 127 && i8[1] == -64 && i8[2] == 0 && i8[3] == 2, "int8 codes %d %d %d %d",
          i8[0], i8[1], i8[2], i8[3]);
}

/* ---- small API pieces ---- */

static void test_version_and_status(void) {
    CHECK(chipemu_abi_version() == CHIPEMU_ABI_VERSION, "abi version %d, header %d",
          (int)chipemu_abi_version(), CHIPEMU_ABI_VERSION);
    const char *unknown = chipemu_status_string(-1);
    CHECK(unknown != NULL && unknown[0] != '\0', "status_string(-1) empty");
    for (int32_t st = CHIPEMU_OK; st <= CHIPEMU_ERR_KERNEL; st++) {
        const char *m = chipemu_status_string(st);
        CHECK(m != NULL && m[0] != '\0' && strcmp(m, unknown) != 0, "status_string(%d) = %s",
              (int)st, m ? m : "(null)");
        for (int32_t o = CHIPEMU_OK; o < st; o++)
            CHECK(strcmp(m, chipemu_status_string(o)) != 0, "status %d and %d share a message",
                  (int)st, (int)o);
    }
    const int32_t bad[] = {CHIPEMU_ERR_KERNEL + 1, 1000, INT32_MAX, INT32_MIN};
    for (int i = 0; i < 4; i++)
        CHECK(strcmp(chipemu_status_string(bad[i]), unknown) == 0, "status_string(%d)", (int)bad[i]);
}

static void test_format_info(void) {
    for (int32_t fmt = 0; fmt < CHIPEMU_NUM_FORMATS; fmt++) {
        chipemu_format_info f = info_of(fmt);
        CHECK(f.code == fmt, "fmt %d: code %d", (int)fmt, (int)f.code);
        CHECK(f.kind >= CHIPEMU_KIND_FP32 && f.kind <= CHIPEMU_KIND_BLOCK_FP, "fmt %d: kind %d",
              (int)fmt, (int)f.kind);
        CHECK((f.block_size == 1) == (f.scale_bits == 0) && f.block_size >= 1,
              "fmt %d: block_size %d scale_bits %d", (int)fmt, (int)f.block_size, (int)f.scale_bits);
        CHECK(f.max_mag > 0 && f.elem_bits >= 4 && f.elem_bits <= 32, "fmt %d: sizes", (int)fmt);
        if (f.kind == CHIPEMU_KIND_BLOCK_FP)
            CHECK(1 + f.ebits + f.mbits == f.elem_bits && f.max_mag < (1 << (f.elem_bits - 1)),
                  "fmt %d: minifloat layout", (int)fmt);
        if (f.kind == CHIPEMU_KIND_BLOCK_INT)
            CHECK(f.mbits == f.elem_bits - 2 && f.max_mag == (1 << (f.elem_bits - 1)) - 1,
                  "fmt %d: block int layout", (int)fmt);
    }
    const int32_t bad[] = {-1, CHIPEMU_NUM_FORMATS, INT32_MAX, INT32_MIN};
    for (int i = 0; i < 4; i++) {
        chipemu_format_info f;
        memset(&f, 0x5A, sizeof f);
        CHECK_ST(chipemu_format_info_get(bad[i], &f), CHIPEMU_ERR_FORMAT, "format_info_get(bad)");
        CHECK(f.code == 0x5A5A5A5A, "format_info_get(%d) wrote its output on error", (int)bad[i]);
        CHECK(chipemu_format_info_get(bad[i], NULL) != CHIPEMU_OK, "format_info_get(bad, NULL)");
    }
    CHECK_ST(chipemu_format_info_get(CHIPEMU_FMT_MXINT8, NULL), CHIPEMU_ERR_NULL, "format_info_get(NULL)");
}

static void test_absmax_and_scale(void) {
    float x[6] = {1.0f, -3.0f, 0.0f, -0.0f, 2.5f, 0x1p-140f};
    uint32_t m = 7;
    CHECK_ST(chipemu_absmax_bits(x, 6, &m), CHIPEMU_OK, "absmax");
    CHECK(m == f2u(3.0f), "absmax %08x", (unsigned)m);
    /* partial results combine with max */
    uint32_t m1 = 0, m2 = 0;
    chipemu_absmax_bits(x, 2, &m1);
    chipemu_absmax_bits(x + 2, 4, &m2);
    CHECK((m1 > m2 ? m1 : m2) == m, "absmax halves %08x %08x", (unsigned)m1, (unsigned)m2);
    x[3] = -INFINITY;
    chipemu_absmax_bits(x, 6, &m);
    CHECK(m == 0x7F800000u, "absmax with -Inf %08x", (unsigned)m);
    x[2] = NAN;
    chipemu_absmax_bits(x, 6, &m);
    CHECK(m > 0x7F800000u, "absmax with NaN %08x", (unsigned)m);

    m = 7;
    CHECK_ST(chipemu_absmax_bits(NULL, 0, &m), CHIPEMU_OK, "absmax(NULL, 0)");
    CHECK(m == 0, "absmax of nothing = %u", (unsigned)m);
    CHECK_ST(chipemu_absmax_bits(x, 6, NULL), CHIPEMU_ERR_NULL, "absmax(out NULL)");
    CHECK_ST(chipemu_absmax_bits(NULL, 3, &m), CHIPEMU_ERR_NULL, "absmax(x NULL)");
    CHECK_ST(chipemu_absmax_bits(x, -1, &m), CHIPEMU_ERR_SIZE, "absmax(n < 0)");

    CHECK(chipemu_int8_scale(f2u(127.0f)) == 1.0f, "int8_scale(127)");
    CHECK(chipemu_int8_scale(f2u(254.0f)) == 2.0f, "int8_scale(254)");
    CHECK(f2u(chipemu_int8_scale(0)) == 1u, "int8_scale(0) is not 2^-149");
    CHECK(isnan(chipemu_int8_scale(0x7F800000u)), "int8_scale(Inf) is not NaN");
    CHECK(isnan(chipemu_int8_scale(0x7FC00000u)), "int8_scale(NaN) is not NaN");
}

/* ---- every error path: documented status, no crash, no write ---- */

static void test_errors(void) {
    enum { R = 2, C = 40 };
    float x[R * C];
    for (int i = 0; i < R * C; i++) x[i] = (float)i - 20.0f;
    for (int32_t fmt = 0; fmt < CHIPEMU_NUM_FORMATS; fmt++) {
        chipemu_format_info f = info_of(fmt);
        int64_t units = n_units(&f, R, C);
        size_t cbytes = R * C * container(&f), ns = n_scales(&f, R, C);
        uint8_t *codes = xmalloc(cbytes), *sc = xmalloc(ns);
        float *out = xmalloc(R * C * 4);
        char what[64];
        memset(codes, 0xAB, cbytes);
        if (ns) memset(sc, 0xAB, ns);
        memset(out, 0xAB, R * C * 4);

#define BOTH(want, rows, cols, u0, u1, px, pc, ps, po)                                         \
        do {                                                                                   \
            snprintf(what, sizeof what, "fmt %d line %d quantize", (int)fmt, __LINE__);         \
            CHECK_ST(chipemu_quantize(fmt, px, rows, cols, u0, u1, pc, ps, 1.0f), want, what); \
            snprintf(what, sizeof what, "fmt %d line %d dequantize", (int)fmt, __LINE__);       \
            CHECK_ST(chipemu_dequantize(fmt, pc, ps, 1.0f, rows, cols, u0, u1, po), want, what); \
        } while (0)

        const int E = CHIPEMU_ERR_SIZE, N = CHIPEMU_ERR_NULL;
        BOTH(E, -1, C, 0, 0, x, codes, sc, out);
        BOTH(E, R, -1, 0, 0, x, codes, sc, out);
        BOTH(E, R, C, -1, units, x, codes, sc, out);
        BOTH(E, R, C, 2, 1, x, codes, sc, out);                     /* end before begin */
        BOTH(E, R, C, 0, units + 1, x, codes, sc, out);             /* end beyond the units */
        BOTH(E, R, C, units + 1, units + 1, x, codes, sc, out);
        BOTH(E, R, C, INT64_MIN, INT64_MAX, x, codes, sc, out);
        BOTH(E, INT64_MAX, INT64_MAX, 0, 1, x, codes, sc, out);     /* rows*cols overflows */
        BOTH(E, INT64_MAX / 2, 3, 0, 1, x, codes, sc, out);
        BOTH(E, 0, 5, 0, 1, x, codes, sc, out);                     /* no units at all */
        BOTH(E, 5, 0, 0, 1, x, codes, sc, out);
        BOTH(N, R, C, 0, units, NULL, codes, sc, NULL);             /* x / out NULL */
        BOTH(N, R, C, 0, 1, x, NULL, sc, out);                      /* codes NULL */
        if (f.scale_bits) BOTH(N, R, C, 0, units, x, codes, NULL, out);
        /* an empty range needs no buffers */
        BOTH(CHIPEMU_OK, R, C, 0, 0, NULL, NULL, NULL, NULL);
        BOTH(CHIPEMU_OK, R, C, units, units, NULL, NULL, NULL, NULL);
        BOTH(CHIPEMU_OK, 0, 0, 0, 0, NULL, NULL, NULL, NULL);
        int touched = 0;
        for (size_t i = 0; i < cbytes; i++) touched += codes[i] != 0xAB;
        for (size_t i = 0; i < ns; i++) touched += sc[i] != 0xAB;
        for (size_t i = 0; i < R * C * 4; i++) touched += ((uint8_t *)out)[i] != 0xAB;
        CHECK(touched == 0, "fmt %d: %d output bytes written by failing calls", (int)fmt, touched);
        if (!f.scale_bits) BOTH(CHIPEMU_OK, R, C, 0, units, x, codes, NULL, out); /* scales unused */
        free(codes); free(sc); free(out);
    }
    /* unknown formats, with everything else valid */
    float y[64] = {0};
    uint8_t c[64 * 4], s[2];
    float o[64];
    const int32_t bad[] = {-1, CHIPEMU_NUM_FORMATS, INT32_MAX, INT32_MIN};
    for (int i = 0; i < 4; i++) {
        CHECK_ST(chipemu_quantize(bad[i], y, 1, 64, 0, 1, c, s, 1.0f), CHIPEMU_ERR_FORMAT, "quantize(bad fmt)");
        CHECK_ST(chipemu_dequantize(bad[i], c, s, 1.0f, 1, 64, 0, 1, o), CHIPEMU_ERR_FORMAT, "dequantize(bad fmt)");
    }
#undef BOTH
}

/* ---- vector-unit math (csrc/numerics/vecmath.c): header contract, accuracy vs libm, vec == scalar ---- */

typedef float (*scalar_fn)(float);
typedef int32_t (*vec_fn)(const float *, float *, int64_t);

static void test_vecmath(void) {
    static const char *names[3] = {"exp", "reciprocal", "rsqrt"};
    const scalar_fn sf[3] = {chipemu_exp_f32, chipemu_reciprocal_f32, chipemu_rsqrt_f32};
    const vec_fn vf[3] = {chipemu_vec_exp, chipemu_vec_reciprocal, chipemu_vec_rsqrt};
    enum { N = 512 };
    float *x = xmalloc(N * 4), *y = xmalloc(N * 4), *z = xmalloc(N * 4);
    for (int k = 0; k < 3; k++) {
        /* NaN in -> the same NaN, quieted */
        const uint32_t nans[] = {0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0xFF812345u};
        for (int i = 0; i < 4; i++) {
            uint32_t got = f2u(sf[k](u2f(nans[i])));
            CHECK(got == (nans[i] | 0x00400000u), "%s(NaN %08x) = %08x", names[k],
                  (unsigned)nans[i], (unsigned)got);
        }
        /* accuracy on normal results, against double libm */
        double worst = 0;
        for (int i = 0; i < N; i++) {
            float v = k == 0 ? -80.0f + 160.0f * (float)i / N
                             : u2f((uint32_t)(1 + rng() % 252) << 23 | (rng() & 0x7FFFFF));
            if (k == 1 && (i & 1)) v = -v;
            double want = k == 0 ? exp((double)v) : k == 1 ? 1.0 / v : 1.0 / sqrt((double)v);
            double rel = fabs(((double)sf[k](v) - want) / want);
            worst = rel > worst ? rel : worst;
            x[i] = v;
        }
        CHECK(worst <= 0x1p-20, "%s: relative error %g vs libm", names[k], worst);
        /* vec == scalar bit for bit, also in place; specials included */
        x[0] = 0.0f; x[1] = -0.0f; x[2] = INFINITY; x[3] = -INFINITY; x[4] = u2f(1u);
        x[5] = u2f(0x80000001u); x[6] = NAN; x[7] = 0x1.fffffep127f; x[8] = -1.0f;
        CHECK_ST(vf[k](x, y, N), CHIPEMU_OK, names[k]);
        memcpy(z, x, N * 4);
        CHECK_ST(vf[k](z, z, N), CHIPEMU_OK, names[k]);
        int diff = 0;
        for (int i = 0; i < N; i++) diff += f2u(y[i]) != f2u(sf[k](x[i])) || f2u(z[i]) != f2u(y[i]);
        CHECK(diff == 0, "%s: %d vector results differ from the scalar (or in-place) call", names[k], diff);
        /* bad input: status, no write */
        memset(y, 0xAB, N * 4);
        CHECK_ST(vf[k](x, y, -1), CHIPEMU_ERR_SIZE, names[k]);
        CHECK_ST(vf[k](NULL, y, 1), CHIPEMU_ERR_NULL, names[k]);
        CHECK_ST(vf[k](x, NULL, 1), CHIPEMU_ERR_NULL, names[k]);
        CHECK_ST(vf[k](NULL, NULL, 0), CHIPEMU_OK, names[k]);
        CHECK(f2u(y[0]) == 0xABABABABu, "%s: failing call wrote its output", names[k]);
    }
    CHECK(chipemu_exp_f32(0.0f) == 1.0f && chipemu_exp_f32(INFINITY) == INFINITY &&
          chipemu_exp_f32(-INFINITY) == 0.0f && chipemu_exp_f32(1000.0f) == INFINITY &&
          chipemu_exp_f32(-1000.0f) == 0.0f, "exp special values");
    CHECK(f2u(chipemu_reciprocal_f32(0.0f)) == 0x7F800000u &&
          f2u(chipemu_reciprocal_f32(-0.0f)) == 0xFF800000u &&
          f2u(chipemu_reciprocal_f32(-INFINITY)) == 0x80000000u, "reciprocal special values");
    CHECK(f2u(chipemu_rsqrt_f32(-1.0f)) == 0x7FC00000u && f2u(chipemu_rsqrt_f32(-INFINITY)) == 0x7FC00000u &&
          chipemu_rsqrt_f32(INFINITY) == 0.0f && f2u(chipemu_rsqrt_f32(-0.0f)) == 0xFF800000u &&
          chipemu_rsqrt_f32(0.25f) == 2.0f, "rsqrt special values");
    free(x); free(y); free(z);
}

#include "test_driver_runtime.c"   /* test_runtime(): the runtime and intrinsics */
#include "test_driver_engine.c"    /* test_engine(): the timing and energy engine */
#include "test_driver_null.c"      /* test_null(): NULL, zeroed and out-of-range arguments */
#include "test_driver_device.c"    /* test_device(): the device handle and its presets */

/* `test_driver` runs every group; `test_driver NAME...` only those named (e.g. null runtime). */
static const struct { const char *name; void (*run)(void); } GROUPS[] = {
    {"version", test_version_and_status}, {"format_info", test_format_info},
    {"absmax", test_absmax_and_scale}, {"known_codes", test_known_codes},
    {"round_trips", test_round_trips}, {"errors", test_errors}, {"vecmath", test_vecmath},
    {"runtime", test_runtime}, {"engine", test_engine}, {"null", test_null},
    {"device", test_device},
};

int main(int argc, char **argv) {
    for (size_t g = 0; g < sizeof GROUPS / sizeof GROUPS[0]; g++) {
        int run = argc < 2;
        for (int a = 1; a < argc; a++) run |= strcmp(argv[a], GROUPS[g].name) == 0;
        if (run) GROUPS[g].run();
    }
    printf("test_driver: %d checks, %d failed\n", n_checks, n_failed);
    return n_failed ? 1 : 0;
}
