"""NumPy reference of the residual add: y = x + r, one IEEE float32 add per element, a NaN
result stored as the canonical quiet NaN (the vector unit's rule). Elementwise, so the column
split does not change the bits (the reference needs no plan). Imports neither Numba nor the
native module.
"""
import numpy as np

from chipemu.emulator.reference.vec import add

__all__ = ["residual_reference", "residual_float64"]


def residual_reference(x, r) -> np.ndarray:
    """float32 [rows, hidden]: the device's x + r."""
    x = np.ascontiguousarray(x, np.float32)
    return add(x, np.ascontiguousarray(r, np.float32)).reshape(x.shape)


def residual_float64(x, r) -> np.ndarray:
    """float64 [rows, hidden]: x + r in float64 (the yardstick; exact unless the exponents of x
    and r differ by more than 29)."""
    return np.asarray(x, np.float64) + np.asarray(r, np.float64)
