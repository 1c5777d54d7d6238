"""Numba twin of csrc/kernels/softmax/tile.c: the tile kernels of softmax.

Supersteps (docs/softmax.md): `smx_load` (0) reads each member's columns of x from the host and
the root's constant -1; `smx_max` (1) takes each row's maximum over the tile's columns into the
tile's slot of `parts` and sends it to the root; `smx_max_reduce` (2, root) takes the maximum of
the slots in tile order, negates it (a multiply by the -1: the vector unit has no subtract) and
multicasts -max; `smx_exp` (3) computes y = exp(x + (-max)) and each row's sum over the tile's
columns into its slot, sent to the root; `smx_sum_reduce` (4, root) adds the slots in tile
order, takes the reciprocal and multicasts it; `smx_scale` (5) multiplies y by it.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (host_read, vec_add_rows, vec_exp, vec_mul_rows,
                                         vec_reciprocal, vec_row_max, vec_row_sum)
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.reduce import reduce_multicast, reduce_slots, reduce_to_root
from chipemu.kernels.softmax.params import H, R

__all__ = ["SMX_LOAD", "SMX_MAX", "SMX_MAX_REDUCE", "SMX_EXP", "SMX_SUM_REDUCE", "SMX_SCALE"]


@jit
def smx_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's columns of x; the root also the constant -1."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    host_read(ctx, p[H.x_host], r[R.x_host_off_bytes], p[H.x], 0, p[H.rows] * r[R.cols] * 4)
    if r[R.is_root] != 0:
        host_read(ctx, p[H.consts_host], 0, p[H.consts], 0, 4)


@jit
def smx_max(ctx, tile, step, p):
    """parts[tile slot][row] = max of the row over the tile's columns; to the root."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    vec_row_max(ctx, p[H.x], 0, p[H.parts], r[R.part_off_bytes], p[H.rows] * r[R.cols],
                r[R.cols])
    reduce_to_root(ctx, r[R.is_root], p[H.root:H.root + 1], p[H.parts], r[R.part_off_bytes],
                   p[H.rows])


@jit
def smx_max_reduce(ctx, tile, step, p):
    """Root: maximum of the slots in tile order, negated, multicast."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0 or r[R.is_root] == 0:
        return
    rows = p[H.rows]
    tiles = p[H.tiles]
    src = reduce_slots(ctx, p[H.parts], p[H.acc], rows, tiles, 1)
    # one "row" of `rows` values times consts[0] = -1: the constant broadcast
    vec_mul_rows(ctx, src, 0, p[H.consts], 0, p[H.negmax], 0, rows, rows)
    reduce_multicast(ctx, r[R.count:R.count + tiles - 1], p[H.negmax], rows)


@jit
def smx_exp(ctx, tile, step, p):
    """y = exp(x + negmax[row]); parts[tile slot][row] = the row's sum of y; to the root."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    cols = r[R.cols]
    n = p[H.rows] * cols
    vec_add_rows(ctx, p[H.x], 0, p[H.negmax], 0, p[H.y], 0, n, cols)
    vec_exp(ctx, p[H.y], 0, p[H.y], 0, n)
    vec_row_sum(ctx, p[H.y], 0, p[H.parts], r[R.part_off_bytes], n, cols)
    reduce_to_root(ctx, r[R.is_root], p[H.root:H.root + 1], p[H.parts], r[R.part_off_bytes],
                   p[H.rows])


@jit
def smx_sum_reduce(ctx, tile, step, p):
    """Root: sum of the slots in tile order, its reciprocal, multicast."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0 or r[R.is_root] == 0:
        return
    rows = p[H.rows]
    tiles = p[H.tiles]
    src = reduce_slots(ctx, p[H.parts], p[H.acc], rows, tiles, 0)
    vec_reciprocal(ctx, src, 0, p[H.inv], 0, rows)
    reduce_multicast(ctx, r[R.count:R.count + tiles - 1], p[H.inv], rows)


@jit
def smx_scale(ctx, tile, step, p):
    """y[row, :] = y[row, :] * inv[row] over the tile's columns."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    cols = r[R.cols]
    vec_mul_rows(ctx, p[H.y], 0, p[H.inv], 0, p[H.y], 0, p[H.rows] * cols, cols)


SMX_LOAD = TileKernel("smx_load", numba=smx_load, c="chipemu_kernel_smx_load")
SMX_MAX = TileKernel("smx_max", numba=smx_max, c="chipemu_kernel_smx_max")
SMX_MAX_REDUCE = TileKernel("smx_max_reduce", numba=smx_max_reduce,
                            c="chipemu_kernel_smx_max_reduce")
SMX_EXP = TileKernel("smx_exp", numba=smx_exp, c="chipemu_kernel_smx_exp")
SMX_SUM_REDUCE = TileKernel("smx_sum_reduce", numba=smx_sum_reduce,
                            c="chipemu_kernel_smx_sum_reduce")
SMX_SCALE = TileKernel("smx_scale", numba=smx_scale, c="chipemu_kernel_smx_scale")
