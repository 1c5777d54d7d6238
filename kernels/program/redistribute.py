"""Redistribution: the transfers that bring a device tensor into the distribution a kernel reads.

For every destination block and every source block it overlaps, the intersection moves from the
source tile to the destination tile: one transfer when it is whole stored rows on both sides
(contiguous bytes), else one per row. On one tile the copy is the vector unit's (vec_copy); across
tiles it is a SEND, and identical sends (same source bytes, destination buffer and offset) to
several tiles become one multicast. Nothing is moved where source and destination are the same
bytes. The ops land in a `Moves` (kernels/move), one superstep; its data is visible from the
next superstep on, as every SEND's.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from chipemu.emulator.errors import ShapeError
from chipemu.kernels.move import Moves

__all__ = ["redistribute", "same_layout"]


def _overlap(a, b):
    r0, r1 = max(a.row0, b.row0), min(a.row0 + a.rows, b.row0 + b.rows)
    c0, c1 = max(a.col0, b.col0), min(a.col0 + a.cols, b.col0 + b.cols)
    return (r0, r1, c0, c1) if r0 < r1 and c0 < c1 else None


def _whole_rows(blk, c0, c1):
    return c0 == blk.col0 and c1 - c0 == blk.stride


def redistribute(src, dst_blocks, moves: Moves) -> int:
    """Add to `moves` the transfers taking tensor `src` (a DeviceTensor) into `dst_blocks` (a
    covering of the same [rows, cols]); returns the bytes moved."""
    sends, moved = {}, 0
    # source blocks by first column, so a destination block meets only the few it can overlap
    # (a plain double loop was most of a program step's recording time); the pairs are still
    # visited in (destination, source) order, so the moves and the log are unchanged
    order = sorted(range(len(src.blocks)), key=lambda i: src.blocks[i].col0)
    starts = [src.blocks[i].col0 for i in order]
    widest = max((b.cols for b in src.blocks), default=0)
    for d in dst_blocks:
        lo = bisect_right(starts, d.col0 - widest)
        hi = bisect_left(starts, d.col0 + d.cols)
        for i in sorted(order[lo:hi]):
            s = src.blocks[i]
            ov = _overlap(s, d)
            if ov is None:
                continue
            r0, r1, c0, c1 = ov
            if s.tile == d.tile and s.buf == d.buf and s.at(r0, c0) == d.at(r0, c0) \
                    and s.stride == d.stride:
                continue                                  # already there
            runs = ([(r0, r1 - r0)] if _whole_rows(s, c0, c1) and _whole_rows(d, c0, c1)
                    else [(r, 1) for r in range(r0, r1)])
            for r, nr in runs:
                nbytes = nr * (c1 - c0) * 4
                moved += nbytes
                if s.tile == d.tile:
                    moves.copy(s.tile, s.buf, s.at(r, c0), d.buf, d.at(r, c0), nbytes // 4)
                else:
                    key = (s.tile, s.buf, s.at(r, c0), d.buf, d.at(r, c0), nbytes)
                    sends.setdefault(key, []).append(d.tile)
    for (tile, sbuf, soff, dbuf, doff, nbytes), dsts in sends.items():
        moves.send(tile, sorted(set(dsts)), sbuf, soff, dbuf, doff, nbytes)
    return moved


def same_layout(src, dst_blocks) -> bool:
    """True when `src` already is `dst_blocks` up to its buffer (a kernel can read it in place)."""
    if len(src.blocks) != len(dst_blocks):
        return False
    key = lambda b: (b.tile, b.row0, b.col0)
    return all((a.tile, a.off, a.row0, a.rows, a.col0, a.cols, a.stride)
               == (b.tile, b.off, b.row0, b.rows, b.col0, b.cols, b.stride)
               for a, b in zip(sorted(src.blocks, key=key), sorted(dst_blocks, key=key)))


def check_shape(t, rows, cols, what):
    if (t.rows, t.cols) != (rows, cols):
        raise ShapeError(f"{what}: tensor {t.name!r} is [{t.rows}, {t.cols}]; the op was placed "
                         f"for [{rows}, {cols}]")
