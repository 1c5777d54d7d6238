"""The intrinsics of a Numba tile kernel; table with costs in docs/intrinsics.md.

    from chipemu.emulator.intrinsics import dimc_load, dimc_mvm, vec_add, send

Each module here is the Numba twin of the C file at the mirrored path under csrc/intrinsics/:
core (ctx, checks, events), dimc (dimc_load, dimc_mvm), vec (elementwise, row reductions,
vec_convert), vec_rows (vec_add_rows, vec_mul_rows, vec_dot, vec_col_argmax), vec_weights
(vec_convert_weights), dma (send, dram_read, dram_write, host_read, barrier).
"""
from chipemu.emulator.intrinsics.dimc import dimc_load, dimc_mvm
from chipemu.emulator.intrinsics.dma import (barrier, dram_read, dram_write, host_read, n_tiles, send,
                                             step_of, tile_of)
from chipemu.emulator.intrinsics.vec import (vec_add, vec_convert, vec_copy, vec_exp, vec_max,
                                             vec_mul, vec_reciprocal, vec_row_max, vec_row_sum,
                                             vec_rsqrt)
from chipemu.emulator.intrinsics.vec_rows import vec_add_rows, vec_col_argmax, vec_dot, vec_mul_rows
from chipemu.emulator.intrinsics.vec_weights import vec_convert_weights

__all__ = ["dimc_load", "dimc_mvm", "vec_copy", "vec_add", "vec_mul", "vec_max", "vec_exp",
           "vec_reciprocal", "vec_rsqrt", "vec_row_sum", "vec_row_max", "vec_add_rows",
           "vec_mul_rows", "vec_dot", "vec_col_argmax", "vec_convert", "vec_convert_weights",
           "send", "dram_read",
           "dram_write", "host_read", "barrier", "n_tiles", "tile_of", "step_of"]
