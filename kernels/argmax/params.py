"""The parameter vector of the argmax tile kernels (kernels/params.py explains layouts);
csrc/kernels/argmax/params.h is generated from it by csrc/gen_tables.py."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R"]

LAYOUT = ParamLayout(
    "argmax",
    header=("x_host", "ids_host", "x", "ids", "mparts", "gparts", "y", "rows", "tiles", "root"),
    record=("active", "cols", "x_host_off_bytes", "ids_host_off_bytes", "part_off_bytes",
            "is_root"),
    docs={"x_host": "HOST buffer of x, tile by tile (each tile's columns, row-major)",
          "ids_host": "HOST buffer of the column ids 0 .. vocab-1 (int32)",
          "x": "SRAM buffer of the tile's columns of x [rows, cols]",
          "ids": "SRAM buffer of the global ids of the tile's columns [cols] (int32)",
          "mparts": "SRAM buffer of the partial maxima [tiles, rows] (complete on the root)",
          "gparts": "SRAM buffer of the ids of the partial maxima [tiles, rows] (int32)",
          "y": "SRAM buffer of the result ids [rows] (int32, on the root)",
          "rows": "rows of x", "tiles": "member tiles (the vocabulary is split over them)",
          "root": "the tile that picks",
          "active": "1 if the tile is a member", "cols": "columns of the tile",
          "x_host_off_bytes": "its columns of x in x_host",
          "ids_host_off_bytes": "its first column's id in ids_host",
          "part_off_bytes": "its slot in mparts and gparts (tile index x rows x 4)",
          "is_root": "1 on the root"})
H, R = LAYOUT.H, LAYOUT.R
