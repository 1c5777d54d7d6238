"""The parameter vectors of the attention tile kernels, by name (kernels/params.py).

`ATTENTION` (at_kv, at_q, at_step; built by kernels/attention/data.py `params()`): a tile's
record is followed by its tail, per round u: n_blocks block codes (0 skip, 1 compute, 2 + i
compute with bias block i), per merge level (action, partner tile), the root flag.
`APPEND` (at_append, the KV cache's writes; built by kernels/attention/cache.py): a tile's
record is followed by `writes` entries of 5 words: slot (the DIMC slot itself, the region's
slot_base included), host byte offset, bytes, first row, rows.
`INGEST` (at_ingest, a KV cache step with its inputs on the device; built by
kernels/attention/ingest.py): a tile's record is followed by n_dst tiles (the members its
quantized query rows go to), n_routes entries of 4 words (tile, first row of k_in / v_in, rows,
first shadow row), n_commits of 6 (block index on the tile, keys in the block, first V row,
V rows, V rows holding keys, the block's first shadow row) and n_loads of 4 (host byte offset,
buffer, byte offset, bytes).
C: the generated csrc/kernels/attention/params.h (H_*, R_*, APPEND_H_*, APPEND_R_*, INGEST_H_*,
INGEST_R_*).
"""
from chipemu.kernels.params import ParamLayout

__all__ = ["ATTENTION", "APPEND", "INGEST"]

ATTENTION = ParamLayout(
    "attention",
    header=("step", "stages", "rounds", "chunk_rows", "q_rows", "rows", "cols", "block_keys",
            "d_splits", "v_splits", "fmt", "kv_fmt", "slot_bytes", "q_row_bytes", "levels",
            "replicas", "w_buf", "q_buf", "s_buf", "p_buf", "part_buf", "vec_buf", "recv_buf",
            "y_buf", "bias_buf", "const_buf", "kv_host", "q_host", "bias_host", "const_host",
            "vector", "slot_base", "consts", "kv_dram"),
    record=("active", "member", "replica", "n_blocks", "kv_host_off", "q_host_off", "q_bytes",
            "bias_host_off", "bias_bytes", "kv_dram_buf", "kv_dram_off"),
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
        "consts": "1: at_q reads the softmax constants from the host; 0: they are resident",
        "kv_dram": "1: the K/V slot images are in DRAM, each block read and loaded into slots "
                   "slot_base.. before it is used (a KV cache homed in DRAM); 0: resident",
        "active": "1: the tile takes part",
        "member": "position among the unit's tiles (its key run)",
        "replica": "its replica",
        "n_blocks": "key blocks it holds",
        "kv_host_off": "byte offset of its K/V slots in kv_host",
        "q_host_off": "byte offset of its query rows in q_host",
        "q_bytes": "bytes of its query rows",
        "bias_host_off": "byte offset of its bias blocks in bias_host",
        "bias_bytes": "bytes of its bias blocks (0: none)",
        "kv_dram_buf": "DRAM buffer id of its K/V slot images (kv_dram 1; else -1)",
        "kv_dram_off": "byte offset of its first block's slot images there",
    })

APPEND = ParamLayout(
    "attention", prefix="APPEND",
    header=("w_buf", "kv_host", "kv_fmt", "kv_dram"),
    record=("writes", "dram_buf"),
    docs={"w_buf": "SRAM buffer id: a slot's bytes on their way to the DIMC",
          "kv_host": "host buffer id: the cache's K/V slots",
          "kv_fmt": "format code of K and V",
          "kv_dram": "1: a write's first word is a byte offset in the tile's DRAM buffer, the "
                     "rows written there in the weights layout; 0: a DIMC slot",
          "writes": "rewrites on this tile; the tail holds 5 words per write",
          "dram_buf": "DRAM buffer id of the tile's K/V slot images (kv_dram 1; else -1)"})

INGEST = ParamLayout(
    "attention", prefix="INGEST",
    header=("phase", "head_dim", "group", "new_rows", "rows", "d_splits", "v_splits", "cols",
            "block_keys", "chunk_rows", "chunks", "q_row_bytes", "fmt", "kv_fmt", "slot_base",
            "q_in", "k_in", "v_in", "qs_buf", "scale_buf", "q_buf", "ks_buf", "vs_buf", "w_buf",
            "host", "kv_dram", "slot_bytes"),
    record=("active", "home", "n_dst", "n_routes", "n_commits", "n_loads", "dram_buf",
            "dram_off"),
    docs={"phase": "0: host loads; 1: a unit's home quantizes q and routes k, v; 2: commit",
          "head_dim": "D: floats per query / key / value row",
          "group": "G: query heads per unit",
          "new_rows": "Sq: new tokens per sequence in this step",
          "rows": "R: DIMC array rows (the head_dim split of a query row)",
          "d_splits": "K^T slots per key block",
          "v_splits": "V slots per key block",
          "cols": "C: DIMC array columns in the K/V format",
          "block_keys": "keys per block",
          "chunk_rows": "query rows per chunk (mq)",
          "chunks": "chunks of this step's query rows",
          "q_row_bytes": "bytes of one query row part of R elements (rows layout)",
          "fmt": "format code of the queries",
          "kv_fmt": "format code of K and V",
          "slot_base": "the region's first DIMC slot",
          "q_in": "SRAM buffer id: the unit's new queries, fp32 [Sq, G * D]",
          "k_in": "SRAM buffer id: the unit's new keys, fp32 [Sq, D]",
          "v_in": "SRAM buffer id: the unit's new values, fp32 [Sq, D]",
          "qs_buf": "SRAM buffer id: the scaled queries, fp32 [Sq, G * D]",
          "scale_buf": "SRAM buffer id: the query scale, one fp32 per query row",
          "q_buf": "SRAM buffer id: query rows [chunk][d split][mq][q_row_bytes]",
          "ks_buf": "SRAM buffer id: fp32 keys of the tile's open blocks [blocks][block_keys][D]",
          "vs_buf": "SRAM buffer id: fp32 values of the tile's open blocks, as ks_buf",
          "w_buf": "SRAM buffer id: a slot's bytes on their way to the DIMC",
          "host": "host buffer id: fp32 keys and values, the query scale (phase 0)",
          "kv_dram": "1: commits write the slot images in the tile's DRAM buffer; 0: the DIMC",
          "slot_bytes": "bytes of one K^T or V slot (weights layout)",
          "dram_buf": "DRAM buffer id of the tile's K/V slot images (kv_dram 1; else -1)",
          "dram_off": "byte offset of its first block's slot images there",
          "active": "1: the tile takes part",
          "home": "1: the unit's home tile (member 0): its inputs are here",
          "n_dst": "members its quantized query rows are sent to",
          "n_routes": "runs of new keys sent to (or copied into) a shadow",
          "n_commits": "key blocks of the tile rewritten from its shadows",
          "n_loads": "host reads (phase 0)"})
