"""Numba twin of csrc/kernels/scale_rows/tile.c: the tile kernels of scale_rows.

`sr_load` (superstep 0) reads the tile's rows of x and their scales from the host; `sr_scale`
(superstep 1) computes y = x * s row by row on the vector unit (vec_mul_rows).
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import host_read, vec_mul_rows
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.scale_rows.params import H, R

__all__ = ["SR_LOAD", "SR_SCALE"]


@jit
def sr_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's rows of x and their scales."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    host_read(ctx, p[H.x_host], r[R.x_host_off_bytes], p[H.x], 0, r[R.rows] * p[H.cols] * 4)
    host_read(ctx, p[H.s_host], r[R.s_host_off_bytes], p[H.s], 0, r[R.rows] * 4)


@jit
def sr_scale(ctx, tile, step, p):
    """y[r, :] = x[r, :] * s[r] for the tile's rows."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    vec_mul_rows(ctx, p[H.x], 0, p[H.s], 0, p[H.y], 0, r[R.rows] * p[H.cols], p[H.cols])


SR_LOAD = TileKernel("sr_load", numba=sr_load, c="chipemu_kernel_sr_load")
SR_SCALE = TileKernel("sr_scale", numba=sr_scale, c="chipemu_kernel_sr_scale")
