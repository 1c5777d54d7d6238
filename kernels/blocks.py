"""Host-side DIMC blocks shared by the kernels: activations as device rows cut in K-blocks of R
elements, weights as R x C blocks, in the device layouts of docs/intrinsics.md. Vectorized NumPy;
the codec rules are the formats module's."""
from __future__ import annotations

import numpy as np

from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import KIND_INT_TENSOR, get_format, quantize

__all__ = ["pad2", "x_blocks", "w_blocks"]


def pad2(a, rows, cols):
    """float32 copy of a 2-D array zero-padded to [rows, cols]."""
    out = np.zeros((rows, cols), np.float32)
    out[:a.shape[0], :a.shape[1]] = a
    return out


def _pack(codes, bits):
    """Little-endian packing of the last axis (8- or 4-bit codes) into uint8."""
    u = np.asarray(codes).astype(np.int16) & ((1 << bits) - 1)
    if bits == 8:
        return u.astype(np.uint8)
    return (u[..., 0::2] | (u[..., 1::2] << 4)).astype(np.uint8)


def x_blocks(x, fmt, R, backend="c"):
    """Rows layout bytes uint8 [M, KB, row_bytes] of float32 x [M, KB*R]: each row's K-block
    kb is one device row of R elements (int8: one scale per row and K-block)."""
    s = get_format(fmt)
    m, kp = x.shape
    kb = kp // R
    flat = x.reshape(m * kb, R)
    codes, scales = layout.quantize_rows(flat, s, backend=backend)
    parts = [_pack(codes, s.elem_bits)]
    if s.kind == KIND_INT_TENSOR:
        parts.append(np.asarray(scales, "<f4").reshape(-1, 1).view(np.uint8))
    else:
        parts.append(np.asarray(scales, np.uint8).reshape(m * kb, -1))
    return np.concatenate(parts, axis=1).reshape(m, kb, -1)


def w_blocks(w, fmt, R, C, backend="c"):
    """Weights layout bytes uint8 [KB, NB, block_bytes] of float32 w [KB*R, NB*C]
    (block formats: blocks along K per column; int8: one scale per R x C block)."""
    s = get_format(fmt)
    kp, np_ = w.shape
    kb, nb = kp // R, np_ // C
    if s.kind == KIND_INT_TENSOR:
        out = np.empty((kb, nb, R * C + 4), np.uint8)
        for i in range(kb):
            for j in range(nb):
                q = quantize(w[i * R:(i + 1) * R, j * C:(j + 1) * C], s, backend=backend)
                out[i, j, :R * C] = q.codes.astype(np.int8).reshape(-1).view(np.uint8)
                out[i, j, R * C:] = np.asarray(q.scales, "<f4").reshape(1).view(np.uint8)
        return out
    B = s.block_size
    codes, scales = layout.quantize_weights(w, s, backend=backend)
    c5 = codes.reshape(kb, R // B, B, nb, C).transpose(0, 3, 1, 2, 4).reshape(kb, nb, R // B, B * C)
    sc = scales.reshape(kb, R // B, nb, C).transpose(0, 2, 1, 3)
    return np.concatenate([_pack(c5, s.elem_bits), sc.astype(np.uint8)], axis=3).reshape(kb, nb, -1)
