"""Numba twin of csrc/kernels/barrier/tile.c: the barrier every kernel uses between phases."""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import barrier
from chipemu.emulator.runtime import TileKernel

__all__ = ["BARRIER_ALL"]


@jit
def barrier_all(ctx, tile, step, p):
    """p = [n, tile ids...]: one barrier over the n tiles (so the next superstep starts together)."""
    barrier(ctx, p[1:1 + p[0]])


BARRIER_ALL = TileKernel("mb_barrier_all", numba=barrier_all, c="chipemu_kernel_mb_barrier_all")
