/* chipemu.h — the one public header of chipemu's C core.
 *
 * Both builds read it: the cffi extension chipemu.emulator._native (csrc/build_ffi.py takes the
 * text between the CDEF markers as its cdef) and the standalone libchipemu.so (Makefile).
 * Between the markers keep to what cffi's cdef parser accepts: integer #defines, typedefs,
 * prototypes; no #include, no #if.
 *
 * Conventions: every function returns a chipemu status (0 = CHIPEMU_OK) or a plain value that
 * cannot fail; it checks every pointer and size and never aborts the host. Arrays are
 * caller-owned and C-contiguous.
 */
#ifndef CHIPEMU_H
#define CHIPEMU_H

#include <stdint.h>

#if defined(_WIN32)
#define CHIPEMU_API __declspec(dllexport)
#else
#define CHIPEMU_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* CDEF BEGIN */
#define CHIPEMU_ABI_VERSION 1

/* status codes */
#define CHIPEMU_OK 0
#define CHIPEMU_ERR_NULL 1          /* a required pointer is NULL */
#define CHIPEMU_ERR_SIZE 2          /* a size or range is negative or inconsistent */
#define CHIPEMU_ERR_FORMAT 3        /* unknown format code */
#define CHIPEMU_ERR_UNSUPPORTED 4   /* valid format, but not for this operation */

/* format codes: the registry in emulator/formats.py is the definition; a test checks equality */
#define CHIPEMU_FMT_FP32 0
#define CHIPEMU_FMT_BF16 1
#define CHIPEMU_FMT_FP16 2
#define CHIPEMU_FMT_INT8 3
#define CHIPEMU_FMT_MXINT8 4
#define CHIPEMU_FMT_MXINT4 5
#define CHIPEMU_FMT_MXFP8_E4M3 6
#define CHIPEMU_FMT_MXFP8_E5M2 7
#define CHIPEMU_FMT_MXFP6_E3M2 8
#define CHIPEMU_FMT_MXFP6_E2M3 9
#define CHIPEMU_FMT_MXFP4_E2M1 10
#define CHIPEMU_FMT_BFP16 11
#define CHIPEMU_FMT_BFP12 12
#define CHIPEMU_NUM_FORMATS 13

/* format kinds: how codes are computed */
#define CHIPEMU_KIND_FP32 0         /* codes are the float32 bits */
#define CHIPEMU_KIND_BF16 1         /* IEEE-style bfloat16, round to nearest even */
#define CHIPEMU_KIND_FP16 2         /* IEEE binary16, round to nearest even */
#define CHIPEMU_KIND_INT_TENSOR 3   /* int8 codes, one float32 scale per tensor */
#define CHIPEMU_KIND_BLOCK_INT 4    /* int elements, shared 8-bit power-of-two scale (MXINT, BFP) */
#define CHIPEMU_KIND_BLOCK_FP 5     /* minifloat elements, shared E8M0 scale (MXFP) */

typedef struct {
    int32_t code;
    int32_t kind;
    int32_t elem_bits;   /* bits of one element code */
    int32_t ebits;       /* exponent bits of a minifloat element (0 for ints) */
    int32_t mbits;       /* mantissa bits; for block ints the fraction bits (elem_bits - 2) */
    int32_t bias;        /* exponent bias of a minifloat element */
    int32_t emax;        /* exponent of the element's largest normal (OCP MX emax_elem) */
    int32_t max_mag;     /* largest magnitude code (saturation value) */
    int32_t block_size;  /* elements per shared scale (1 when there is none) */
    int32_t scale_bits;  /* bits of one shared scale (0 when there is none) */
} chipemu_format_info;

CHIPEMU_API int32_t chipemu_abi_version(void);
CHIPEMU_API const char *chipemu_status_string(int32_t status);
CHIPEMU_API int32_t chipemu_format_info_get(int32_t fmt, chipemu_format_info *out);

/* Largest |x| bit pattern (x bits & 0x7FFFFFFF) over n floats: > 0x7F800000 means a NaN was seen,
 * == 0x7F800000 an infinity. Combining partial results with max is exact and order-free. */
CHIPEMU_API int32_t chipemu_absmax_bits(const float *x, int64_t n, uint32_t *out);
/* The int8 per-tensor scale from absmax_bits (docs/formats.md). */
CHIPEMU_API float chipemu_int8_scale(uint32_t absmax_bits);

/* Quantize x[rows][cols] (blocks along cols) for work units [unit_begin, unit_end).
 * A unit is one block (row r, block b: columns [b*B, min(cols, (b+1)*B))) for block formats and one
 * element for the others. codes: rows*cols elements of the format's container (uint32 fp32,
 * uint16 bf16/fp16, int8 for int formats, uint8 for minifloats); scales: rows*ceil(cols/B) bytes for
 * block formats (may be NULL otherwise); tensor_scale: the int8 scale (ignored otherwise). */
CHIPEMU_API int32_t chipemu_quantize(int32_t fmt, const float *x, int64_t rows, int64_t cols,
                                     int64_t unit_begin, int64_t unit_end, void *codes,
                                     uint8_t *scales, float tensor_scale);
/* Inverse of chipemu_quantize over the same units; out is float32[rows][cols]. */
CHIPEMU_API int32_t chipemu_dequantize(int32_t fmt, const void *codes, const uint8_t *scales,
                                       float tensor_scale, int64_t rows, int64_t cols,
                                       int64_t unit_begin, int64_t unit_end, float *out);

/* Vector-unit fp32 math (csrc/vecmath.c; algorithms and max ULP error in docs/vecmath.md).
 * Bit-identical to emulator/reference/vecmath.py. A NaN input returns itself with the quiet bit
 * set; rsqrt of x < 0 returns 0x7FC00000. */
CHIPEMU_API float chipemu_exp_f32(float x);
CHIPEMU_API float chipemu_reciprocal_f32(float x);
CHIPEMU_API float chipemu_rsqrt_f32(float x);
/* y[i] = f(x[i]) for i < n; y may equal x. NULL pointers are allowed only when n == 0. */
CHIPEMU_API int32_t chipemu_vec_exp(const float *x, float *y, int64_t n);
CHIPEMU_API int32_t chipemu_vec_reciprocal(const float *x, float *y, int64_t n);
CHIPEMU_API int32_t chipemu_vec_rsqrt(const float *x, float *y, int64_t n);
/* CDEF END */

#ifdef __cplusplus
}
#endif

#endif /* CHIPEMU_H */
