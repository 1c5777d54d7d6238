"""chipemu.emulator: the emulated chiplet DIMC device, its numeric formats and its C core."""
from chipemu.emulator.errors import (BackendError, CapacityError, ChipemuError, ConfigError,
                                     EngineError, FormatError, NativeError, ShapeError)
from chipemu.emulator.device import Device, Site
from chipemu.emulator.numerics.formats import (DIMC_FORMATS, FORMATS, FormatSpec, QTensor,
                                               dequantize, get_format, quantize)

__all__ = ["ChipemuError", "ConfigError", "CapacityError", "ShapeError", "FormatError",
           "BackendError", "NativeError", "EngineError", "FORMATS", "DIMC_FORMATS", "FormatSpec",
           "QTensor", "get_format", "quantize", "dequantize", "Device", "Site", "Machine",
           "TileKernel", "Result", "simulate", "set_budget", "budget"]

__version__ = "0.1.0"

# the runtime and engine load Numba and the C core: import them on first use, not with the package
_LAZY = {"Machine": ("runtime", "Machine"), "TileKernel": ("runtime", "TileKernel"),
         "Result": ("engine.result", "Result"), "simulate": ("engine", "simulate"),
         "set_budget": ("runtime.budget", "set_budget"), "budget": ("runtime.budget", "budget")}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
