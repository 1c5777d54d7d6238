/* chipemu.h — the one public header of chipemu's C core.
 *
 * Both builds read it: the cffi extension chipemu.emulator._native (csrc/build_ffi.py takes the
 * text between the CDEF markers as its cdef) and the standalone libchipemu.so (Makefile).
 * Between the markers keep to what cffi's cdef parser accepts: integer #defines, typedefs,
 * prototypes; no #include, no #if.
 * The GENERATED regions (ids, limits, the event structs, the C tile kernels' prototypes) are
 * written by csrc/gen_tables.py from chipemu.emulator.tables and csrc/kernels/<kernel>/tile.c: edit those
 * and rerun it, never the regions (docs/tables.md; tests/test_tables.py checks they are current).
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
/* GENERATED BEGIN versions_status (from chipemu.emulator.tables.ids; csrc/gen_tables.py) */
/* versions */
#define CHIPEMU_ABI_VERSION 1           /* chipemu_abi_version(): the C ABI */
#define CHIPEMU_EVENT_SCHEMA_VERSION 1  /* chipemu_event and its meaning (docs/events.md) */
#define CHIPEMU_ENGINE_PARAMS_VERSION 2 /* chipemu_device_params.version */
#define CHIPEMU_RUNTIME_VERSION 1       /* chipemu_ctx, chipemu_superstep and the intrinsics */

/* status codes (chipemu_status_string gives the text) */
#define CHIPEMU_OK 0
#define CHIPEMU_ERR_NULL 1          /* a required pointer is NULL */
#define CHIPEMU_ERR_SIZE 2          /* a size or range is negative or inconsistent */
#define CHIPEMU_ERR_FORMAT 3        /* unknown format code */
#define CHIPEMU_ERR_UNSUPPORTED 4   /* valid format, but not for this operation */
#define CHIPEMU_ERR_KERNEL 5        /* a tile kernel broke a rule; its scalars say which */
#define CHIPEMU_ERR_LOG 16          /* malformed event log; out->error names event and problem */
#define CHIPEMU_ERR_PARAMS 17       /* invalid chipemu_device_params; out->error names the field */
#define CHIPEMU_ERR_NOMEM 18        /* out of memory */
#define CHIPEMU_ERR_NAME 19         /* unknown name (a device preset); chipemu_last_error() says which */
#define CHIPEMU_ERR_CAPACITY 20     /* the work does not fit the device; chipemu_last_error() says why */
/* GENERATED END versions_status */

/* GENERATED BEGIN formats (from chipemu.emulator.tables.formats; csrc/gen_tables.py) */
/* format codes */
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

#define CHIPEMU_DIMC_MIN_ELEM_BITS 4 /* the narrowest DIMC weight element */
#define CHIPEMU_DIMC_FORMAT_MASK 0x1838 /* bit `code` set: the DIMC arrays compute in that format */

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
/* GENERATED END formats */

CHIPEMU_API int32_t chipemu_abi_version(void);
CHIPEMU_API const char *chipemu_status_string(int32_t status);
CHIPEMU_API int32_t chipemu_format_info_get(int32_t fmt, chipemu_format_info *out);
/* Python's name of a format code ("mxint8"), or NULL for an unknown code. */
CHIPEMU_API const char *chipemu_format_name(int32_t fmt);

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

/* Vector-unit fp32 math (csrc/numerics/vecmath.c; algorithms and max ULP error in docs/vecmath.md).
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
/* GENERATED BEGIN event (from chipemu.emulator.tables.event, chipemu.emulator.tables.ids; csrc/gen_tables.py) */
#define CHIPEMU_NO_BUF 0xFFFFFFFF   /* chipemu_range.buf of an unused range */

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
#define CHIPEMU_FLAG_ACCUMULATE 1    /* DIMC_MVM: y += x.W (y is read too) */
#define CHIPEMU_FLAG_ROW_BROADCAST 2 /* VEC add/mul: src1 holds one value per row of b elements */
#define CHIPEMU_FLAG_DOT 4           /* VEC mul kind: dst = src0 . src1^T over rows of b elements */
#define CHIPEMU_FLAG_ARGMAX 8        /* VEC row_max kind: dst[c] = src1 at column c's first maximum of src0 */
#define CHIPEMU_FLAG_WEIGHTS 16      /* VEC convert kind: dst in the weights layout of fmt, b = its columns */

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
/* GENERATED END event */

CHIPEMU_API int32_t chipemu_event_schema_version(void);
CHIPEMU_API int64_t chipemu_event_size(void);
/* ---- Timing and energy engine (docs/engine.md) ------------------------------------------------ */
/* GENERATED BEGIN engine_ids (from chipemu.emulator.tables.ids; csrc/gen_tables.py) */
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

/* network models (chipemu_device_params.network; docs/engine.md section 4) */
#define CHIPEMU_NET_PACKET 0        /* every packet hop by hop: the detailed reference */
#define CHIPEMU_NET_MESSAGE 1       /* each stream of a message as one unit, cut-through: cost per message */
#define CHIPEMU_NET_COUNT 2

/* multicast in the NoC (chipemu_device_params.noc_multicast; docs/engine.md section 4) */
#define CHIPEMU_MCAST_UNICAST 0     /* one stream per destination, each on its own route */
#define CHIPEMU_MCAST_TREE 1        /* routers replicate along the XY routes to same-chiplet peers */
#define CHIPEMU_MCAST_COUNT 2

/* chipemu_engine_error.code (texts: chipemu_engine_error_string). `field` and `value` per code. */
#define CHIPEMU_EE_NONE 0
#define CHIPEMU_EE_PARAM 1          /* field = byte offset of the member in chipemu_device_params */
#define CHIPEMU_EE_LINK 2           /* field = byte offset of the member in chipemu_link; value = link */
#define CHIPEMU_EE_TOO_LARGE 3      /* more events, tiles, resources or cycles than the engine indexes */
#define CHIPEMU_EE_OP 4             /* unknown op code */
#define CHIPEMU_EE_TILE 5           /* tile >= n_tiles */
#define CHIPEMU_EE_STEP 6           /* superstep smaller than the previous record's */
#define CHIPEMU_EE_PEERS 7          /* peer slice outside the peers array, or empty where peers are needed */
#define CHIPEMU_EE_PEER 8           /* a peer >= n_tiles (field = its position in the slice) */
#define CHIPEMU_EE_BUFFER 9         /* buffer id out of the table, or missing (field: 0 src0, 1 src1, 2 dst) */
#define CHIPEMU_EE_BUFFER_KIND 10   /* buffer of the wrong kind for this range (value = its kind) */
#define CHIPEMU_EE_RANGE 11         /* range end (value) beyond its buffer's size (limit) */
#define CHIPEMU_EE_LENGTH 12        /* message of 0 bytes, or a range length (value) != the op's bytes (limit) */
#define CHIPEMU_EE_ENGINE 13        /* DIMC engine (unit) >= dimc_engines */
#define CHIPEMU_EE_SLOT 14          /* DIMC slot >= dimc_slots */
#define CHIPEMU_EE_ROWS 15          /* DIMC rows end (value) > dimc_rows */
#define CHIPEMU_EE_FORMAT 16        /* format code out of range (field: 0 fmt, 1 fmt2) */
#define CHIPEMU_EE_VOP 17           /* unknown vector op kind */
#define CHIPEMU_EE_BUFFER_TABLE 18  /* buffer `field` of the table: unknown kind, DRAM channel or SRAM end out of range */
#define CHIPEMU_EE_BARRIER_GROUP 19 /* barrier group not strictly ascending, or without the issuing tile */
#define CHIPEMU_EE_BARRIER_MATCH 20 /* group member `value` has no matching k-th barrier with this group */
#define CHIPEMU_EE_NO_ROUTE 21      /* no D2D path from chiplet `field` to chiplet `value` */
#define CHIPEMU_EE_CYCLE 22         /* hazards, unit order and barriers form a cycle: this event never completes */
#define CHIPEMU_EE_COUNT 23

/* critical-path classes: the CHIPEMU_RES_* classes plus barrier latency */
#define CHIPEMU_CP_BARRIER 11
#define CHIPEMU_CP_COUNT 12
/* GENERATED END engine_ids */

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
    uint32_t network;               /* CHIPEMU_NET_*: how messages are timed (docs/engine.md section 4) */
    uint32_t noc_multicast;         /* CHIPEMU_MCAST_*: multicast SENDs as unicast streams or a tree */
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
    uint64_t sram_capacity_bytes;   /* SRAM bytes per tile that buffers may use (after DIMC cells) */
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

/* GENERATED BEGIN limits (from chipemu.emulator.tables.limits; csrc/gen_tables.py) */
/* device limits: every layer accepts [MIN, MAX] and rejects the rest (docs/tables.md) */
/* n_chiplets = chiplets.rows x chiplets.cols: the engine's die-to-die route table holds
 * n_chiplets^2 next hops */
#define CHIPEMU_LIMIT_N_CHIPLETS_MIN 1
#define CHIPEMU_LIMIT_N_CHIPLETS_MAX 4096
/* n_tiles = n_chiplets x tile_rows x tile_cols, and tile_rows x tile_cols alone: the engine
 * numbers tiles, their units and resources in int32 */
#define CHIPEMU_LIMIT_N_TILES_MIN 1
#define CHIPEMU_LIMIT_N_TILES_MAX 16777216
/* dimc_rows: a chosen bound far above real arrays (Corsair: 64); it bounds the DIMC state of a
 * slot */
#define CHIPEMU_LIMIT_DIMC_ROWS_MIN 1
#define CHIPEMU_LIMIT_DIMC_ROWS_MAX 65536
/* dimc_cols: a chosen bound far above real arrays (Corsair: 64); it bounds the DIMC state of a
 * slot */
#define CHIPEMU_LIMIT_DIMC_COLS_MIN 1
#define CHIPEMU_LIMIT_DIMC_COLS_MAX 65536
/* dimc_slots: a slot is the event's uint16 field c */
#define CHIPEMU_LIMIT_DIMC_SLOTS_MIN 1
#define CHIPEMU_LIMIT_DIMC_SLOTS_MAX 65535
/* dimc_engines: an engine is the event's uint8 field unit */
#define CHIPEMU_LIMIT_DIMC_ENGINES_MIN 1
#define CHIPEMU_LIMIT_DIMC_ENGINES_MAX 255
/* dimc_cell_bits: a cell holds at least one weight of the narrowest DIMC format (4 bits) and at
 * most one 64-bit word */
#define CHIPEMU_LIMIT_DIMC_CELL_BITS_MIN 4
#define CHIPEMU_LIMIT_DIMC_CELL_BITS_MAX 64
/* dram_channels: a chosen bound (per chiplet), like n_chiplets' */
#define CHIPEMU_LIMIT_DRAM_CHANNELS_MIN 0
#define CHIPEMU_LIMIT_DRAM_CHANNELS_MAX 4096
/* n_links = die-to-die links (Device.d2d_links()): a chosen bound; two directed resources per
 * link */
#define CHIPEMU_LIMIT_N_LINKS_MIN 0
#define CHIPEMU_LIMIT_N_LINKS_MAX 65536
/* n_resources = n_tiles x (dimc_engines + 6) + 2 x n_chiplets x (tile_rows x (tile_cols - 1) +
 * tile_cols x (tile_rows - 1)) + 2 x n_links + n_chiplets x dram_channels + 1: the engine
 * numbers resources in int32 */
#define CHIPEMU_LIMIT_N_RESOURCES_MIN 1
#define CHIPEMU_LIMIT_N_RESOURCES_MAX 2147483646
/* memory_regions = n_tiles x (1 + dimc_slots) + n_chiplets x dram_channels: the engine's hazard
 * walk keeps a table entry per tile SRAM, DIMC slot and DRAM channel */
#define CHIPEMU_LIMIT_MEMORY_REGIONS_MIN 1
#define CHIPEMU_LIMIT_MEMORY_REGIONS_MAX 134217728
/* buffer_bytes = bytes of one buffer (Machine.alloc_*): a range's off and len are the event's
 * uint32 fields */
#define CHIPEMU_LIMIT_BUFFER_BYTES_MIN 1
#define CHIPEMU_LIMIT_BUFFER_BYTES_MAX 4294967295LL
/* count = count arguments of the intrinsics (n, nbytes, nvec, rows_a x rows_b x row_len):
 * element, byte and vector counts of an intrinsic stay in int32, so every derived length fits
 * the event's uint32 fields */
#define CHIPEMU_LIMIT_COUNT_MIN 1
#define CHIPEMU_LIMIT_COUNT_MAX 2147483647
/* peers = tiles named by one send or barrier: the event's peer_count is uint16 */
#define CHIPEMU_LIMIT_PEERS_MIN 1
#define CHIPEMU_LIMIT_PEERS_MAX 65535
/* clock_ghz: a chosen range around real clocks (1 MHz to 1 THz); static energy is power x cycles
 * / clock */
#define CHIPEMU_LIMIT_CLOCK_GHZ_MIN_E6 1000
#define CHIPEMU_LIMIT_CLOCK_GHZ_MAX_E6 1000000000
/* vec_cycles: a chosen bound (real: 1-10 cycles per batch); it keeps one vector op's time below
 * 2^48 cycles */
#define CHIPEMU_LIMIT_VEC_CYCLES_MIN 1
#define CHIPEMU_LIMIT_VEC_CYCLES_MAX 65535
/* sram_capacity_bytes = tile.sram.capacity_bytes, less the DIMC cells when
 * tile.dimc.counts_in_sram: buffers need at least one byte */
#define CHIPEMU_LIMIT_SRAM_CAPACITY_BYTES_MIN 1
#define CHIPEMU_LIMIT_SRAM_CAPACITY_BYTES_MAX 9223372036854775807LL
/* fj_mac = fJ per 8b x 8b MAC, per act format: at most 1 nJ per action (real: 0.01-100 pJ), so
 * 9.2 x 10^12 actions fit the engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_MAC_MIN 0
#define CHIPEMU_LIMIT_FJ_MAC_MAX 1000000
/* fj_overhead_per_mac: at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit
 * the engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_OVERHEAD_PER_MAC_MIN 0
#define CHIPEMU_LIMIT_FJ_OVERHEAD_PER_MAC_MAX 1000000
/* fj_dimc_row_write: at most 1 uJ per row written (real: ~10-1000 pJ) */
#define CHIPEMU_LIMIT_FJ_DIMC_ROW_WRITE_MIN 0
#define CHIPEMU_LIMIT_FJ_DIMC_ROW_WRITE_MAX 1000000000
/* fj_sram_read_bit: at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit the
 * engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_SRAM_READ_BIT_MIN 0
#define CHIPEMU_LIMIT_FJ_SRAM_READ_BIT_MAX 1000000
/* fj_sram_write_bit: at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit the
 * engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_SRAM_WRITE_BIT_MIN 0
#define CHIPEMU_LIMIT_FJ_SRAM_WRITE_BIT_MAX 1000000
/* fj_noc_bit_hop: at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit the
 * engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_NOC_BIT_HOP_MIN 0
#define CHIPEMU_LIMIT_FJ_NOC_BIT_HOP_MAX 1000000
/* fj_dram_bit: at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit the
 * engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_DRAM_BIT_MIN 0
#define CHIPEMU_LIMIT_FJ_DRAM_BIT_MAX 1000000
/* fj_host_bit: at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit the
 * engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_HOST_BIT_MIN 0
#define CHIPEMU_LIMIT_FJ_HOST_BIT_MAX 1000000
/* fj_vec_op = fJ per element, per vector op kind: at most 1 nJ per action (real: 0.01-100 pJ),
 * so 9.2 x 10^12 actions fit the engine's int64 femtojoules */
#define CHIPEMU_LIMIT_FJ_VEC_OP_MIN 0
#define CHIPEMU_LIMIT_FJ_VEC_OP_MAX 1000000
/* fj_link_bit = links[i].fj_per_bit (chiplets.link.pj_per_bit, chiplets.links.<i>.pj_per_bit):
 * at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit the engine's int64
 * femtojoules */
#define CHIPEMU_LIMIT_FJ_LINK_BIT_MIN 0
#define CHIPEMU_LIMIT_FJ_LINK_BIT_MAX 1000000
/* static_uw_tile: at most 10 kW (a card draws ~1 kW); 10 kW for 0.92 s fills the engine's int64
 * femtojoules */
#define CHIPEMU_LIMIT_STATIC_UW_TILE_MIN 0
#define CHIPEMU_LIMIT_STATIC_UW_TILE_MAX 10000000000LL
/* static_uw_chiplet: at most 10 kW (a card draws ~1 kW); 10 kW for 0.92 s fills the engine's
 * int64 femtojoules */
#define CHIPEMU_LIMIT_STATIC_UW_CHIPLET_MIN 0
#define CHIPEMU_LIMIT_STATIC_UW_CHIPLET_MAX 10000000000LL
/* static_uw_card: at most 10 kW (a card draws ~1 kW); 10 kW for 0.92 s fills the engine's int64
 * femtojoules */
#define CHIPEMU_LIMIT_STATIC_UW_CARD_MIN 0
#define CHIPEMU_LIMIT_STATIC_UW_CARD_MAX 10000000000LL
/* static_uw = static_uw_tile x n_tiles + static_uw_chiplet x n_chiplets + static_uw_card
 * (Device.static_w in uW): at most 10 kW (a card draws ~1 kW); 10 kW for 0.92 s fills the
 * engine's int64 femtojoules */
#define CHIPEMU_LIMIT_STATIC_UW_MIN 0
#define CHIPEMU_LIMIT_STATIC_UW_MAX 10000000000LL
/* chipemu_engine_error.field of a log error CHIPEMU_EE_TOO_LARGE: what is too large */
#define CHIPEMU_TOO_LARGE_EVENTS 0
#define CHIPEMU_TOO_LARGE_EDGES 1
#define CHIPEMU_TOO_LARGE_CYCLES 2
#define CHIPEMU_TOO_LARGE_ENERGY 3
/* GENERATED END limits */

/* ---- Timing and energy engine: results and entry points (csrc/engine/; docs/engine.md) ------- */
/* A pure function of (event log, peers, buffer table, device params): no global state, every
 * output caller-allocated, internal state malloc'ed and freed before returning. It may run one
 * worker thread for the call (chipemu_engine_result.threads); results never depend on it. */
typedef struct {
    int64_t event;                  /* offending event index; -1 when not tied to one event */
    int32_t code;                   /* CHIPEMU_EE_* */
    int32_t field;                  /* per code (see CHIPEMU_EE_*) */
    int64_t value;                  /* the offending value */
    int64_t limit;                  /* what it had to stay below (or equal, for CHIPEMU_EE_LENGTH) */
} chipemu_engine_error;

typedef struct {
    /* caller-allocated arrays */
    int64_t *start_cycles;          /* [n_events] */
    int64_t *end_cycles;            /* [n_events] */
    int64_t *busy_cycles;           /* [chipemu_engine_resource_count(p)] */
    int64_t *energy_by_chiplet;     /* [n_chiplets + 1]: the last bucket is the card */
    int64_t *energy_by_tile;        /* [n_tiles + 1]: the last bucket is the card */
    int32_t *critical_path;         /* [critical_path_capacity]: event indices, first to last */
    int64_t critical_path_capacity; /* a longer path keeps its last ops (critical_path_len says all) */
    int64_t *energy_fj_event;       /* [n_events] or NULL: dynamic energy of each event (all but static) */
    int32_t threads;                /* input: threads to use (0 = automatic); results never depend on it */
    /* outputs */
    int64_t makespan_cycles;
    int64_t energy_fj;
    int64_t energy_by_component[CHIPEMU_E_COUNT];
    int64_t energy_by_op[CHIPEMU_OP_COUNT];      /* [0] = static energy, [op code] = that op's */
    int64_t critical_path_len;
    int64_t critical_cycles[CHIPEMU_CP_COUNT];   /* cycles along the path per class; sum = makespan */
    int32_t critical_class;         /* the class with the most cycles; -1 for an empty log */
    chipemu_engine_error error;
    int64_t events_done;            /* progress: ops completed so far, stored (relaxed atomic) every
                                     * 65,536 while the run goes, so another thread may read it */
} chipemu_engine_result;

/* Resources of a device (numbering in docs/engine.md); -1 if p is NULL or invalid. */
CHIPEMU_API int64_t chipemu_engine_resource_count(const chipemu_device_params *p);
/* The resource table: class (CHIPEMU_RES_*), chiplet (-1: card), global tile (-1: none), index. */
CHIPEMU_API int32_t chipemu_engine_resources(const chipemu_device_params *p, int64_t n, int32_t *cls,
                                             int32_t *chiplet, int32_t *tile, int32_t *index);
/* CHIPEMU_OK, or CHIPEMU_ERR_PARAMS with *err naming the field (err may be NULL). */
CHIPEMU_API int32_t chipemu_engine_check_params(const chipemu_device_params *p,
                                                chipemu_engine_error *err);
/* Time and energy of one log. peers / buffers may be NULL when their count is 0. */
CHIPEMU_API int32_t chipemu_engine_run(const chipemu_device_params *p, const chipemu_event *events,
                                       int64_t n_events, const uint32_t *peers, int64_t n_peers,
                                       const chipemu_buffer *buffers, int64_t n_buffers,
                                       chipemu_engine_result *out);
CHIPEMU_API const char *chipemu_engine_error_string(int32_t code);

/* ---- Devices: an opaque handle (csrc/runtime/device.c; docs/engine.md "From C") -------------- */
/* A device's engine parameters, owned by the handle (its links and DRAM channel tiles copied).
 * Opened from a shipped preset by name (the parameters generated from the same preset files
 * Python reads) or from a caller's chipemu_device_params struct, which Python fills for any
 * device: Device.engine_params(). Handles share nothing: distinct handles are safe on distinct
 * threads. A failing call returns a status, leaves *out NULL and sets chipemu_last_error(),
 * the calling thread's text of its last failure (the message Python gives for the same). */
typedef struct chipemu_device chipemu_device;
CHIPEMU_API int64_t chipemu_preset_count(void);
CHIPEMU_API const char *chipemu_preset_name(int64_t i);  /* NULL outside 0..count-1 */
CHIPEMU_API int32_t chipemu_device_open(const char *preset, chipemu_device **out);
CHIPEMU_API int32_t chipemu_device_from_params(const chipemu_device_params *params,
                                               chipemu_device **out);
CHIPEMU_API const chipemu_device_params *chipemu_device_params_of(const chipemu_device *dev);
CHIPEMU_API const char *chipemu_device_name(const chipemu_device *dev);
CHIPEMU_API void chipemu_device_close(chipemu_device *dev);   /* NULL is a no-op */
CHIPEMU_API const char *chipemu_last_error(void);
/* ---- Runtime and intrinsics (docs/intrinsics.md) ---------------------------------------------- */
/* SPMD tile kernels run one superstep at a time (chipemu_launch, then chipemu_finish); they touch
 * the device only through the chipemu_* intrinsics below, each of which appends one chipemu_event.
 * The Numba twin (emulator/intrinsics/, emulator/runtime/superstep.py) passes the same arrays. */
/* GENERATED BEGIN runtime_ids (from chipemu.emulator.tables.ids; csrc/gen_tables.py) */
/* run modes (dev[CHIPEMU_DEV_MODE]) */
#define CHIPEMU_MODE_FUNCTIONAL 0   /* data and math */
#define CHIPEMU_MODE_TIMING 1       /* shape-only buffers: the same events, no data */

/* device constants of a launch: dev[CHIPEMU_DEV_*] */
#define CHIPEMU_DEV_N_TILES 0
#define CHIPEMU_DEV_ROWS 1          /* DIMC array rows (the K a slot holds) */
#define CHIPEMU_DEV_COLS 2          /* DIMC array columns of cells */
#define CHIPEMU_DEV_CELL_BITS 3     /* bits per cell: cell_bits / elem_bits weights per cell */
#define CHIPEMU_DEV_SLOTS 4
#define CHIPEMU_DEV_ENGINES 5
#define CHIPEMU_DEV_COLS_MAX 6      /* columns of the DIMC state: cols_eff of the narrowest DIMC weight */
#define CHIPEMU_DEV_BLOCKS_MAX 7    /* block-scale rows of the DIMC state: ceil(ROWS / 32) */
#define CHIPEMU_DEV_MODE 8          /* CHIPEMU_MODE_* */
#define CHIPEMU_DEV_STEP 9          /* superstep */
#define CHIPEMU_DEV_COUNT 10

/* per-tile scalars of a launch: sc[CHIPEMU_SC_*] */
#define CHIPEMU_SC_TILE 0           /* global tile id (set by the runtime) */
#define CHIPEMU_SC_EVENTS 1         /* events appended to the tile's region */
#define CHIPEMU_SC_PEERS 2          /* peer ids appended to the tile's region */
#define CHIPEMU_SC_STAGED 3         /* bytes staged (SEND, DRAM_WRITE data) */
#define CHIPEMU_SC_EVENT_CAP 4      /* region sizes (set by the runtime) */
#define CHIPEMU_SC_PEER_CAP 5
#define CHIPEMU_SC_STAGE_CAP 6
#define CHIPEMU_SC_ERROR 7          /* CHIPEMU_KERR_* of the first broken rule, 0 if none */
#define CHIPEMU_SC_MESSAGE 8        /* message id (MSG_* of csrc/intrinsics/core.h) */
#define CHIPEMU_SC_INTRINSIC 9      /* CHIPEMU_IN_* that failed */
#define CHIPEMU_SC_VALUES 10        /* 5 values quoted by the message */
#define CHIPEMU_SC_COUNT 16

/* error classes: CapacityError, ShapeError, FormatError, ChipemuError in Python */
#define CHIPEMU_KERR_CAPACITY 1
#define CHIPEMU_KERR_SHAPE 2
#define CHIPEMU_KERR_FORMAT 3
#define CHIPEMU_KERR_STATE 4

/* intrinsic ids in error reports; a vector op is CHIPEMU_IN_VEC + its CHIPEMU_VOP_* */
#define CHIPEMU_IN_DIMC_LOAD 0
#define CHIPEMU_IN_DIMC_MVM 1
#define CHIPEMU_IN_VEC 2
#define CHIPEMU_IN_SEND 12
#define CHIPEMU_IN_DRAM_READ 13
#define CHIPEMU_IN_DRAM_WRITE 14
#define CHIPEMU_IN_HOST_READ 15
#define CHIPEMU_IN_BARRIER 16
#define CHIPEMU_IN_VEC_ADD_ROWS 17        /* row-broadcast add/mul: ids of their own, since they log */
#define CHIPEMU_IN_VEC_MUL_ROWS 18        /*   the plain add/mul kind and IN_VEC + kind is vec_add's */
#define CHIPEMU_IN_VEC_DOT 19             /* dot products: logs the mul kind, so an id of its own too */
#define CHIPEMU_IN_VEC_COL_ARGMAX 20      /* column argmax: logs the row_max kind, so an id of its own too */
#define CHIPEMU_IN_VEC_CONVERT_WEIGHTS 21 /* into the weights layout: logs the convert kind, an id of its own */
#define CHIPEMU_IN_COUNT 22

/* the runtime's buffer table: bufs[id * CHIPEMU_BT_COUNT + CHIPEMU_BT_*] */
#define CHIPEMU_BT_KIND 0           /* CHIPEMU_BUF_* */
#define CHIPEMU_BT_STORE 1          /* offset of the data: in tile SRAM, the DRAM or the host arena */
#define CHIPEMU_BT_SIZE 2           /* bytes */
#define CHIPEMU_BT_WHERE 3          /* DRAM: global channel; else 0 */
#define CHIPEMU_BT_COUNT 4
/* GENERATED END runtime_ids */

/* What a tile kernel receives: its own state and regions. Kernels only pass it to intrinsics.
 * chipemu_launch makes it; an intrinsic or exported kernel called with any other checks it at
 * entry (csrc/runtime/superstep.c): NULL pointers, counters past their capacities and device
 * constants past the CHIPEMU_LIMIT_* are refused, each operand's buffer is bounded by its memory
 * (sram_bytes, dram_bytes, host_bytes). The lengths behind the pointers must match its sizes. */
typedef struct {
    uint8_t *sram;             /* this tile's SRAM (timing mode: NULL) */
    uint64_t sram_bytes;
    int8_t *dimc_codes;        /* [slots][rows][cols_max] weight codes (timing mode: NULL) */
    uint8_t *dimc_scales;      /* [slots][blocks_max][cols_max] block-scale codes (timing: NULL) */
    float *dimc_tscale;        /* [slots] int8 per-tensor weight scale (timing: NULL) */
    int8_t *dimc_wfmt;         /* [slots] weight format of each slot, -1 = empty (both modes) */
    const uint8_t *dram;       /* DRAM arena as of the superstep's start (timing: NULL) */
    uint64_t dram_bytes;
    const uint8_t *host;       /* host arena (timing: NULL) */
    uint64_t host_bytes;
    const int64_t *bufs;       /* [n_bufs][CHIPEMU_BT_COUNT] */
    int64_t n_bufs;
    chipemu_event *events;     /* this tile's event region (sc[CHIPEMU_SC_EVENT_CAP] records) */
    uint32_t *peers;           /* this tile's peer region (sc[CHIPEMU_SC_PEER_CAP] ids) */
    uint8_t *stage;            /* this tile's staging region (sc[CHIPEMU_SC_STAGE_CAP] bytes) */
    int64_t *sc;               /* this tile's scalars CHIPEMU_SC_* */
    const int64_t *dev;        /* CHIPEMU_DEV_* */
    int8_t *scratch_i8;        /* per-thread scratch of dimc_mvm, sizes in csrc/intrinsics/core.h */
    double *scratch_f64;       /*   (core_dimc_scratch) */
    int32_t *scratch_i32;
    float *scratch_f32;
} chipemu_ctx;

typedef void (*chipemu_tile_kernel)(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p);

/* One superstep: the machine's arrays and the launch's per-tile regions (launch tile i owns
 * events[i*event_cap ...], peers[i*peer_cap ...], stage[i*stage_cap ...] and sc[i*SC_COUNT ...]). */
typedef struct {
    uint8_t *sram;             /* [n_tiles][sram_stride] (timing mode: NULL) */
    uint64_t sram_stride;
    int8_t *dimc_codes;        /* [n_tiles][slots][rows][cols_max] (timing: NULL) */
    uint8_t *dimc_scales;      /* [n_tiles][slots][blocks_max][cols_max] (timing: NULL) */
    float *dimc_tscale;        /* [n_tiles][slots] (timing: NULL) */
    int8_t *dimc_wfmt;         /* [n_tiles][slots] */
    uint8_t *dram;             /* DRAM arena (timing: NULL) */
    uint64_t dram_bytes;
    const uint8_t *host;       /* host arena (timing: NULL) */
    uint64_t host_bytes;
    const int64_t *bufs;
    int64_t n_bufs;
    chipemu_event *events;     /* first region; the log's records before it are committed */
    uint32_t *peers;           /* first region; its global index in the peers array is peer_base */
    uint8_t *stage;
    int64_t *sc;               /* [n][CHIPEMU_SC_COUNT] */
    const int64_t *dev;        /* [CHIPEMU_DEV_COUNT] */
    int64_t n;                 /* tiles in the launch, ascending global ids */
    int64_t event_cap, peer_cap, stage_cap, peer_base;
} chipemu_superstep;

/* Run `kernel` on launch tiles [begin, end) in order, on the calling thread (callers split disjoint
 * ranges over threads). Stops at the first tile that broke a rule: CHIPEMU_ERR_KERNEL. */
CHIPEMU_API int32_t chipemu_launch(const chipemu_superstep *s, chipemu_tile_kernel kernel,
                                   const int64_t *params, int64_t begin, int64_t end);
/* After all tiles ran: deliver staged SEND and DRAM_WRITE data in log order (functional mode) and
 * compact the regions into a contiguous log; *n_events, *n_peers get the launch's totals. */
CHIPEMU_API int32_t chipemu_finish(const chipemu_superstep *s, int64_t *n_events, int64_t *n_peers);

/* Intrinsics (docs/intrinsics.md): buffer ids index the buffer table, offsets and sizes are bytes
 * unless named n (elements). Each returns CHIPEMU_OK, or CHIPEMU_ERR_KERNEL after recording the
 * broken rule in ctx->sc; once a tile has an error every later intrinsic does nothing. A ctx the
 * launcher did not make may instead give CHIPEMU_ERR_NULL (NULL or zeroed ctx, a NULL array it
 * needs) or CHIPEMU_ERR_SIZE (inconsistent sizes), and dimc_mvm CHIPEMU_ERR_FORMAT for a slot
 * format no dimc_load stores: nothing is recorded or written then.
 * Exported as chipemu_in_<name>; csrc/include/chipemu_kernel.h gives kernels the Numba names (dimc_mvm...). */
CHIPEMU_API int32_t chipemu_in_dimc_load(chipemu_ctx *ctx, int64_t slot, int64_t src_buf,
                                      int64_t src_off, int64_t row0, int64_t nrows, int64_t fmt);
CHIPEMU_API int32_t chipemu_in_dimc_mvm(chipemu_ctx *ctx, int64_t engine, int64_t slot, int64_t x_buf,
                                     int64_t x_off, int64_t y_buf, int64_t y_off, int64_t nvec,
                                     int64_t k_rows, int64_t fmt, int64_t accumulate);
CHIPEMU_API int32_t chipemu_in_vec_copy(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                     int64_t dst_buf, int64_t dst_off, int64_t n);
CHIPEMU_API int32_t chipemu_in_vec_exp(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                    int64_t dst_buf, int64_t dst_off, int64_t n);
CHIPEMU_API int32_t chipemu_in_vec_reciprocal(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                           int64_t dst_buf, int64_t dst_off, int64_t n);
CHIPEMU_API int32_t chipemu_in_vec_rsqrt(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                      int64_t dst_buf, int64_t dst_off, int64_t n);
CHIPEMU_API int32_t chipemu_in_vec_add(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                    int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n);
CHIPEMU_API int32_t chipemu_in_vec_mul(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                    int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n);
CHIPEMU_API int32_t chipemu_in_vec_max(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                    int64_t b_off, int64_t dst_buf, int64_t dst_off, int64_t n);
/* dst[r*row_len + i] = a[r*row_len + i] + b[r] (resp. * b[r]): b holds one float32 per row */
CHIPEMU_API int32_t chipemu_in_vec_add_rows(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off,
                                         int64_t b_buf, int64_t b_off, int64_t dst_buf,
                                         int64_t dst_off, int64_t n, int64_t row_len);
CHIPEMU_API int32_t chipemu_in_vec_mul_rows(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off,
                                         int64_t b_buf, int64_t b_off, int64_t dst_buf,
                                         int64_t dst_off, int64_t n, int64_t row_len);
/* dst[i*rows_b + j] (+)= sum over k of a[i*row_len + k] * b[j*row_len + k]: dst = a . b^T */
CHIPEMU_API int32_t chipemu_in_vec_dot(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off, int64_t b_buf,
                                       int64_t b_off, int64_t dst_buf, int64_t dst_off,
                                       int64_t rows_a, int64_t rows_b, int64_t row_len,
                                       int64_t accumulate);
/* dst[c] = b[k*row_len + c] (32 bits) for each column c of the n/row_len rows of a, k the first
 * row holding the column's maximum (NaN above every number, -0 == +0) */
CHIPEMU_API int32_t chipemu_in_vec_col_argmax(chipemu_ctx *ctx, int64_t a_buf, int64_t a_off,
                                              int64_t b_buf, int64_t b_off, int64_t dst_buf,
                                              int64_t dst_off, int64_t n, int64_t row_len);
/* dst = the nrows x ncols float32 matrix W in the weights layout of DIMC format fmt: its first
 * `lines` rows (trans 0) or columns (trans 1) read from lines ld floats apart, the others +0 */
CHIPEMU_API int32_t chipemu_in_vec_convert_weights(chipemu_ctx *ctx, int64_t src_buf,
                                                   int64_t src_off, int64_t ld, int64_t lines,
                                                   int64_t trans, int64_t dst_buf, int64_t dst_off,
                                                   int64_t nrows, int64_t ncols, int64_t fmt);
CHIPEMU_API int32_t chipemu_in_vec_row_sum(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                        int64_t dst_buf, int64_t dst_off, int64_t n, int64_t row_len);
CHIPEMU_API int32_t chipemu_in_vec_row_max(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                        int64_t dst_buf, int64_t dst_off, int64_t n, int64_t row_len);
CHIPEMU_API int32_t chipemu_in_vec_convert(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                        int64_t dst_buf, int64_t dst_off, int64_t n, int64_t row_len,
                                        int64_t fmt_to, int64_t fmt_from);
CHIPEMU_API int32_t chipemu_in_send(chipemu_ctx *ctx, const int64_t *dst_tiles, int64_t n_dst,
                                 int64_t src_buf, int64_t src_off, int64_t dst_buf, int64_t dst_off,
                                 int64_t nbytes);
CHIPEMU_API int32_t chipemu_in_dram_read(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                      int64_t dst_buf, int64_t dst_off, int64_t nbytes);
CHIPEMU_API int32_t chipemu_in_dram_write(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                       int64_t dst_buf, int64_t dst_off, int64_t nbytes);
CHIPEMU_API int32_t chipemu_in_host_read(chipemu_ctx *ctx, int64_t src_buf, int64_t src_off,
                                      int64_t dst_buf, int64_t dst_off, int64_t nbytes);
CHIPEMU_API int32_t chipemu_in_barrier(chipemu_ctx *ctx, const int64_t *group, int64_t n);

/* The C tile kernels (chipemu_tile_kernel): with an unusable ctx they return at once; a NULL p, a
 * tile other than the ctx's, or a header word that would divide by 0 is recorded in ctx->sc as
 * MSG_ARG of intrinsic -1, argument -1, v4 = the word of p (-1: p, -2: tile); kernel_enter in
 * csrc/intrinsics/core.h.
 * p's length is not known to C: the words past the header are trusted as the plan laid them out. */
/* GENERATED BEGIN kernels (from csrc/kernels/<kernel>/tile.c; csrc/gen_tables.py) */
/* argmax tile kernels (csrc/kernels/argmax/tile.c) */
CHIPEMU_API void chipemu_kernel_amx_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
CHIPEMU_API void chipemu_kernel_amx_local(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
CHIPEMU_API void chipemu_kernel_amx_pick(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
/* attention tile kernels (csrc/kernels/attention/tile.c) */
CHIPEMU_API void chipemu_kernel_at_kv(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                      const int64_t *p);
CHIPEMU_API void chipemu_kernel_at_q(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                     const int64_t *p);
CHIPEMU_API void chipemu_kernel_at_append(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
CHIPEMU_API void chipemu_kernel_at_ingest(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
CHIPEMU_API void chipemu_kernel_at_step(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
/* barrier tile kernels (csrc/kernels/barrier/tile.c) */
CHIPEMU_API void chipemu_kernel_mb_barrier_all(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                               const int64_t *p);
/* embedding tile kernels (csrc/kernels/embedding/tile.c) */
CHIPEMU_API void chipemu_kernel_emb_gather(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                           const int64_t *p);
/* glu tile kernels (csrc/kernels/glu/tile.c) */
CHIPEMU_API void chipemu_kernel_glu_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
CHIPEMU_API void chipemu_kernel_glu_apply(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
/* layernorm tile kernels (csrc/kernels/layernorm/tile.c) */
CHIPEMU_API void chipemu_kernel_ln_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
CHIPEMU_API void chipemu_kernel_ln_sum(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                       const int64_t *p);
CHIPEMU_API void chipemu_kernel_ln_mean(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
CHIPEMU_API void chipemu_kernel_ln_center(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
CHIPEMU_API void chipemu_kernel_ln_var(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                       const int64_t *p);
CHIPEMU_API void chipemu_kernel_ln_apply(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
/* matmul tile kernels (csrc/kernels/matmul/tile.c) */
CHIPEMU_API void chipemu_kernel_mm_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
CHIPEMU_API void chipemu_kernel_mm_step(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
/* microbench tile kernels (csrc/kernels/microbench/tile.c) */
CHIPEMU_API void chipemu_kernel_mb_dimc_setup(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                              const int64_t *p);
CHIPEMU_API void chipemu_kernel_mb_dimc_stream(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                               const int64_t *p);
CHIPEMU_API void chipemu_kernel_mb_send_table(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                              const int64_t *p);
CHIPEMU_API void chipemu_kernel_mb_dram_table(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                              const int64_t *p);
/* move tile kernels (csrc/kernels/move/tile.c) */
CHIPEMU_API void chipemu_kernel_move_run(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
/* residual tile kernels (csrc/kernels/residual/tile.c) */
CHIPEMU_API void chipemu_kernel_res_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
CHIPEMU_API void chipemu_kernel_res_add(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
/* rmsnorm tile kernels (csrc/kernels/rmsnorm/tile.c) */
CHIPEMU_API void chipemu_kernel_rms_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
CHIPEMU_API void chipemu_kernel_rms_partial(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                            const int64_t *p);
CHIPEMU_API void chipemu_kernel_rms_reduce(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                           const int64_t *p);
CHIPEMU_API void chipemu_kernel_rms_apply(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
/* rope tile kernels (csrc/kernels/rope/tile.c) */
CHIPEMU_API void chipemu_kernel_rope_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
CHIPEMU_API void chipemu_kernel_rope_apply(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                           const int64_t *p);
/* scale_rows tile kernels (csrc/kernels/scale_rows/tile.c) */
CHIPEMU_API void chipemu_kernel_sr_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
CHIPEMU_API void chipemu_kernel_sr_scale(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
/* softmax tile kernels (csrc/kernels/softmax/tile.c) */
CHIPEMU_API void chipemu_kernel_smx_load(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                         const int64_t *p);
CHIPEMU_API void chipemu_kernel_smx_max(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
CHIPEMU_API void chipemu_kernel_smx_max_reduce(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                               const int64_t *p);
CHIPEMU_API void chipemu_kernel_smx_exp(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                        const int64_t *p);
CHIPEMU_API void chipemu_kernel_smx_sum_reduce(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                               const int64_t *p);
CHIPEMU_API void chipemu_kernel_smx_scale(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
/* GENERATED END kernels */
/* CDEF END */

/* Weight columns of a DIMC array of `cols` cells of `cell_bits` bits for `elem_bits`-bit weights:
 * each cell packs cell_bits / elem_bits of them (the one C definition; Python: tables.formats.
 * cols_eff, Numba: intrinsics/core.py cols_eff). */
static inline int64_t chipemu_cols_eff(int64_t cols, int64_t cell_bits, int64_t elem_bits) {
    return cols * cell_bits / elem_bits;
}

#ifdef __cplusplus
}
#endif

#endif /* CHIPEMU_H */
