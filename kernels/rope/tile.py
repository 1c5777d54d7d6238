"""Numba twin of csrc/kernels/rope/tile.c: the tile kernels of rope.

Supersteps (docs/rope.md): `rope_load` (0) reads each member's heads of x, the cos and sin
tables and the constant -1 from the host; `rope_apply` (1) rotates every head of every row with
the table row of that row's position (its record tail): with x1, x2 the two halves of a head and
c, s the table rows,

    y1 = x1 * c + x2 * (-s)        y2 = x2 * c + x1 * s

which is Hugging Face's x * cos + rotate_half(x) * sin, rotate_half(x) = (-x2, x1); -s is one
multiply of the sin row by the constant -1 per row (the vector unit has no subtract).
No tile talks to another.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import host_read, vec_add, vec_mul, vec_mul_rows
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.rope.params import H, R

__all__ = ["ROPE_LOAD", "ROPE_APPLY"]


@jit
def rope_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's heads of x, the two tables and the constant -1."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    host_read(ctx, p[H.x_host], r[R.x_host_off_bytes], p[H.x], 0, p[H.rows] * r[R.cols] * 4)
    host_read(ctx, p[H.cos_host], 0, p[H.cos], 0, p[H.table_bytes])
    host_read(ctx, p[H.sin_host], 0, p[H.sin], 0, p[H.table_bytes])
    host_read(ctx, p[H.consts_host], 0, p[H.consts], 0, 4)


@jit
def rope_apply(ctx, tile, step, p):
    """Per row: -s of its position, then per head y1 = x1 c + x2 (-s), y2 = x2 c + x1 s."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    half = p[H.half]
    hb = half * 4                                         # bytes of a half head
    x, y, tmp = p[H.x], p[H.y], p[H.tmp]
    for row in range(p[H.rows]):
        t = r[R.count + row] * hb                         # the position's table row
        vec_mul_rows(ctx, p[H.sin], t, p[H.consts], 0, p[H.nsin], 0, half, half)
        for h in range(r[R.heads]):
            a = (row * r[R.cols] + h * 2 * half) * 4      # x1; x2 is hb further
            vec_mul(ctx, x, a, p[H.cos], t, y, a, half)
            vec_mul(ctx, x, a + hb, p[H.nsin], 0, tmp, 0, half)
            vec_add(ctx, y, a, tmp, 0, y, a, half)
            vec_mul(ctx, x, a + hb, p[H.cos], t, y, a + hb, half)
            vec_mul(ctx, x, a, p[H.sin], t, tmp, 0, half)
            vec_add(ctx, y, a + hb, tmp, 0, y, a + hb, half)


ROPE_LOAD = TileKernel("rope_load", numba=rope_load, c="chipemu_kernel_rope_load")
ROPE_APPLY = TileKernel("rope_apply", numba=rope_apply, c="chipemu_kernel_rope_apply")
