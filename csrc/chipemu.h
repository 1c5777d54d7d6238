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
/* ---- Event log (docs/events.md): one fixed-size record per intrinsic call ------------------- */
#define CHIPEMU_EVENT_SCHEMA_VERSION 1
#define CHIPEMU_NO_BUF 0xFFFFFFFF

/* ops */
#define CHIPEMU_OP_DIMC_LOAD 1      /* write weight rows into a DIMC slot */
#define CHIPEMU_OP_DIMC_MVM 2       /* y (+)= x . W on one DIMC engine */
#define CHIPEMU_OP_VEC 3            /* vector-unit op, kind in c (CHIPEMU_VOP_*) */
#define CHIPEMU_OP_SEND 4           /* copy an SRAM range to the same range on peer tiles */
#define CHIPEMU_OP_DRAM_READ 5      /* DRAM range -> SRAM range */
#define CHIPEMU_OP_DRAM_WRITE 6     /* SRAM range -> DRAM range */
#define CHIPEMU_OP_HOST_READ 7      /* host range -> SRAM range */
#define CHIPEMU_OP_BARRIER 8        /* wait for every tile of the peer group */
#define CHIPEMU_OP_COUNT 9          /* op codes are 1..CHIPEMU_OP_COUNT-1 */

/* vector op kinds (event field c of CHIPEMU_OP_VEC) */
#define CHIPEMU_VOP_COPY 0
#define CHIPEMU_VOP_ADD 1
#define CHIPEMU_VOP_MUL 2
#define CHIPEMU_VOP_MAX 3
#define CHIPEMU_VOP_EXP 4
#define CHIPEMU_VOP_RECIPROCAL 5
#define CHIPEMU_VOP_RSQRT 6
#define CHIPEMU_VOP_ROW_SUM 7
#define CHIPEMU_VOP_ROW_MAX 8
#define CHIPEMU_VOP_CONVERT 9
#define CHIPEMU_VOP_COUNT 10

/* event flags */
#define CHIPEMU_FLAG_ACCUMULATE 1   /* DIMC_MVM: y += x.W (y is read too) */

/* units of a tile (event field unit: which instance of the op's unit class) */
#define CHIPEMU_UNIT_DIMC 0         /* DIMC engines 0..mvm_engines-1: DIMC_MVM */
#define CHIPEMU_UNIT_DIMC_WRITE 1   /* the weight-write port: DIMC_LOAD */
#define CHIPEMU_UNIT_VECTOR 2       /* VEC */
#define CHIPEMU_UNIT_DMA 3          /* SEND, DRAM_READ, DRAM_WRITE, HOST_READ */
#define CHIPEMU_UNIT_SYNC 4         /* BARRIER */

/* buffer kinds */
#define CHIPEMU_BUF_SRAM 0          /* the same byte range [base, base+size) of every tile's SRAM */
#define CHIPEMU_BUF_DRAM 1          /* [base, base+size) of DRAM channel `where` (global channel) */
#define CHIPEMU_BUF_HOST 2          /* host memory, read-only to the device */

typedef struct {
    uint32_t buf;        /* buffer id (index into the buffer table), CHIPEMU_NO_BUF if unused */
    uint32_t off;        /* bytes from the buffer's start */
    uint32_t len;        /* bytes */
} chipemu_range;

typedef struct {
    uint8_t op;          /* CHIPEMU_OP_* */
    int8_t fmt;          /* format: DIMC activations, VEC convert target, else -1 */
    int8_t fmt2;         /* second format: DIMC weights, VEC convert source, else -1 */
    uint8_t unit;        /* instance of the op's unit class (DIMC engine index), else 0 */
    uint32_t tile;       /* global tile id issuing the op: chiplet * tiles_per_chiplet + local */
    uint32_t step;       /* superstep */
    uint32_t a;          /* size a (op table in docs/events.md) */
    uint32_t b;          /* size b */
    uint32_t peer_first; /* first index of this op's peers in the peers array */
    uint16_t peer_count; /* number of peers (SEND destinations, BARRIER group) */
    uint16_t c;          /* slot (DIMC ops), vector op kind (VEC) */
    chipemu_range src0;
    chipemu_range src1;
    chipemu_range dst;
    uint32_t flags;      /* CHIPEMU_FLAG_* */
} chipemu_event;

typedef struct {
    uint32_t kind;       /* CHIPEMU_BUF_* */
    uint32_t where;      /* DRAM: global channel id; else 0 */
    uint64_t base;       /* bytes */
    uint64_t size;       /* bytes */
} chipemu_buffer;

CHIPEMU_API int32_t chipemu_event_schema_version(void);
CHIPEMU_API int64_t chipemu_event_size(void);
/* ---- Timing and energy engine (docs/engine.md) ------------------------------------------------ */
#define CHIPEMU_ENGINE_PARAMS_VERSION 1

/* energy components (one bucket each in the breakdown) */
#define CHIPEMU_E_DIMC 0            /* MACs in the DIMC arrays */
#define CHIPEMU_E_DIMC_WRITE 1      /* weight-row writes into DIMC arrays */
#define CHIPEMU_E_SRAM 2            /* SRAM bits read and written */
#define CHIPEMU_E_VECTOR 3          /* vector-unit element ops */
#define CHIPEMU_E_NOC 4             /* NoC bit-hops */
#define CHIPEMU_E_D2D 5             /* die-to-die link bits */
#define CHIPEMU_E_DRAM 6            /* DRAM bits */
#define CHIPEMU_E_HOST 7            /* host-link bits */
#define CHIPEMU_E_STATIC 8          /* static power x makespan */
#define CHIPEMU_E_OVERHEAD 9        /* the labelled overhead term (an assumption; docs/engine.md) */
#define CHIPEMU_E_COUNT 10

/* resource classes (docs/engine.md lists how resources are numbered) */
#define CHIPEMU_RES_DIMC 0          /* one per DIMC engine per tile */
#define CHIPEMU_RES_DIMC_WRITE 1    /* weight-write port, one per tile */
#define CHIPEMU_RES_VECTOR 2        /* vector unit, one per tile */
#define CHIPEMU_RES_DMA 3           /* DMA queue, one per tile */
#define CHIPEMU_RES_SRAM 4          /* SRAM port, one per tile */
#define CHIPEMU_RES_INJECT 5        /* NoC inject port, one per tile */
#define CHIPEMU_RES_EJECT 6         /* NoC eject port, one per tile */
#define CHIPEMU_RES_NOC_LINK 7      /* directed NoC link between neighbouring tiles */
#define CHIPEMU_RES_D2D 8           /* directed die-to-die link */
#define CHIPEMU_RES_DRAM 9          /* DRAM channel */
#define CHIPEMU_RES_HOST 10         /* host link */
#define CHIPEMU_RES_COUNT 11

typedef struct {
    uint32_t a, b;                  /* chiplets joined; the link is full duplex (two directed resources) */
    uint32_t phy_a, phy_b;          /* local tile id of the PHY on chiplet a and on chiplet b */
    uint32_t bytes_per_cycle;       /* per direction */
    uint32_t latency_cycles;
    int64_t fj_per_bit;
} chipemu_link;

typedef struct {
    uint32_t version;               /* CHIPEMU_ENGINE_PARAMS_VERSION */
    uint32_t n_chiplets;
    uint32_t tile_rows, tile_cols;  /* per-chiplet tile mesh; local tile id = row * tile_cols + col */
    double clock_ghz;
    /* NoC (per chiplet, XY routing) */
    uint32_t noc_hop_cycles;        /* per hop: router + link traversal */
    uint32_t noc_link_bytes_per_cycle;
    uint32_t noc_max_packet_bytes;
    uint32_t dma_inject_bytes_per_cycle, dma_eject_bytes_per_cycle;
    /* tile */
    uint32_t dimc_rows, dimc_cols, dimc_slots, dimc_engines;
    uint32_t dimc_cell_bits;        /* bits per weight cell; narrower weights pack cell_bits/w per cell */
    uint32_t dimc_input_bits_per_cycle;
    uint32_t dimc_pipeline_cycles;  /* fixed latency added to every DIMC_MVM */
    uint32_t dimc_io_bytes_per_cycle;      /* the engines' own path to x and y */
    uint32_t dimc_write_cycles_per_row;
    uint32_t dimc_write_overlaps_compute;  /* 0: a slot being written blocks MVMs on the tile */
    uint32_t sram_port_bytes_per_cycle;
    uint64_t sram_capacity_bytes;
    uint32_t vec_lanes;
    uint32_t vec_cycles[CHIPEMU_VOP_COUNT];  /* cycles per batch of vec_lanes elements */
    /* die-to-die links */
    uint32_t n_links;
    const chipemu_link *links;
    /* DRAM: channels per chiplet, each attached to a local tile */
    uint32_t dram_channels;
    const uint32_t *dram_channel_tile;
    uint32_t dram_bytes_per_cycle, dram_latency_cycles;
    /* host link, attached to one tile */
    uint32_t host_chiplet, host_tile;
    uint32_t host_bytes_per_cycle, host_latency_cycles;
    uint32_t barrier_cycles;
    /* energy per action, integer femtojoules */
    int64_t fj_mac[CHIPEMU_NUM_FORMATS];   /* per MAC by activation format, 8-bit weights */
    int64_t fj_overhead_per_mac;
    int64_t fj_dimc_row_write;
    int64_t fj_sram_read_bit, fj_sram_write_bit;
    int64_t fj_noc_bit_hop;
    int64_t fj_dram_bit, fj_host_bit;
    int64_t fj_vec_op[CHIPEMU_VOP_COUNT];  /* per element */
    /* static power, integer microwatts (1 uW x 1 ns = 1 fJ) */
    int64_t static_uw_tile, static_uw_chiplet, static_uw_card;
} chipemu_device_params;
/* CDEF END */

#ifdef __cplusplus
}
#endif

#endif /* CHIPEMU_H */
