"""residual: the residual add y = x + r, elementwise on the vector unit; the columns split over
the tiles of a chiplet in vector-unit blocks as rmsnorm's and glu's are, with no cross-tile
transfer — docs/residual.md.

Modules: api (residual_add, run_residual), params (the tile parameter layout), plan (columns to
tiles), data (host bytes and parameters), tile (Numba twin of csrc/kernels/residual/tile.c),
ref (the NumPy reference, and a float64 yardstick).
"""
from chipemu.kernels.registry import CliOption, Kernel
from chipemu.kernels.residual.api import residual_add, run_residual
from chipemu.kernels.residual.params import LAYOUT

__all__ = ["residual_add", "run_residual", "KERNEL"]

KERNEL = Kernel(
    name="residual", doc="docs/residual.md", exports={"residual_add": residual_add},
    commands={"residual": run_residual},
    options=(CliOption("rows", int, "rows of x and r"),
             CliOption("hidden", int, "hidden size (columns of x and r)")),
    params=(LAYOUT,))
