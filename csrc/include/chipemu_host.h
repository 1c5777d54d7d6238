/* chipemu_host.h — plans, costs and functional runs of the built-in kernels, for C and C++ hosts.
 *
 * The second public header (chipemu.h has the types, the engine, the device handle and the tile
 * runtime). Both builds read it: the cffi extension takes the text between its CDEF markers too
 * (csrc/build_ffi.py), the standalone libchipemu.so exports it. Same conventions: every function
 * returns a chipemu status, checks every pointer and size before any work, never aborts the host,
 * and on failure sets chipemu_last_error() to the message Python gives for the same call.
 *
 *     chipemu_device *dev;
 *     chipemu_device_open("corsair", &dev);
 *     chipemu_cost c;
 *     chipemu_matmul_cost(dev, 16, 4096, 4096, CHIPEMU_FMT_MXINT8, CHIPEMU_FMT_MXINT4, &c);
 *     c.cycles, c.energy_fj, c.energy_by_component[CHIPEMU_E_DIMC], c.phases[1].cycles
 *
 * The planners are defined here once: Python's plan_matmul calls chipemu_matmul_plan_region.
 * docs/engine.md "From C" documents every call.
 */
#ifndef CHIPEMU_HOST_H
#define CHIPEMU_HOST_H

#include "chipemu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CDEF BEGIN */
/* ---- Device layouts --------------------------------------------------------------------------- */
/* Rows layout bytes of float32 x[rows][n] (docs/intrinsics.md; what vec_convert writes; Python:
 * numerics.layout.encode_rows): out holds rows x row bytes. */
CHIPEMU_API int32_t chipemu_encode_rows(int32_t fmt, const float *x, int64_t rows, int64_t n,
                                        uint8_t *out);
/* Weights layout bytes of float32 w[nrows][ncols], rows ld floats apart (what dimc_load reads;
 * Python: layout.encode_weights): a DIMC format, nrows a multiple of its block. */
CHIPEMU_API int32_t chipemu_encode_weights(int32_t fmt, const float *w, int64_t nrows,
                                           int64_t ncols, int64_t ld, uint8_t *out);

/* ---- Plans ------------------------------------------------------------------------------------ */
/* The matmul plan (docs/matmul.md; Python: kernels/matmul/plan.py MatmulPlan, the same fields).
 * Positions are the region's: chiplets 0 .. chiplets_used - 1, tiles 0 .. tiles_per_chiplet - 1
 * on each, DIMC slots 0 .. slots - 1 (the whole device unless Python passed a region). */
#define CHIPEMU_MM_BUFFERS 6         /* SRAM buffers: w, xhome, x, y, acc, recv */
#define CHIPEMU_MM_MAX_REPLICAS 8    /* weight copies per chiplet (Python: MAX_REPLICAS) */
typedef struct {
    int64_t m, k, n;
    int32_t fmt, weight_fmt;         /* CHIPEMU_FMT_* of the activations and the weights */
    int64_t rows, cols;              /* R: K rows per block; C: N columns per block */
    int64_t kb, nb;                  /* K-blocks, N-blocks */
    int64_t g, kpt, nb_per_tile;     /* tiles per N-block, K-blocks per member, N-blocks per tile */
    int64_t chiplets_used, tiles_per_chiplet;
    int64_t replicas, span, kgroup;  /* weight copies per chiplet, tiles per copy, K-group size */
    int64_t mc, chunks, parts;       /* rows per chunk, chunks, row runs per K-block and chunk */
    int64_t pieces_per_tile, piece_rows, levels, slots;
    int64_t blocks_per_tile, passes; /* passes > 1: weights streamed from SRAM per chunk */
    int64_t row_bytes, block_bytes;  /* one activation row of R elements; one weight block */
    int64_t sram_bytes[CHIPEMU_MM_BUFFERS];   /* per tile, 64-byte multiples; 0: not used */
    int64_t sram_capacity_bytes;     /* what the buffers were fitted into */
} chipemu_matmul_plan;

/* The plan of an [m, k] x [k, n] matmul on the whole device. CHIPEMU_ERR_SIZE (a dimension < 1
 * or >= 2^31), CHIPEMU_ERR_UNSUPPORTED (not a DIMC format), CHIPEMU_ERR_CAPACITY (does not fit:
 * the numbers in chipemu_last_error()). */
CHIPEMU_API int32_t chipemu_matmul_plan_make(const chipemu_device *dev, int64_t m, int64_t k,
                                             int64_t n, int32_t fmt, int32_t weight_fmt,
                                             chipemu_matmul_plan *out);
/* The same within a region of `chiplets` chiplets x `tiles` tiles x `slots` DIMC slots, with at
 * most max_replicas weight copies and sram_bytes of SRAM per tile for the buffers (0: all the
 * buffer SRAM): the planner Python calls. */
CHIPEMU_API int32_t chipemu_matmul_plan_region(const chipemu_device_params *p, int64_t m,
                                               int64_t k, int64_t n, int32_t fmt,
                                               int32_t weight_fmt, int64_t chiplets, int64_t tiles,
                                               int64_t slots, int64_t max_replicas,
                                               int64_t sram_bytes, chipemu_matmul_plan *out);
/* The attention plan (docs/attention.md; Python: kernels/attention/plan.py AttentionPlan, the
 * same fields but the block status, which follows from the mask). */
#define CHIPEMU_AT_BUFFERS 10        /* SRAM buffers: w, q, s, p, part, vec, recv, y, bias, const */
#define CHIPEMU_AT_MAX_REPLICAS 16
typedef struct {
    int32_t path;                    /* 0: Q.K^T and P.V in the DIMC arrays; 1: on the vector unit */
    int32_t kv_home;                 /* 0: K/V in the slots; 1: slot images in DRAM, streamed */
    int64_t b, hq, hkv, sq, skv, d;
    int32_t fmt, kv_fmt;             /* q and P; K^T and V in the arrays */
    int64_t rows, cols, bk, dp, d_splits, v_splits, kb;
    int64_t units, group, nq, members, blocks_per_tile, replicas, span, mq, chunks, levels;
    int64_t q_row_bytes, p_row_bytes, slot_bytes, n_bias;
    int64_t sram_bytes[CHIPEMU_AT_BUFFERS];
    int64_t slots;
} chipemu_attention_plan;

/* The most distinct bias blocks one tile holds at chunk size mq (members tiles per unit, bpt
 * blocks per tile, replicas copies): a mask's rule for the planner; < 0 on failure. */
typedef int64_t (*chipemu_attention_bias_fn)(void *ctx, int64_t mq, int64_t members, int64_t bpt,
                                             int64_t replicas);
/* The masks of an attention call from C (Python: attention(..., is_causal=)): none, or causal
 * (query i of sq sees keys up to i + kv_len - sq). */
#define CHIPEMU_MASK_NONE 0
#define CHIPEMU_MASK_CAUSAL 1
typedef struct {
    int32_t mask;                    /* CHIPEMU_MASK_* */
    int64_t sq, skv, bk, nq;         /* queries, keys, keys per block, query rows per unit */
} chipemu_attention_mask;
/* The bias rule of such a mask (ctx: a chipemu_attention_mask *): Python's mask_info of the
 * same mask gives the same count (a test). */
CHIPEMU_API int64_t chipemu_attention_mask_bias(void *ctx, int64_t mq, int64_t members,
                                                int64_t bpt, int64_t replicas);
/* The plan of an attention call, shape = {batch, heads, kv_heads, seq, kv_len, head_dim}, mask
 * CHIPEMU_MASK_*, on the whole device. CHIPEMU_ERR_SIZE, CHIPEMU_ERR_UNSUPPORTED (not a DIMC
 * format, or a kv_fmt whose arrays are not square), CHIPEMU_ERR_CAPACITY. */
CHIPEMU_API int32_t chipemu_attention_plan_make(const chipemu_device *dev, const int64_t shape[6],
                                                int32_t mask, int32_t fmt, int32_t kv_fmt,
                                                chipemu_attention_plan *out);
/* The planner Python calls: mq (0: auto), max_replicas, force_path (-1: the planner's choice),
 * kv_home, a region of chiplets x tiles x slots, and the mask's bias rule (NULL: padding only,
 * one bias block at most: a KV cache's layout). */
CHIPEMU_API int32_t chipemu_attention_plan_region(const chipemu_device_params *p,
                                                  const int64_t shape[6], int32_t fmt,
                                                  int32_t kv_fmt, int64_t mq, int64_t max_replicas,
                                                  int32_t force_path, int32_t kv_home,
                                                  int64_t chiplets, int64_t tiles, int64_t slots,
                                                  chipemu_attention_bias_fn bias, void *bias_ctx,
                                                  chipemu_attention_plan *out);

/* ---- Costs ------------------------------------------------------------------------------------ */
/* What a run costs: the figures of Python's Result in timing mode (the same engine over the same
 * log). Phases as Result.phases: cycles from the first start to the last end of their ops, energy
 * their ops' dynamic energy plus the static energy apportioned by cycles (floor). */
#define CHIPEMU_MAX_PHASES 4
typedef struct {
    char name[16];                   /* "load", "compute", ... */
    int64_t cycles;
    int64_t energy_fj;
} chipemu_phase;

typedef struct {
    int64_t cycles;                  /* makespan */
    double seconds;                  /* cycles / clock */
    int64_t energy_fj;               /* dynamic + static */
    int64_t energy_by_component[CHIPEMU_E_COUNT];  /* CHIPEMU_E_* (static included) */
    int64_t events;                  /* ops in the log */
    int64_t supersteps;
    int32_t critical_class;          /* CHIPEMU_CP_* with the most cycles on the critical path */
    int32_t n_phases;
    chipemu_phase phases[CHIPEMU_MAX_PHASES];
} chipemu_cost;

/* The cost of an [m, k] x [k, n] matmul on the whole device (Python: matmul((m, k), (k, n),
 * fmt=, weight_fmt=, mode="timing")): phases "load" (weights into the arrays, activations onto
 * the chiplets) and "compute". Errors as chipemu_matmul_plan_make. */
CHIPEMU_API int32_t chipemu_matmul_cost(const chipemu_device *dev, int64_t m, int64_t k, int64_t n,
                                        int32_t fmt, int32_t weight_fmt, chipemu_cost *out);
/* A functional matmul: y[m][n] = a[m][k] x b[k][n] (float32, row-major, caller-owned), a
 * quantized to fmt and b to weight_fmt, computed by the device's tiles, bit for bit Python's
 * matmul(a, b, fmt=, weight_fmt=).output; out (may be NULL: not timed) gets the run's cost,
 * the timing mode's. */
CHIPEMU_API int32_t chipemu_matmul_run(const chipemu_device *dev, int64_t m, int64_t k, int64_t n,
                                       int32_t fmt, int32_t weight_fmt, const float *a,
                                       const float *b, float *y, chipemu_cost *out);
/* The cost of an attention call, shape = {batch, heads, kv_heads, seq, kv_len, head_dim}, mask
 * CHIPEMU_MASK_* (Python: attention(q, k, v, is_causal=, fmt=, kv_fmt=, mode="timing") with
 * shape tuples): phases "load" (K/V into the arrays, queries onto the tiles) and "compute"; a
 * causal mask skips the blocks it removes entirely. A decode step is seq 1 over kv_len cached
 * keys. Errors as chipemu_attention_plan_make. */
CHIPEMU_API int32_t chipemu_attention_cost(const chipemu_device *dev, const int64_t shape[6],
                                           int32_t mask, int32_t fmt, int32_t kv_fmt,
                                           chipemu_cost *out);
/* A functional attention call: y[b][hq][sq][d] = softmax(q k^T * scale + mask) v with q
 * [b][hq][sq][d], k and v [b][hkv][skv][d] (float32, row-major, caller-owned; shape and mask as
 * above), bit for bit Python's attention(q, k, v, is_causal=, scale=, fmt=, kv_fmt=).output.
 * scale: a non-finite value (NAN) takes Python's default 1/sqrt(head_dim). out (may be NULL)
 * gets the cost. */
CHIPEMU_API int32_t chipemu_attention_run(const chipemu_device *dev, const int64_t shape[6],
                                          int32_t mask, int32_t fmt, int32_t kv_fmt, double scale,
                                          const float *q, const float *k, const float *v,
                                          float *y, chipemu_cost *out);
/* CDEF END */

#ifdef __cplusplus
}
#endif

#endif /* CHIPEMU_HOST_H */
