"""softmax: y[r, :] = exp(x[r, :] - max) / sum(exp(x[r, :] - max)), the columns split over the
tiles of a chiplet with two cross-tile reductions (the row maxima, then the row sums of exp:
partials sent to a root, combined in tile order, results multicast back) — docs/softmax.md.

Modules: api (softmax, run_softmax), params (the tile parameter layout), plan (columns to
tiles), data (host bytes and parameters), tile (Numba twin of csrc/kernels/softmax/tile.c), ref
(the NumPy reference replaying the plan's order, and a float64 yardstick).
"""
from chipemu.kernels.registry import CliOption, Kernel
from chipemu.kernels.softmax.api import run_softmax, softmax
from chipemu.kernels.softmax.params import LAYOUT

__all__ = ["softmax", "run_softmax", "KERNEL"]

KERNEL = Kernel(
    name="softmax", doc="docs/softmax.md", exports={"softmax": softmax},
    commands={"softmax": run_softmax},
    options=(CliOption("rows", int, "rows of x"), CliOption("cols", int, "columns (softmax axis)")),
    params=(LAYOUT,))
