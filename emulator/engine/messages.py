"""The messages of the engine's errors: a chipemu_engine_error (csrc/engine/) as text naming the
parameter or the event, its op and the problem, with the figures (used by engine.core)."""
from chipemu.emulator.events import NO_BUF, OP_NAMES, OPS, VOP_NAMES
from chipemu.emulator.native import ffi, lib
from chipemu.emulator.tables import event as _event, ids as _ids
from chipemu.emulator.tables.limits import TOO_LARGE

__all__ = ["param_error_text", "log_error_text"]

_FIELDS = dict(ffi.typeof("chipemu_device_params").fields)
_LINK_CFIELDS = dict(ffi.typeof("chipemu_link").fields)


def _field_at(fields, offset):
    best = None
    for name, f in fields.items():
        if f.offset <= offset:
            best = name if best is None or f.offset >= fields[best].offset else best
    return best


def param_error_text(err):
    text = ffi.string(lib.chipemu_engine_error_string(err.code)).decode()
    if err.code == lib.CHIPEMU_EE_LINK:
        return f"links[{err.value}].{_field_at(_LINK_CFIELDS, err.field)}: {text}"
    if err.code == lib.CHIPEMU_EE_NO_ROUTE:
        return (f"links: chiplet {err.value} (of n_chiplets = {err.limit}) is unreachable from "
                "chiplet 0; allowed: links that join every chiplet (as Device requires)")
    return f"{_field_at(_FIELDS, err.field)} = {err.value}: {text} (limit {err.limit})"


_RANGE_NAMES = tuple(f.name for f in _event.EVENT.fields if f.ctype == "chipemu_range")
_KIND_NAMES = tuple(n.upper() for n in _ids.BUF_KINDS.names())


def _buffer_table_text(buffers, f, v, lim):
    """Which of check_buffer_table's rules (csrc/engine/log.c) entry f broke, read from its kind."""
    head = f"buffer table entry {f}"
    kinds = {0: "SRAM", 1: "DRAM", 2: "HOST"}
    try:
        k = int(buffers[f]["kind"])
    except (IndexError, KeyError, TypeError, ValueError):
        k = -1
    if lim == 3 and k not in kinds:
        return f"{head} has kind {v}; allowed: 0..2 (SRAM, DRAM, HOST)"
    if lim == 0:
        return f"{head}: base + size {v} wraps around"
    if kinds.get(k) == "SRAM":
        return f"{head} (SRAM) ends at byte {v}, beyond sram_capacity_bytes = {lim}"
    if kinds.get(k) == "DRAM":
        return f"{head} (DRAM) is on channel {v}; allowed: < {lim} DRAM channels"
    return f"{head} is invalid for this device (value {v}, limit {lim})"


def log_error_text(err, events, peers, buffers):
    """The message of an EngineError: event index, op name and the problem."""
    code, f, v, lim = err.code, err.field, err.value, err.limit
    rng = _RANGE_NAMES[f] if 0 <= f < 3 else "range"
    ev = events[err.event] if 0 <= err.event < len(events) else None
    kind = lambda k: _KIND_NAMES[k] if 0 <= k < len(_KIND_NAMES) else str(k)  # noqa: E731
    problems = {
        lib.CHIPEMU_EE_OP: f"unknown op code {v}; allowed: 1..{lim - 1}",
        lib.CHIPEMU_EE_TILE: f"tile {v} out of range; allowed: < n_tiles = {lim}",
        lib.CHIPEMU_EE_STEP: f"superstep {v} after superstep {lim}; records must be ordered by superstep",
        lib.CHIPEMU_EE_PEERS: f"peers slice ends at {v} (peer_count must be >= 1 and the slice inside "
                              f"the {lim} peers)",
        lib.CHIPEMU_EE_PEER: f"peer #{f} is tile {v}; allowed: < n_tiles = {lim}",
        lib.CHIPEMU_EE_BUFFER: (f"{rng} has no buffer" if v == NO_BUF else
                                f"{rng} buffer {v} not in the buffer table of {lim} entries"),
        lib.CHIPEMU_EE_BUFFER_KIND: f"{rng} buffer has kind {kind(v)}; this op needs {kind(lim)}",
        lib.CHIPEMU_EE_RANGE: f"{rng} ends at byte {v}, beyond its buffer of {lim} bytes",
        lib.CHIPEMU_EE_LENGTH: ("a message of 0 bytes (a = 0); allowed: a >= 1" if f < 0 else
                                f"{rng}.len = {v} but the op moves a = {lim} bytes; they must be equal"),
        lib.CHIPEMU_EE_ENGINE: f"DIMC engine (unit) {v}; allowed: < dimc_engines = {lim}",
        lib.CHIPEMU_EE_SLOT: f"DIMC slot (c) {v}; allowed: < dimc_slots = {lim}",
        lib.CHIPEMU_EE_ROWS: f"DIMC rows end at {v}; allowed: <= dimc_rows = {lim}",
        lib.CHIPEMU_EE_FORMAT: f"{'fmt' if f == 0 else 'fmt2'} = {v}; allowed: a format code 0..{lim - 1}"
                               + ("" if ev is None or ev["op"] != OPS["dimc_mvm"] else " (required by dimc_mvm)"),
        lib.CHIPEMU_EE_VOP: f"vector op kind (c) {v}; allowed: 0..{lim - 1} {tuple(VOP_NAMES.values())}",
        lib.CHIPEMU_EE_BUFFER_TABLE: _buffer_table_text(buffers, f, v, lim),
        lib.CHIPEMU_EE_BARRIER_GROUP: (f"barrier group does not contain the issuing tile {v}" if f < 0 else
                                       f"barrier group not strictly ascending at position {f} ({v} after {lim})"),
        lib.CHIPEMU_EE_BARRIER_MATCH: f"tile {v} of the barrier group has no matching barrier "
                                      f"(the k-th barrier of every member with the same group)",
        lib.CHIPEMU_EE_NO_ROUTE: f"no die-to-die route from chiplet {f} to chiplet {v}",
        lib.CHIPEMU_EE_CYCLE: "never completes: hazards, unit order and barriers form a cycle (e.g. a "
                              "SEND into a buffer its destination reads after a barrier in the same "
                              "superstep)",
        lib.CHIPEMU_EE_TOO_LARGE: _too_large_text(f, v, lim),
    }
    text = problems.get(code, ffi.string(lib.chipemu_engine_error_string(code)).decode())
    if ev is None:
        return f"event log: {text}"
    op = OP_NAMES.get(int(ev["op"]), f"op{int(ev['op'])}")
    return f"event {err.event} ({op}, tile {int(ev['tile'])}, superstep {int(ev['step'])}): {text}"


def _too_large_text(what, v, lim):
    """The figures of a CHIPEMU_EE_TOO_LARGE log error (field: CHIPEMU_TOO_LARGE_*)."""
    name = TOO_LARGE[what] if 0 <= what < len(TOO_LARGE) else "?"
    if name == "energy":
        return (f"energy of at least {v} J; the engine counts at most {lim} J per run (int64 "
                "femtojoules; docs/engine.md): split the run or lower the device's energy figures")
    if name == "cycles":
        return f"time reaches cycle {v}; the engine times at most {lim} cycles (2^62) per run"
    return f"{v} {name}; the engine takes at most {lim} {name} per run"
