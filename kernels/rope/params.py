"""The parameter vector of the rope tile kernels (kernels/params.py explains layouts);
csrc/kernels/rope/params.h is generated from it by csrc/gen_tables.py.

Each member's record tail is the position of every row (host-known control data, as the KV
cache keeps its lengths): row r reads the tables at byte offset position[r] * half * 4."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R"]

LAYOUT = ParamLayout(
    "rope",
    header=("x_host", "cos_host", "sin_host", "consts_host", "x", "y", "cos", "sin", "nsin",
            "tmp", "consts", "rows", "half", "table_bytes"),
    record=("active", "heads", "cols", "x_host_off_bytes"),
    docs={"x_host": "HOST buffer of x, tile by tile (each tile's columns, row-major)",
          "cos_host": "HOST buffer of the cos table [max_positions, half] float32",
          "sin_host": "HOST buffer of the sin table [max_positions, half] float32",
          "consts_host": "HOST buffer of the constant float32 -1",
          "x": "SRAM buffer of the tile's columns of x [rows, cols] (whole heads)",
          "y": "SRAM buffer of the tile's columns of y [rows, cols]",
          "cos": "SRAM buffer of the cos table [max_positions, half]",
          "sin": "SRAM buffer of the sin table [max_positions, half]",
          "nsin": "SRAM buffer of -sin of the current row's position [half]",
          "tmp": "SRAM buffer of a half head of products [half]",
          "consts": "SRAM buffer of the constant -1",
          "rows": "rows of x", "half": "head_dim / 2",
          "table_bytes": "bytes of one table (max_positions x half x 4)",
          "active": "1 if the tile is a member", "heads": "heads of the tile",
          "cols": "columns of the tile (heads x head_dim)",
          "x_host_off_bytes": "its columns of x in x_host"})
H, R = LAYOUT.H, LAYOUT.R
