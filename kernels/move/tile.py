"""Numba twin of csrc/kernels/move/tile.c: `move_run`, the data movement a program inserts
between kernels (kernels/program/redistribute.py plans it).

One superstep: every tile runs the ops of its record in order (kernels/move/params.py): sends
(multicast), local copies, host and DRAM reads, and quantizations to a DIMC format's row layout.
An op kind or destination count outside what a planner writes is refused (MSG_PARAM) by both
twins alike.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (dram_read, host_read, send, vec_convert, vec_copy)
from chipemu.emulator.intrinsics.core import FMT_FP32, kernel_word
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.move.params import H, OP_WORDS, R

__all__ = ["MOVE_RUN"]


@jit
def move_run(ctx, tile, step, p):
    """The tile's ops, in order (see the module docstring)."""
    if not (kernel_word(ctx, p, H.op_words, OP_WORDS, OP_WORDS)
            and kernel_word(ctx, p, H.kinds, 5, 5)):
        return
    base = p[H.count + tile]
    r = p[base:]
    if r[R.active] == 0:
        return
    at = R.count
    for i in range(r[R.n_ops]):
        if not kernel_word(ctx, p, base + at, 0, 4):
            return
        kind = r[at]
        src, soff, dst, doff, n = r[at + 1], r[at + 2], r[at + 3], r[at + 4], r[at + 5]
        if kind == 0:
            if not kernel_word(ctx, p, base + at + 6, 1, 65536):
                return
            nd = r[at + 6]
            send(ctx, r[at + OP_WORDS:at + OP_WORDS + nd], src, soff, dst, doff, n)
            at += OP_WORDS + nd
            continue
        if kind == 1:
            vec_copy(ctx, src, soff, dst, doff, n)
        elif kind == 2:
            host_read(ctx, src, soff, dst, doff, n)
        elif kind == 3:
            vec_convert(ctx, src, soff, dst, doff, n, r[at + 6], r[at + 7], FMT_FP32)
        else:
            dram_read(ctx, src, soff, dst, doff, n)
        at += OP_WORDS


MOVE_RUN = TileKernel("move_run", numba=move_run, c="chipemu_kernel_move_run")
