"""argmax: greedy next token, the id of each row's maximum of logits [rows, vocab], the
vocabulary split over the tiles of a chiplet; each member's row maxima and their ids go to a
root, which picks in tile order with the vector unit's column argmax — docs/argmax.md.

Modules: api (argmax, run_argmax), params (the tile parameter layout), plan (columns to tiles),
data (host bytes and parameters), tile (Numba twin of csrc/kernels/argmax/tile.c), ref (the
NumPy reference replaying the plan's order, and np.argmax as the yardstick).
"""
from chipemu.kernels.argmax.api import argmax, run_argmax
from chipemu.kernels.argmax.params import LAYOUT
from chipemu.kernels.registry import CliOption, Kernel

__all__ = ["argmax", "run_argmax", "KERNEL"]

KERNEL = Kernel(
    name="argmax", doc="docs/argmax.md", exports={"argmax": argmax},
    commands={"argmax": run_argmax},
    options=(CliOption("rows", int, "rows of logits"),
             CliOption("vocab", int, "vocabulary size (the argmax axis)")),
    params=(LAYOUT,))
