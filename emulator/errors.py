"""Exceptions raised by chipemu. Every message names the argument, the value and what is allowed."""

__all__ = ["ChipemuError", "ConfigError", "CapacityError", "ShapeError", "FormatError", "BackendError",
           "NativeError", "EngineError"]


class ChipemuError(Exception):
    """Base class of every error chipemu raises on bad input or a broken hardware rule."""


class ConfigError(ChipemuError, ValueError):
    """A device or site configuration value is invalid."""


class CapacityError(ChipemuError, ValueError):
    """Data does not fit the memory it was placed in."""


class ShapeError(ChipemuError, ValueError):
    """An array has the wrong shape, size, dtype or axis."""


class FormatError(ChipemuError, ValueError):
    """An unknown numeric format, or one not allowed for the operation."""


class BackendError(ChipemuError, ValueError):
    """An unknown backend name (allowed: "c", "numba", and "numpy" where a reference exists)."""


class NativeError(ChipemuError, RuntimeError):
    """The C core returned an error status (a bug in chipemu if reached through the public API)."""


class EngineError(ChipemuError, ValueError):
    """The timing engine rejected an event log; the message names the event index, its op and the problem."""
