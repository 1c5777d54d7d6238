"""The parameter vectors of the attention tile kernels, by name (kernels/params.py).

`ATTENTION` (at_kv, at_q, at_step; built by kernels/attention/data.py `params()`): a tile's
record is followed by its tail, per round u: n_blocks block codes (0 skip, 1 compute, 2 + i
compute with bias block i), per merge level (action, partner tile), the root flag.
`APPEND` (at_append, the KV cache's writes; built by kernels/attention/cache.py): a tile's
record is followed by `writes` entries of 5 words: slot (the DIMC slot itself, the region's
slot_base included), host byte offset, bytes, first row, rows.
C: the generated csrc/kernels/attention/params.h (H_*, R_* and APPEND_H_*, APPEND_R_*).
"""
from chipemu.kernels.params import ParamLayout

__all__ = ["ATTENTION", "APPEND"]

ATTENTION = ParamLayout(
    "attention",
    header=("step", "stages", "rounds", "chunk_rows", "q_rows", "rows", "cols", "block_keys",
            "d_splits", "v_splits", "fmt", "kv_fmt", "slot_bytes", "q_row_bytes", "levels",
            "replicas", "w_buf", "q_buf", "s_buf", "p_buf", "part_buf", "vec_buf", "recv_buf",
            "y_buf", "bias_buf", "const_buf", "kv_host", "q_host", "bias_host", "const_host",
            "vector", "slot_base"),
    record=("active", "member", "replica", "n_blocks", "kv_host_off", "q_host_off", "q_bytes",
            "bias_host_off", "bias_bytes"),
    docs={
        "step": "compute superstep, set before each launch",
        "stages": "supersteps per round (levels + 1)",
        "rounds": "chunks per replica",
        "chunk_rows": "query rows per chunk (mq)",
        "q_rows": "query rows per unit (G * Sq)",
        "rows": "R: DIMC array rows",
        "cols": "C: DIMC array columns in the K/V format",
        "block_keys": "keys per block (bk)",
        "d_splits": "K^T slots per key block (head_dim / R)",
        "v_splits": "V slots per key block",
        "fmt": "format code of the queries and probabilities",
        "kv_fmt": "format code of K and V",
        "slot_bytes": "bytes of one K^T or V slot (weights layout)",
        "q_row_bytes": "bytes of one query row part of R elements (rows layout)",
        "levels": "merge tree levels",
        "replicas": "copies of the keys; chunks zigzag over them by round",
        "w_buf": "SRAM buffer id: K/V slots on their way to the DIMC (vector path: K, V^T)",
        "q_buf": "SRAM buffer id: query rows [round][d split][mq][q_row_bytes]",
        "s_buf": "SRAM buffer id: scores of one key block, fp32",
        "p_buf": "SRAM buffer id: probabilities in fmt",
        "part_buf": "SRAM buffer id: the chunk's (m, l, O)",
        "vec_buf": "SRAM buffer id: per-row scratch (5 rows of mq floats)",
        "recv_buf": "SRAM buffer id: a partner's (m, l, O)",
        "y_buf": "SRAM buffer id: output rows",
        "bias_buf": "SRAM buffer id: mask-bias blocks, fp32",
        "const_buf": "SRAM buffer id: softmax constants (3 rows of mq floats)",
        "kv_host": "host buffer id: every tile's K/V slots",
        "q_host": "host buffer id: every tile's query rows",
        "bias_host": "host buffer id: every tile's bias blocks",
        "const_host": "host buffer id: the softmax constants",
        "vector": "1: K and V stay in SRAM in fp32 (vector path); 0: in the DIMC",
        "slot_base": "the region's first DIMC slot: block slot i is DIMC slot slot_base + i",
        "active": "1: the tile takes part",
        "member": "position among the unit's tiles (its key run)",
        "replica": "its replica",
        "n_blocks": "key blocks it holds",
        "kv_host_off": "byte offset of its K/V slots in kv_host",
        "q_host_off": "byte offset of its query rows in q_host",
        "q_bytes": "bytes of its query rows",
        "bias_host_off": "byte offset of its bias blocks in bias_host",
        "bias_bytes": "bytes of its bias blocks (0: none)",
    })

APPEND = ParamLayout(
    "attention", prefix="APPEND",
    header=("w_buf", "kv_host", "kv_fmt"),
    record=("writes",),
    docs={"w_buf": "SRAM buffer id: a slot's bytes on their way to the DIMC",
          "kv_host": "host buffer id: the cache's K/V slots",
          "kv_fmt": "format code of K and V",
          "writes": "rewrites on this tile; the tail holds 5 words per write"})
