/* dimc_mvm.c — the hot part of dimc_mvm (dimc.c): for a block of up to CORE_DIMC_VB
 * input vectors, the exact int32 sum of every (vector, column, segment) and the float32
 * accumulation of the scaled segments (docs/intrinsics.md "DIMC arithmetic").
 *
 * Integer sums are exact in any order, so only they are reorganised; every float operation is
 * the one of the definition, in its order: acc = +0, then acc = acc + (float)((S * s_x) * s_w)
 * segment by segment in increasing K (-ffp-contract=off keeps each one separate). Both kernels
 * give identical bits; which one runs is only a question of speed:
 * - portable: one weight row at a time over the columns, for every vector of the block (the row
 *   is read once per block, not once per vector), a loop the compiler vectorizes;
 * - AVX2 (x86-64 with GCC/Clang, chosen at run time): vpmaddwd multiplies two int16 pairs and
 *   adds them into int32, exact for int8-range codes (|a*b + c*d| <= 2^15). The weights are
 *   packed once per call as int32 words holding rows 2p (low half) and 2p+1 (high half) of a
 *   column; the activations likewise; a register tile of 4 vectors x 16 columns then needs one
 *   broadcast per vector and one load per 8 columns for every pair of rows.
 * CHIPEMU_NO_SIMD=1 in the environment forces the portable kernel (tests run both).
 */
#include <stdlib.h>
#include <string.h>

#include "intrinsics/core.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))
#endif

enum { PATH_PORTABLE = 0, PATH_AVX2 = 1 };

/* Decided once per process (a benign race: every thread computes the same value). */
static int simd_path(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v >= 0) return v;
    const char *off = getenv("CHIPEMU_NO_SIMD");
    v = PATH_PORTABLE;
#ifdef HAVE_AVX2
    __builtin_cpu_init();
    if ((off == NULL || off[0] == '\0' || off[0] == '0') && __builtin_cpu_supports("avx2"))
        v = PATH_AVX2;
#else
    (void)off;
#endif
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    return v;
}

/* Two int8 codes as one int32 word of two int16 halves (lo in bits 0-15), vpmaddwd's operand. */
static inline int32_t pair(int32_t lo, int32_t hi) {
    return (int32_t)(((uint32_t)hi << 16) | ((uint32_t)lo & 0xFFFFu));
}

/* accf[v][c] = accf[v][c] + (float)((S * s_x) * s_w) for segment s (the definition's float steps).
 * always_inline: compiled inside each kernel, so the AVX2 one vectorizes it with 256-bit ops. */
static inline __attribute__((always_inline)) void scale_add(const core_dimc_job *j, int64_t nv,
                                                            int64_t s, const double *xs,
                                                            float *accf) {
    const double *wsr = j->ws + s * j->nc;
    for (int64_t v = 0; v < nv; v++) {
        double sa = xs[v * j->nseg + s];
        const int32_t *a = j->isum + v * j->c8;
        float *f = accf + v * j->nc;
        for (int64_t c = 0; c < j->nc; c++) f[c] = f[c] + (float)(((double)a[c] * sa) * wsr[c]);
    }
}

/* y = acc, or y_old + acc with accumulate; a NaN is stored as 0x7FC00000 (the last step of the
 * definition). The nv output rows are contiguous. */
static inline __attribute__((always_inline)) void store(int64_t n, const float *accf, float *y,
                                                        int64_t accumulate) {
    uint32_t bits = 0x7FC00000u;
    float qnan;
    memcpy(&qnan, &bits, 4);
    for (int64_t i = 0; i < n; i++) {
        float r = accumulate ? y[i] + accf[i] : accf[i];
        y[i] = r != r ? qnan : r;
    }
}

/* The portable kernel is also compiled for AVX2 where the compiler can dispatch on the CPU (the
 * same operations: only the vector width differs); ASan builds skip the ifunc. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static void block_portable(const core_dimc_job *j, int64_t nv, const int8_t *xi, const double *xs,
                           float *accf, float *y, int64_t accumulate) {
    int64_t k = j->k, nc = j->nc, c8 = j->c8;
    for (int64_t s = 0; s < j->nseg; s++) {
        int64_t k0 = s * j->seg, k1 = k0 + j->seg < k ? k0 + j->seg : k;
        for (int64_t i = 0; i < nv * c8; i++) j->isum[i] = 0;
        for (int64_t kk = k0; kk < k1; kk++) {
            const int8_t *wr = j->W + kk * j->cmax;
            for (int64_t v = 0; v < nv; v++) {
                int32_t xk = xi[v * k + kk];
                int32_t *a = j->isum + v * c8;
                for (int64_t c = 0; c < nc; c++) a[c] += xk * (int32_t)wr[c];
            }
        }
        scale_add(j, nv, s, xs, accf);
    }
    store(nv * nc, accf, y, accumulate);
}

#ifdef HAVE_AVX2
/* Rows 2p, 2p+1 of the weights as pair words; columns nc..c8 and a missing last row are 0. */
AVX2 static void pack_avx2(core_dimc_job *j) {
    int64_t np = (j->k + 1) / 2;
    for (int64_t p = 0; p < np; p++) {
        const int8_t *r0 = j->W + 2 * p * j->cmax, *r1 = r0 + j->cmax;
        int32_t *o = j->wp + p * j->c8;
        if (2 * p + 1 < j->k)
            for (int64_t c = 0; c < j->nc; c++) o[c] = pair(r0[c], r1[c]);
        else
            for (int64_t c = 0; c < j->nc; c++) o[c] = pair(r0[c], 0);
        for (int64_t c = j->nc; c < j->c8; c++) o[c] = 0;
    }
}

/* isum[v][c .. c+8*nh) over the pairs [p0, p1) for nv vectors. nv and nh are constants after
 * inlining, so the nv x nh accumulators live in registers (at most 8 of the 16 ymm). */
AVX2 static inline __attribute__((always_inline)) void tile_avx2(const core_dimc_job *j,
                                                                 int64_t p0, int64_t p1, int64_t c,
                                                                 const int nv, const int nh) {
    int64_t np = (j->k + 1) / 2;
    __m256i acc[CORE_DIMC_VB][2], w[2];
    for (int v = 0; v < nv; v++)
        for (int h = 0; h < nh; h++) acc[v][h] = _mm256_setzero_si256();
    for (int64_t p = p0; p < p1; p++) {
        const int32_t *wr = j->wp + p * j->c8 + c;
        for (int h = 0; h < nh; h++)
            w[h] = _mm256_loadu_si256((const __m256i *)(const void *)(wr + 8 * h));
        for (int v = 0; v < nv; v++) {
            __m256i xb = _mm256_set1_epi32(j->xp[v * np + p]);
            for (int h = 0; h < nh; h++)
                acc[v][h] = _mm256_add_epi32(acc[v][h], _mm256_madd_epi16(w[h], xb));
        }
    }
    for (int v = 0; v < nv; v++)
        for (int h = 0; h < nh; h++)
            _mm256_storeu_si256((__m256i *)(void *)(j->isum + v * j->c8 + c + 8 * h), acc[v][h]);
}

#define TILES(nh)                                                               \
    switch (nv) {                                                               \
    case 1: tile_avx2(j, p0, p1, c, 1, nh); break;                              \
    case 2: tile_avx2(j, p0, p1, c, 2, nh); break;                              \
    case 3: tile_avx2(j, p0, p1, c, 3, nh); break;                              \
    default: tile_avx2(j, p0, p1, c, 4, nh); break;                             \
    }

AVX2 static void block_avx2(const core_dimc_job *j, int64_t nv, const int8_t *xi,
                            const double *xs, float *accf, float *y, int64_t accumulate) {
    int64_t k = j->k, np = (k + 1) / 2;
    for (int64_t v = 0; v < nv; v++) {
        const int8_t *x = xi + v * k;
        for (int64_t p = 0; p < k / 2; p++) j->xp[v * np + p] = pair(x[2 * p], x[2 * p + 1]);
        if (k & 1) j->xp[v * np + np - 1] = pair(x[k - 1], 0);
    }
    for (int64_t s = 0; s < j->nseg; s++) {
        /* seg is even (prepare checks), so a segment starts on a pair; an odd last row is padded */
        int64_t k0 = s * j->seg, k1 = k0 + j->seg < k ? k0 + j->seg : k;
        int64_t p0 = k0 / 2, p1 = (k1 + 1) / 2, c = 0;
        for (; c + 16 <= j->c8; c += 16) TILES(2)
        if (c < j->c8) TILES(1)
        scale_add(j, nv, s, xs, accf);
    }
    store(nv * j->nc, accf, y, accumulate);
}
#endif

int chipemu_dimc_prepare(core_dimc_job *j) {
    int path = simd_path();
    if (CORE_DIMC_VB != 4 || j->seg % 2 != 0) path = PATH_PORTABLE;   /* what tile_avx2 covers */
#ifdef HAVE_AVX2
    if (path == PATH_AVX2) pack_avx2(j);
#endif
    return path;
}

void chipemu_dimc_block(const core_dimc_job *j, int path, int64_t nv, const int8_t *xi,
                        const double *xs, float *accf, float *y, int64_t accumulate) {
    for (int64_t i = 0; i < nv * j->nc; i++) accf[i] = 0.0f;
#ifdef HAVE_AVX2
    if (path == PATH_AVX2) {
        block_avx2(j, nv, xi, xs, accf, y, accumulate);
        return;
    }
#endif
    (void)path;
    block_portable(j, nv, xi, xs, accf, y, accumulate);
}
