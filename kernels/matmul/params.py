"""The parameter vector of the matmul tile kernels (mm_load, mm_step), by name (kernels/params.py).

Built by kernels/matmul/data.py `params()` from the plan; read by kernels/matmul/tile.py and its
C twin csrc/kernels/matmul/tile.c through the generated csrc/kernels/matmul/params.h. A tile's
record is followed by its tail: the K-group's tiles (n_kg of them), then (j, q) per piece, then
(g > 1) its group's tiles, member by member.
"""
from chipemu.kernels.params import ParamLayout

__all__ = ["MATMUL"]

MATMUL = ParamLayout(
    "matmul",
    header=("step", "stages", "chunk_rows", "m", "parts", "row_bytes", "cols", "rows", "fmt_x",
            "fmt_w", "slots", "passes", "group", "levels", "block_bytes", "piece_rows", "pieces",
            "xhome_buf", "x_buf", "y_buf", "acc_buf", "recv_buf", "w_buf", "w_host", "x_host",
            "nb_per_tile", "kpt", "replicas", "rounds", "slot_base"),
    record=("active", "member", "n_nb", "k_run", "w_host_off", "x_host_off",
            "x_bytes", "n_pieces", "replica", "n_kg"),
    docs={
        "step": "compute superstep, set before each launch",
        "stages": "supersteps per round (levels + 1)",
        "chunk_rows": "activation rows per chunk (mc)",
        "m": "activation rows in all",
        "parts": "row runs (pieces) per K-block and chunk",
        "row_bytes": "bytes of one activation row of R elements (rows layout)",
        "cols": "C: N columns per block",
        "rows": "R: K rows per block",
        "fmt_x": "format code of the activations",
        "fmt_w": "format code of the weights",
        "slots": "DIMC weight slots per tile",
        "passes": "1: weights stationary; > 1: streamed from SRAM per chunk",
        "group": "g: tiles per N-block (K-split)",
        "levels": "reduction tree levels, ceil(log2 g)",
        "block_bytes": "bytes of one weight block (weights layout)",
        "piece_rows": "most rows of one piece",
        "pieces": "most pieces one tile holds per chunk",
        "xhome_buf": "SRAM buffer id: the pieces a tile holds",
        "x_buf": "SRAM buffer id: activations [2][kpt][mc][row_bytes]",
        "y_buf": "SRAM buffer id: output rows",
        "acc_buf": "SRAM buffer id: partial sums, double-buffered by round (-1 if g == 1)",
        "recv_buf": "SRAM buffer id: received partial sums per level (-1 if g == 1)",
        "w_buf": "SRAM buffer id: weight blocks on their way to the slots",
        "w_host": "host buffer id: every tile's weight blocks",
        "x_host": "host buffer id: every holder's pieces",
        "nb_per_tile": "most N-blocks per tile (1 when g > 1)",
        "kpt": "K-blocks per member",
        "replicas": "weight copies per chiplet; chunk c runs on replica c mod replicas",
        "rounds": "chunks per replica",
        "slot_base": "the region's first DIMC slot: block slot i is DIMC slot slot_base + i",
        "active": "1: the tile takes part",
        "member": "position in its group",
        "n_nb": "N-blocks of the tile",
        "k_run": "K-blocks per N-block of the tile",
        "w_host_off": "byte offset of its weight blocks in w_host",
        "x_host_off": "byte offset of its pieces in x_host",
        "x_bytes": "bytes of its pieces (0: holds none)",
        "n_pieces": "pieces it holds per round",
        "replica": "its replica",
        "n_kg": "tiles of its K-group (the tail's first list)",
    })
