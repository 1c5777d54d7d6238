"""The parameter vector of the softmax tile kernels (kernels/params.py explains layouts);
csrc/kernels/softmax/params.h is generated from it by csrc/gen_tables.py.

The root's record tail lists the other member tiles (the destinations of its multicasts)."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R"]

LAYOUT = ParamLayout(
    "softmax",
    header=("x_host", "consts_host", "x", "y", "parts", "acc", "negmax", "inv", "consts", "rows",
            "tiles", "root"),
    record=("active", "cols", "x_host_off_bytes", "part_off_bytes", "is_root"),
    docs={"x_host": "HOST buffer of x, tile by tile (each tile's columns, row-major)",
          "consts_host": "HOST buffer of the constant float32 -1",
          "x": "SRAM buffer of the tile's columns of x [rows, cols]",
          "y": "SRAM buffer of the tile's columns of y (first exp(x - max))",
          "parts": "SRAM buffer of the partial maxima, then sums [tiles, rows] (complete on "
                   "the root)",
          "acc": "SRAM buffer of the root's maxima, then sums, over the tiles [rows]",
          "negmax": "SRAM buffer of -max of each row [rows] (multicast by the root)",
          "inv": "SRAM buffer of 1 / sum of each row [rows] (multicast by the root)",
          "consts": "SRAM buffer of the root's constant -1",
          "rows": "rows of x", "tiles": "member tiles (the columns are split over them)",
          "root": "the tile that reduces and multicasts",
          "active": "1 if the tile is a member", "cols": "columns of the tile",
          "x_host_off_bytes": "its columns of x in x_host",
          "part_off_bytes": "its partial results in parts (tile index x rows x 4)",
          "is_root": "1 on the root (its tail: the other members)"})
H, R = LAYOUT.H, LAYOUT.R
