"""NumPy definition of the vector unit's float32 add and mul, elementwise and row-broadcast.

`add(a, b)`, `mul(a, b)`: vec_add / vec_mul; `add_rows(a, b, row_len)`, `mul_rows(a, b, row_len)`:
vec_add_rows / vec_mul_rows, where a holds rows of row_len values and b one value per row. Each
result is one IEEE float32 operation (NumPy never contracts) and a NaN result is stored as the
canonical quiet NaN 0x7FC00000 (docs/intrinsics.md), so results never depend on which NaN the
hardware would propagate. `dot(a, b, rows_a, rows_b, row_len, dst_old=None)`: vec_dot, the
products and sums in the intrinsic's order. `col_argmax(a, b, row_len)`: vec_col_argmax, b's
32-bit words at each column's first maximum of a. Imports neither Numba nor the native module.
"""
import numpy as np

__all__ = ["QNAN", "canonical", "add", "mul", "add_rows", "mul_rows", "dot", "col_argmax"]

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


def dot(a, b, rows_a, rows_b, row_len, dst_old=None):
    """vec_dot: dst[i*rows_b + j] = (dst_old[i*rows_b + j] +) s_ij, flat float32, where
    s_ij = +0, then s_ij = s_ij + a[i, k] * b[j, k] for k = 0 .. row_len-1 in float32.

    Vectorized over (i, j) but looping over k, so every s_ij sees exactly the intrinsic's rounding
    sequence (np.dot / matmul would block and reorder the sums)."""
    a, b = _f32(a), _f32(b)
    if min(rows_a, rows_b, row_len) < 1 or a.size != rows_a * row_len or b.size != rows_b * row_len:
        raise ValueError(f"a [{rows_a}, {row_len}] and b [{rows_b}, {row_len}] need "
                         f"{rows_a * row_len} and {rows_b * row_len} values; "
                         f"got {a.size}, {b.size}")
    x, y = a.reshape(rows_a, row_len), b.reshape(rows_b, row_len)
    s = np.zeros((rows_a, rows_b), np.float32)
    with np.errstate(all="ignore"):
        for k in range(row_len):
            s = s + x[:, k, None] * y[None, :, k]       # float32 product, then float32 sum
        if dst_old is not None:
            old = _f32(dst_old)
            if old.size != rows_a * rows_b:
                raise ValueError(f"dst_old needs {rows_a * rows_b} values; got {old.size}")
            s = old.reshape(rows_a, rows_b) + s
    return canonical(s).ravel()


def col_argmax(a, b, row_len):
    """vec_col_argmax: uint32 [row_len], dst[c] = the 32-bit word b[k, c] of the [n / row_len,
    row_len] matrices a (float32) and b (any 32-bit words), where k is the first row holding
    column c's maximum of a: the first NaN if the column has one (NaN ranks above every number),
    else the first row equal (IEEE ==, so -0 == +0) to the column's maximum."""
    a = _f32(a)
    b = np.ascontiguousarray(b).ravel()
    if b.dtype.itemsize != 4 or row_len < 1 or a.size % row_len or b.size != a.size:
        raise ValueError(f"a ({a.size} values) and b ({b.size} values of {b.dtype}) must be the "
                         f"same number of 32-bit words, a multiple of row_len={row_len}")
    x = a.reshape(-1, row_len)
    words = b.view(np.uint32).reshape(-1, row_len)
    nan = np.isnan(x)
    top = np.where(nan, -np.inf, x).max(axis=0)
    k = np.where(nan.any(axis=0), nan.argmax(axis=0), (x == top).argmax(axis=0))
    return words[k, np.arange(row_len)].copy()
