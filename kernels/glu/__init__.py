"""glu: the gated activation y = act(gate) * up with act SiLU or GELU (tanh form), elementwise
on the vector unit; the columns split over the tiles of a chiplet in vector-unit blocks as
rmsnorm's are, with no cross-tile transfer — docs/glu.md.

Modules: api (glu, run_glu), params (the tile parameter layout), plan (columns to tiles), data
(host bytes and parameters), tile (Numba twin of csrc/kernels/glu/tile.c), ref (the NumPy
reference replaying the device's order, and a float64 yardstick).
"""
from chipemu.kernels.glu.api import glu, run_glu
from chipemu.kernels.glu.params import LAYOUT
from chipemu.kernels.registry import CliOption, Kernel

__all__ = ["glu", "run_glu", "KERNEL"]

KERNEL = Kernel(
    name="glu", doc="docs/glu.md", exports={"glu": glu},
    commands={"glu": run_glu},
    options=(CliOption("rows", int, "rows of gate and up"),
             CliOption("cols", int, "columns (the intermediate size)"),
             CliOption("act", str, "activation: silu or gelu")),
    params=(LAYOUT,))
