"""NumPy reference of layernorm, replaying the plan's order of operations (docs/layernorm.md):

    per member t:  part_t[r] = ((x[r,0] + x[r,1]) + ...) over its columns
    root:  s = part_0;  s = s + part_t for t = 1 .. T-1   (tile order)
           shift = s * float32(-1/hidden)                 (= -mean; no subtract on the device)
    per member t:  d = x + shift[r];  q_t[r] = ((d[r,0]^2 + d[r,1]^2) + ...)
    root:  q = q_0 + q_1 + ... (tile order);  scale = rsqrt(q * float32(1/hidden) + eps)
    every member:  y = (((x + shift[r]) * scale[r]) * gamma) + beta

Each step one IEEE float32 operation, a NaN result of add / mul / row sum stored as the
canonical quiet NaN (the vector unit's rule); rsqrt is emulator/reference/vecmath.py. The column
split fixes where the sums are cut, so the reference takes the plan. Imports neither Numba nor
the native module.
"""
import numpy as np

from chipemu.emulator.reference import vecmath
from chipemu.emulator.reference.vec import add, add_rows, canonical, mul, mul_rows

__all__ = ["layernorm_reference", "layernorm_float64"]


def _row_sums(a):
    """vec_row_sum: each row left to right from its first element, float32."""
    acc = a[:, 0].copy()
    with np.errstate(all="ignore"):
        for k in range(1, a.shape[1]):
            acc = acc + a[:, k]
    return canonical(acc)


def _tile_order_sum(parts):
    s = parts[0]
    for p in parts[1:]:
        s = add(s, p)
    return s


def layernorm_reference(x, gamma, beta, plan, eps: float = 1e-5) -> np.ndarray:
    """float32 [rows, hidden]: the device's layernorm of x under `plan` (a LayerNormPlan)."""
    x = np.asarray(x, np.float32)
    gamma = np.asarray(gamma, np.float32).reshape(-1)
    beta = np.asarray(beta, np.float32).reshape(-1)
    rows, hidden = x.shape
    neg_inv_h, inv_h, eps32 = np.array([-1.0 / hidden, 1.0 / hidden, eps], np.float32)
    spans = [plan.tile_cols(t) for t in range(plan.tiles)]
    shift = mul(_tile_order_sum([_row_sums(x[:, c0:c0 + n]) for c0, n in spans]), neg_inv_h)
    d = [add_rows(x[:, c0:c0 + n], shift, n).reshape(rows, n) for c0, n in spans]
    q = _tile_order_sum([_row_sums(mul(dt, dt).reshape(dt.shape)) for dt in d])
    scale = vecmath.rsqrt(add(mul(q, inv_h), eps32))
    y = np.empty((rows, hidden), np.float32)
    for (c0, n), dt in zip(spans, d):
        z = mul_rows(dt, scale, n).reshape(rows, n)
        z = mul(z, np.broadcast_to(gamma[c0:c0 + n], (rows, n))).reshape(rows, n)
        y[:, c0:c0 + n] = add(z, np.broadcast_to(beta[c0:c0 + n], (rows, n))).reshape(rows, n)
    return y


def layernorm_float64(x, gamma, beta, eps: float = 1e-5) -> np.ndarray:
    """float64 [rows, hidden]: (x - mean) / sqrt(mean((x - mean)^2) + eps) * gamma + beta in
    float64 throughout, eps rounded to float32 as the device's (the accuracy yardstick; not
    the device's order)."""
    x = np.asarray(x, np.float64)
    g = np.asarray(gamma, np.float64).reshape(-1)
    b = np.asarray(beta, np.float64).reshape(-1)
    d = x - x.mean(axis=1, keepdims=True)
    var = np.mean(d * d, axis=1, keepdims=True)
    return d / np.sqrt(var + float(np.float32(eps))) * g + b
