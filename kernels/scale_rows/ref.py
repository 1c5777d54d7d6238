"""NumPy reference of scale_rows: each element one IEEE float32 multiply, a NaN result stored as
the canonical quiet NaN (the vector unit's rule, emulator/reference/vec.py). The row split over
tiles does not change any value, so the reference needs no plan."""
import numpy as np

from chipemu.emulator.reference.vec import mul_rows

__all__ = ["scale_rows_reference"]


def scale_rows_reference(x, s) -> np.ndarray:
    """float32 [rows, cols]: x[r, :] * s[r]."""
    x = np.asarray(x, np.float32)
    s = np.asarray(s, np.float32).reshape(-1)
    return mul_rows(x.reshape(-1), s, x.shape[1]).reshape(x.shape)
