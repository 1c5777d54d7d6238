"""matmul: GEMM, GEMV and batched matmul on the DIMC arrays (docs/matmul.md).

Modules: api (matmul, run_matmul), plan (the planner), data (host bytes, tile parameters),
params (the tile parameter layout, by name), tile (Numba twin of csrc/kernels/matmul/tile.c),
ref (the NumPy reference), floor (lower bounds).
"""
from chipemu.kernels.matmul.api import matmul, run_matmul
from chipemu.kernels.matmul.params import MATMUL
from chipemu.kernels.registry import CliOption, Kernel

__all__ = ["matmul", "run_matmul", "KERNEL"]

KERNEL = Kernel(
    name="matmul", doc="docs/matmul.md", exports={"matmul": matmul},
    commands={"matmul": run_matmul}, params=(MATMUL,),
    options=(CliOption("m", int, "rows of activations (M)"),
             CliOption("k", int, "inner dimension (K)"),
             CliOption("n", int, "columns of weights (N)"),
             CliOption("fmt", str, "DIMC format of the activations (mxint8, mxint4, ...)"),
             CliOption("weight_fmt", str, "DIMC format of the weights (default: --fmt)")))
