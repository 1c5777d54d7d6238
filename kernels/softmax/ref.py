"""NumPy reference of softmax, replaying the plan's order of operations (docs/softmax.md):

    per member t, over its columns:  part_t[r] = max(max(x[r,0], x[r,1]), ...)   (vec_row_max)
    root:  m = part_0;  m = max(m, part_t) for t = 1 .. T-1   (tile order);  nm = m * -1
    per member:  e = exp(x + nm[r]);  part_t[r] = ((e[r,0] + e[r,1]) + ...)
    root:  s = part_0;  s = s + part_t for t = 1 .. T-1;  inv = reciprocal(s)
    per member:  y = e * inv[r]

Each step one IEEE float32 operation; max is the vector unit's (NaN if either operand is NaN,
+0 over -0); NaN results of add / mul / max / row sums are stored as the canonical quiet NaN;
exp and reciprocal are emulator/reference/vecmath.py. The column split fixes where the sums
are cut, so the reference takes the plan. Imports neither Numba nor the native module.
"""
import numpy as np

from chipemu.emulator.reference import vecmath
from chipemu.emulator.reference.vec import QNAN, add, add_rows, canonical, mul, mul_rows

__all__ = ["softmax_reference", "softmax_float64", "vmax", "row_max", "row_sums"]

_NEG = np.float32(-1.0)


def vmax(a, b) -> np.ndarray:
    """vec_max: NaN (canonical) if either is NaN, +0 over -0, else the larger."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    out = np.where(a > b, a, np.where(b > a, b, np.where(np.signbit(a), b, a)))
    return np.where(np.isnan(a) | np.isnan(b), QNAN, out).astype(np.float32)


def row_max(v) -> np.ndarray:
    """vec_row_max of [rows, n]: each row left to right from its first element."""
    acc = v[:, 0].copy()
    for k in range(1, v.shape[1]):
        acc = vmax(acc, v[:, k])
    return acc


def row_sums(v) -> np.ndarray:
    """vec_row_sum of [rows, n]: each row left to right from its first element, float32."""
    acc = v[:, 0].copy()
    with np.errstate(all="ignore"):
        for k in range(1, v.shape[1]):
            acc = acc + v[:, k]
    return canonical(acc)


def softmax_reference(x, plan) -> np.ndarray:
    """float32 [rows, cols]: the device's softmax of the rows of x under `plan` (a
    SoftmaxPlan)."""
    x = np.asarray(x, np.float32)
    rows = x.shape[0]
    spans = [plan.tile_cols(t) for t in range(plan.tiles)]
    blocks = [x[:, c0:c0 + n] for c0, n in spans]
    parts = [row_max(b) for b in blocks]
    m = parts[0]
    for p in parts[1:]:
        m = vmax(m, p)
    nm = mul(m, np.full(rows, _NEG))
    es = [vecmath.exp(add_rows(b, nm, b.shape[1])).reshape(rows, -1) for b in blocks]
    sums = [row_sums(e) for e in es]
    s = sums[0]
    for p in sums[1:]:
        s = add(s, p)
    inv = vecmath.reciprocal(s)
    y = np.empty(x.shape, np.float32)
    for (c0, n), e in zip(spans, es):
        y[:, c0:c0 + n] = mul_rows(e, inv, n).reshape(rows, n)
    return y


def softmax_float64(x) -> np.ndarray:
    """float64 [rows, cols]: exp(x - max) / sum(exp(x - max)) per row in float64 throughout
    (the accuracy yardstick; not the device's order)."""
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
