"""Numba twin of csrc/kernels/rmsnorm/tile.c: the tile kernels of rmsnorm.

Supersteps (docs/rmsnorm.md): `rms_load` (0) reads each member's columns of x and gamma from
the host, and the root's two constants; `rms_partial` (1) squares x on the vector unit, sums each
row of the tile's columns left to right into the tile's slot of `parts` and sends that slot to
the root; `rms_reduce` (2, root only) adds the slots in tile order, turns the sums into
scales = rsqrt(sum * (1/hidden) + eps) and multicasts them to the other members; `rms_apply` (3)
computes y = (x * scale) * gamma row by row.

The reduction is split from what is done with its result: `rms_partial`'s send and the first
loop of `rms_reduce` (slots of `rows` floats summed in tile order) are the cross-tile sum a
LayerNorm needs too, with slots twice as wide (sums and sums of squares).
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (host_read, vec_add_rows, vec_mul, vec_mul_rows,
                                         vec_row_sum, vec_rsqrt)
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.reduce import reduce_multicast, reduce_slots, reduce_to_root
from chipemu.kernels.rmsnorm.params import H, R

__all__ = ["RMS_LOAD", "RMS_PARTIAL", "RMS_REDUCE", "RMS_APPLY"]


@jit
def rms_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's columns of x and gamma; the root also 1/hidden and eps."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    host_read(ctx, p[H.x_host], r[R.x_host_off_bytes], p[H.x], 0, p[H.rows] * r[R.cols] * 4)
    host_read(ctx, p[H.gamma_host], r[R.gamma_host_off_bytes], p[H.gamma], 0, r[R.cols] * 4)
    if r[R.is_root] != 0:
        host_read(ctx, p[H.consts_host], 0, p[H.consts], 0, 8)


@jit
def rms_partial(ctx, tile, step, p):
    """parts[tile slot][row] = sum of the row's squares over the tile's columns; to the root."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    n = p[H.rows] * r[R.cols]
    vec_mul(ctx, p[H.x], 0, p[H.x], 0, p[H.y], 0, n)      # y holds the squares until rms_apply
    vec_row_sum(ctx, p[H.y], 0, p[H.parts], r[R.part_off_bytes], n, r[R.cols])
    reduce_to_root(ctx, r[R.is_root], p[H.root:H.root + 1], p[H.parts], r[R.part_off_bytes],
                   p[H.rows])


@jit
def rms_reduce(ctx, tile, step, p):
    """Root: sums over the slots in tile order, the scales, and their multicast."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0 or r[R.is_root] == 0:
        return
    rows = p[H.rows]
    tiles = p[H.tiles]
    src = reduce_slots(ctx, p[H.parts], p[H.acc], rows, tiles, 0)
    # one "row" of `rows` values times consts[0], plus consts[1]: the constants broadcast
    vec_mul_rows(ctx, src, 0, p[H.consts], 0, p[H.scale], 0, rows, rows)
    vec_add_rows(ctx, p[H.scale], 0, p[H.consts], 4, p[H.scale], 0, rows, rows)
    vec_rsqrt(ctx, p[H.scale], 0, p[H.scale], 0, rows)
    reduce_multicast(ctx, r[R.count:R.count + tiles - 1], p[H.scale], rows)


@jit
def rms_apply(ctx, tile, step, p):
    """y[row, :] = (x[row, :] * scale[row]) * gamma over the tile's columns."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    cols = r[R.cols]
    vec_mul_rows(ctx, p[H.x], 0, p[H.scale], 0, p[H.y], 0, p[H.rows] * cols, cols)
    for row in range(p[H.rows]):                          # gamma along the row: one op a row
        vec_mul(ctx, p[H.y], row * cols * 4, p[H.gamma], 0, p[H.y], row * cols * 4, cols)


RMS_LOAD = TileKernel("rms_load", numba=rms_load, c="chipemu_kernel_rms_load")
RMS_PARTIAL = TileKernel("rms_partial", numba=rms_partial, c="chipemu_kernel_rms_partial")
RMS_REDUCE = TileKernel("rms_reduce", numba=rms_reduce, c="chipemu_kernel_rms_reduce")
RMS_APPLY = TileKernel("rms_apply", numba=rms_apply, c="chipemu_kernel_rms_apply")
