"""rope: rotary position embedding of queries or keys x [rows, heads * head_dim], one position
per row, Hugging Face's rotate_half convention; whole heads per tile, the cos / sin tables
(computed on the host in float64, rounded to float32) in every member's SRAM, no cross-tile
transfer — docs/rope.md.

Modules: api (rope, run_rope), params (the tile parameter layout), plan (heads to tiles), data
(tables, host bytes and parameters), tile (Numba twin of csrc/kernels/rope/tile.c), ref (the
NumPy reference replaying the device's order, and a float64 yardstick).
"""
from chipemu.kernels.registry import CliOption, Kernel
from chipemu.kernels.rope.api import rope, run_rope
from chipemu.kernels.rope.params import LAYOUT

__all__ = ["rope", "run_rope", "KERNEL"]

KERNEL = Kernel(
    name="rope", doc="docs/rope.md", exports={"rope": rope},
    commands={"rope": run_rope},
    options=(CliOption("rows", int, "rows of x (tokens)"),
             CliOption("heads", int, "heads of x"),
             CliOption("head_dim", int, "head dimension (even)"),
             CliOption("theta", float, "RoPE base (500000 llama-3, 10000 llama-2)"),
             CliOption("max_positions", int, "positions the tables hold")),
    params=(LAYOUT,))
