"""The event-log records: chipemu_range, chipemu_event, chipemu_buffer (docs/events.md).

Each struct is declared once, field by field (name, C type, comment). From it follow the NumPy
dtypes (emulator/events.py), the uint32 word, shift and mask of every field that the Numba
intrinsics write (emulator/intrinsics/core.py), and the C struct text in chipemu.h
(csrc/gen_tables.py). C lays the fields out at their natural alignment; the records are declared
without padding, and `dtype()` refuses a declaration that would need any.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Field", "Struct", "Word", "NO_BUF", "RANGE", "EVENT", "BUFFER", "STRUCTS"]

NO_BUF = 0xFFFFFFFF       # CHIPEMU_NO_BUF: chipemu_range.buf of an unused range

# C type -> NumPy type (little-endian, as every supported host)
_SCALARS = {"uint8_t": "u1", "int8_t": "i1", "uint16_t": "<u2", "int16_t": "<i2",
            "uint32_t": "<u4", "int32_t": "<i4", "uint64_t": "<u8", "int64_t": "<i8"}


@dataclass(frozen=True)
class Field:
    name: str
    ctype: str           # a <stdint.h> type or a Struct declared before
    doc: str = ""


@dataclass(frozen=True)
class Word:
    """Where a field lives in the record viewed as uint32 words: w[word] >> shift & mask."""

    word: int
    shift: int
    mask: int


@dataclass(frozen=True)
class Struct:
    name: str
    fields: tuple

    def _type(self, f):
        return _STRUCTS[f.ctype].dtype() if f.ctype in _STRUCTS else np.dtype(_SCALARS[f.ctype])

    def dtype(self) -> np.dtype:
        """The NumPy mirror: same names, offsets and size (no padding by declaration)."""
        dt = np.dtype([(f.name, self._type(f)) for f in self.fields])
        at = 0
        for f in self.fields:
            t = self._type(f)
            align = max(t.fields[n][0].alignment for n in t.names) if t.names else t.itemsize
            if at % align:
                raise ValueError(f"{self.name}.{f.name} at byte {at} needs padding to {align}")
            at += t.itemsize
        if at % max(self._type(f).alignment for f in self.fields):
            raise ValueError(f"{self.name} of {at} bytes needs tail padding")
        return dt

    @property
    def size(self) -> int:
        return self.dtype().itemsize

    def words(self) -> dict:
        """{field name: Word} for every field of at most 4 bytes, nested structs as 'src0.buf';
        a nested struct itself maps to its first word (mask 0)."""
        out = {}
        dt = self.dtype()
        for f in self.fields:
            off = dt.fields[f.name][1]
            if f.ctype in _STRUCTS:
                out[f.name] = Word(off // 4, 0, 0)
                for name, w in _STRUCTS[f.ctype].words().items():
                    out[f"{f.name}.{name}"] = Word(off // 4 + w.word, w.shift, w.mask)
                continue
            size = np.dtype(_SCALARS[f.ctype]).itemsize
            if size <= 4 and off // 4 == (off + size - 1) // 4:
                out[f.name] = Word(off // 4, (off % 4) * 8, (1 << (8 * size)) - 1)
        return out

    def c_text(self) -> str:
        """The C typedef, one member per line with its comment."""
        lines = ["typedef struct {"]
        for f in self.fields:
            member = f"    {f.ctype} {f.name};"
            lines.append(f"{member:<25}/* {f.doc} */" if f.doc else member)
        return "\n".join(lines + [f"}} {self.name};"])


RANGE = Struct("chipemu_range", (
    Field("buf", "uint32_t", "buffer id (index into the buffer table), CHIPEMU_NO_BUF if unused"),
    Field("off", "uint32_t", "bytes from the buffer's start"),
    Field("len", "uint32_t", "bytes"),
))

EVENT = Struct("chipemu_event", (
    Field("op", "uint8_t", "CHIPEMU_OP_*"),
    Field("fmt", "int8_t", "format: DIMC activations, VEC convert target, else -1"),
    Field("fmt2", "int8_t", "second format: DIMC weights, VEC convert source, else -1"),
    Field("unit", "uint8_t", "instance of the op's unit class (DIMC engine index), else 0"),
    Field("tile", "uint32_t", "global tile id issuing the op: chiplet * tiles_per_chiplet + local"),
    Field("step", "uint32_t", "superstep"),
    Field("a", "uint32_t", "size a (op table in docs/events.md)"),
    Field("b", "uint32_t", "size b"),
    Field("peer_first", "uint32_t", "first index of this op's peers in the peers array"),
    Field("peer_count", "uint16_t", "number of peers (SEND destinations, BARRIER group)"),
    Field("c", "uint16_t", "slot (DIMC ops), vector op kind (VEC)"),
    Field("src0", "chipemu_range"),
    Field("src1", "chipemu_range"),
    Field("dst", "chipemu_range"),
    Field("flags", "uint32_t", "CHIPEMU_FLAG_*"),
))

BUFFER = Struct("chipemu_buffer", (
    Field("kind", "uint32_t", "CHIPEMU_BUF_*"),
    Field("where", "uint32_t", "DRAM: global channel id; else 0"),
    Field("base", "uint64_t", "bytes"),
    Field("size", "uint64_t", "bytes"),
))

STRUCTS = (RANGE, EVENT, BUFFER)          # in declaration order (a struct before its users)
_STRUCTS = {s.name: s for s in STRUCTS}
