"""The parameter vector of the scale_rows tile kernels (kernels/params.py explains layouts);
csrc/kernels/scale_rows/params.h is generated from it by csrc/gen_tables.py."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R"]

LAYOUT = ParamLayout(
    "scale_rows",
    header=("x_host", "s_host", "x", "s", "y", "cols"),
    record=("active", "rows", "x_host_off_bytes", "s_host_off_bytes"),
    docs={"x_host": "HOST buffer of x (float32 rows)", "s_host": "HOST buffer of s (float32)",
          "x": "SRAM buffer of the tile's rows of x", "s": "SRAM buffer of the tile's scales",
          "y": "SRAM buffer of the tile's rows of y", "cols": "elements per row",
          "active": "1 if the tile has rows", "rows": "rows on this tile",
          "x_host_off_bytes": "its first row in x_host", "s_host_off_bytes": "its first scale"})
H, R = LAYOUT.H, LAYOUT.R
