"""Numba twin of csrc/kernels/layernorm/tile.c: the tile kernels of layernorm.

Supersteps (docs/layernorm.md): `ln_load` (0) reads each member's columns of x, gamma and beta
from the host, and the root's three constants; `ln_sum` (1) sums each row of the tile's columns
left to right into the tile's slot of `parts` and sends the slot to the root; `ln_mean` (2,
root only) adds the slots in tile order, turns the sums into negated means shift = sum *
(-1/hidden) and multicasts them; `ln_center` (3) forms d = x + shift, squares it and sends the
row sums of d^2 to the root as in step 1; `ln_var` (4, root only) adds those in tile order,
turns them into scales = rsqrt(sum * (1/hidden) + eps) and multicasts them; `ln_apply` (5)
computes y = ((x + shift) * scale) * gamma + beta (d again rather than a buffer more).

Two passes (mean, then the squared deviations) rather than one over x and x^2: the variance
is a sum of non-negative terms, so a large mean does not cancel it away.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (host_read, vec_add, vec_add_rows, vec_mul, vec_mul_rows,
                                         vec_row_sum, vec_rsqrt)
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.layernorm.params import H, R
from chipemu.kernels.reduce import reduce_multicast, reduce_slots, reduce_to_root

__all__ = ["LN_LOAD", "LN_SUM", "LN_MEAN", "LN_CENTER", "LN_VAR", "LN_APPLY"]


@jit
def ln_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's columns of x, gamma and beta; the root also the constants."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    host_read(ctx, p[H.x_host], r[R.x_host_off_bytes], p[H.x], 0, p[H.rows] * r[R.cols] * 4)
    host_read(ctx, p[H.gamma_host], r[R.gamma_host_off_bytes], p[H.gamma], 0, r[R.cols] * 4)
    host_read(ctx, p[H.beta_host], r[R.gamma_host_off_bytes], p[H.beta], 0, r[R.cols] * 4)
    if r[R.is_root] != 0:
        host_read(ctx, p[H.consts_host], 0, p[H.consts], 0, 12)


@jit
def ln_sum(ctx, tile, step, p):
    """parts[tile slot][row] = sum of the row over the tile's columns; to the root."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    vec_row_sum(ctx, p[H.x], 0, p[H.parts], r[R.part_off_bytes], p[H.rows] * r[R.cols],
                r[R.cols])
    reduce_to_root(ctx, r[R.is_root], p[H.root:H.root + 1], p[H.parts], r[R.part_off_bytes],
                   p[H.rows])


@jit
def ln_mean(ctx, tile, step, p):
    """Root: sums over the slots in tile order, shift = sum * (-1/hidden), its multicast."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0 or r[R.is_root] == 0:
        return
    rows = p[H.rows]
    tiles = p[H.tiles]
    src = reduce_slots(ctx, p[H.parts], p[H.acc], rows, tiles, 0)
    # one "row" of `rows` values times consts[0] = -1/hidden: the constant broadcast
    vec_mul_rows(ctx, src, 0, p[H.consts], 0, p[H.shift], 0, rows, rows)
    reduce_multicast(ctx, r[R.count:R.count + tiles - 1], p[H.shift], rows)


@jit
def ln_center(ctx, tile, step, p):
    """d = x + shift[row] into y, d * d in place, its row sums into the slot; to the root."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    cols = r[R.cols]
    n = p[H.rows] * cols
    vec_add_rows(ctx, p[H.x], 0, p[H.shift], 0, p[H.y], 0, n, cols)
    vec_mul(ctx, p[H.y], 0, p[H.y], 0, p[H.y], 0, n)      # y holds d^2 until ln_apply
    vec_row_sum(ctx, p[H.y], 0, p[H.parts], r[R.part_off_bytes], n, cols)
    reduce_to_root(ctx, r[R.is_root], p[H.root:H.root + 1], p[H.parts], r[R.part_off_bytes],
                   p[H.rows])


@jit
def ln_var(ctx, tile, step, p):
    """Root: sums over the slots in tile order, the scales, and their multicast."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0 or r[R.is_root] == 0:
        return
    rows = p[H.rows]
    tiles = p[H.tiles]
    src = reduce_slots(ctx, p[H.parts], p[H.acc], rows, tiles, 0)
    vec_mul_rows(ctx, src, 0, p[H.consts], 4, p[H.scale], 0, rows, rows)       # * 1/hidden
    vec_add_rows(ctx, p[H.scale], 0, p[H.consts], 8, p[H.scale], 0, rows, rows)  # + eps
    vec_rsqrt(ctx, p[H.scale], 0, p[H.scale], 0, rows)
    reduce_multicast(ctx, r[R.count:R.count + tiles - 1], p[H.scale], rows)


@jit
def ln_apply(ctx, tile, step, p):
    """y[row, :] = ((x[row, :] + shift[row]) * scale[row]) * gamma + beta."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    cols = r[R.cols]
    n = p[H.rows] * cols
    vec_add_rows(ctx, p[H.x], 0, p[H.shift], 0, p[H.y], 0, n, cols)
    vec_mul_rows(ctx, p[H.y], 0, p[H.scale], 0, p[H.y], 0, n, cols)
    for row in range(p[H.rows]):                          # gamma, beta along the row
        vec_mul(ctx, p[H.y], row * cols * 4, p[H.gamma], 0, p[H.y], row * cols * 4, cols)
        vec_add(ctx, p[H.y], row * cols * 4, p[H.beta], 0, p[H.y], row * cols * 4, cols)


LN_LOAD = TileKernel("ln_load", numba=ln_load, c="chipemu_kernel_ln_load")
LN_SUM = TileKernel("ln_sum", numba=ln_sum, c="chipemu_kernel_ln_sum")
LN_MEAN = TileKernel("ln_mean", numba=ln_mean, c="chipemu_kernel_ln_mean")
LN_CENTER = TileKernel("ln_center", numba=ln_center, c="chipemu_kernel_ln_center")
LN_VAR = TileKernel("ln_var", numba=ln_var, c="chipemu_kernel_ln_var")
LN_APPLY = TileKernel("ln_apply", numba=ln_apply, c="chipemu_kernel_ln_apply")
