"""Host-side data of argmax: x as the tiles fetch it (tile by tile), the column ids, and the
parameter vector."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.argmax.params import LAYOUT

__all__ = ["x_by_tile", "column_ids", "constant_data", "params"]


def x_by_tile(x: np.ndarray, plan) -> np.ndarray:
    """x's columns regrouped tile by tile (each tile's [rows, cols] row-major, in tile order), so
    that one host_read brings a tile its columns (in a program x arrives spread this way)."""
    parts = [x[:, c0:c0 + n].ravel() for c0, n in map(plan.tile_cols, range(plan.tiles))]
    return np.concatenate(parts).astype(np.float32, copy=False)


def column_ids(vocab: int) -> np.ndarray:
    """int32 [vocab]: 0, 1, ..., vocab - 1, the payload vec_col_argmax picks from."""
    return np.arange(vocab, dtype=np.int32)


def constant_data(plan) -> dict:
    """{SRAM buffer: {member: float32 view of its bytes}} of what amx_load reads besides x: each
    member's column ids c0 .. c0 + n - 1 (int32 words, shown as float32 so that a program writes
    the bytes unchanged)."""
    return {"ids": {t: np.arange(c0, c0 + n, dtype=np.int32).view(np.float32)
                    for t, (c0, n) in ((t, plan.tile_cols(t)) for t in range(plan.tiles))}}


def params(plan, n_tiles: int, bufs: dict) -> np.ndarray:
    """The int64 parameters of the amx_* kernels: buffer ids, and per member its columns."""
    names = ("x_host", "ids_host", "x", "ids", "mparts", "gparts", "y")
    header = {name: bufs[name] for name in names}
    header.update(rows=plan.rows, tiles=plan.tiles, root=plan.root)
    records = {}
    for t in range(plan.tiles):
        c0, n = plan.tile_cols(t)
        records[t] = ({"active": 1, "cols": n, "x_host_off_bytes": plan.rows * c0 * 4,
                       "ids_host_off_bytes": c0 * 4, "part_off_bytes": t * plan.rows * 4,
                       "is_root": int(t == plan.root)}, [])
    return LAYOUT.build(n_tiles, header, records)
