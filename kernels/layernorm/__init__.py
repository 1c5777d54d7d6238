"""layernorm: y[r, :] = (x[r, :] - mean) * rsqrt(var + eps) * gamma + beta, the hidden axis
split over the tiles of a chiplet with two cross-tile reductions (the row sums, then the sums of
squared deviations from the mean: partial sums sent to a root, added in tile order, the results
multicast back) — docs/layernorm.md.

Modules: api (layernorm, run_layernorm), params (the tile parameter layout), plan (columns to
tiles), data (host bytes and parameters), tile (Numba twin of csrc/kernels/layernorm/tile.c),
ref (the NumPy reference replaying the plan's order, and a float64 yardstick).
"""
from chipemu.kernels.layernorm.api import layernorm, run_layernorm
from chipemu.kernels.layernorm.params import LAYOUT
from chipemu.kernels.registry import CliOption, Kernel

__all__ = ["layernorm", "run_layernorm", "KERNEL"]

KERNEL = Kernel(
    name="layernorm", doc="docs/layernorm.md", exports={"layernorm": layernorm},
    commands={"layernorm": run_layernorm},
    options=(CliOption("rows", int, "rows of x"), CliOption("hidden", int, "hidden size")),
    params=(LAYOUT,))
