"""Numba twin of csrc/kernels/embedding/tile.c: the tile kernel of embedding.

One superstep (docs/embedding.md): `emb_gather` checks every token id of the parameter vector
against [0, vocab) (a vector no planner made is refused, no read done), then DRAM_READs the
tile's columns of each token's row of the table (one contiguous n_t * 4 bytes of its
[vocab, n_t] block) into row r of y. No vector op, no tile talks to another.
"""
from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import dram_read
from chipemu.emulator.intrinsics.core import kernel_word
from chipemu.emulator.runtime import TileKernel
from chipemu.kernels.embedding.params import H, R

__all__ = ["EMB_GATHER"]


@jit
def emb_gather(ctx, tile, step, p):
    """y[row, :] = the tile's columns of table[ids[row], :] for every row."""
    if not kernel_word(ctx, p, H.vocab, 1, 9223372036854775807):
        return
    r = p[p[H.count + tile]:]
    if r[R.active] == 0:
        return
    at = p[H.ids_at]
    for row in range(p[H.rows]):                          # every id first: refuse, then read
        if not kernel_word(ctx, p, at + row, 0, p[H.vocab] - 1):
            return
    cols = r[R.cols]
    for row in range(p[H.rows]):
        dram_read(ctx, r[R.table_buf], r[R.table_off_bytes] + p[at + row] * cols * 4, p[H.y],
                  row * cols * 4, cols * 4)


EMB_GATHER = TileKernel("emb_gather", numba=emb_gather, c="chipemu_kernel_emb_gather")
