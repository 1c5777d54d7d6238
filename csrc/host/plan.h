/* host/plan.h — the integer helpers the C planners and runs share (kernels/<kernel>/plan.c,
 * run.c), and the layouts' sizes from intrinsics/core.h (core_row_bytes, core_weight_bytes:
 * one definition each). */
#ifndef CHIPEMU_HOST_PLAN_H
#define CHIPEMU_HOST_PLAN_H

#include "intrinsics/core.h"

#define PLAN_ALIGN 64                /* the runtime's SRAM allocator alignment (bytes) */

static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline int64_t up(int64_t n) { return cdiv(n, PLAN_ALIGN) * PLAN_ALIGN; }
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ceil(log2(n)) for n >= 1 (Python: (n - 1).bit_length()) */
static inline int64_t log2up(int64_t n) {
    int64_t b = 0;
    for (int64_t v = n - 1; v > 0; v >>= 1) b++;
    return b;
}

#endif /* CHIPEMU_HOST_PLAN_H */
