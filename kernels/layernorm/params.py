"""The parameter vector of the layernorm tile kernels (kernels/params.py explains layouts);
csrc/kernels/layernorm/params.h is generated from it by csrc/gen_tables.py.

The root's record tail lists the other member tiles (the destinations of its multicasts)."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R"]

LAYOUT = ParamLayout(
    "layernorm",
    header=("x_host", "gamma_host", "beta_host", "consts_host", "x", "gamma", "beta", "y",
            "parts", "acc", "shift", "scale", "consts", "rows", "tiles", "root"),
    record=("active", "cols", "x_host_off_bytes", "gamma_host_off_bytes", "part_off_bytes",
            "is_root"),
    docs={"x_host": "HOST buffer of x, tile by tile (each tile's columns, row-major)",
          "gamma_host": "HOST buffer of gamma (float32 [hidden])",
          "beta_host": "HOST buffer of beta (float32 [hidden])",
          "consts_host": "HOST buffer of the constants: float32 -1/hidden, 1/hidden, eps",
          "x": "SRAM buffer of the tile's columns of x [rows, cols]",
          "gamma": "SRAM buffer of the tile's columns of gamma",
          "beta": "SRAM buffer of the tile's columns of beta",
          "y": "SRAM buffer of the tile's columns of y (first the squared deviations)",
          "parts": "SRAM buffer of the partial sums [tiles, rows] (complete on the root)",
          "acc": "SRAM buffer of the root's sums over the tiles [rows]",
          "shift": "SRAM buffer of the negated row means -mean [rows]",
          "scale": "SRAM buffer of the row scales rsqrt(var + eps) [rows]",
          "consts": "SRAM buffer of the root's constants -1/hidden, 1/hidden, eps",
          "rows": "rows of x", "tiles": "member tiles (the hidden axis is split over them)",
          "root": "the tile that reduces and multicasts",
          "active": "1 if the tile is a member", "cols": "columns of the tile",
          "x_host_off_bytes": "its columns of x in x_host",
          "gamma_host_off_bytes": "its first column in gamma_host and beta_host",
          "part_off_bytes": "its partial sums in parts (tile index x rows x 4)",
          "is_root": "1 on the root (its tail: the other members)"})
H, R = LAYOUT.H, LAYOUT.R
