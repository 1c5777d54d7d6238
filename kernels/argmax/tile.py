"""Numba twin of csrc/kernels/argmax/tile.c: the tile kernels of argmax.

Supersteps (docs/argmax.md): `amx_load` (0) reads each member's columns of x and their global
ids from the host; `amx_local` (1) takes each row's maximum over the tile's columns (vec_row_max)
into the tile's slot of `mparts`, and the id of the row's first maximum (vec_col_argmax of the
row with the column ids as payload, one call a row) into its slot of `gparts`, and sends both
slots to the root; `amx_pick` (2, root) runs vec_col_argmax over the [tiles, rows] maxima with
their ids as payload: per row, the id of the first tile (in tile order) holding the maximum.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import host_read, send, vec_col_argmax, vec_row_max
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.argmax.params import H, R

__all__ = ["AMX_LOAD", "AMX_LOCAL", "AMX_PICK"]


@jit
def amx_load(ctx, tile, step, p):
    """Host -> SRAM: the tile's columns of x and their ids."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    host_read(ctx, p[H.x_host], r[R.x_host_off_bytes], p[H.x], 0, p[H.rows] * r[R.cols] * 4)
    host_read(ctx, p[H.ids_host], r[R.ids_host_off_bytes], p[H.ids], 0, r[R.cols] * 4)


@jit
def amx_local(ctx, tile, step, p):
    """mparts / gparts[tile slot][row] = the row's maximum over the tile's columns and the id of
    its first occurrence; both slots to the root."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    rows = p[H.rows]
    cols = r[R.cols]
    off = r[R.part_off_bytes]
    vec_row_max(ctx, p[H.x], 0, p[H.mparts], off, rows * cols, cols)
    for row in range(rows):                               # a row is one column of `cols` values
        vec_col_argmax(ctx, p[H.x], row * cols * 4, p[H.ids], 0, p[H.gparts], off + row * 4,
                       cols, 1)
    if r[R.is_root] == 0:
        send(ctx, p[H.root:H.root + 1], p[H.mparts], off, p[H.mparts], off, rows * 4)
        send(ctx, p[H.root:H.root + 1], p[H.gparts], off, p[H.gparts], off, rows * 4)


@jit
def amx_pick(ctx, tile, step, p):
    """Root: y[row] = the id in the first slot (tile order) holding the row's maximum."""
    r = p[p[H.count + tile]:]
    if r[R.active] == 0 or r[R.is_root] == 0:
        return
    rows = p[H.rows]
    vec_col_argmax(ctx, p[H.mparts], 0, p[H.gparts], 0, p[H.y], 0, p[H.tiles] * rows, rows)


AMX_LOAD = TileKernel("amx_load", numba=amx_load, c="chipemu_kernel_amx_load")
AMX_LOCAL = TileKernel("amx_local", numba=amx_local, c="chipemu_kernel_amx_local")
AMX_PICK = TileKernel("amx_pick", numba=amx_pick, c="chipemu_kernel_amx_pick")
