"""The parameter vectors of the microbenchmark tile kernels, by name (kernels/params.py): one
layout per tile function, each with its C prefix in the generated
csrc/kernels/microbench/params.h (SETUP_H_*, STREAM_H_*, SEND_H_* / SEND_R_*, DRAM_H_* / DRAM_R_*).
Built by the drivers in kernels/microbench/api.py.
"""
from chipemu.kernels.params import ParamLayout

__all__ = ["SETUP", "STREAM", "SEND", "DRAM", "LAYOUTS"]

_BUF = "SRAM buffer id: "

SETUP = ParamLayout(                                      # dimc_setup
    "microbench", prefix="SETUP",
    header=("w_host", "x_host", "w_buf", "x_buf", "xq_buf", "fmt_x", "fmt_w", "nvec", "k",
            "w_bytes", "x_bytes", "slots"),
    docs={"w_host": "host buffer id: the weights (weights layout)",
          "x_host": "host buffer id: the activations, fp32",
          "w_buf": _BUF + "the weights", "x_buf": _BUF + "the activations, fp32",
          "xq_buf": _BUF + "the activations in fmt_x (rows layout)",
          "fmt_x": "format code of the activations", "fmt_w": "format code of the weights",
          "nvec": "activation vectors", "k": "elements per vector (array rows)",
          "w_bytes": "bytes of the weights", "x_bytes": "bytes of the fp32 activations",
          "slots": "DIMC slots loaded with the same weights"})

STREAM = ParamLayout(                                     # dimc_stream
    "microbench", prefix="STREAM",
    header=("xq_buf", "y_buf", "fmt_x", "nvec", "k", "y_bytes", "slots", "iterations"),
    docs={"xq_buf": _BUF + "the activations in fmt_x", "y_buf": _BUF + "one y per engine",
          "fmt_x": "format code of the activations", "nvec": "vectors per MVM",
          "k": "elements per vector", "y_bytes": "bytes of one engine's y",
          "slots": "engines (and slots) used in turn", "iterations": "MVMs per tile"})

SEND = ParamLayout(                                       # send_table
    "microbench", prefix="SEND",
    header=("src_buf", "dst_buf", "msg_bytes"),
    record=("active", "dst_tile", "dst_off"),
    docs={"src_buf": _BUF + "what a tile sends (from byte 0)", "dst_buf": _BUF + "where it lands",
          "msg_bytes": "bytes per send", "active": "1: the tile sends",
          "dst_tile": "the receiving tile", "dst_off": "byte offset in dst_buf"})

DRAM = ParamLayout(                                       # dram_table
    "microbench", prefix="DRAM",
    header=("sram_buf", "chunk_bytes", "reps"),
    record=("active", "dram_buf"),
    docs={"sram_buf": _BUF + "two halves of chunk_bytes, filled in turn",
          "chunk_bytes": "bytes per read", "reps": "reads per tile",
          "active": "1: the tile reads", "dram_buf": "DRAM buffer id it reads from"})

LAYOUTS = (SETUP, STREAM, SEND, DRAM)
