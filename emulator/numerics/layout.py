"""Device byte layouts of quantized data (docs/intrinsics.md), on the host side, in NumPy.

Two layouts, written by vec_convert / read by dimc_mvm and read by dimc_load:

- **rows** (activations, vec_convert): a matrix of `rows` x `n` elements is its rows one after
  another; a row is its element codes packed little-endian by element bits (element i at bits
  [i*b, i*b+b) of the row's code bytes, the last byte zero-padded), then its block scales (one
  byte per block of the row; the last block may be partial), or for int8 one little-endian float32
  scale (the per-tensor rule applied to the row). fp32/bf16/fp16 rows are their codes.
- **weights** (dimc_load): rows of the DIMC array (K) in groups of one block (B rows; int8: all
  rows); a group is B rows of `ncols` codes packed as above, then `ncols` scale bytes (the block
  scale of each column over those B rows). int8: all rows' codes, then one float32 scale.

Imports neither Numba nor the native module, so the NumPy reference can use it.
"""
import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.emulator.tables import formats as _formats
from chipemu.emulator.numerics.formats import (KIND_BLOCK_FP, KIND_BLOCK_INT, KIND_INT_TENSOR, get_format, quantize)

__all__ = ["row_bytes", "weight_bytes", "cols_eff", "pack_codes", "unpack_codes", "quantize_rows",
           "pack_rows", "unpack_rows", "encode_rows", "decode_rows", "quantize_weights",
           "pack_weights", "unpack_weights", "encode_weights", "lines_matrix", "scale_values"]


def row_bytes(fmt, n: int) -> int:
    """Bytes of one row of n elements in the rows layout."""
    s, n = get_format(fmt), _count("n", n)
    if s.kind == KIND_INT_TENSOR:
        return n + 4
    if s.scale_bits:
        return (n * s.elem_bits + 7) // 8 + -(-n // s.block_size)
    return n * s.elem_bits // 8


def weight_bytes(fmt, nrows: int, ncols: int) -> int:
    """Bytes of nrows weight rows of ncols columns in the weights layout."""
    s, nrows, ncols = get_format(fmt), _count("nrows", nrows), _count("ncols", ncols)
    if s.kind == KIND_INT_TENSOR:
        return nrows * ncols + 4
    return nrows * ncols * s.elem_bits // 8 + nrows // s.block_size * ncols


def cols_eff(dimc_cols: int, cell_bits: int, fmt) -> int:
    """Weight columns of a DIMC array in `fmt`: cell_bits / elem_bits weights per cell."""
    return _formats.cols_eff(dimc_cols, cell_bits, get_format(fmt).elem_bits)


def pack_codes(codes, bits: int) -> np.ndarray:
    """Codes (any integer dtype; two's complement kept) packed little-endian by `bits`."""
    u = np.asarray(codes).reshape(-1).astype(np.int64) & ((1 << bits) - 1)
    if bits % 8 == 0:
        return u.astype(f"<u{bits // 8}").view(np.uint8).copy()
    planes = ((u[:, None] >> np.arange(bits)) & 1).astype(np.uint8)
    return np.packbits(planes.reshape(-1), bitorder="little")


def _count(name, v):
    return args.integer(name, v, 0, error=ShapeError)


def _bytes(buf, name="buf") -> np.ndarray:
    """buf as 1-D uint8 (bytes, bytearray or a uint8 array), or ShapeError: other dtypes would
    be converted value by value, not read as bytes."""
    if isinstance(buf, (bytes, bytearray, memoryview)):
        return np.frombuffer(bytes(buf), np.uint8)
    if not isinstance(buf, np.ndarray) or isinstance(buf, np.ma.MaskedArray) \
            or buf.dtype != np.uint8:
        raise ShapeError(f"{name} must be uint8 bytes (bytes or a uint8 array), got "
                         f"{type(buf).__name__} {getattr(buf, 'dtype', '')}".rstrip())
    return buf.reshape(-1)


def unpack_codes(buf, n: int, bits: int, signed: bool) -> np.ndarray:
    """n codes of `bits` bits from exactly ceil(n * bits / 8) packed bytes, as int64
    (sign-extended when signed)."""
    buf = _bytes(buf)
    n = _count("n", n)
    bits = args.integer("bits", bits, 1, 32, error=ShapeError)
    if buf.size != (n * bits + 7) // 8:
        raise ShapeError(f"buf has {buf.size} bytes but n={n} codes of {bits} bits take "
                         f"{(n * bits + 7) // 8}")
    if bits % 8 == 0:
        u = buf[: n * bits // 8].view(f"<u{bits // 8}").astype(np.int64)
    else:
        planes = np.unpackbits(buf, bitorder="little")[: n * bits].reshape(n, bits)
        u = (planes.astype(np.int64) << np.arange(bits)).sum(axis=1)
    if signed:
        u = np.where(u >= 1 << (bits - 1), u - (1 << bits), u)
    return u


def _signed(spec):
    return spec.kind in (KIND_INT_TENSOR, KIND_BLOCK_INT)


def quantize_rows(x, fmt, *, backend: str = "c"):
    """(codes [rows, n] in the container dtype, scales) of float32 x[rows, n] by the device rule:
    blocks along each row; int8 with one scale per row (float32 [rows]); block scales uint8
    [rows, n_blocks]; no scales (empty) for fp32/bf16/fp16."""
    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise ShapeError(f"x must be 2-D (rows, n), got shape {x.shape}")
    s = get_format(fmt)
    if s.kind == KIND_INT_TENSOR:
        qs = [quantize(row, s, backend=backend) for row in x]
        return (np.stack([q.codes for q in qs]) if qs else np.zeros(x.shape, np.int8),
                np.array([q.scales for q in qs], np.float32))
    q = quantize(x, s, backend=backend)
    return q.codes, q.scales


def pack_rows(codes, scales, fmt) -> np.ndarray:
    """Rows layout bytes of codes [rows, n] with their scales (as quantize_rows returns)."""
    s = get_format(fmt)
    codes = np.asarray(codes)
    parts = []
    for r in range(codes.shape[0]):
        parts.append(pack_codes(codes[r], s.elem_bits))
        if s.kind == KIND_INT_TENSOR:
            parts.append(np.asarray(scales[r], "<f4").reshape(1).view(np.uint8))
        elif s.scale_bits:
            parts.append(np.asarray(scales[r], np.uint8).reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


def unpack_rows(buf, fmt, rows: int, n: int):
    """Inverse of pack_rows: (codes [rows, n] in the container dtype, scales)."""
    s = get_format(fmt)
    buf, rows, n = _bytes(buf), _count("rows", rows), _count("n", n)
    rb, cb = row_bytes(s, n), (n * s.elem_bits + 7) // 8
    if buf.size < rows * rb:
        raise ShapeError(f"{buf.size} bytes hold fewer than {rows} rows of {rb} bytes")
    codes = np.empty((rows, n), s.container)
    nb = -(-n // s.block_size)
    scales = (np.empty(rows, np.float32) if s.kind == KIND_INT_TENSOR
              else np.empty((rows, nb), np.uint8) if s.scale_bits else np.zeros(0, np.uint8))
    for r in range(rows):
        row = buf[r * rb:(r + 1) * rb]
        c = unpack_codes(row[:cb], n, s.elem_bits, _signed(s))
        codes[r] = c.astype(np.int64).astype(s.container) if _signed(s) else c.astype(s.container)
        if s.kind == KIND_INT_TENSOR:
            scales[r] = row[cb:cb + 4].view("<f4")[0]
        elif s.scale_bits:
            scales[r] = row[cb:cb + nb]
    return codes, scales


def encode_rows(x, fmt, *, backend: str = "c") -> np.ndarray:
    """Rows layout bytes of float32 x[rows, n] (what vec_convert writes)."""
    return pack_rows(*quantize_rows(x, fmt, backend=backend), fmt)


def decode_rows(buf, fmt, rows: int, n: int, *, backend: str = "c") -> np.ndarray:
    """float32 [rows, n] of rows layout bytes (what vec_convert to fp32 writes)."""
    from chipemu.emulator.numerics.formats import QTensor, dequantize
    s = get_format(fmt)
    codes, scales = unpack_rows(buf, s, rows, n)
    out = np.empty((rows, n), np.float32)
    for r in range(rows):
        sc = (np.float32(scales[r]) if s.kind == KIND_INT_TENSOR
              else scales[r] if s.scale_bits else np.zeros(0, np.uint8))
        out[r] = dequantize(QTensor(s.name, (n,), 0, codes[r], np.asarray(sc)), backend=backend)
    return out


def quantize_weights(w, fmt, *, backend: str = "c"):
    """(codes [k, ncols], scales) of float32 weights w[k, ncols] with blocks along K per column:
    block scales uint8 [k / B, ncols]; int8: one float32 scale for the whole matrix."""
    w = np.asarray(w, np.float32)
    if w.ndim != 2:
        raise ShapeError(f"w must be 2-D (k, ncols), got shape {w.shape}")
    s = get_format(fmt)
    if s.kind not in (KIND_INT_TENSOR, KIND_BLOCK_INT):
        raise ShapeError(f"fmt={s.name!r} is not a DIMC format")
    if s.kind == KIND_INT_TENSOR:
        q = quantize(w, s, backend=backend)
        return q.codes, np.float32(q.scales)
    if w.shape[0] % s.block_size:
        raise ShapeError(f"k={w.shape[0]} rows is not a multiple of the {s.name} block "
                         f"({s.block_size})")
    q = quantize(w, s, axis=0, backend=backend)           # codes [ncols, k], scales [ncols, k/B]
    return np.ascontiguousarray(q.codes.T), np.ascontiguousarray(q.scales.T)


def pack_weights(codes, scales, fmt) -> np.ndarray:
    """Weights layout bytes of codes [nrows, ncols] and scales (as quantize_weights returns)."""
    s = get_format(fmt)
    codes = np.asarray(codes)
    if s.kind == KIND_INT_TENSOR:
        return np.concatenate([codes.astype(np.int8).reshape(-1).view(np.uint8),
                               np.asarray(scales, "<f4").reshape(1).view(np.uint8)])
    bs = s.block_size
    parts = []
    for g in range(codes.shape[0] // bs):
        parts.append(pack_codes(codes[g * bs:(g + 1) * bs], s.elem_bits))
        parts.append(np.asarray(scales[g], np.uint8).reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


def unpack_weights(buf, fmt, nrows: int, ncols: int):
    """Inverse of pack_weights: (codes int8 [nrows, ncols], scales)."""
    s = get_format(fmt)
    buf, nrows, ncols = _bytes(buf), _count("nrows", nrows), _count("ncols", ncols)
    if buf.size < weight_bytes(s, nrows, ncols):
        raise ShapeError(f"{buf.size} bytes hold fewer than {nrows} x {ncols} {s.name} weights "
                         f"({weight_bytes(s, nrows, ncols)} bytes)")
    if s.kind == KIND_INT_TENSOR:
        codes = buf[:nrows * ncols].view(np.int8).reshape(nrows, ncols).copy()
        return codes, buf[nrows * ncols:nrows * ncols + 4].view("<f4")[0]
    bs, rb = s.block_size, ncols * s.elem_bits // 8
    codes = np.empty((nrows, ncols), np.int8)
    scales = np.empty((nrows // bs, ncols), np.uint8)
    for g in range(nrows // bs):
        at = g * (bs * rb + ncols)
        codes[g * bs:(g + 1) * bs] = unpack_codes(buf[at:at + bs * rb], bs * ncols, s.elem_bits,
                                                  True).reshape(bs, ncols)
        scales[g] = buf[at + bs * rb:at + bs * rb + ncols]
    return codes, scales


def encode_weights(w, fmt, *, backend: str = "c") -> np.ndarray:
    """Weights layout bytes of float32 w[k, ncols] (what dimc_load reads)."""
    return pack_weights(*quantize_weights(w, fmt, backend=backend), fmt)


def lines_matrix(src, ld: int, lines: int, trans: int, nrows: int, ncols: int) -> np.ndarray:
    """The float32 nrows x ncols matrix W that vec_convert_weights quantizes (then
    encode_weights(W) is its output): its first `lines` rows (trans 0: W[i][j] = src[i*ld + j])
    or columns (trans 1: W[i][j] = src[j*ld + i]) read from src, lines ld floats apart; the
    rest +0."""
    src = np.asarray(src, np.float32).reshape(-1)
    width = nrows if trans else ncols
    if not (1 <= lines <= (ncols if trans else nrows) and ld >= width
            and src.size >= (lines - 1) * ld + width):
        raise ShapeError(f"lines_matrix: lines={lines}, ld={ld}, trans={trans} do not fit "
                         f"{nrows} x {ncols} and {src.size} floats")
    w = np.zeros((ncols, nrows) if trans else (nrows, ncols), np.float32)
    for a in range(lines):
        w[a] = src[a * ld:a * ld + width]
    return np.ascontiguousarray(w.T) if trans else w


def scale_values(scales, fmt) -> np.ndarray:
    """float64 value of block-scale codes: 2^(code - 127 - F) with F = element fraction bits,
    NaN for code 255 (the factor that turns integer codes into values)."""
    s = get_format(fmt)
    if s.kind not in (KIND_BLOCK_INT, KIND_BLOCK_FP):
        raise ShapeError(f"{s.name} has no block scales")
    c = np.asarray(scales, np.int64)
    v = np.ldexp(1.0, c - 127 - (s.mbits if s.kind == KIND_BLOCK_INT else 0))
    return np.where(c == 255, np.nan, v)
