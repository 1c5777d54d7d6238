"""The storage formats: one row per format, and the kinds that say how its codes are computed.

Derived from here: `numerics.formats.FORMATS` (FormatSpec adds the properties), the Numba format
table `numerics.codec.TABLE` and its column indices, and in C the CHIPEMU_FMT_* / CHIPEMU_KIND_*
codes, the struct chipemu_format_info (the columns marked `c`) and codec.c's FORMAT_TABLE.
The rules behind the numbers are in docs/formats.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["Kind", "KINDS", "Format", "FORMATS", "COLUMNS", "COLUMN", "DIMC_MIN_ELEM_BITS",
           "cols_eff"]


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str


# kind code = position; CHIPEMU_KIND_<NAME>
KINDS = (
    Kind("fp32", "codes are the float32 bits"),
    Kind("bf16", "IEEE-style bfloat16, round to nearest even"),
    Kind("fp16", "IEEE binary16, round to nearest even"),
    Kind("int_tensor", "int8 codes, one float32 scale per tensor"),
    Kind("block_int", "int elements, shared 8-bit power-of-two scale (MXINT, BFP)"),
    Kind("block_fp", "minifloat elements, shared E8M0 scale (MXFP)"),
)
KIND_FP32, KIND_BF16, KIND_FP16, KIND_INT_TENSOR, KIND_BLOCK_INT, KIND_BLOCK_FP = range(len(KINDS))


def _c(doc=""):
    """A column of the C format table (a member of chipemu_format_info), with its comment."""
    return field(metadata={"c": doc})


@dataclass(frozen=True)
class Format:
    """One storage format. Sizes in bits."""

    name: str
    code: int = _c()
    kind: int = _c()
    elem_bits: int = _c("bits of one element code")
    ebits: int = _c("exponent bits of a minifloat element (0 for ints)")
    mbits: int = _c("mantissa bits; for block ints the fraction bits (elem_bits - 2)")
    bias: int = _c("exponent bias of a minifloat element")
    emax: int = _c("exponent of the element's largest normal (OCP MX emax_elem)")
    max_mag: int = _c("largest magnitude code (saturation value)")
    block_size: int = _c("elements per shared scale (1 when there is none)")
    scale_bits: int = _c("bits of one shared scale (0 when there is none)")
    dimc: bool = False    # the DIMC arrays compute in this format (DESIGN §3)
    source: str = ""      # the specification the rule matches

    def numbers(self) -> tuple:
        """The row of the C / Numba format table (COLUMNS order)."""
        return tuple(getattr(self, c.name) for c in COLUMNS)


COLUMNS = tuple(f for f in fields(Format) if "c" in f.metadata)
COLUMN = {f.name: i for i, f in enumerate(COLUMNS)}      # column index of the Numba TABLE

_OCP = "OCP Microscaling Formats (MX) v1.0"
_DMX = "d-Matrix dmx-compressor BFP[p|8]{64}(SN)"

# name, code, kind, elem_bits, ebits, mbits, bias, emax, max_mag, block_size, scale_bits, dimc, source
FORMATS = (
    Format("fp32", 0, KIND_FP32, 32, 8, 23, 127, 127, 0x7F7FFFFF, 1, 0, False, "IEEE 754 binary32"),
    Format("bf16", 1, KIND_BF16, 16, 8, 7, 127, 127, 0x7F7F, 1, 0, False, "bfloat16, IEEE rounding"),
    Format("fp16", 2, KIND_FP16, 16, 5, 10, 15, 15, 0x7BFF, 1, 0, False, "IEEE 754 binary16"),
    Format("int8", 3, KIND_INT_TENSOR, 8, 0, 0, 0, 0, 127, 1, 0, True, "symmetric per-tensor int8"),
    Format("mxint8", 4, KIND_BLOCK_INT, 8, 0, 6, 0, 0, 127, 32, 8, True, _OCP),
    Format("mxint4", 5, KIND_BLOCK_INT, 4, 0, 2, 0, 0, 7, 32, 8, True, _OCP + " rule at 4 bits"),
    Format("mxfp8_e4m3", 6, KIND_BLOCK_FP, 8, 4, 3, 7, 8, 0x7E, 32, 8, False, _OCP),
    Format("mxfp8_e5m2", 7, KIND_BLOCK_FP, 8, 5, 2, 15, 15, 0x7B, 32, 8, False, _OCP),
    Format("mxfp6_e3m2", 8, KIND_BLOCK_FP, 6, 3, 2, 3, 4, 0x1F, 32, 8, False, _OCP),
    Format("mxfp6_e2m3", 9, KIND_BLOCK_FP, 6, 2, 3, 1, 2, 0x1F, 32, 8, False, _OCP),
    Format("mxfp4_e2m1", 10, KIND_BLOCK_FP, 4, 2, 1, 1, 2, 0x7, 32, 8, False, _OCP),
    Format("bfp16", 11, KIND_BLOCK_INT, 8, 0, 6, 0, 0, 127, 64, 8, True, _DMX),
    Format("bfp12", 12, KIND_BLOCK_INT, 4, 0, 2, 0, 0, 7, 64, 8, True, _DMX),
)
if [f.code for f in FORMATS] != list(range(len(FORMATS))):     # C and Numba index by code
    raise AssertionError("format codes must be 0, 1, 2, ... in table order")

# the narrowest DIMC weight: the DIMC state holds cols * cell_bits / this columns per slot
DIMC_MIN_ELEM_BITS = min(f.elem_bits for f in FORMATS if f.dimc)


def cols_eff(cols: int, cell_bits: int, elem_bits: int) -> int:
    """Weight columns of a DIMC array of `cols` cells of `cell_bits` bits for `elem_bits`-bit
    weights: each cell packs cell_bits / elem_bits of them (the twins: core.cols_eff in Numba,
    chipemu_cols_eff in C)."""
    return cols * cell_bits // elem_bits
