"""Host-side data of residual: x and r as the tiles fetch them (tile by tile), and the parameter
vector. The op has no constants."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.residual.params import LAYOUT

__all__ = ["by_tile", "constant_data", "params", "LAYOUT"]


def by_tile(a: np.ndarray, plan) -> np.ndarray:
    """a's columns regrouped tile by tile (each tile's [rows, cols] row-major, in tile order), so
    that one host_read brings a tile its columns (in a program x and r are on the tiles already,
    spread this way by the ops that made them)."""
    parts = [a[:, c0:c0 + n].ravel() for c0, n in map(plan.tile_cols, range(plan.tiles))]
    return np.concatenate(parts).astype(np.float32, copy=False)


def constant_data(plan) -> dict:
    """{SRAM buffer: {member: float32 bytes}} of what res_load reads besides x and r: nothing
    (an add needs no constants)."""
    return {}


def params(plan, n_tiles: int, bufs: dict) -> np.ndarray:
    """The int64 parameters of the res_* kernels: buffer ids, and per member its columns."""
    header = {name: bufs[name] for name in ("x_host", "r_host", "x", "r", "y")}
    header.update(rows=plan.rows)
    records = {}
    for t in range(plan.tiles):
        c0, n = plan.tile_cols(t)
        records[t] = ({"active": 1, "cols": n, "host_off_bytes": plan.rows * c0 * 4}, [])
    return LAYOUT.build(n_tiles, header, records)
