"""chipemu.emulator: the emulated chiplet DIMC device, its numeric formats and its C core."""
from .errors import (BackendError, CapacityError, ChipemuError, ConfigError, FormatError,
                     NativeError, ShapeError)
from .device import Device, Site
from .formats import DIMC_FORMATS, FORMATS, FormatSpec, QTensor, dequantize, get_format, quantize

__all__ = ["ChipemuError", "ConfigError", "CapacityError", "ShapeError", "FormatError",
           "BackendError", "NativeError", "FORMATS", "DIMC_FORMATS", "FormatSpec", "QTensor",
           "get_format", "quantize", "dequantize"]
__all__ += ["Device", "Site"]

__version__ = "0.1.0"
