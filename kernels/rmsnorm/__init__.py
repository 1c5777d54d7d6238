"""rmsnorm: y[r, :] = x[r, :] * rsqrt(mean(x[r, :]^2) + eps) * gamma, the hidden axis split
over the tiles of a chiplet with a cross-tile reduction of the sums of squares (partial sums
sent to a root, added in tile order, scales multicast back) — docs/rmsnorm.md.

Modules: api (rmsnorm, run_rmsnorm), params (the tile parameter layout), plan (columns to
tiles), data (host bytes and parameters), tile (Numba twin of csrc/kernels/rmsnorm/tile.c),
ref (the NumPy reference replaying the plan's order, and a float64 yardstick).
"""
from chipemu.kernels.registry import CliOption, Kernel
from chipemu.kernels.rmsnorm.api import rmsnorm, run_rmsnorm
from chipemu.kernels.rmsnorm.params import LAYOUT

__all__ = ["rmsnorm", "run_rmsnorm", "KERNEL"]

KERNEL = Kernel(
    name="rmsnorm", doc="docs/rmsnorm.md", exports={"rmsnorm": rmsnorm},
    commands={"rmsnorm": run_rmsnorm},
    options=(CliOption("rows", int, "rows of x"), CliOption("hidden", int, "hidden size")),
    params=(LAYOUT,))
