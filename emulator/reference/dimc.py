"""NumPy definition of the DIMC arithmetic of one dimc_mvm (docs/intrinsics.md, DESIGN §3).

For each input vector and output column, over the K rows used:

1. Activation codes (format fmt_a, blocks along K) and weight codes (format fmt_w, blocks along K
   per column) are multiplied as integers and summed exactly within each *segment*: K split into
   runs of min(B_a, B_w) rows, where B is the block size and int8 (one scale per tensor) counts
   as 32, so both scales are constant inside a segment.
2. Each segment sum is scaled and rounded once to float32:
   float32((float64(sum) * s_a) * s_w), with s = 2^(S - F) for a block scale code S + 127 (F the
   element's fraction bits: 6 for 8-bit, 2 for 4-bit elements; exact in float64, so the product is
   exact and only the float32 rounding happens), s = float64(int8 scale) for int8, NaN for scale
   code 255.
3. Segment values are accumulated in float32 in increasing K order, starting from +0.
4. y = acc, or with accumulate y = float32(y_old + acc). A NaN result is stored as 0x7FC00000.

Imports neither Numba nor the native module.
"""
import numpy as np

from chipemu.emulator.numerics.formats import KIND_BLOCK_INT, KIND_INT_TENSOR, get_format
from chipemu.emulator.numerics.layout import scale_values, unpack_rows, unpack_weights

__all__ = ["segment_size", "mvm", "mvm_bytes"]

_QNAN = np.uint32(0x7FC00000).view(np.float32)


def segment_size(fmt_a, fmt_w) -> int:
    """Rows of K over which both scales are constant (int8 counts as blocks of 32)."""
    sa, sw = get_format(fmt_a), get_format(fmt_w)
    return min(32 if sa.kind == KIND_INT_TENSOR else sa.block_size,
               32 if sw.kind == KIND_INT_TENSOR else sw.block_size)


def _check(spec, what):
    if spec.kind not in (KIND_INT_TENSOR, KIND_BLOCK_INT):
        raise ValueError(f"{what}={spec.name!r} is not a DIMC format")


def mvm(x_codes, x_scales, fmt_a, w_codes, w_scales, fmt_w, y_old=None) -> np.ndarray:
    """float32 [nvec, ncols] of one dimc_mvm.

    x_codes: integer codes [nvec, k]; x_scales: uint8 [nvec, k / B_a] (block formats) or float32
    [nvec] (int8, one scale per vector). w_codes: integer codes [k, ncols]; w_scales: uint8
    [k / B_w, ncols] or one float32 (int8). y_old: float32 [nvec, ncols] to accumulate into.
    """
    sa, sw = get_format(fmt_a), get_format(fmt_w)
    _check(sa, "fmt_a")
    _check(sw, "fmt_w")
    xc = np.asarray(x_codes, np.int64)
    wc = np.asarray(w_codes, np.int64)
    nvec, k = xc.shape
    ncols = wc.shape[1]
    seg = segment_size(sa, sw)
    nseg = -(-k // seg)
    starts = np.arange(nseg) * seg
    if sa.kind == KIND_INT_TENSOR:
        xs = np.asarray(x_scales, np.float32).astype(np.float64).reshape(nvec, 1)
        xs = np.repeat(xs, nseg, 1)
    else:
        xs = scale_values(np.asarray(x_scales).reshape(nvec, -1)[:, starts // sa.block_size], sa)
    if sw.kind == KIND_INT_TENSOR:
        ws = np.full((nseg, ncols), np.float64(np.float32(w_scales)))
    else:
        ws = scale_values(np.asarray(w_scales).reshape(-1, ncols)[starts // sw.block_size], sw)
    acc = np.zeros((nvec, ncols), np.float32)
    with np.errstate(all="ignore"):
        for s in range(nseg):
            k0, k1 = s * seg, min(k, (s + 1) * seg)
            isum = xc[:, k0:k1] @ wc[k0:k1, :]                     # exact integers
            val = ((isum.astype(np.float64) * xs[:, s:s + 1]) * ws[s][None, :]).astype(np.float32)
            acc = acc + val
        y = acc if y_old is None else np.asarray(y_old, np.float32) + acc
    return np.where(np.isnan(y), _QNAN, y).astype(np.float32)


def mvm_bytes(x_bytes, fmt_a, w_bytes, fmt_w, nvec: int, k: int, ncols: int, y_old=None):
    """mvm on device bytes: x in the rows layout (nvec rows of k), W in the weights layout."""
    xc, xs = unpack_rows(x_bytes, fmt_a, nvec, k)
    wc, ws = unpack_weights(w_bytes, fmt_w, k, ncols)
    return mvm(xc, xs, fmt_a, wc, ws, fmt_w, y_old)
