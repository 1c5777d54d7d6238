"""The event log: NumPy mirrors of the C structs chipemu_event and chipemu_buffer (csrc/include/chipemu.h).

Every intrinsic appends one record; the engine (timing, energy) reads only this log, the peers
array and the buffer table, plus the device. Field meanings per op are in docs/events.md.
tests/test_emulator_events.py checks sizes and offsets against the C header.
"""
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SCHEMA_VERSION", "NO_BUF", "OPS", "OP_NAMES", "VOPS", "VOP_NAMES", "UNITS",
           "BUF_SRAM", "BUF_DRAM", "BUF_HOST", "FLAG_ACCUMULATE", "FLAG_ROW_BROADCAST",
           "FLAG_DOT", "RANGE_DTYPE", "EVENT_DTYPE", "BUFFER_DTYPE", "EventLog"]

SCHEMA_VERSION = 1
NO_BUF = 0xFFFFFFFF

OPS = {"dimc_load": 1, "dimc_mvm": 2, "vec": 3, "send": 4, "dram_read": 5, "dram_write": 6,
       "host_read": 7, "barrier": 8}
OP_NAMES = {v: k for k, v in OPS.items()}
VOPS = {"copy": 0, "add": 1, "mul": 2, "max": 3, "exp": 4, "reciprocal": 5, "rsqrt": 6,
        "row_sum": 7, "row_max": 8, "convert": 9}
VOP_NAMES = {v: k for k, v in VOPS.items()}
UNITS = {"dimc": 0, "dimc_write": 1, "vector": 2, "dma": 3, "sync": 4}
BUF_SRAM, BUF_DRAM, BUF_HOST = 0, 1, 2
FLAG_ACCUMULATE = 1
FLAG_ROW_BROADCAST = 2      # VEC add/mul: src1 holds one value per row of b elements
FLAG_DOT = 4                # VEC mul kind: dst = src0 . src1^T over rows of b elements (vec_dot)

RANGE_DTYPE = np.dtype([("buf", "<u4"), ("off", "<u4"), ("len", "<u4")])
EVENT_DTYPE = np.dtype([
    ("op", "u1"), ("fmt", "i1"), ("fmt2", "i1"), ("unit", "u1"),
    ("tile", "<u4"), ("step", "<u4"), ("a", "<u4"), ("b", "<u4"),
    ("peer_first", "<u4"), ("peer_count", "<u2"), ("c", "<u2"),
    ("src0", RANGE_DTYPE), ("src1", RANGE_DTYPE), ("dst", RANGE_DTYPE),
    ("flags", "<u4"),
])
BUFFER_DTYPE = np.dtype([("kind", "<u4"), ("where", "<u4"), ("base", "<u8"), ("size", "<u8")])


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
