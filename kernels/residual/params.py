"""The parameter vector of the residual tile kernels (kernels/params.py explains layouts);
csrc/kernels/residual/params.h is generated from it by csrc/gen_tables.py."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R"]

LAYOUT = ParamLayout(
    "residual",
    header=("x_host", "r_host", "x", "r", "y", "rows"),
    record=("active", "cols", "host_off_bytes"),
    docs={"x_host": "HOST buffer of x, tile by tile (each tile's columns, row-major)",
          "r_host": "HOST buffer of r, laid out as x_host",
          "x": "SRAM buffer of the tile's columns of x [rows, cols]",
          "r": "SRAM buffer of the tile's columns of r [rows, cols]",
          "y": "SRAM buffer of the tile's columns of y = x + r",
          "rows": "rows of x and r",
          "active": "1 if the tile is a member", "cols": "columns of the tile",
          "host_off_bytes": "its columns in x_host and r_host"})
H, R = LAYOUT.H, LAYOUT.R
