"""`attention`: scaled dot-product attention on the emulated chiplet mesh (docs/attention.md).

    from chipemu.kernels import attention
    r = attention(q, k, v, is_causal=True)      # q [B, Hq, Sq, D], k, v [B, Hkv, Skv, D]
    r.output, r.phases["compute"], r.plan["blocks_skipped"]

Q.K^T and P.V run on the DIMC arrays (K^T and V written into them, counted in the load phase),
the online softmax on the vector unit with the project's exp and reciprocal; fully masked key
blocks are skipped and cost nothing. The NumPy reference is kernels/attention/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.kernels.attention import data as D
from chipemu.kernels.attention import steps as S
from chipemu.kernels.attention.plan import default_kv_fmt, plan_attention
from chipemu.kernels.attention.tile import AT_KV
from chipemu.kernels.scaffold import Run, dimc_format, shape_of

__all__ = ["attention"]

def _check(qs, ks, vs, mask):
    if len(qs) != 4 or len(ks) != 4 or len(vs) != 4:
        raise ShapeError(f"q, k, v must be 4-D [B, H, S, D]; got {qs}, {ks}, {vs}")
    if ks != vs:
        raise ShapeError(f"k {ks} and v {vs} must have the same shape")
    if qs[0] != ks[0] or qs[3] != ks[3]:
        raise ShapeError(f"q {qs} and k {ks} must agree in batch (dim 0) and head_dim (dim 3)")
    if qs[1] % ks[1]:
        raise ShapeError(f"q has {qs[1]} heads, k has {ks[1]}: Hq must be a multiple of Hkv")
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != bool:
            raise ShapeError(f"attn_mask has dtype {m.dtype}; it must be bool (True = attend)")
        try:
            np.broadcast_shapes(m.shape, (qs[0], qs[1], qs[2], ks[2]))
        except ValueError:
            raise ShapeError(f"attn_mask of shape {m.shape} does not broadcast to "
                             f"[B, Hq, Sq, Skv] = {(qs[0], qs[1], qs[2], ks[2])}") from None


def attention(q, k, v, *, attn_mask=None, is_causal=False, scale=None, fmt="mxint8",
              kv_fmt=None, device=None, backend="c", mode="functional", cache=None, path=None,
              network=None, progress=None):
    """softmax(q k^T * scale + mask) v on the device -> Result (output float32 [B, Hq, Sq, D]).

    attn_mask: bool, broadcastable to [B, Hq, Sq, Skv], True = takes part (PyTorch's rule);
    is_causal: query i sees keys up to i + Skv - Sq. A fully masked query row gives zeros.
    scale: default 1/sqrt(D), applied to q before quantization. fmt: q and P in the DIMC;
    kv_fmt: K/V in the arrays (default: fmt, or its 8-bit sibling for 4-bit formats).
    In timing mode q, k, v may be shape tuples.
    path: None (the planner decides: "dimc" when K/V fit the arrays, else "vector"), "dimc" or
    "vector" (Q.K^T and P.V on the vector unit in fp32, K and V^T in SRAM); Result.plan["qk_on"].
    cache: a KVCache; then k, v are the Sq new tokens' keys and values [B, Hkv, Sq, D], appended
    to the cache (their writes counted in phase "append"), and the new tokens attend causally to
    their sequence's keys; device, backend, mode and formats are the cache's.
    """
    if cache is not None:
        if attn_mask is not None:
            raise ShapeError("attn_mask with a cache is not supported: the cache's lengths and "
                             "causality define the keys each new token sees")
        d = q[-1] if isinstance(q, tuple) else np.shape(q)[-1]
        return cache.step(q, k, v, scale=float(1.0 / np.sqrt(d) if scale is None else scale),
                          network=network, progress=progress)
    if path not in (None, "dimc", "vector"):
        raise ConfigError(f"path={path!r} is not one of None, 'dimc', 'vector'")
    run = Run("attention", device, mode=mode, backend=backend, network=network,
              progress=progress)
    dev, mach, timing = run.device, run.machine, run.timing
    fa = dimc_format(fmt, "fmt", dev)
    fk = dimc_format(kv_fmt or default_kv_fmt(fa), "kv_fmt", dev)
    qs, qa = shape_of(q, "q", timing)
    ks, ka = shape_of(k, "k", timing)
    vs, va = shape_of(v, "v", timing)
    _check(qs, ks, vs, attn_mask)
    b, hq, sq, d = qs
    hkv, skv = ks[1], ks[2]
    scale = float(1.0 / np.sqrt(d) if scale is None else scale)
    keep = D.keep_units(attn_mask, is_causal, b, hq, hkv, sq, skv)
    bk = dev.tile.dimc.rows
    plan = plan_attention(b, hq, hkv, sq, skv, d, fa, dev,
                          mask_info=D.mask_info(keep, bk, -(-skv // bk)), kv_fmt=fk,
                          force_path=path)
    tiles = D.tile_tables(plan, keep)
    q_u = None if timing else D.q_units(qa, scale, plan, backend)
    kv_u = None if timing else D.kv_slots(ka, va, plan, backend)
    offs, sizes = S.offsets(plan, tiles, plan.blocks_per_tile)
    bufs = S.alloc(mach, plan, sizes, timing)
    if not timing:
        mach.write(bufs["kv_host"], S.kv_bytes(plan, tiles, kv_u))
        S.write_queries(mach, plan, tiles, offs, bufs, q_u)
    p = D.params(plan, dev.n_tiles, bufs, tiles, offs)
    ids = sorted(tiles)
    per = plan.d_splits + plan.v_splits
    with run.phase("load"):
        run.launch(AT_KV, ids, p, events_per_tile=2 * plan.blocks_per_tile * per,
                   peers_per_tile=1, stage_bytes_per_tile=64)
    S.run_compute(run, plan, p, ids)
    out = None if timing else S.gather(mach, plan, bufs["y"])
    r = run.finish(output=out, plan=plan.to_dict())
    S.add_metrics(r, plan)
    return r
