"""The parameter vector of the move tile kernel (kernels/params.py explains layouts);
csrc/kernels/move/params.h is generated from it by csrc/gen_tables.py.

A tile's record tail is its list of ops, each OP_WORDS words
[kind, src_buf, src_off, dst_buf, dst_off, count, arg_a, arg_b], a SEND followed by its arg_a
destination tile ids. Kinds and what count, arg_a and arg_b mean:

    SEND       count bytes of SRAM to dst_buf on arg_a tiles (multicast), ids after the op
    COPY       count float32 elements, SRAM to SRAM on the tile (vector unit)
    HOST_READ  count bytes from HOST buffer src_buf into SRAM
    CONVERT    count float32 elements in rows of arg_a, quantized to format code arg_b
    DRAM_READ  count bytes from DRAM buffer src_buf into SRAM
"""
from chipemu.kernels.params import ParamLayout

__all__ = ["LAYOUT", "H", "R", "OP_WORDS", "KINDS"]

OP_WORDS = 8
KINDS = ("send", "copy", "host_read", "convert", "dram_read")

LAYOUT = ParamLayout(
    "move",
    header=("op_words", "kinds"),
    record=("active", "n_ops"),
    docs={"op_words": "words of one op before a SEND's destinations (8)",
          "kinds": "op kinds the planner knows (5: send, copy, host_read, convert, dram_read)",
          "active": "1 if the tile has ops", "n_ops": "ops in the tail, run in order"})
H, R = LAYOUT.H, LAYOUT.R
