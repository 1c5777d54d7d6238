"""Host-side data of layernorm: x as the tiles fetch it (tile by tile), the constants, and the
parameter vector."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.layernorm.params import LAYOUT

__all__ = ["x_by_tile", "constants", "constant_data", "params"]


def x_by_tile(x: np.ndarray, plan) -> np.ndarray:
    """x's columns regrouped tile by tile (each tile's [rows, cols] row-major, in tile order), so
    that one host_read brings a tile its columns (in a program x arrives spread this way)."""
    parts = [x[:, c0:c0 + n].ravel() for c0, n in map(plan.tile_cols, range(plan.tiles))]
    return np.concatenate(parts).astype(np.float32, copy=False)


def constants(hidden: int, eps: float) -> np.ndarray:
    """float32 [-1/hidden, 1/hidden, eps], the first two correctly rounded from float64: the
    vector unit has no divide and no subtract, so the negated mean is the sum times
    float32(-1/hidden) (exactly minus the sum times float32(1/hidden): rounding is symmetric)
    and the centring an add."""
    return np.array([-1.0 / hidden, 1.0 / hidden, eps], np.float32)


def constant_data(plan, gamma, beta, eps: float = 1e-5) -> dict:
    """{SRAM buffer: {member: float32 bytes}} of what ln_load reads besides x: each member's
    columns of gamma and beta, the root's three constants (a program writes them once)."""
    g = np.asarray(gamma, np.float32).reshape(-1)
    b = np.asarray(beta, np.float32).reshape(-1)
    cols = {t: plan.tile_cols(t) for t in range(plan.tiles)}
    return {"gamma": {t: g[c0:c0 + n].copy() for t, (c0, n) in cols.items()},
            "beta": {t: b[c0:c0 + n].copy() for t, (c0, n) in cols.items()},
            "consts": {plan.root: constants(plan.hidden, eps)}}


def params(plan, n_tiles: int, bufs: dict) -> np.ndarray:
    """The int64 parameters of the ln_* kernels: buffer ids, and per member its columns."""
    names = ("x_host", "gamma_host", "beta_host", "consts_host", "x", "gamma", "beta", "y",
             "parts", "acc", "shift", "scale", "consts")
    header = {name: bufs[name] for name in names}
    header.update(rows=plan.rows, tiles=plan.tiles, root=plan.root)
    records = {}
    for t in range(plan.tiles):
        c0, n = plan.tile_cols(t)
        root = t == plan.root
        tail = [m for m in range(plan.tiles) if m != plan.root] if root else []
        records[t] = ({"active": 1, "cols": n, "x_host_off_bytes": plan.rows * c0 * 4,
                       "gamma_host_off_bytes": c0 * 4, "part_off_bytes": t * plan.rows * 4,
                       "is_root": int(root)}, tail)
    return LAYOUT.build(n_tiles, header, records)
