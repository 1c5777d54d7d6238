"""Tile kernels of the microbenchmarks: Numba twins of csrc/kernels/microbench/tile.c.

Each reads its int64 params `p` through its layout in kernels/microbench/params.py (C: the
generated params.h); the drivers in kernels/microbench/api.py build the params, launch the
supersteps and read the results.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import kernel_word
from chipemu.emulator.intrinsics import (dimc_load, dimc_mvm, dram_read, host_read, send,
                                         vec_convert)
from chipemu.emulator.runtime.machine import TileKernel
from chipemu.kernels.microbench.params import DRAM, SEND, SETUP, STREAM

__all__ = ["DIMC_SETUP", "DIMC_STREAM", "SEND_TABLE", "DRAM_TABLE"]

# index namedtuples, constants inside the Numba code (C: SETUP_H_*, ...)
SETUP_H, STREAM_H, SEND_H, SEND_R, DRAM_H, DRAM_R = (SETUP.H, STREAM.H, SEND.H, SEND.R, DRAM.H,
                                                      DRAM.R)


@jit
def dimc_setup(ctx, tile, step, p):
    """SETUP: load the same weights into slots 0..slots-1 and quantize nvec x k activations to
    fmt_x."""
    H = SETUP_H
    host_read(ctx, p[H.w_host], 0, p[H.w_buf], 0, p[H.w_bytes])
    for s in range(p[H.slots]):
        dimc_load(ctx, s, p[H.w_buf], 0, 0, p[H.k], p[H.fmt_w])
    host_read(ctx, p[H.x_host], 0, p[H.x_buf], 0, p[H.x_bytes])
    vec_convert(ctx, p[H.x_buf], 0, p[H.xq_buf], 0, p[H.nvec] * p[H.k], p[H.k], p[H.fmt_x], 0)


@jit
def dimc_stream(ctx, tile, step, p):
    """STREAM: MVM after MVM, engine and slot i % slots, each engine accumulating into its own
    y (y_bytes apart)."""
    H = STREAM_H
    if not kernel_word(ctx, p, H.slots, 1, 9223372036854775807):
        return
    for it in range(p[H.iterations]):
        e = it % p[H.slots]
        dimc_mvm(ctx, e, e, p[H.xq_buf], 0, p[H.y_buf], e * p[H.y_bytes], p[H.nvec], p[H.k],
                 p[H.fmt_x], 1 if it >= p[H.slots] else 0)


@jit
def send_table(ctx, tile, step, p):
    """SEND: an active tile sends msg_bytes from src_buf to dst_buf at dst_off on dst_tile."""
    r = p[p[SEND_H.count + tile]:]
    if r[SEND_R.active] != 0:
        send(ctx, r[SEND_R.dst_tile:SEND_R.dst_tile + 1], p[SEND_H.src_buf], 0, p[SEND_H.dst_buf],
             r[SEND_R.dst_off], p[SEND_H.msg_bytes])


@jit
def dram_table(ctx, tile, step, p):
    """DRAM: an active tile reads reps consecutive chunks of chunk_bytes from dram_buf into the
    two halves of sram_buf in turn."""
    r = p[p[DRAM_H.count + tile]:]
    if r[DRAM_R.active] != 0:
        n = p[DRAM_H.chunk_bytes]
        for i in range(p[DRAM_H.reps]):
            dram_read(ctx, r[DRAM_R.dram_buf], i * n, p[DRAM_H.sram_buf], (i % 2) * n, n)


DIMC_SETUP = TileKernel("mb_dimc_setup", numba=dimc_setup, c="chipemu_kernel_mb_dimc_setup")
DIMC_STREAM = TileKernel("mb_dimc_stream", numba=dimc_stream, c="chipemu_kernel_mb_dimc_stream")
SEND_TABLE = TileKernel("mb_send_table", numba=send_table, c="chipemu_kernel_mb_send_table")
DRAM_TABLE = TileKernel("mb_dram_table", numba=dram_table, c="chipemu_kernel_mb_dram_table")
