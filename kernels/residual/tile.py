"""Numba twin of csrc/kernels/residual/tile.c: the tile kernels of the residual add.

Supersteps (docs/residual.md): `res_load` (0) reads each member's columns of x and r from the
host; `res_add` (1) computes y = x + r on the vector unit. No tile talks to another.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import host_read, vec_add
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.residual.params import H, R

__all__ = ["RES_LOAD", "RES_ADD"]


@jit
def res_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's columns of x and r."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    n = p[H.rows] * r[R.cols]
    host_read(ctx, p[H.x_host], r[R.host_off_bytes], p[H.x], 0, n * 4)
    host_read(ctx, p[H.r_host], r[R.host_off_bytes], p[H.r], 0, n * 4)


@jit
def res_add(ctx, tile, step, p):
    """y = x + r over the tile's rows x cols, one vector op."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    vec_add(ctx, p[H.x], 0, p[H.r], 0, p[H.y], 0, p[H.rows] * r[R.cols])


RES_LOAD = TileKernel("res_load", numba=res_load, c="chipemu_kernel_res_load")
RES_ADD = TileKernel("res_add", numba=res_add, c="chipemu_kernel_res_add")
