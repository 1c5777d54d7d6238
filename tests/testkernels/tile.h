/* tile.h — the test tile kernels (tile.c): for tests only, not part of chipemu.h or the library.
 * The C test driver links them in; Python tests build tile.c into a small library of its own
 * (tests/testkernels/build.py) whose functions call the intrinsics of the loaded extension. */
#ifndef CHIPEMU_TEST_KERNELS_H
#define CHIPEMU_TEST_KERNELS_H

#include "chipemu.h"

CHIPEMU_API void chipemu_kernel_test_empty(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                           const int64_t *p);
CHIPEMU_API void chipemu_kernel_test_program(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                             const int64_t *p);
CHIPEMU_API void chipemu_kernel_test_gemv(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                          const int64_t *p);
CHIPEMU_API void chipemu_kernel_test_mvm_loop(chipemu_ctx *ctx, int64_t tile, int64_t step,
                                              const int64_t *p);

#endif /* CHIPEMU_TEST_KERNELS_H */
