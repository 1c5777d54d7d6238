"""Tile kernels of the microbenchmarks: Numba twins of csrc/kernels/microbench/tile.c.

Each takes its int64 params `p` as documented on the function; the drivers in
kernels/microbench/api.py build the params, launch the supersteps and read the results.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (dimc_load, dimc_mvm, dram_read, host_read, send,
                                         vec_convert)
from chipemu.emulator.runtime.machine import TileKernel

__all__ = ["DIMC_SETUP", "DIMC_STREAM", "SEND_TABLE", "DRAM_TABLE"]


@jit
def dimc_setup(ctx, tile, step, p):
    """p = [w_host, x_host, w_sram, x_sram, xq_sram, fmt_a, fmt_w, nvec, k, w_bytes, x_bytes, slots]:
    load the same weights into slots 0..slots-1 and quantize nvec x k activations to fmt_a."""
    host_read(ctx, p[0], 0, p[2], 0, p[9])
    for s in range(p[11]):
        dimc_load(ctx, s, p[2], 0, 0, p[8], p[6])
    host_read(ctx, p[1], 0, p[3], 0, p[10])
    vec_convert(ctx, p[3], 0, p[4], 0, p[7] * p[8], p[8], p[5], 0)


@jit
def dimc_stream(ctx, tile, step, p):
    """p = [xq_sram, y_sram, fmt_a, nvec, k, y_bytes, slots, iterations]: MVM after MVM, engine
    and slot i % slots, each engine accumulating into its own y."""
    for it in range(p[7]):
        e = it % p[6]
        dimc_mvm(ctx, e, e, p[0], 0, p[1], e * p[5], p[3], p[4], p[2], 1 if it >= p[6] else 0)


@jit
def send_table(ctx, tile, step, p):
    """p = [src_buf, dst_buf, nbytes, then per global tile (dst_tile, dst_off)]: send nbytes from
    src_buf to dst_buf at dst_off on dst_tile; dst_tile -1: this tile sends nothing."""
    dst = p[3 + 2 * tile]
    if dst >= 0:
        send(ctx, p[3 + 2 * tile: 4 + 2 * tile], p[0], 0, p[1], p[4 + 2 * tile], p[2])


@jit
def dram_table(ctx, tile, step, p):
    """p = [sram_buf, nbytes, reps, then per global tile a DRAM buffer id or -1]: read reps
    consecutive chunks of nbytes from it into the two halves of sram_buf in turn."""
    buf = p[3 + tile]
    if buf >= 0:
        for r in range(p[2]):
            dram_read(ctx, buf, r * p[1], p[0], (r % 2) * p[1], p[1])


DIMC_SETUP = TileKernel("mb_dimc_setup", numba=dimc_setup, c="chipemu_kernel_mb_dimc_setup")
DIMC_STREAM = TileKernel("mb_dimc_stream", numba=dimc_stream, c="chipemu_kernel_mb_dimc_stream")
SEND_TABLE = TileKernel("mb_send_table", numba=send_table, c="chipemu_kernel_mb_send_table")
DRAM_TABLE = TileKernel("mb_dram_table", numba=dram_table, c="chipemu_kernel_mb_dram_table")
