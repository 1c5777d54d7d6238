"""NumPy definitions of chipemu's hardware rules. Never imports Numba or the native module."""
