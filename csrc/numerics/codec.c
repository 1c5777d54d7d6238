/* codec.c — the C twin of emulator/numerics/codec.py: format table, quantize and dequantize.
 *
 * The rules are defined in docs/formats.md and by emulator/reference/formats.py; this file and
 * its Numba twin compute the same codes with integer arithmetic on float32 bit patterns, so both
 * are bit-identical to the reference by construction and by test. Keep the two files in step.
 */
#include <math.h>
#include <string.h>

#include "chipemu.h"

/* GENERATED BEGIN format_table (from chipemu.emulator.tables.formats; csrc/gen_tables.py) */
/* {code, kind, elem_bits, ebits, mbits, bias, emax, max_mag, block_size, scale_bits} */
static const chipemu_format_info FORMAT_TABLE[CHIPEMU_NUM_FORMATS] = {
    {CHIPEMU_FMT_FP32, CHIPEMU_KIND_FP32, 32, 8, 23, 127, 127, 0x7F7FFFFF, 1, 0},
    {CHIPEMU_FMT_BF16, CHIPEMU_KIND_BF16, 16, 8, 7, 127, 127, 0x7F7F, 1, 0},
    {CHIPEMU_FMT_FP16, CHIPEMU_KIND_FP16, 16, 5, 10, 15, 15, 0x7BFF, 1, 0},
    {CHIPEMU_FMT_INT8, CHIPEMU_KIND_INT_TENSOR, 8, 0, 0, 0, 0, 127, 1, 0},
    {CHIPEMU_FMT_MXINT8, CHIPEMU_KIND_BLOCK_INT, 8, 0, 6, 0, 0, 127, 32, 8},
    {CHIPEMU_FMT_MXINT4, CHIPEMU_KIND_BLOCK_INT, 4, 0, 2, 0, 0, 7, 32, 8},
    {CHIPEMU_FMT_MXFP8_E4M3, CHIPEMU_KIND_BLOCK_FP, 8, 4, 3, 7, 8, 0x7E, 32, 8},
    {CHIPEMU_FMT_MXFP8_E5M2, CHIPEMU_KIND_BLOCK_FP, 8, 5, 2, 15, 15, 0x7B, 32, 8},
    {CHIPEMU_FMT_MXFP6_E3M2, CHIPEMU_KIND_BLOCK_FP, 6, 3, 2, 3, 4, 0x1F, 32, 8},
    {CHIPEMU_FMT_MXFP6_E2M3, CHIPEMU_KIND_BLOCK_FP, 6, 2, 3, 1, 2, 0x1F, 32, 8},
    {CHIPEMU_FMT_MXFP4_E2M1, CHIPEMU_KIND_BLOCK_FP, 4, 2, 1, 1, 2, 0x7, 32, 8},
    {CHIPEMU_FMT_BFP16, CHIPEMU_KIND_BLOCK_INT, 8, 0, 6, 0, 0, 127, 64, 8},
    {CHIPEMU_FMT_BFP12, CHIPEMU_KIND_BLOCK_INT, 4, 0, 2, 0, 0, 7, 64, 8},
};
/* GENERATED END format_table */

#define ABS_MASK 0x7FFFFFFFu
#define INF_BITS 0x7F800000u
#define SCALE_NAN 0xFF

int32_t chipemu_abi_version(void) { return CHIPEMU_ABI_VERSION; }

const char *chipemu_status_string(int32_t status) {
/* GENERATED BEGIN status_strings (from chipemu.emulator.tables.ids.STATUS; csrc/gen_tables.py) */
    switch (status) {
    case CHIPEMU_OK: return "ok";
    case CHIPEMU_ERR_NULL: return "a required pointer is NULL";
    case CHIPEMU_ERR_SIZE: return "a size or range is negative or inconsistent";
    case CHIPEMU_ERR_FORMAT: return "unknown format code";
    case CHIPEMU_ERR_UNSUPPORTED: return "format not supported by this operation";
    case CHIPEMU_ERR_KERNEL: return "a tile kernel broke a hardware rule (see its error record)";
    case CHIPEMU_ERR_LOG: return "malformed event log";
    case CHIPEMU_ERR_PARAMS: return "invalid device parameters";
    case CHIPEMU_ERR_NOMEM: return "out of memory";
    case CHIPEMU_ERR_NAME: return "unknown name";
    case CHIPEMU_ERR_CAPACITY: return "does not fit the device";
    default: return "unknown status code";
    }
/* GENERATED END status_strings */
}

const char *chipemu_format_name(int32_t fmt) {
/* GENERATED BEGIN format_names (from chipemu.emulator.tables.formats; csrc/gen_tables.py) */
    switch (fmt) {
    case CHIPEMU_FMT_FP32: return "fp32";
    case CHIPEMU_FMT_BF16: return "bf16";
    case CHIPEMU_FMT_FP16: return "fp16";
    case CHIPEMU_FMT_INT8: return "int8";
    case CHIPEMU_FMT_MXINT8: return "mxint8";
    case CHIPEMU_FMT_MXINT4: return "mxint4";
    case CHIPEMU_FMT_MXFP8_E4M3: return "mxfp8_e4m3";
    case CHIPEMU_FMT_MXFP8_E5M2: return "mxfp8_e5m2";
    case CHIPEMU_FMT_MXFP6_E3M2: return "mxfp6_e3m2";
    case CHIPEMU_FMT_MXFP6_E2M3: return "mxfp6_e2m3";
    case CHIPEMU_FMT_MXFP4_E2M1: return "mxfp4_e2m1";
    case CHIPEMU_FMT_BFP16: return "bfp16";
    case CHIPEMU_FMT_BFP12: return "bfp12";
    default: return NULL;
    }
/* GENERATED END format_names */
}

int32_t chipemu_format_info_get(int32_t fmt, chipemu_format_info *out) {
    if (out == NULL) return CHIPEMU_ERR_NULL;
    if (fmt < 0 || fmt >= CHIPEMU_NUM_FORMATS) return CHIPEMU_ERR_FORMAT;
    *out = FORMAT_TABLE[fmt];
    return CHIPEMU_OK;
}

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

int32_t chipemu_absmax_bits(const float *x, int64_t n, uint32_t *out) {
    if (out == NULL || (x == NULL && n > 0)) return CHIPEMU_ERR_NULL;
    if (n < 0) return CHIPEMU_ERR_SIZE;
    uint32_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t a = f2u(x[i]) & ABS_MASK;
        m = a > m ? a : m;
    }
    *out = m;
    return CHIPEMU_OK;
}

float chipemu_int8_scale(uint32_t absmax_bits) {
    if (absmax_bits >= INF_BITS) return u2f(0x7FC00000u);          /* NaN: the tensor is NaN */
    float s = u2f(absmax_bits) / 127.0f;
    return s < u2f(1u) ? u2f(1u) : s;                            /* at least 2^-149 */
}

/* floor(log2 |v|) of a nonzero finite float given its magnitude bits */
static inline int32_t floor_log2_bits(uint32_t a) {
    int32_t e = (int32_t)(a >> 23);
    if (e != 0) return e - 127;
    int32_t msb = 0;
    for (uint32_t m = a; m > 1; m >>= 1) msb++;
    return msb - 149;
}

/* Round mant * 2^-shift to the nearest integer, ties to even (mant < 2^24). */
static inline int64_t rne_shift(int64_t mant, int32_t shift) {
    if (shift <= 0) return mant << (-shift);
    if (shift > 40) return 0;
    int64_t n = mant >> shift;
    int64_t rem = mant & ((INT64_C(1) << shift) - 1);
    int64_t half = INT64_C(1) << (shift - 1);
    return n + (rem > half || (rem == half && (n & 1)));
}

/* Scan one block: the shared exponent S (scale 2^S) and flags for NaN/Inf and subnormal inputs. */
static int32_t block_scan(const uint32_t *u, int64_t len, int32_t emax, int *nan_block,
                          int *has_subnormal) {
    uint32_t amax = 0, sub = 0;
    for (int64_t i = 0; i < len; i++) {
        uint32_t a = u[i] & ABS_MASK;
        amax = a > amax ? a : amax;
        sub |= (a - 1u) < 0x7FFFFFu;           /* 0 < a < 2^23: a subnormal float32 */
    }
    *nan_block = amax >= INF_BITS;
    *has_subnormal = sub != 0;
    if (amax == 0) return -127;
    int32_t s = floor_log2_bits(amax) - emax;
    return s < -127 ? -127 : s;
}

/* Round mant * 2^-shift (1 <= shift <= 31, mant < 2^24) to nearest, ties to even; branch-free. */
static inline int32_t rne_shift32(int32_t mant, int32_t shift) {
    return (mant + (1 << (shift - 1)) - 1 + ((mant >> shift) & 1)) >> shift;
}

/* Minifloat element of a block with shared exponent s; any input (the general path). */
static inline uint8_t encode_block_fp(uint32_t u, int32_t s, const chipemu_format_info *f) {
    uint32_t a = u & ABS_MASK;
    uint32_t sign = (u >> 31) << (f->ebits + f->mbits);
    if (a == 0) return (uint8_t)sign;
    int32_t e = (int32_t)(a >> 23);
    int64_t mant = a & 0x7FFFFF;
    int32_t e2 = e ? e - 150 : -149;
    if (e) mant |= 0x800000;
    int32_t eq = floor_log2_bits(a) - s;
    int32_t emin = 1 - f->bias;
    int32_t qexp = (eq > emin ? eq : emin) - f->mbits;
    int64_t n = rne_shift(mant, qexp + s - e2);
    int64_t mag = ((int64_t)(qexp + f->mbits + f->bias) << f->mbits) + n - (INT64_C(1) << f->mbits);
    if (mag > f->max_mag) mag = f->max_mag;
    return (uint8_t)(sign | (uint32_t)mag);
}

/* The same for a block without subnormal inputs: no branches, so it vectorizes. */
static void encode_block_fp_fast(const uint32_t *u, int64_t len, int32_t s, int32_t ebits,
                                 int32_t mbits, int32_t bias, int32_t max_mag, uint8_t *out) {
    int32_t emin = 1 - bias;
    for (int64_t i = 0; i < len; i++) {
        uint32_t a = u[i] & ABS_MASK;
        int32_t e = (int32_t)(a >> 23);
        int32_t mant = (int32_t)(a & 0x7FFFFF) | 0x800000;
        int32_t eq = e - 127 - s;
        int32_t qexp = (eq > emin ? eq : emin) - mbits;
        int32_t shift = qexp + s - e + 150;
        shift = shift < 31 ? shift : 31;
        int32_t mag = ((qexp + mbits + bias) << mbits) + rne_shift32(mant, shift) - (1 << mbits);
        mag = mag < max_mag ? mag : max_mag;
        mag = e != 0 ? mag : 0;
        out[i] = (uint8_t)(((u[i] >> 31) << (ebits + mbits)) | (uint32_t)mag);
    }
}

/* Integer element of a block (MXINT, BFP); exact for every input, including subnormals. */
static void encode_block_int(const uint32_t *u, int64_t len, int32_t s, int32_t mbits,
                             int32_t max_mag, int8_t *out) {
    for (int64_t i = 0; i < len; i++) {
        uint32_t a = u[i] & ABS_MASK;
        int32_t e = (int32_t)(a >> 23);
        int32_t mant = (int32_t)(a & 0x7FFFFF) | (e != 0 ? 0x800000 : 0);
        int32_t shift = s - mbits + 150 - (e != 0 ? e : 1);     /* >= 16 (docs/formats.md) */
        shift = shift < 31 ? shift : 31;
        int32_t n = rne_shift32(mant, shift);
        n = n < max_mag ? n : max_mag;
        int32_t neg = -(int32_t)(u[i] >> 31);
        out[i] = (int8_t)((n ^ neg) - neg);
    }
}

static inline uint16_t encode_bf16(uint32_t u) {
    if ((u & ABS_MASK) > INF_BITS) return (uint16_t)((u >> 16) & 0x8000u) | 0x7FC0u;
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static inline uint16_t encode_fp16(uint32_t u) {
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & ABS_MASK;
    if (a > INF_BITS) return (uint16_t)(sign | 0x7E00u);
    if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);      /* rounds to >= 65520: Inf */
    if (a == 0) return (uint16_t)sign;
    int32_t e = (int32_t)(a >> 23);
    int64_t mant = (a & 0x7FFFFF) | (e ? 0x800000 : 0);
    int32_t e2 = e ? e - 150 : -149;
    int32_t lg = floor_log2_bits(a);
    int32_t qexp = (lg > -14 ? lg : -14) - 10;
    int64_t n = rne_shift(mant, qexp - e2);
    return (uint16_t)(sign | (uint32_t)((((int64_t)(qexp + 25)) << 10) + n - 1024));
}

static inline float decode_fp16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
    if (e == 0x1F) return u2f(sign | INF_BITS | (m << 13) | (m ? 0x400000u : 0));
    if (e != 0) return u2f(sign | ((e + 112) << 23) | (m << 13));
    float v = (float)m * u2f(0x33800000u);                        /* m * 2^-24, exact */
    return u2f(sign | f2u(v));
}

/* value of a minifloat magnitude code, as a double (exact) */
static double minifloat_value(int32_t mag, const chipemu_format_info *f) {
    int32_t e = mag >> f->mbits, m = mag & ((1 << f->mbits) - 1);
    int32_t top = (1 << f->ebits) - 1;
    if (f->code == CHIPEMU_FMT_MXFP8_E4M3 && e == top && m == (1 << f->mbits) - 1) return NAN;
    if (f->code == CHIPEMU_FMT_MXFP8_E5M2 && e == top) return m ? NAN : INFINITY;
    double v = e ? (double)((1 << f->mbits) + m) : (double)m;
    int32_t p = (e ? e : 1) - f->bias - f->mbits;
    for (; p > 0; p--) v *= 2.0;
    for (; p < 0; p++) v *= 0.5;
    return v;
}

static double pow2_scale(int32_t code) {          /* E8M0 code -> 2^(code-127), NaN for 0xFF */
    if (code == SCALE_NAN) return NAN;
    uint64_t bits = (uint64_t)(code - 127 + 1023) << 52;
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

static int32_t check_args(int32_t fmt, const void *x, const void *codes, const uint8_t *scales,
                          int64_t rows, int64_t cols, int64_t u0, int64_t u1, int64_t *nblocks) {
    if (fmt < 0 || fmt >= CHIPEMU_NUM_FORMATS) return CHIPEMU_ERR_FORMAT;
    if (rows < 0 || cols < 0 || u0 < 0 || u1 < u0) return CHIPEMU_ERR_SIZE;
    int64_t bs = FORMAT_TABLE[fmt].block_size;
    *nblocks = cols / bs + (cols % bs != 0);
    if (cols > 0 && rows > INT64_MAX / cols) return CHIPEMU_ERR_SIZE;
    if (u1 > rows * *nblocks) return CHIPEMU_ERR_SIZE;
    if (u1 > u0 && (x == NULL || codes == NULL)) return CHIPEMU_ERR_NULL;
    if (u1 > u0 && FORMAT_TABLE[fmt].scale_bits && scales == NULL) return CHIPEMU_ERR_NULL;
    return CHIPEMU_OK;
}

int32_t chipemu_quantize(int32_t fmt, const float *x, int64_t rows, int64_t cols,
                         int64_t unit_begin, int64_t unit_end, void *codes, uint8_t *scales,
                         float tensor_scale) {
    int64_t nb = 0;
    int32_t st = check_args(fmt, x, codes, scales, rows, cols, unit_begin, unit_end, &nb);
    if (st != CHIPEMU_OK || unit_begin == unit_end) return st;   /* empty: pointers may be NULL */
    const chipemu_format_info *f = &FORMAT_TABLE[fmt];
    const uint32_t *u = (const uint32_t *)(const void *)x;
    switch (f->kind) {
    case CHIPEMU_KIND_FP32:
        memcpy((uint32_t *)codes + unit_begin, u + unit_begin, (size_t)(unit_end - unit_begin) * 4);
        return CHIPEMU_OK;
    case CHIPEMU_KIND_BF16:
        for (int64_t i = unit_begin; i < unit_end; i++) ((uint16_t *)codes)[i] = encode_bf16(u[i]);
        return CHIPEMU_OK;
    case CHIPEMU_KIND_FP16:
        for (int64_t i = unit_begin; i < unit_end; i++) ((uint16_t *)codes)[i] = encode_fp16(u[i]);
        return CHIPEMU_OK;
    case CHIPEMU_KIND_INT_TENSOR: {
        int nan_tensor = tensor_scale != tensor_scale;
        for (int64_t i = unit_begin; i < unit_end; i++) {
            float q = x[i] / tensor_scale;
            int8_t c = 0;
            if (!nan_tensor && q == q) {
                if (q >= 127.0f) c = 127;
                else if (q <= -127.0f) c = -127;
                else c = (int8_t)(int32_t)((q + 12582912.0f) - 12582912.0f);  /* RNE, |q| < 2^22 */
            }
            ((int8_t *)codes)[i] = c;
        }
        return CHIPEMU_OK;
    }
    default: break;
    }
    int64_t bs = f->block_size;
    for (int64_t unit = unit_begin; unit < unit_end; unit++) {
        int64_t r = unit / nb, b = unit % nb;
        int64_t c0 = b * bs, len = (c0 + bs <= cols ? bs : cols - c0);
        const uint32_t *ub = u + r * cols + c0;
        int nan_block, has_subnormal;
        int32_t s = block_scan(ub, len, f->emax, &nan_block, &has_subnormal);
        scales[unit] = (uint8_t)(nan_block ? SCALE_NAN : s + 127);
        if (nan_block) {
            memset((uint8_t *)codes + r * cols + c0, 0, (size_t)len);
        } else if (f->kind == CHIPEMU_KIND_BLOCK_INT) {
            encode_block_int(ub, len, s, f->mbits, f->max_mag, (int8_t *)codes + r * cols + c0);
        } else if (!has_subnormal) {
            encode_block_fp_fast(ub, len, s, f->ebits, f->mbits, f->bias, f->max_mag,
                                 (uint8_t *)codes + r * cols + c0);
        } else {
            uint8_t *cb = (uint8_t *)codes + r * cols + c0;
            for (int64_t i = 0; i < len; i++) cb[i] = encode_block_fp(ub[i], s, f);
        }
    }
    return CHIPEMU_OK;
}

int32_t chipemu_dequantize(int32_t fmt, const void *codes, const uint8_t *scales,
                           float tensor_scale, int64_t rows, int64_t cols, int64_t unit_begin,
                           int64_t unit_end, float *out) {
    int64_t nb = 0;
    int32_t st = check_args(fmt, out, codes, scales, rows, cols, unit_begin, unit_end, &nb);
    if (st != CHIPEMU_OK || unit_begin == unit_end) return st;   /* empty: pointers may be NULL */
    const chipemu_format_info *f = &FORMAT_TABLE[fmt];
    switch (f->kind) {
    case CHIPEMU_KIND_FP32:
        memcpy(out + unit_begin, (const uint32_t *)codes + unit_begin, (size_t)(unit_end - unit_begin) * 4);
        return CHIPEMU_OK;
    case CHIPEMU_KIND_BF16:
        for (int64_t i = unit_begin; i < unit_end; i++)
            out[i] = u2f((uint32_t)((const uint16_t *)codes)[i] << 16);
        return CHIPEMU_OK;
    case CHIPEMU_KIND_FP16:
        for (int64_t i = unit_begin; i < unit_end; i++) out[i] = decode_fp16(((const uint16_t *)codes)[i]);
        return CHIPEMU_OK;
    case CHIPEMU_KIND_INT_TENSOR:
        for (int64_t i = unit_begin; i < unit_end; i++)
            out[i] = (float)((const int8_t *)codes)[i] * tensor_scale;
        return CHIPEMU_OK;
    default: break;
    }
    /* element values as doubles: exact; scaling by 2^S is exact in double, one rounding to float */
    double lut[256];
    int32_t ncodes = 1 << f->elem_bits;
    for (int32_t c = 0; c < ncodes; c++) {
        if (f->kind == CHIPEMU_KIND_BLOCK_INT) {
            int32_t v = c >= ncodes / 2 ? c - ncodes : c;             /* two's complement */
            lut[c] = (double)v / (double)(1 << f->mbits);
        } else {
            int32_t smask = ncodes / 2;
            double v = minifloat_value(c & (smask - 1), f);
            lut[c] = (c & smask) ? -v : v;
        }
    }
    int64_t bs = f->block_size;
    int32_t cmask = ncodes - 1;
    for (int64_t unit = unit_begin; unit < unit_end; unit++) {
        int64_t r = unit / nb, b = unit % nb;
        int64_t c0 = b * bs, len = (c0 + bs <= cols ? bs : cols - c0);
        double sc = pow2_scale(scales[unit]);
        float *ob = out + r * cols + c0;
        if (f->kind == CHIPEMU_KIND_BLOCK_INT) {
            const int8_t *cb = (const int8_t *)codes + r * cols + c0;
            for (int64_t i = 0; i < len; i++) ob[i] = (float)(lut[cb[i] & cmask] * sc);
        } else {
            const uint8_t *cb = (const uint8_t *)codes + r * cols + c0;
            for (int64_t i = 0; i < len; i++) ob[i] = (float)(lut[cb[i] & cmask] * sc);
        }
    }
    return CHIPEMU_OK;
}
