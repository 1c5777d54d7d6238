/* vecmath.c — the C twin of emulator/numerics/vecmath.py: the vector unit's fp32 exp, reciprocal, rsqrt.
 *
 * The definition is emulator/reference/vecmath.py (docs/vecmath.md). Every step below is one
 * float32 operation in the order written; the build's -ffp-contract=off keeps the compiler from
 * fusing a multiply and an add into an FMA, which would change results. double appears only where
 * it is exact (frexp of a float, scaling by 2^n) before the single final rounding to float.
 * No libm exp/sqrt/division computes a result. Keep this file and its Numba twin in step.
 */
#include <math.h>
#include <string.h>

#include "chipemu.h"

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* Constants by their bits (values in docs/vecmath.md); hex-float literals are exact. */
#define EXP_LOG2E 0x1.715476p+0f       /* 0x3FB8AA3B log2(e) */
#define EXP_MAGIC 0x1.8p+23f           /* 0x4B400000 1.5 * 2^23 */
#define EXP_LN2_HI 0x1.63p-1f          /* 0x3F318000 */
#define EXP_LN2_LO (-0x1.bd0106p-13f)  /* 0xB95E8083 */
#define EXP_C2 0x1p-1f                 /* 0x3F000000 1/2! */
#define EXP_C3 0x1.555556p-3f          /* 0x3E2AAAAB 1/3! */
#define EXP_C4 0x1.555556p-5f          /* 0x3D2AAAAB 1/4! */
#define EXP_C5 0x1.111112p-7f          /* 0x3C088889 1/5! */
#define EXP_C6 0x1.6c16c2p-10f         /* 0x3AB60B61 1/6! */
#define EXP_C7 0x1.a01a02p-13f         /* 0x39500D01 1/7! */
#define EXP_X_HI 89.0f                 /* 0x42B20000 */
#define EXP_X_LO (-104.0f)             /* 0xC2D00000 */
#define RCP_A 0x1.69696ap+1f           /* 0x4034B4B5 48/17 */
#define RCP_B 0x1.e1e1e2p+0f           /* 0x3FF0F0F1 32/17 */
#define RSQ_A 0x1.55de72p+0f           /* 0x3FAAEF39 */
#define RSQ_B (-0x1.a487cp-2f)         /* 0xBED243E0 */
#define RSQ_C 0x1.a37a48p-5f           /* 0x3D51BD24 */
#define QUIET_BIT 0x00400000u
#define DEFAULT_NAN 0x7FC00000u
#define ABS_MASK 0x7FFFFFFFu
#define INF_BITS 0x7F800000u

/* float(y * 2^n): exact in double for the n used here (|n| <= 151), then one rounding to
 * nearest even, which also gives subnormals, +-0 and +-inf. 2^n is built from its bits
 * (= ldexp(1, n), as the twins compute it) because the libm call costs more than the math. */
static inline float scale2(float y, int n) {
    uint64_t b = (uint64_t)(n + 1023) << 52;
    double p;
    memcpy(&p, &b, 8);
    return (float)((double)y * p);
}

/* |x| = d 2^e with d in [0.5, 1), exactly (= frexp; subnormals take the libm path). */
static inline float split(uint32_t a, int *e) {
    if (a < 0x00800000u) return (float)frexp((double)u2f(a), e);
    *e = (int)(a >> 23) - 126;
    return u2f((a & 0x007FFFFFu) | 0x3F000000u);
}

static inline float vm_exp(float x) {
    uint32_t u = f2u(x);
    if ((u & ABS_MASK) > INF_BITS) return u2f(u | QUIET_BIT);
    if (x > EXP_X_HI) return INFINITY;
    if (x < EXP_X_LO) return 0.0f;
    float t = x * EXP_LOG2E;
    float nf = (t + EXP_MAGIC) - EXP_MAGIC;          /* round(t), ties to even */
    float r = (x - nf * EXP_LN2_HI) - nf * EXP_LN2_LO;
    float q = EXP_C7;
    q = q * r + EXP_C6;
    q = q * r + EXP_C5;
    q = q * r + EXP_C4;
    q = q * r + EXP_C3;
    q = q * r + EXP_C2;
    float p = (q * (r * r) + r) + 1.0f;
    return scale2(p, (int)nf);
}

static inline float vm_reciprocal(float x) {
    uint32_t u = f2u(x), a = u & ABS_MASK, sign = u & ~ABS_MASK;
    if (a > INF_BITS) return u2f(u | QUIET_BIT);
    if (a == 0) return u2f(sign | INF_BITS);
    if (a == INF_BITS) return u2f(sign);
    int e;
    float d = split(a, &e);
    float y = RCP_A - RCP_B * d;
    y = y + y * (1.0f - d * y);
    y = y + y * (1.0f - d * y);
    y = y + y * (1.0f - d * y);
    return scale2(sign ? -y : y, -e);
}

static inline float vm_rsqrt(float x) {
    uint32_t u = f2u(x), a = u & ABS_MASK;
    if (a > INF_BITS) return u2f(u | QUIET_BIT);
    if (a == 0) return u2f((u & ~ABS_MASK) | INF_BITS);
    if (u >> 31) return u2f(DEFAULT_NAN);
    if (a == INF_BITS) return 0.0f;
    int e;
    float f = split(a, &e);                          /* x = f 2^e = (2f) 2^(e-1) */
    float m;
    int k;
    if (((e - 1) & 1) == 1) {                        /* odd: m = 4f in [2, 4) */
        m = f * 4.0f;
        k = (e - 2) / 2;                             /* exact: e - 2 is even */
    } else {                                         /* even: m = 2f in [1, 2) */
        m = f * 2.0f;
        k = (e - 1) / 2;
    }
    float y = RSQ_A + m * (RSQ_B + RSQ_C * m);
    float h = 0.5f * m;
    y = y * (1.5f - (h * y) * y);
    y = y * (1.5f - (h * y) * y);
    y = y + y * (0.5f - (h * y) * y);
    return scale2(y, -k);
}

float chipemu_exp_f32(float x) { return vm_exp(x); }
float chipemu_reciprocal_f32(float x) { return vm_reciprocal(x); }
float chipemu_rsqrt_f32(float x) { return vm_rsqrt(x); }

#define VEC_LOOP(fn)                                           \
    if (n < 0) return CHIPEMU_ERR_SIZE;                        \
    if (n > 0 && (x == NULL || y == NULL)) return CHIPEMU_ERR_NULL; \
    for (int64_t i = 0; i < n; i++) y[i] = fn(x[i]);           \
    return CHIPEMU_OK

int32_t chipemu_vec_exp(const float *x, float *y, int64_t n) { VEC_LOOP(vm_exp); }
int32_t chipemu_vec_reciprocal(const float *x, float *y, int64_t n) { VEC_LOOP(vm_reciprocal); }
int32_t chipemu_vec_rsqrt(const float *x, float *y, int64_t n) { VEC_LOOP(vm_rsqrt); }
