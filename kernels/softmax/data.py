"""Host-side data of softmax: x as the tiles fetch it (tile by tile), the constant, and the
parameter vector."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.softmax.params import LAYOUT

__all__ = ["x_by_tile", "constants", "constant_data", "params"]


def x_by_tile(x: np.ndarray, plan) -> np.ndarray:
    """x's columns regrouped tile by tile (each tile's [rows, cols] row-major, in tile order), so
    that one host_read brings a tile its columns (in a program x arrives spread this way)."""
    parts = [x[:, c0:c0 + n].ravel() for c0, n in map(plan.tile_cols, range(plan.tiles))]
    return np.concatenate(parts).astype(np.float32, copy=False)


def constants() -> np.ndarray:
    """float32 [-1]: the maxima are negated by a multiply (the vector unit has no subtract and
    no immediate operands)."""
    return np.array([-1.0], np.float32)


def constant_data(plan) -> dict:
    """{SRAM buffer: {member: float32 bytes}} of what smx_load reads besides x: the root's -1
    (a program writes it once)."""
    return {"consts": {plan.root: constants()}}


def params(plan, n_tiles: int, bufs: dict) -> np.ndarray:
    """The int64 parameters of the smx_* kernels: buffer ids, and per member its columns."""
    names = ("x_host", "consts_host", "x", "y", "parts", "acc", "negmax", "inv", "consts")
    header = {name: bufs[name] for name in names}
    header.update(rows=plan.rows, tiles=plan.tiles, root=plan.root)
    records = {}
    for t in range(plan.tiles):
        c0, n = plan.tile_cols(t)
        root = t == plan.root
        tail = [m for m in range(plan.tiles) if m != plan.root] if root else []
        records[t] = ({"active": 1, "cols": n, "x_host_off_bytes": plan.rows * c0 * 4,
                       "part_off_bytes": t * plan.rows * 4, "is_root": int(root)}, tail)
    return LAYOUT.build(n_tiles, header, records)
