"""NumPy reference of rmsnorm, replaying the plan's order of operations (docs/rmsnorm.md):

    per member t, over its columns:  sq = x * x;  part_t[r] = ((sq[r,0] + sq[r,1]) + ...)
    root:  s = part_0;  s = s + part_t for t = 1 .. T-1   (tile order)
           scale = rsqrt(s * float32(1/hidden) + eps)     (the vector unit's rsqrt)
    every member:  y = (x * scale[r]) * gamma

Each step one IEEE float32 operation, a NaN result of add / mul / row sum stored as the
canonical quiet NaN (the vector unit's rule); rsqrt is emulator/reference/vecmath.py. The column
split matters (it fixes where the sums are cut), so the reference takes the plan.
Imports neither Numba nor the native module.
"""
import numpy as np

from chipemu.emulator.reference import vecmath
from chipemu.emulator.reference.vec import add, canonical, mul, mul_rows

__all__ = ["rmsnorm_reference", "rmsnorm_float64"]


def _row_sums(sq):
    """vec_row_sum: each row left to right from its first element, float32."""
    acc = sq[:, 0].copy()
    with np.errstate(all="ignore"):
        for k in range(1, sq.shape[1]):
            acc = acc + sq[:, k]
    return canonical(acc)


def rmsnorm_reference(x, gamma, plan, eps: float = 1e-5) -> np.ndarray:
    """float32 [rows, hidden]: the device's rmsnorm of x under `plan` (a RMSNormPlan)."""
    x = np.asarray(x, np.float32)
    gamma = np.asarray(gamma, np.float32).reshape(-1)
    rows, hidden = x.shape
    inv_h, eps32 = np.array([1.0 / hidden, eps], np.float32)
    spans = [plan.tile_cols(t) for t in range(plan.tiles)]
    parts = []
    for c0, n in spans:
        xt = x[:, c0:c0 + n]
        parts.append(_row_sums(mul(xt, xt).reshape(rows, n)))
    s = parts[0]
    for p in parts[1:]:
        s = add(s, p)
    with np.errstate(all="ignore"):
        m = canonical(canonical(s * inv_h) + eps32)
    scale = vecmath.rsqrt(m)
    y = np.empty((rows, hidden), np.float32)
    for c0, n in spans:
        yt = mul_rows(x[:, c0:c0 + n], scale, n).reshape(rows, n)
        y[:, c0:c0 + n] = mul(yt, np.broadcast_to(gamma[c0:c0 + n], (rows, n))).reshape(rows, n)
    return y


def rmsnorm_float64(x, gamma, eps: float = 1e-5) -> np.ndarray:
    """float64 [rows, hidden]: x * (1 / sqrt(mean(x^2) + eps)) * gamma, in float64 throughout
    (the accuracy yardstick; not the device's order)."""
    x = np.asarray(x, np.float64)
    g = np.asarray(gamma, np.float64).reshape(-1)
    return x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + float(np.float32(eps))) * g
