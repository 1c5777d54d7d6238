"""The parameter vector of the embedding tile kernel (kernels/params.py explains layouts);
csrc/kernels/embedding/params.h is generated from it by csrc/gen_tables.py.

The token ids follow the records: p[ids_at + r] is the id of row r (0 <= id < vocab), control
data the host knows, as the KV cache keeps its lengths."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R"]

LAYOUT = ParamLayout(
    "embedding",
    header=("y", "rows", "vocab", "ids_at"),
    record=("active", "cols", "table_buf", "table_off_bytes"),
    docs={"y": "SRAM buffer of the tile's columns of y [rows, cols]",
          "rows": "rows of y (tokens)", "vocab": "rows of the table (ids lie in [0, vocab))",
          "ids_at": "the word of p where the rows' token ids start",
          "active": "1 if the tile is a member", "cols": "columns of the tile",
          "table_buf": "DRAM buffer holding the tile's block of the table",
          "table_off_bytes": "where its [vocab, cols] block (row-major) starts there"})
H, R = LAYOUT.H, LAYOUT.R
