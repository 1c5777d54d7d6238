"""scale_rows: y[r, :] = x[r, :] * s[r] with rows spread over tiles — the template kernel
(docs/scale_rows.md; docs/kernels.md shows how to copy it into a new kernel).

Modules: api (scale_rows, run_scale_rows), params (the tile parameter layout), plan (rows to
tiles), data (host bytes and parameters), tile (Numba twin of csrc/kernels/scale_rows/tile.c),
ref (the NumPy reference).
"""
from chipemu.kernels.registry import CliOption, Kernel
from chipemu.kernels.scale_rows.api import run_scale_rows, scale_rows
from chipemu.kernels.scale_rows.params import LAYOUT

__all__ = ["scale_rows", "run_scale_rows", "KERNEL"]

KERNEL = Kernel(
    name="scale_rows", doc="docs/scale_rows.md", exports={"scale_rows": scale_rows},
    commands={"scale_rows": run_scale_rows},
    options=(CliOption("rows", int, "rows of x"), CliOption("cols", int, "columns of x")),
    params=(LAYOUT,))
