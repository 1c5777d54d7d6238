"""NumPy reference of glu, replaying the tile kernel's order of operations (docs/glu.md):

    SiLU:  t = exp(g * -1);  t = reciprocal(t + 1);  y = (g * t) * up
    GELU:  t = ((g * g) * g) * 0.044715;  t = (t + g) * float32(-2 sqrt(2/pi))
           t = exp(t);  t = reciprocal(t + 1);  y = (g * t) * up

Each step one IEEE float32 operation, a NaN result of add / mul stored as the canonical quiet
NaN (the vector unit's rule); exp and reciprocal are emulator/reference/vecmath.py. The op is
elementwise, so unlike rmsnorm the column split does not change the bits (the reference needs
no plan). Imports neither Numba nor the native module.
"""
import numpy as np

from chipemu.emulator.reference import vecmath
from chipemu.emulator.reference.vec import add, mul

__all__ = ["glu_reference", "glu_float64", "gelu_tanh_float64"]

_ONE, _NEG, _C3, _K = np.array([1.0, -1.0, 0.044715, -2.0 * np.sqrt(2.0 / np.pi)], np.float32)


def _full(c, shape):
    return np.full(shape, c, np.float32)


def glu_reference(gate, up, act: str = "silu") -> np.ndarray:
    """float32 [rows, cols]: the device's act(gate) * up."""
    g = np.ascontiguousarray(gate, np.float32)
    u = np.ascontiguousarray(up, np.float32)
    shape = g.shape
    if act == "silu":
        t = mul(g, _full(_NEG, shape))
    else:
        t = mul(mul(mul(g, g), g), _full(_C3, shape))
        t = mul(add(t, g), _full(_K, shape))
    t = vecmath.exp(t)
    t = vecmath.reciprocal(add(t, _full(_ONE, shape)))
    return mul(mul(g, t), u).reshape(shape)


def glu_float64(gate, up, act: str = "silu") -> np.ndarray:
    """float64 [rows, cols]: SiLU x / (1 + e^-x), or GELU 0.5 x (1 + tanh(z)), z = sqrt(2/pi)
    (x + 0.044715 x^3), written as the identical x / (1 + e^(-2z)), times up (the yardstick; not
    the device's order). The identity, not np.tanh: in float64 too 1 + tanh(z) cancels for
    x < -5 (at x = -6.7 it is ~1e-14 with an absolute error of ~1e-16, a 1 % error)."""
    x = np.asarray(gate, np.float64)
    u = np.asarray(up, np.float64)
    s = x if act == "silu" else 2.0 * np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)
    with np.errstate(over="ignore"):
        return x / (1.0 + np.exp(-s)) * u


def gelu_tanh_float64(x) -> np.ndarray:
    """float64 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) with np.tanh, literally (to test
    the identity glu_float64 uses, where it has no cancellation)."""
    x = np.asarray(x, np.float64)
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))
