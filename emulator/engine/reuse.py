"""Timing reuse: an event log holds no data, so the engine's output is a pure function of what
`simulate` hands to chipemu_engine_run, and a run whose inputs equal an earlier run's takes that
run's output instead of timing the log again (docs/engine.md, "Timing reuse").

The key is the SHA-256 digest of, in order, each part prefixed by its length in bytes:
  * the chipemu_device_params struct's bytes (the network model, multicast, every rate, size and
    energy; its two pointers zeroed) followed by the links array and the dram_channel_tile array
    they point to: every engine parameter, after validation, so equal values give equal keys
    whatever Python types the dict held;
  * the event records' bytes (EVENT_DTYPE, packed: no padding), the peers (uint32) and the
    buffer table (BUFFER_DTYPE, packed);
  * the thread count asked for. Results never depend on it, but a caller that names a count
    (the engine's thread tests) means to run the engine with it, so runs with different counts
    are timed each on their own. The critical path's capacity is the event count and the
    per-event energy is always asked for, so both follow from the parts above.

An entry keeps the engine's raw outputs, read-only (per-op start/end, the resource table with its
busy cycles, energy per chiplet/tile/event, the critical path, the scalar totals); `simulate`
builds a fresh EngineResult from them, with its own arrays, each time. The cache is bounded by
bytes (least recently used entries go first; a run too large for the bound is neither hashed nor
kept), thread-safe, and on by default; failed runs are not kept.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from chipemu.emulator.errors import ConfigError
from chipemu.emulator.native import ffi

__all__ = ["RawTiming", "key", "worth_keeping", "lookup", "store", "clear", "stats", "enabled",
           "set_enabled", "disabled", "limit_bytes", "set_limit_bytes", "DEFAULT_LIMIT_BYTES"]

DEFAULT_LIMIT_BYTES = 256 << 20
_ENTRY_OVERHEAD_BYTES = 1024        # the entry's Python objects and key, counted against the bound
_POINTERS = tuple((f.offset, ffi.sizeof(f.type)) for _, f in ffi.typeof("chipemu_device_params").fields
                  if f.type.kind == "pointer")


@dataclass(frozen=True)
class RawTiming:
    """The engine's outputs for one run, as chipemu_engine_run wrote them (arrays read-only)."""
    start_cycles: np.ndarray
    end_cycles: np.ndarray
    resources: np.ndarray               # RESOURCE_DTYPE, busy cycles and utilization filled
    energy_by_chiplet: np.ndarray
    energy_by_tile: np.ndarray
    critical_path: np.ndarray           # the kept part: min(critical_path_len, n_events) entries
    energy_fj_event: np.ndarray
    makespan_cycles: int
    energy_fj: int
    energy_by_component: tuple
    energy_by_op: tuple
    critical_path_len: int
    critical_cycles: tuple
    critical_class: int

    def arrays(self) -> tuple:
        return (self.start_cycles, self.end_cycles, self.resources, self.energy_by_chiplet,
                self.energy_by_tile, self.critical_path, self.energy_fj_event)

    @property
    def nbytes(self) -> int:
        return _ENTRY_OVERHEAD_BYTES + sum(a.nbytes for a in self.arrays())


def _part(h, data: bytes | memoryview) -> None:
    # the length first, so that no two different sequences of parts hash the same bytes
    h.update(len(data).to_bytes(8, "little"))
    h.update(data)


def key(p, events: np.ndarray, peers: np.ndarray, buffers: np.ndarray, threads: int) -> bytes:
    """The digest of a run's inputs (see the module docstring); `p` the validated params struct,
    the arrays contiguous with the engine's dtypes."""
    # SHA-256 rather than BLAKE2b: the CPU's SHA instructions make it ~2x faster here (0.6 ms per
    # MB of events), and the hash is most of the cost of a reused run
    h = hashlib.sha256()
    raw = bytearray(ffi.buffer(p))      # ffi.new zero-fills, so the padding bytes are 0
    for off, size in _POINTERS:         # addresses differ per call; what they point to is hashed
        raw[off:off + size] = bytes(size)
    _part(h, raw)
    _part(h, ffi.buffer(p.links, p.n_links * ffi.sizeof("chipemu_link")) if p.n_links else b"")
    _part(h, ffi.buffer(p.dram_channel_tile, p.dram_channels * 4) if p.dram_channels else b"")
    for a in (events, peers, buffers):
        _part(h, memoryview(np.ascontiguousarray(a)).cast("B"))
    _part(h, int(threads).to_bytes(8, "little"))
    return h.digest()


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.entries: OrderedDict[bytes, RawTiming] = OrderedDict()
        self.bytes = 0
        self.limit = DEFAULT_LIMIT_BYTES
        self.enabled = True
        self.hits = self.misses = self.evictions = 0

    def evict_to(self, limit):
        while self.entries and self.bytes > limit:
            _, old = self.entries.popitem(last=False)
            self.bytes -= old.nbytes
            self.evictions += 1


_cache = _Cache()


def _after_fork():
    # a lock held by another thread at fork time would stay held forever in the child
    _cache.lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def worth_keeping(most_bytes: int) -> bool:
    """Whether reuse is on and an entry of at most `most_bytes` of arrays could be kept: a run
    too large for the bound skips the hash (~0.6 ms per MB of events) as well as the cache."""
    return _cache.enabled and _ENTRY_OVERHEAD_BYTES + most_bytes <= _cache.limit


def lookup(k: bytes) -> RawTiming | None:
    """The entry for key `k` (now the most recently used), or None."""
    with _cache.lock:
        raw = _cache.entries.get(k)
        if raw is None:
            _cache.misses += 1
            return None
        _cache.entries.move_to_end(k)
        _cache.hits += 1
        return raw


def store(k: bytes, raw: RawTiming) -> bool:
    """Keep `raw` under `k` (its arrays made read-only), evicting the least recently used entries
    to stay within the bound; False when not kept (an entry larger than the whole bound, or `k`
    already there), in which case the caller still owns the arrays."""
    size = raw.nbytes
    with _cache.lock:
        if size > _cache.limit or k in _cache.entries:
            return False
        for a in raw.arrays():
            a.flags.writeable = False
        _cache.entries[k] = raw
        _cache.bytes += size
        _cache.evict_to(_cache.limit)
    return True


def clear() -> None:
    """Drop every entry (the counters stay)."""
    with _cache.lock:
        _cache.entries.clear()
        _cache.bytes = 0


def stats() -> dict:
    """{"enabled", "entries", "bytes", "limit_bytes", "hits", "misses", "evictions"}."""
    with _cache.lock:
        return {"enabled": _cache.enabled, "entries": len(_cache.entries), "bytes": _cache.bytes,
                "limit_bytes": _cache.limit, "hits": _cache.hits, "misses": _cache.misses,
                "evictions": _cache.evictions}


def enabled() -> bool:
    return _cache.enabled


def set_enabled(flag: bool) -> bool:
    """Turn reuse on or off for every `simulate` call in this process; returns the old setting.
    Off, runs neither read nor fill the cache (its entries stay for when it is on again)."""
    if not isinstance(flag, (bool, np.bool_)):
        raise ConfigError(f"reuse enabled = {flag!r}; allowed: True or False")
    with _cache.lock:
        old, _cache.enabled = _cache.enabled, bool(flag)
    return old


@contextmanager
def disabled():
    """`with reuse.disabled():` every run inside times its log afresh."""
    old = set_enabled(False)
    try:
        yield
    finally:
        set_enabled(old)


def limit_bytes() -> int:
    return _cache.limit


def set_limit_bytes(n: int) -> int:
    """Bound the cache to `n` bytes (0 keeps nothing), evicting at once; returns the old bound."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or n < 0:
        raise ConfigError(f"reuse limit_bytes = {n!r}; allowed: an integer >= 0")
    with _cache.lock:
        old, _cache.limit = _cache.limit, int(n)
        _cache.evict_to(_cache.limit)
    return old
