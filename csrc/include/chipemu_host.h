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
/* CDEF END */

#ifdef __cplusplus
}
#endif

#endif /* CHIPEMU_HOST_H */
