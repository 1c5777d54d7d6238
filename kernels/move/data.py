"""Build a move superstep: ops per tile -> the parameter vector and the launch's caps."""
from __future__ import annotations

import numpy as np

from chipemu.kernels.move.params import KINDS, LAYOUT, OP_WORDS

__all__ = ["Moves"]


class Moves:
    """The ops of one move superstep, tile by tile, in the order they are added."""

    def __init__(self):
        self.ops: dict[int, list] = {}

    def __bool__(self):
        return bool(self.ops)

    def _add(self, tile, kind, src, soff, dst, doff, count, a=0, b=0, dsts=()):
        self.ops.setdefault(int(tile), []).append(
            [KINDS.index(kind), int(src), int(soff), int(dst), int(doff), int(count), int(a),
             int(b), *[int(d) for d in dsts]])

    def send(self, tile, dsts, src, soff, dst, doff, nbytes):
        """nbytes of SRAM src+soff on `tile` to dst+doff on every tile of dsts."""
        dsts = sorted(int(d) for d in dsts)
        self._add(tile, "send", src, soff, dst, doff, nbytes, len(dsts), 0, dsts)

    def copy(self, tile, src, soff, dst, doff, n):
        """n float32 elements on `tile` from src+soff to dst+doff (the vector unit)."""
        self._add(tile, "copy", src, soff, dst, doff, n)

    def host_read(self, tile, host, hoff, dst, doff, nbytes):
        self._add(tile, "host_read", host, hoff, dst, doff, nbytes)

    def dram_read(self, tile, dram, doff_src, dst, doff, nbytes):
        self._add(tile, "dram_read", dram, doff_src, dst, doff, nbytes)

    def convert(self, tile, src, soff, dst, doff, n, row_len, fmt_code):
        """n float32 elements in rows of row_len quantized to the format's row layout."""
        self._add(tile, "convert", src, soff, dst, doff, n, row_len, fmt_code)

    def tiles(self) -> list:
        return sorted(self.ops)

    def params(self, n_tiles: int) -> np.ndarray:
        records = {t: ({"active": 1, "n_ops": len(ops)}, [w for op in ops for w in op])
                   for t, ops in self.ops.items()}
        return LAYOUT.build(n_tiles, {"op_words": OP_WORDS, "kinds": len(KINDS)}, records)

    def caps(self) -> dict:
        """The launch caps: events, peers and staged bytes of the busiest tile."""
        ev = max(len(ops) for ops in self.ops.values())
        peers = max(sum(op[6] for op in ops if op[0] == 0) for ops in self.ops.values())
        stage = max(sum(op[5] for op in ops if op[0] == 0) for ops in self.ops.values())
        return {"events_per_tile": ev, "peers_per_tile": peers,
                "stage_bytes_per_tile": stage}

    def events(self) -> int:
        return sum(len(ops) for ops in self.ops.values())
