"""NumPy reference of argmax, replaying the plan's order of operations (docs/argmax.md):

    per member t, over its columns c0 .. c0+n-1:
        m_t[r] = max(max(x[r,c0], x[r,c0+1]), ...)              (vec_row_max)
        g_t[r] = ids[first column of row r's maximum]           (vec_col_argmax, row_len 1)
    root:  y[r] = g_k[r] for the first tile k holding the maximum of m_0[r] .. m_T-1[r]
                                                                (vec_col_argmax, [T, rows])

The maximum's rule is vec_col_argmax's (emulator/reference/vec.py `col_argmax`): a NaN ranks
above every number, so a row with a NaN gives its first NaN's id; otherwise the first (smallest)
id holding the maximum, -0 == +0. That is NumPy's argmax rule, so `argmax_exact` (np.argmax of
the row) is the yardstick, and the result does not depend on the split. Imports neither Numba
nor the native module.
"""
import numpy as np

from chipemu.emulator.reference.vec import QNAN, col_argmax

__all__ = ["argmax_reference", "argmax_exact"]


def _vmax(a, b):
    """vec_max: NaN (canonical) if either is NaN, +0 over -0, else the larger."""
    out = np.where(a > b, a, np.where(b > a, b, np.where(np.signbit(a), b, a)))
    return np.where(np.isnan(a) | np.isnan(b), QNAN, out).astype(np.float32)


def _row_max(v):
    """vec_row_max of [rows, n]: each row left to right from its first element."""
    acc = v[:, 0].copy()
    for k in range(1, v.shape[1]):
        acc = _vmax(acc, v[:, k])
    return acc


def argmax_reference(x, plan) -> np.ndarray:
    """int64 [rows]: the device's ids of the maxima of the rows of x under `plan` (an
    ArgmaxPlan)."""
    x = np.asarray(x, np.float32)
    rows = x.shape[0]
    m = np.empty((plan.tiles, rows), np.float32)
    g = np.empty((plan.tiles, rows), np.int32)
    for t in range(plan.tiles):
        c0, n = plan.tile_cols(t)
        xt = x[:, c0:c0 + n]
        ids = np.arange(c0, c0 + n, dtype=np.int32)
        m[t] = _row_max(xt)
        g[t] = [col_argmax(xt[r], ids, 1)[0] for r in range(rows)]
    return col_argmax(m, g, rows).view(np.int32).astype(np.int64)


def argmax_exact(x) -> np.ndarray:
    """int64 [rows]: np.argmax of each row of x (the first maximum, the first NaN if any)."""
    return np.argmax(np.asarray(x, np.float32), axis=1).astype(np.int64)
