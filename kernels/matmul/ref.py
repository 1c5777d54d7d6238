"""NumPy reference of the matmul: the documented DIMC arithmetic replayed in the plan's order.

    ref = matmul_reference(a, b, plan)          # plan: Result.plan (a dict) or a MatmulPlan

1. Activations: each row's K-block of R elements is one device row in `fmt` (blocks along K;
   int8: one scale per row and K-block). Weights: R x C blocks in `weight_fmt` (blocks along K
   per column; int8: one scale per block). K and N are zero-padded to whole blocks.
2. One block: emulator/reference/dimc.mvm (integer segment sums, one rounding per segment,
   float32 accumulation along K, canonical NaN).
3. Inside a group member: y = block(k0); y = y + block(k) along its K-run (dimc_mvm accumulate).
4. Over the group, for each chunk c, the plan's tree: per level, receiver = receiver + sender in
   float32 (canonical NaN), the root's sum is the output.

Imports neither Numba nor the native module; quantizes with the formats module's NumPy backend.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import KIND_INT_TENSOR, get_format, quantize
from chipemu.emulator.reference.dimc import mvm

from chipemu.kernels.matmul.plan import MatmulPlan

__all__ = ["matmul_reference"]

_QNAN = np.uint32(0x7FC00000).view(np.float32)


def _plan(plan) -> MatmulPlan:
    if isinstance(plan, MatmulPlan):
        return plan
    fields = MatmulPlan.__dataclass_fields__
    return MatmulPlan(**{k: (tuple(v) if isinstance(v, list) else v)
                         for k, v in plan.items() if k in fields})


def _x_codes(x, fmt, R, kb):
    """Per K-block: (codes [M, R], scales) by the rows rule."""
    m = x.shape[0]
    xp = np.zeros((m, kb * R), np.float32)
    xp[:, :x.shape[1]] = x
    return [layout.quantize_rows(xp[:, i * R:(i + 1) * R], fmt, backend="numpy")
            for i in range(kb)]


def _w_codes(w, fmt, R, C, kb, nb):
    """Per (K-block, N-block): (codes [R, C], scales)."""
    s = get_format(fmt)
    wp = np.zeros((kb * R, nb * C), np.float32)
    wp[:w.shape[0], :w.shape[1]] = w
    out = {}
    if s.kind == KIND_INT_TENSOR:
        for i in range(kb):
            for j in range(nb):
                q = quantize(wp[i * R:(i + 1) * R, j * C:(j + 1) * C], s, backend="numpy")
                out[i, j] = (q.codes, np.float32(q.scales))
        return out
    codes, scales = layout.quantize_weights(wp, s, backend="numpy")
    B = s.block_size
    for i in range(kb):
        for j in range(nb):
            out[i, j] = (codes[i * R:(i + 1) * R, j * C:(j + 1) * C],
                         scales[i * R // B:(i + 1) * R // B, j * C:(j + 1) * C])
    return out


def _add(a, b):
    with np.errstate(all="ignore"):
        y = (a + b).astype(np.float32)
    return np.where(np.isnan(y), _QNAN, y)


def matmul_reference(a, b, plan) -> np.ndarray:
    """float32 [..., M, N]: what the device computes for a @ b under `plan`."""
    p = _plan(plan)
    a = np.asarray(a, np.float32)
    batch = a.shape[:-2]
    x = a.reshape(-1, a.shape[-1])
    R, C = p.rows, p.cols
    xq = _x_codes(x, p.fmt, R, p.kb)
    wq = _w_codes(np.asarray(b, np.float32), p.weight_fmt, R, C, p.kb, p.nb)
    out = np.empty((p.m, p.nb * C), np.float32)
    members = p.g if p.g > 1 else 1
    for nb in range(p.nb):
        partial = []
        for mem in range(members):
            run = p.k_run(mem) if p.g > 1 else range(p.kb)
            y = None
            for kb in run:
                xc, xs = xq[kb]
                wc, ws = wq[kb, nb]
                y = mvm(xc, xs, p.fmt, wc, ws, p.weight_fmt, y_old=y)
            partial.append(y)
        for c in range(p.chunks):
            r0, r1 = p.chunk_rows(c)
            acc = [q[r0:r1].copy() for q in partial]
            for level in p.tree(c):
                for recv, send in level:
                    acc[recv] = _add(acc[recv], acc[send])
            out[r0:r1, nb * C:(nb + 1) * C] = acc[p.root(c) if p.g > 1 else 0]
    return out[:, :p.n].reshape(*batch, a.shape[-2], p.n)
