"""Numeric formats of chipemu: the registry, quantized tensors, quantize and dequantize.

The rules are in docs/formats.md; `chipemu.emulator.reference.formats` is their NumPy definition,
and the Numba (`chipemu.emulator.numerics.codec`) and C (`csrc/numerics/codec.c`) twins are bit-identical to
it. Kernels receive a format as its integer `code`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import BackendError, FormatError, ShapeError
from chipemu.emulator.tables import formats as _tables

__all__ = ["FormatSpec", "FORMATS", "DIMC_FORMATS", "BACKENDS", "QTensor", "get_format",
           "quantize", "dequantize", "unpack_codes"]

BACKENDS = ("c", "numba", "numpy")

# kinds: the CHIPEMU_KIND_* codes (chipemu.emulator.tables.formats declares them)
KIND_FP32, KIND_BF16, KIND_FP16, KIND_INT_TENSOR, KIND_BLOCK_INT, KIND_BLOCK_FP = (
    _tables.KIND_FP32, _tables.KIND_BF16, _tables.KIND_FP16, _tables.KIND_INT_TENSOR,
    _tables.KIND_BLOCK_INT, _tables.KIND_BLOCK_FP)


@dataclass(frozen=True)
class FormatSpec(_tables.Format):
    """One storage format: a row of chipemu.emulator.tables.formats.FORMATS (fields: name, code,
    kind, elem_bits, ebits, mbits, bias, emax, max_mag, block_size, scale_bits, dimc, source; sizes
    in bits) with the figures derived from it. `max_value` is the largest finite element value at
    scale 1."""

    @property
    def storage_bits(self) -> float:
        """Bits per element including the shared scale (mxint8: 8.25, bfp16: 8.125)."""
        return self.elem_bits + self.scale_bits / self.block_size

    @property
    def container(self) -> np.dtype:
        """NumPy dtype holding one element code in memory (one code per container)."""
        if self.kind == KIND_FP32:
            return np.dtype(np.uint32)
        if self.kind in (KIND_BF16, KIND_FP16):
            return np.dtype(np.uint16)
        if self.kind in (KIND_INT_TENSOR, KIND_BLOCK_INT):
            return np.dtype(np.int8)
        return np.dtype(np.uint8)

    @property
    def max_value(self) -> float:
        """Largest finite element value with a unit scale (e4m3: 448, mxint8: 127/64)."""
        if self.kind in (KIND_INT_TENSOR,):
            return float(self.max_mag)
        if self.kind == KIND_BLOCK_INT:
            return self.max_mag / 2.0 ** self.mbits
        e = (self.max_mag >> self.mbits) - self.bias
        return (1 + (self.max_mag & ((1 << self.mbits) - 1)) / 2.0 ** self.mbits) * 2.0 ** e

    def table_row(self) -> tuple[int, ...]:
        """The row of the C/Numba format table (chipemu_format_info field order)."""
        return self.numbers()


FORMATS: dict[str, FormatSpec] = {f.name: FormatSpec(**asdict(f)) for f in _tables.FORMATS}
DIMC_FORMATS = tuple(name for name, s in FORMATS.items() if s.dimc)
_BY_CODE = {s.code: s for s in FORMATS.values()}


def get_format(fmt) -> FormatSpec:
    """Look up a format by name, code or spec; raise FormatError listing the valid names."""
    if isinstance(fmt, FormatSpec):
        return fmt
    if isinstance(fmt, str) and fmt.lower() in FORMATS:
        return FORMATS[fmt.lower()]
    if isinstance(fmt, (int, np.integer)) and not isinstance(fmt, bool) and int(fmt) in _BY_CODE:
        return _BY_CODE[int(fmt)]
    raise FormatError(f"fmt={fmt!r} is not a known format; valid names: {', '.join(FORMATS)}")


@dataclass(frozen=True, eq=False)
class QTensor:
    """A quantized tensor: one element code per container plus the shared scales.

    codes: the element codes, shaped like the original tensor with `axis` moved last (blocks run
        along that last axis; a last block shorter than `block_size` holds the remainder).
    scales: uint8 shared-scale codes shaped `codes.shape[:-1] + (n_blocks,)` for block formats;
        a 0-d float32 for int8; an empty uint8 array for fp32/bf16/fp16.
    """

    fmt: str
    shape: tuple
    axis: int
    codes: np.ndarray
    scales: np.ndarray

    def __post_init__(self):
        spec = get_format(self.fmt)
        object.__setattr__(self, "fmt", spec.name)
        if not isinstance(self.shape, (tuple, list)) or not self.shape:
            raise ShapeError(f"shape={self.shape!r}; allowed: a non-empty tuple of integers >= 1")
        shape = tuple(args.integer("shape", n, 1, error=ShapeError) for n in self.shape)
        object.__setattr__(self, "shape", shape)
        axis = args.integer("axis", self.axis, -len(shape), len(shape) - 1, error=ShapeError,
                            why=f"an axis of shape {shape}")
        object.__setattr__(self, "axis", axis % len(shape))
        moved = _moved_shape(shape, self.axis)
        if isinstance(self.codes, np.ma.MaskedArray) or isinstance(self.scales, np.ma.MaskedArray):
            raise ShapeError("codes and scales must be plain arrays, not NumPy masked arrays")
        codes = np.ascontiguousarray(self.codes)
        if codes.dtype != spec.container or codes.shape != moved:
            raise ShapeError(f"codes must be {spec.container} of shape {moved} for {spec.name}, "
                             f"got {codes.dtype} of shape {codes.shape}")
        _check_codes(spec, codes)
        scales = np.asarray(self.scales)
        scales = scales if scales.flags.c_contiguous else scales.copy()
        want_dtype, want_shape = _scale_layout(spec, moved)
        if scales.dtype != want_dtype or scales.shape != want_shape:
            raise ShapeError(f"scales must be {want_dtype} of shape {want_shape} for {spec.name}, "
                             f"got {scales.dtype} of shape {scales.shape}")
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "scales", scales)

    @property
    def spec(self) -> FormatSpec:
        return FORMATS[self.fmt]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        """Bytes on the device: packed element codes plus scales (int8: plus its 4-byte scale)."""
        spec = self.spec
        code_bytes = (self.size * spec.elem_bits + 7) // 8
        if spec.kind == KIND_INT_TENSOR:
            return code_bytes + 4
        return code_bytes + self.scales.size * spec.scale_bits // 8

    def packed_codes(self) -> np.ndarray:
        """The element codes bit-packed, little-endian within bytes, in `codes` order (uint8)."""
        bits = self.spec.elem_bits
        raw = self.codes.reshape(-1).view(np.dtype(f"u{self.codes.itemsize}"))
        if bits % 8 == 0:
            return raw.astype(f"<u{bits // 8}").view(np.uint8).copy()
        planes = (raw[:, None] >> np.arange(bits, dtype=raw.dtype)) & 1
        return np.packbits(planes.astype(np.uint8).reshape(-1), bitorder="little")

    def dequantize(self, *, backend: str = "c") -> np.ndarray:
        """float32 values in the original shape."""
        return dequantize(self, backend=backend)

    def __repr__(self):
        return (f"QTensor(fmt={self.fmt!r}, shape={self.shape}, axis={self.axis}, "
                f"nbytes={self.nbytes})")


def _code_range(spec: FormatSpec):
    """(lo, hi) of the element codes of `spec` held in its container: `elem_bits` bits, two's
    complement for the integer kinds; None when the codes fill the container."""
    bits = spec.elem_bits
    if bits >= 8 * spec.container.itemsize:
        return None
    if spec.container == np.int8:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def _check_codes(spec: FormatSpec, codes: np.ndarray) -> None:
    """FormatError naming the first code that does not fit the format's element bits (it would
    otherwise be cut to its low bits without a word)."""
    rng = _code_range(spec)
    if rng is None or codes.size == 0:
        return
    lo, hi = rng
    bad = np.flatnonzero((codes < lo) | (codes > hi))
    if bad.size:
        i = np.unravel_index(bad[0], codes.shape)
        raise FormatError(f"codes{list(map(int, i))}={int(codes[i])} is not a {spec.name} code; "
                          f"allowed: {lo}..{hi} ({spec.elem_bits} bits)")


def _packed_bytes(packed) -> np.ndarray:
    """packed as 1-D uint8: bytes, bytearray, or a 1-D integer array (or list) of values in
    0..255; anything else (floats, bools, masked arrays, other shapes) is a ShapeError."""
    if isinstance(packed, (bytes, bytearray, memoryview)):
        return np.frombuffer(bytes(packed), np.uint8)
    arr = None
    if not isinstance(packed, np.ma.MaskedArray):
        try:
            arr = np.asarray(packed)
        except Exception:
            pass
    if arr is None or arr.dtype.kind not in "iu" or arr.ndim != 1 or (
            arr.size and (arr.min() < 0 or arr.max() > 255)):
        raise ShapeError(f"packed must be 1-D bytes (uint8, or integers in 0..255) as "
                         f"QTensor.packed_codes gives, got {type(packed).__name__}"
                         + (f" {arr.dtype} {arr.shape}" if arr is not None else ""))
    return arr.astype(np.uint8)


@args.strict_keywords
def unpack_codes(packed, fmt, count: int) -> np.ndarray:
    """Inverse of `QTensor.packed_codes`: `count` codes in the format's container dtype.
    packed: uint8 bytes (an array, bytes or bytearray) of exactly the ceil(count * elem_bits /
    8) bytes that packed_codes gives for `count` codes; anything else is a ShapeError."""
    spec = get_format(fmt)
    bits = spec.elem_bits
    count = args.integer("count", count, 0, error=ShapeError)
    packed = _packed_bytes(packed)
    need = (count * bits + 7) // 8
    if packed.size != need:
        raise ShapeError(f"packed has {packed.size} bytes but count={count} {spec.name} codes of "
                         f"{bits} bits take {need}; allowed: count matching the bytes")
    if bits % 8 == 0:
        out = packed.view(f"<u{bits // 8}")
    else:
        planes = np.unpackbits(packed, bitorder="little")[: count * bits].reshape(count, bits)
        out = (planes.astype(np.uint32) << np.arange(bits, dtype=np.uint32)).sum(axis=1)
        if spec.container == np.int8:      # sign-extend two's complement
            out = np.where(out >= 1 << (bits - 1), out.astype(np.int64) - (1 << bits), out)
    return np.asarray(out).astype(spec.container)


def _moved_shape(shape, axis):
    return shape[:axis] + shape[axis + 1:] + (shape[axis],)


def _scale_layout(spec: FormatSpec, moved_shape):
    if spec.kind == KIND_INT_TENSOR:
        return np.dtype(np.float32), ()
    if spec.scale_bits == 0:
        return np.dtype(np.uint8), (0,)
    nblocks = -(-moved_shape[-1] // spec.block_size)
    return np.dtype(np.uint8), moved_shape[:-1] + (nblocks,)


def _as_float32(x, name="x") -> np.ndarray:
    if isinstance(x, np.ma.MaskedArray):
        raise ShapeError(f"{name} is a NumPy masked array; quantize would drop its mask: pass a "
                         f"plain array (e.g. {name}.filled(0))")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ShapeError(f"{name} cannot be read as an array: {exc}") from None
    kind = arr.dtype.kind
    ok = kind in "fiu" or (kind == "V" and arr.dtype.names is None and arr.dtype.itemsize <= 2)
    if not ok:
        raise ShapeError(f"{name} has dtype {arr.dtype}; a real numeric array is needed "
                         "(float, int or an ml_dtypes float type)")
    if arr.ndim == 0:
        raise ShapeError(f"{name} is a scalar; quantize needs at least one dimension")
    if arr.size == 0:
        raise ShapeError(f"{name} is empty (shape {arr.shape}); quantize needs at least one element")
    try:
        return np.ascontiguousarray(arr, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{name} with dtype {arr.dtype} cannot be converted to float32: {exc}") from None


def _check_backend(backend):
    args.choice("backend", backend, BACKENDS, error=BackendError)


@args.strict_keywords
def quantize(x, fmt, axis: int = -1, *, backend: str = "c") -> QTensor:
    """Quantize `x` (converted to float32 first) to `fmt`, blocks running along `axis`.

    backend: "c" (default), "numba" or "numpy" (the reference); all three give identical codes.
    """
    spec = get_format(fmt)
    _check_backend(backend)
    x = _as_float32(x)
    axis = args.integer("axis", axis, -x.ndim, x.ndim - 1, error=ShapeError,
                        why=f"an axis of an array of {x.ndim} dimension(s)") % x.ndim
    x2 = np.ascontiguousarray(np.moveaxis(x, axis, -1))
    moved = x2.shape
    x2 = x2.reshape(-1, moved[-1])
    codes, scales = _impl(backend).quantize_2d(spec, x2)
    _, scale_shape = _scale_layout(spec, moved)
    return QTensor(spec.name, x.shape, axis, codes.reshape(moved), scales.reshape(scale_shape))


@args.strict_keywords
def dequantize(q: QTensor, *, backend: str = "c") -> np.ndarray:
    """float32 values of `q` in its original shape."""
    if not isinstance(q, QTensor):
        raise ShapeError(f"q must be a QTensor, got {type(q).__name__}")
    _check_backend(backend)
    moved = q.codes.shape
    codes = q.codes.reshape(-1, moved[-1])
    scales = q.scales if q.scales.ndim == 0 or q.scales.size == 0 else q.scales.reshape(codes.shape[0], -1)
    out = _impl(backend).dequantize_2d(q.spec, codes, scales)
    return np.moveaxis(out.reshape(moved), -1, q.axis)


def _impl(backend):
    if backend == "numpy":
        from chipemu.emulator.reference import formats as impl
    elif backend == "numba":
        from chipemu.emulator.numerics import codec as impl
    else:
        from chipemu.emulator import native as impl
    return impl
