"""NumPy definition of the vector unit's float32 add and mul, elementwise and row-broadcast.

`add(a, b)`, `mul(a, b)`: vec_add / vec_mul; `add_rows(a, b, row_len)`, `mul_rows(a, b, row_len)`:
vec_add_rows / vec_mul_rows, where a holds rows of row_len values and b one value per row. Each
result is one IEEE float32 operation (NumPy never contracts) and a NaN result is stored as the
canonical quiet NaN 0x7FC00000 (docs/intrinsics.md), so results never depend on which NaN the
hardware would propagate. Imports neither Numba nor the native module.
"""
import numpy as np

__all__ = ["QNAN", "canonical", "add", "mul", "add_rows", "mul_rows"]

QNAN = np.uint32(0x7FC00000).view(np.float32)


def canonical(y):
    """y as float32 with every NaN replaced by 0x7FC00000."""
    y = np.asarray(y, np.float32)
    return np.where(np.isnan(y), QNAN, y).astype(np.float32)


def _f32(x):
    return np.ascontiguousarray(x, np.float32).ravel()


def add(a, b):
    with np.errstate(all="ignore"):
        return canonical(_f32(a) + _f32(b))


def mul(a, b):
    with np.errstate(all="ignore"):
        return canonical(_f32(a) * _f32(b))


def _rows(a, b, row_len):
    a, b = _f32(a), _f32(b)
    if row_len < 1 or a.size % row_len or b.size != a.size // row_len:
        raise ValueError(f"{a.size} values in rows of {row_len} need {a.size // max(row_len, 1)} "
                         f"row values; got {b.size}")
    return a.reshape(-1, row_len), b[:, None]


def add_rows(a, b, row_len):
    """dst[r*row_len + i] = a[r*row_len + i] + b[r], flat float32."""
    x, y = _rows(a, b, row_len)
    with np.errstate(all="ignore"):
        return canonical(x + y).ravel()


def mul_rows(a, b, row_len):
    """dst[r*row_len + i] = a[r*row_len + i] * b[r], flat float32."""
    x, y = _rows(a, b, row_len)
    with np.errstate(all="ignore"):
        return canonical(x * y).ravel()
