"""The parameter vector of the glu tile kernels (kernels/params.py explains layouts);
csrc/kernels/glu/params.h is generated from it by csrc/gen_tables.py."""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R", "ACTS"]

ACTS = ("silu", "gelu")          # the header word `act` is the index in this tuple

LAYOUT = ParamLayout(
    "glu",
    header=("gate_host", "up_host", "consts_host", "gate", "up", "y", "consts", "rows", "act"),
    record=("active", "cols", "host_off_bytes"),
    docs={"gate_host": "HOST buffer of gate, tile by tile (each tile's columns, row-major)",
          "up_host": "HOST buffer of up, laid out as gate_host",
          "consts_host": "HOST buffer of the constants: float32 1, -1, 0.044715, "
                         "-2*sqrt(2/pi)",
          "gate": "SRAM buffer of the tile's columns of gate [rows, cols]",
          "up": "SRAM buffer of the tile's columns of up [rows, cols]",
          "y": "SRAM buffer of the tile's columns of y (the activation's scratch before)",
          "consts": "SRAM buffer of the constants",
          "rows": "rows of gate and up", "act": "0 SiLU, 1 GELU (tanh form)",
          "active": "1 if the tile is a member", "cols": "columns of the tile",
          "host_off_bytes": "its columns in gate_host and up_host"})
H, R = LAYOUT.H, LAYOUT.R
