"""The event log: NumPy mirrors of the C structs chipemu_event and chipemu_buffer (csrc/include/chipemu.h).

Every intrinsic appends one record; the engine (timing, energy) reads only this log, the peers
array and the buffer table, plus the device. Field meanings per op are in docs/events.md. The
layouts and codes are declared once in chipemu.emulator.tables (event, ids); the C header is
generated from the same declarations, and tests/test_emulator_events.py checks sizes and offsets.
"""
from dataclasses import dataclass, field

import numpy as np

from chipemu.emulator.tables import event as _event, ids as _ids

__all__ = ["SCHEMA_VERSION", "NO_BUF", "OPS", "OP_NAMES", "VOPS", "VOP_NAMES", "UNITS",
           "BUF_SRAM", "BUF_DRAM", "BUF_HOST", "FLAG_ACCUMULATE", "FLAG_ROW_BROADCAST",
           "FLAG_DOT", "FLAG_ARGMAX", "FLAG_WEIGHTS", "RANGE_DTYPE", "EVENT_DTYPE", "BUFFER_DTYPE",
           "EventLog"]

SCHEMA_VERSION = _ids.VERSIONS["event_schema_version"]
NO_BUF = _event.NO_BUF

OPS = _ids.OPS.mapping()                 # {"dimc_load": 1, ...}
OP_NAMES = {v: k for k, v in OPS.items()}
VOPS = _ids.VOPS.mapping()               # {"copy": 0, ...}
VOP_NAMES = {v: k for k, v in VOPS.items()}
UNITS = _ids.UNITS.mapping()
BUF_SRAM, BUF_DRAM, BUF_HOST = (_ids.BUF_KINDS[k] for k in ("sram", "dram", "host"))
FLAG_ACCUMULATE, FLAG_ROW_BROADCAST, FLAG_DOT, FLAG_ARGMAX, FLAG_WEIGHTS = (
    _ids.FLAGS[k] for k in ("accumulate", "row_broadcast", "dot", "argmax", "weights"))

RANGE_DTYPE = _event.RANGE.dtype()
EVENT_DTYPE = _event.EVENT.dtype()
BUFFER_DTYPE = _event.BUFFER.dtype()


def _empty_events():
    return np.zeros(0, EVENT_DTYPE)


@dataclass
class EventLog:
    """An event log: records, the peers they reference, and the buffer table they name.

    events: EVENT_DTYPE records in issue order (superstep, tile, program order).
    peers: uint32 global tile ids; event i's peers are peers[peer_first : peer_first + peer_count].
    buffers: BUFFER_DTYPE table; a range's `buf` indexes it.
    """

    events: np.ndarray = field(default_factory=_empty_events)
    peers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    buffers: np.ndarray = field(default_factory=lambda: np.zeros(0, BUFFER_DTYPE))

    def __len__(self):
        return len(self.events)

    def op_counts(self) -> dict:
        """Number of events per op name."""
        ops, counts = np.unique(self.events["op"], return_counts=True)
        return {OP_NAMES.get(int(o), f"op{int(o)}"): int(n) for o, n in zip(ops, counts)}

    def equals(self, other: "EventLog") -> bool:
        """Byte-for-byte equality of events, peers and buffers."""
        return (self.events.tobytes() == other.events.tobytes()
                and np.array_equal(self.peers, other.peers)
                and self.buffers.tobytes() == other.buffers.tobytes())
