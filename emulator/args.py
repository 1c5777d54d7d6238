"""Strict checks of public arguments, shared by every public entry (kernels, microbenchmarks,
numerics, the KV cache, the CLI): booleans are not integers, strings are not numbers, and every
refusal is an error of the given ChipemuError class naming the argument, its value and what is
allowed. Each check returns the value normalised (Python int / float / bool / str), so callers
keep only what was checked.
"""
from __future__ import annotations

import functools
import inspect
import math
import numbers

import numpy as np

from chipemu.emulator.errors import ChipemuError, ConfigError

__all__ = ["show", "integer", "real", "boolean", "choice", "no_extra", "strict_keywords"]


def show(value, width: int = 60) -> str:
    """repr(value) cut to `width` characters, for error messages (10**400, a long list)."""
    r = repr(value)
    return r if len(r) <= width else r[:width - 3] + "..."


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _bounds(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"an integer in [{lo}, {hi}]"
    if lo is not None:
        return f"an integer >= {lo}"
    if hi is not None:
        return f"an integer <= {hi}"
    return "an integer"


def integer(name: str, value, lo: int | None = None, hi: int | None = None, *,
            error: type[ChipemuError] = ConfigError, why: str = "") -> int:
    """value as a Python int, or `error` naming `name`, the value and [lo, hi] (either may be
    None). Floats, bools, strings and arrays are refused, even 3.0 or True."""
    if not _is_int(value):
        raise error(f"{name}={show(value)} ({type(value).__name__}) is not {_bounds(lo, hi)}"
                    + (f" ({why})" if why else ""))
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise error(f"{name}={show(v)} is out of range; allowed: {_bounds(lo, hi)}"
                    + (f" ({why})" if why else ""))
    return v


def real(name: str, value, lo: float | None = None, hi: float | None = None, *,
         lo_open: bool = False, error: type[ChipemuError] = ConfigError) -> float:
    """value as a finite Python float (ints accepted, bools and strings refused), within lo..hi
    (lo excluded when lo_open), or `error` naming `name`, the value and the range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(f"{name}={show(value)} ({type(value).__name__}) is not a real number")
    try:
        v = float(value)
    except OverflowError:                       # an int beyond a float (10**400)
        v = math.inf
    lo_ok = lo is None or (v > lo if lo_open else v >= lo)
    if not math.isfinite(v) or not lo_ok or (hi is not None and v > hi):
        rng = (f"{'(' if lo_open else '['}{'-inf' if lo is None else lo}, "
               f"{'inf' if hi is None else hi}]")
        raise error(f"{name}={show(value)} is out of range; allowed: a finite number in {rng}")
    return v


def boolean(name: str, value, *, error: type[ChipemuError] = ConfigError) -> bool:
    """value if it is a bool (Python or NumPy), else `error`: "yes", 1 and None are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{name}={show(value)} ({type(value).__name__}) is not a bool; allowed: True, False")
    return bool(value)


def choice(name: str, value, allowed, *, error: type[ChipemuError] = ConfigError):
    """value if it equals one of `allowed` (compared by type too: True is not 1), else `error`
    listing them."""
    allowed = tuple(allowed)
    for a in allowed:
        if type(value) is type(a) and value == a:
            return value
    raise error(f"{name}={show(value)} is not allowed; allowed: {', '.join(map(repr, allowed))}")


def no_extra(what: str, given: dict, used, *, error: type[ChipemuError] = ConfigError) -> None:
    """Refuse keywords of `given` that are not in `used`, naming them and the valid ones."""
    extra = sorted(set(given) - set(used))
    if extra:
        raise error(f"{what}: unknown argument{'s' if len(extra) > 1 else ''} "
                    f"{', '.join(extra)}; allowed: {', '.join(sorted(used))}")


def strict_keywords(fn):
    """fn with its arguments checked by name before it runs: an unknown keyword, too many
    positional arguments or one given twice is a ConfigError naming them and the valid names
    (no_extra), not Python's bare TypeError. The signature shown by help() and inspect stays
    fn's."""
    params = inspect.signature(fn).parameters.values()
    names = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
             and p.name != "self"]
    positional = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    what = fn.__qualname__.replace(".__init__", "")

    @functools.wraps(fn)
    def call(*pos, **kw):
        if len(pos) > len(positional):
            shown = [n for n in positional if n != "self"]
            raise ConfigError(f"{what}: {len(pos) - (len(positional) - len(shown))} positional "
                              f"arguments; allowed: {', '.join(shown)} by position, the rest "
                              f"by keyword")
        twice = [n for n in positional[:len(pos)] if n in kw]
        if twice:
            raise ConfigError(f"{what}: {', '.join(twice)} given both by position and by "
                              f"keyword; give {'it' if len(twice) == 1 else 'each'} once")
        no_extra(what, kw, names)
        return fn(*pos, **kw)
    return call
