"""Numba twin of csrc/kernels/reduce.h: the cross-tile row reduction the row kernels share.

A reduction over T member tiles (rmsnorm, layernorm, softmax): each member writes one value a row
of its columns into its slot of `parts` ([T, rows] float32, slot t at t * rows * 4 bytes) and
sends the slot to the root (`reduce_to_root`); the root combines the slots in tile order
(`reduce_slots`: slot 0 with slot 1 into `acc`, then acc with slots 2 .. T-1), turns the result
into what the members need and multicasts that back (`reduce_multicast`). The order of the
operations is the kernels' own (their results and event logs depend on it). A kernel's tile
functions call these with their own parameter words: no parameter vector is read here, so one
definition serves every layout. chipemu's `jit` stamps the callers' cache with this file.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import send, vec_add, vec_max

__all__ = ["reduce_to_root", "reduce_slots", "reduce_multicast"]


@jit
def reduce_to_root(ctx, is_root, root, parts, off, rows):
    """A member other than the root sends its slot (`rows` floats at parts + off) to the same
    place on the root (`root`: the root's tile id, an array of one)."""
    if is_root == 0:
        send(ctx, root, parts, off, parts, off, rows * 4)


@jit
def reduce_combine(ctx, take_max, a_buf, a_off, b_buf, b_off, dst_buf, n):
    if take_max != 0:
        vec_max(ctx, a_buf, a_off, b_buf, b_off, dst_buf, 0, n)
    else:
        vec_add(ctx, a_buf, a_off, b_buf, b_off, dst_buf, 0, n)


@jit
def reduce_slots(ctx, parts, acc, rows, tiles, take_max):
    """Root: the slots' sums (take_max 0) or maxima (1) in tile order; returns the buffer that
    holds them: `parts` itself for one member (its slot is the result), else `acc`."""
    src = parts
    if tiles > 1:
        src = acc
        reduce_combine(ctx, take_max, parts, 0, parts, rows * 4, src, rows)
        for t in range(2, tiles):
            reduce_combine(ctx, take_max, src, 0, parts, t * rows * 4, src, rows)
    return src


@jit
def reduce_multicast(ctx, members, buf, rows):
    """Root: `rows` floats of buf to the same place on the other members (none for one tile)."""
    if len(members) > 0:
        send(ctx, members, buf, 0, buf, 0, rows * 4)
