"""Numba twin of csrc/kernels/glu/tile.c: the tile kernels of glu.

Supersteps (docs/glu.md): `glu_load` (0) reads each member's columns of gate and up and the
four constants from the host; `glu_apply` (1) computes y = act(gate) * up on the vector unit.
The activation is x * sigmoid(s) with s = x (SiLU) or s = 2 sqrt(2/pi)(x + 0.044715 x^3)
(GELU, the tanh form: 0.5 x (1 + tanh(z)) = x * sigmoid(2 z)); sigmoid(s) = reciprocal(1 +
exp(-s)) with the vector unit's exp and reciprocal. Constants are broadcast as one "row" of all
n values (vec_*_rows with row_len = n): the vector unit has no immediates and no subtract.
No tile talks to another.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (host_read, vec_add, vec_add_rows, vec_exp, vec_mul,
                                         vec_mul_rows, vec_reciprocal)
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.glu.params import H, R

__all__ = ["GLU_LOAD", "GLU_APPLY"]


@jit
def glu_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's columns of gate and up, and the constants."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    n = p[H.rows] * r[R.cols]
    host_read(ctx, p[H.gate_host], r[R.host_off_bytes], p[H.gate], 0, n * 4)
    host_read(ctx, p[H.up_host], r[R.host_off_bytes], p[H.up], 0, n * 4)
    host_read(ctx, p[H.consts_host], 0, p[H.consts], 0, 16)


@jit
def glu_apply(ctx, tile, step, p):
    """y = (g * reciprocal(exp(-s) + 1)) * up, s = g (SiLU) or the GELU argument; y is scratch."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    n = p[H.rows] * r[R.cols]
    g, y, c = p[H.gate], p[H.y], p[H.consts]
    if p[H.act] == 0:
        vec_mul_rows(ctx, g, 0, c, 4, y, 0, n, n)          # -g
    else:
        vec_mul(ctx, g, 0, g, 0, y, 0, n)                   # g^2
        vec_mul(ctx, y, 0, g, 0, y, 0, n)                   # g^3
        vec_mul_rows(ctx, y, 0, c, 8, y, 0, n, n)           # 0.044715 g^3
        vec_add(ctx, y, 0, g, 0, y, 0, n)                   # g + 0.044715 g^3
        vec_mul_rows(ctx, y, 0, c, 12, y, 0, n, n)          # -2 sqrt(2/pi) (...)
    vec_exp(ctx, y, 0, y, 0, n)
    vec_add_rows(ctx, y, 0, c, 0, y, 0, n, n)               # 1 + exp(-s)
    vec_reciprocal(ctx, y, 0, y, 0, n)                      # sigmoid(s)
    vec_mul(ctx, g, 0, y, 0, y, 0, n)                       # act(g)
    vec_mul(ctx, y, 0, p[H.up], 0, y, 0, n)


GLU_LOAD = TileKernel("glu_load", numba=glu_load, c="chipemu_kernel_glu_load")
GLU_APPLY = TileKernel("glu_apply", numba=glu_apply, c="chipemu_kernel_glu_apply")
