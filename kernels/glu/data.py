"""Host-side data of glu: gate and up as the tiles fetch them (tile by tile), the constants,
and the parameter vector."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.glu.params import LAYOUT

__all__ = ["by_tile", "constants", "constant_data", "params", "LAYOUT"]


def by_tile(a: np.ndarray, plan) -> np.ndarray:
    """a's columns regrouped tile by tile (each tile's [rows, cols] row-major, in tile order), so
    that one host_read brings a tile its columns (in a program gate and up arrive from a matmul
    already spread this way)."""
    parts = [a[:, c0:c0 + n].ravel() for c0, n in map(plan.tile_cols, range(plan.tiles))]
    return np.concatenate(parts).astype(np.float32, copy=False)


def constants() -> np.ndarray:
    """float32 [1, -1, 0.044715, -2*sqrt(2/pi)] (the last correctly rounded from float64): the
    vector unit has no subtract and no immediate operands, so constants are broadcast from SRAM."""
    return np.array([1.0, -1.0, 0.044715, -2.0 * np.sqrt(2.0 / np.pi)], np.float32)


def constant_data(plan) -> dict:
    """{SRAM buffer: {member: float32 bytes}} of what glu_load reads besides gate and up: the
    four constants on every member (a program writes them once)."""
    return {"consts": {t: constants() for t in range(plan.tiles)}}


def params(plan, n_tiles: int, bufs: dict, act: int) -> np.ndarray:
    """The int64 parameters of the glu_* kernels: buffer ids, and per member its columns."""
    names = ("gate_host", "up_host", "consts_host", "gate", "up", "y", "consts")
    header = {name: bufs[name] for name in names}
    header.update(rows=plan.rows, act=act)
    records = {}
    for t in range(plan.tiles):
        c0, n = plan.tile_cols(t)
        records[t] = ({"active": 1, "cols": n, "host_off_bytes": plan.rows * c0 * 4}, [])
    return LAYOUT.build(n_tiles, header, records)
