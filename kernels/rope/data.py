"""Host-side data of rope: the cos / sin tables, x as the tiles fetch it (tile by tile), the
constant, and the parameter vector (with the positions)."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.rope.params import LAYOUT

__all__ = ["tables", "x_by_tile", "constants", "constant_data", "params"]


def tables(max_positions: int, head_dim: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """float32 cos and sin [max_positions, head_dim / 2] of p * inv_freq[i], inv_freq[i] =
    theta^(-2i / head_dim), computed in float64 and rounded once to float32 (Hugging Face's
    rotate_half convention: element i of a head pairs with element i + head_dim / 2)."""
    half = head_dim // 2
    inv_freq = float(theta) ** (-2.0 * np.arange(half, dtype=np.float64) / head_dim)
    angle = np.arange(max_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)


def x_by_tile(x: np.ndarray, plan) -> np.ndarray:
    """x's columns regrouped tile by tile (each tile's [rows, cols] row-major, in tile order), so
    that one host_read brings a tile its heads (in a program x arrives spread this way)."""
    parts = [x[:, c0:c0 + n].ravel() for c0, n in map(plan.tile_cols, range(plan.tiles))]
    return np.concatenate(parts).astype(np.float32, copy=False)


def constants() -> np.ndarray:
    """float32 [-1]: rotate_half negates the second half (a multiply: no subtract)."""
    return np.array([-1.0], np.float32)


def constant_data(plan, theta: float = 500000.0) -> dict:
    """{SRAM buffer: {member: float32 bytes}} of what rope_load reads besides x: the tables of
    positions 0 .. max_positions - 1 and the -1 on every member (a program writes them once)."""
    cos, sin = tables(plan.max_positions, plan.head_dim, theta)
    members = range(plan.tiles)
    return {"cos": {t: cos.ravel() for t in members}, "sin": {t: sin.ravel() for t in members},
            "consts": {t: constants() for t in members}}


def params(plan, n_tiles: int, bufs: dict, positions) -> np.ndarray:
    """The int64 parameters of the rope_* kernels: buffer ids, and per member its heads with the
    rows' positions as the record tail."""
    names = ("x_host", "cos_host", "sin_host", "consts_host", "x", "y", "cos", "sin", "nsin",
             "tmp", "consts")
    header = {name: bufs[name] for name in names}
    header.update(rows=plan.rows, half=plan.half,
                  table_bytes=plan.max_positions * plan.half * 4)
    pos = [int(v) for v in positions]
    records = {}
    for t in range(plan.tiles):
        c0, n = plan.tile_cols(t)
        records[t] = ({"active": 1, "heads": n // plan.head_dim, "cols": n,
                       "x_host_off_bytes": plan.rows * c0 * 4}, pos)
    return LAYOUT.build(n_tiles, header, records)
