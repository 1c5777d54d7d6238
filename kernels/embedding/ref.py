"""NumPy reference of embedding: y = table[ids] as float32, bytes copied unchanged (a DRAM read
moves bits: NaN payloads and -0 survive). The column split and the DRAM layout do not change
the result. Imports neither Numba nor the native module.
"""
import numpy as np

__all__ = ["embedding_reference"]


def embedding_reference(ids, table) -> np.ndarray:
    """float32 [rows, hidden]: the rows ids of table."""
    return np.ascontiguousarray(np.asarray(table, np.float32)[np.asarray(ids, np.int64)])
