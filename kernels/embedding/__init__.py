"""embedding: the gather y[r, :] = table[ids[r], :] from a table resident in the device's DRAM,
each member tile reading its columns of every token's row (the column distribution of rmsnorm);
the token ids travel in the parameter vector — docs/embedding.md.

Modules: api (embedding, place_table, run_embedding), params (the tile parameter layout), plan
(columns to tiles, the table's layout over DRAM channels), data (the table's DRAM bytes and the
parameters), tile (Numba twin of csrc/kernels/embedding/tile.c), ref (the NumPy reference).
"""
from chipemu.kernels.embedding.api import PlacedTable, embedding, place_table, run_embedding
from chipemu.kernels.embedding.params import LAYOUT
from chipemu.kernels.registry import CliOption, Kernel

__all__ = ["embedding", "place_table", "PlacedTable", "run_embedding", "KERNEL"]

KERNEL = Kernel(
    name="embedding", doc="docs/embedding.md",
    exports={"embedding": embedding, "place_table": place_table},
    commands={"embedding": run_embedding},
    options=(CliOption("rows", int, "rows of y (tokens gathered)"),
             CliOption("hidden", int, "hidden size"),
             CliOption("vocab", int, "rows of the embedding table")),
    params=(LAYOUT,))
