"""The run budget: how large a run chipemu starts before it refuses, so a careless argument
(`rounds=10**8`, `iterations=1e9`) is a CapacityError up front instead of an hour of work or a
machine out of memory.

Kernels estimate a run from its plan (events it will log, bytes it will allocate on the host,
supersteps it will launch: the figure of its wall time, each superstep costing tens of
microseconds at least) and call `check` before any state exists; the Machine re-checks the log
and the supersteps as they grow, as a backstop for estimates that were low. The limits come
from, in order: `set_budget(...)` (or the `budget(...)` context manager), the environment
(CHIPEMU_MAX_EVENTS, CHIPEMU_MAX_HOST_BYTES, CHIPEMU_MAX_SUPERSTEPS), the defaults below. A limit
of 0 means unlimited.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace

from chipemu.emulator.errors import CapacityError, ConfigError

__all__ = ["Budget", "current", "set_budget", "budget", "check", "DEFAULT_MAX_EVENTS",
           "DEFAULT_MAX_HOST_BYTES", "DEFAULT_MAX_SUPERSTEPS"]

# 8192^3 on corsair logs 1.4 M events and model-scale programs tens of millions; 500 M events is
# 34 GB of log (68 B each), far past what a 24 GB machine holds
DEFAULT_MAX_EVENTS = 200_000_000


def _physical_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):    # not POSIX: assume a 16 GB machine
        return 16 << 30


# bytes of host arrays a run may allocate (data, tile state, log): three quarters of the
# machine's memory, so a run the budget passes is one the machine can hold
DEFAULT_MAX_HOST_BYTES = _physical_bytes() * 3 // 4
# 8192^3 on corsair launches ~1,000 supersteps; at 20-100 us each, a million is a minute or more
DEFAULT_MAX_SUPERSTEPS = 1_000_000
_ENV = {"max_events": "CHIPEMU_MAX_EVENTS", "max_host_bytes": "CHIPEMU_MAX_HOST_BYTES",
        "max_supersteps": "CHIPEMU_MAX_SUPERSTEPS"}


@dataclass(frozen=True)
class Budget:
    """max_events: events one run may log; max_host_bytes: host bytes one run may allocate for
    data and tile state; max_supersteps: supersteps one run may launch. 0 = unlimited."""
    max_events: int = DEFAULT_MAX_EVENTS
    max_host_bytes: int = DEFAULT_MAX_HOST_BYTES
    max_supersteps: int = DEFAULT_MAX_SUPERSTEPS


def _check_limit(name, v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ConfigError(f"{name}={v!r} must be an integer >= 0 (0: unlimited)")
    return v


def _from_env() -> Budget:
    fields = {}
    for field, var in _ENV.items():
        s = os.environ.get(var)
        if s is None or s == "":
            continue
        try:
            fields[field] = _check_limit(var, int(s.replace("_", "")))
        except ValueError:
            raise ConfigError(f"environment {var}={s!r} must be an integer >= 0 "
                              f"(0: unlimited)") from None
    return Budget(**fields)


_override: Budget | None = None


def current() -> Budget:
    """The budget in force: set_budget's, else the environment's, else the defaults."""
    return _override if _override is not None else _from_env()


def set_budget(*, max_events: int | None = None, max_host_bytes: int | None = None,
               max_supersteps: int | None = None) -> Budget:
    """Set the budget for this process (None keeps a limit as it is; 0 = unlimited); returns
    the previous one."""
    global _override
    prev = current()
    new = prev
    if max_events is not None:
        new = replace(new, max_events=_check_limit("max_events", max_events))
    if max_host_bytes is not None:
        new = replace(new, max_host_bytes=_check_limit("max_host_bytes", max_host_bytes))
    if max_supersteps is not None:
        new = replace(new, max_supersteps=_check_limit("max_supersteps", max_supersteps))
    _override = new
    return prev


@contextlib.contextmanager
def budget(*, max_events: int | None = None, max_host_bytes: int | None = None,
           max_supersteps: int | None = None):
    """`with budget(max_events=10**9): ...` raises the limits for the block only."""
    global _override
    saved = _override
    set_budget(max_events=max_events, max_host_bytes=max_host_bytes,
               max_supersteps=max_supersteps)
    try:
        yield current()
    finally:
        _override = saved


def _how(field):
    return (f"raise it with chipemu.emulator.set_budget({field}=...), the environment variable "
            f"{_ENV[field]}, or 0 for no limit")


def check(what: str, *, events: int = 0, host_bytes: int = 0, supersteps: int = 0) -> None:
    """CapacityError if a run of `what` estimated at `events` events, `host_bytes` host bytes
    and `supersteps` supersteps exceeds the budget; the message gives the figure, the limit and
    how to raise it."""
    b = current()
    if b.max_events and events > b.max_events:
        raise CapacityError(f"{what} would log about {events:,} events, beyond the budget of "
                            f"{b.max_events:,}; {_how('max_events')}")
    if b.max_supersteps and supersteps > b.max_supersteps:
        raise CapacityError(f"{what} would launch about {supersteps:,} supersteps, beyond the "
                            f"budget of {b.max_supersteps:,}; {_how('max_supersteps')}")
    if b.max_host_bytes and host_bytes > b.max_host_bytes:
        raise CapacityError(f"{what} would allocate about {host_bytes:,} bytes on the host, "
                            f"beyond the budget of {b.max_host_bytes:,}; {_how('max_host_bytes')}")
