"""Host-side data of embedding: the table's DRAM blocks, and the parameter vector
(with the token ids after the records)."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.embedding.params import LAYOUT

__all__ = ["table_blocks", "constant_data", "params", "LAYOUT"]


def table_blocks(table: np.ndarray, layout) -> list:
    """Member t's DRAM block for every t: float32 table[:, c0:c0 + n_t], row-major
    [vocab, n_t] (plan.TableLayout)."""
    return [np.ascontiguousarray(table[:, c0:c0 + n], np.float32)
            for c0, n in map(layout.tile_cols, range(layout.tiles))]


def constant_data(plan) -> dict:
    """{SRAM buffer: {member: float32 bytes}} of the op's SRAM constants: none. Its one
    constant, the table, lives in DRAM: place_table writes it once (api.place_table)."""
    return {}


def params(plan, n_tiles: int, bufs: dict, table, ids) -> np.ndarray:
    """The int64 parameters of emb_gather: the y buffer, per member its columns and its block
    of the placed `table` (api.PlacedTable), then the rows' token ids."""
    records = {}
    for t in range(plan.tiles):
        buf, off = table.blocks[t]
        records[t] = ({"active": 1, "cols": plan.tile_cols(t)[1], "table_buf": buf,
                       "table_off_bytes": off}, [])
    p = LAYOUT.build(n_tiles, {"y": bufs["y"], "rows": plan.rows, "vocab": plan.vocab,
                               "ids_at": 0}, records)
    p[LAYOUT.H.ids_at] = len(p)
    return np.concatenate([p, np.asarray(ids, np.int64).reshape(-1)])
