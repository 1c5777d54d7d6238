"""The one Numba decorator factory of chipemu: cached, strict IEEE math, GIL released.

Every compiled function in the project uses `jit` (or `jit(parallel=True)` for outer loops over
independent units), so numerics are configured in one place: no fastmath (it allows FMA
contraction and reassociation, which break bit-exactness), NumPy error model (float division by
zero gives inf/nan as in C, instead of raising).
"""
import numba

__all__ = ["jit"]

_OPTIONS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)


def jit(fn=None, *, parallel=False):
    """Compile `fn` with chipemu's Numba options; use as `@jit` or `@jit(parallel=True)`."""
    def wrap(f):
        return numba.njit(parallel=parallel, **_OPTIONS)(f)
    return wrap(fn) if fn is not None else wrap
