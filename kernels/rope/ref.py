"""NumPy reference of rope, replaying the tile kernel's order of operations (docs/rope.md): for
each row with position p and each head with halves x1, x2, the table rows c = cos[p], s = sin[p]
(kernels/rope/data.py `tables`: float64, rounded once to float32),

    ns = s * -1;   y1 = (x1 * c) + (x2 * ns);   y2 = (x2 * c) + (x1 * s)

each step one IEEE float32 operation, a NaN result stored as the canonical quiet NaN (the vector
unit's rule). The op is independent per head, so the split over tiles does not change the bits
(the reference needs no plan). Imports neither Numba nor the native module.
"""
import numpy as np

from chipemu.emulator.reference.vec import add, mul
from chipemu.kernels.rope.data import tables

__all__ = ["rope_reference", "rope_float64"]


def _heads(x, head_dim):
    x = np.asarray(x, np.float32)
    rows, cols = x.shape
    return x.reshape(rows, cols // head_dim, 2, head_dim // 2)


def rope_reference(x, positions, head_dim: int, theta: float = 500000.0,
                   max_positions: int | None = None) -> np.ndarray:
    """float32 [rows, heads * head_dim]: the device's rotary embedding of x (row r at position
    positions[r]) with the tables of positions 0 .. max_positions - 1 (default: the largest
    position + 1; the tables' rows do not depend on how many there are)."""
    pos = np.asarray(positions, np.int64)
    n = int(pos.max()) + 1 if max_positions is None else max_positions
    cos, sin = tables(n, head_dim, theta)
    xh = _heads(x, head_dim)
    x1, x2 = xh[:, :, 0], xh[:, :, 1]
    shape = x1.shape
    c = np.broadcast_to(cos[pos][:, None, :], shape)
    s = np.broadcast_to(sin[pos][:, None, :], shape)
    ns = mul(s, np.full(shape, -1.0, np.float32))
    y1 = add(mul(x1, c), mul(x2, ns)).reshape(shape)
    y2 = add(mul(x2, c), mul(x1, s)).reshape(shape)
    return np.stack([y1, y2], axis=2).reshape(np.shape(x))


def rope_float64(x, positions, head_dim: int, theta: float = 500000.0) -> np.ndarray:
    """float64 [rows, heads * head_dim]: x * cos + rotate_half(x) * sin with the angles, cos and
    sin in float64 throughout (the accuracy yardstick)."""
    half = head_dim // 2
    inv_freq = float(theta) ** (-2.0 * np.arange(half, dtype=np.float64) / head_dim)
    angle = np.asarray(positions, np.float64)[:, None] * inv_freq[None, :]
    c, s = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    xh = _heads(x, head_dim).astype(np.float64)
    x1, x2 = xh[:, :, 0], xh[:, :, 1]
    return np.stack([x1 * c - x2 * s, x2 * c + x1 * s], axis=2).reshape(np.shape(x))
