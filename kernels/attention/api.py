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

from chipemu.emulator import args
from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.runtime import budget
from chipemu.kernels.attention import data as D
from chipemu.kernels.attention import steps as S
from chipemu.kernels.attention.plan import default_kv_fmt, plan_attention
from chipemu.kernels.attention.tile import AT_KV
from chipemu.kernels.region import resolve_region
from chipemu.kernels.scaffold import Run, as_device, dimc_format, shape_of, strict_keywords

__all__ = ["attention"]

_PATHS = ("dimc", "vector")


def check_mask(mask, full):
    """attn_mask as a bool ndarray broadcastable to `full` ([B, Hq, Sq, Skv]), or ShapeError."""
    if isinstance(mask, np.ma.MaskedArray):
        raise ShapeError("attn_mask is a NumPy masked array; allowed: a plain bool array "
                         "(True = attend)")
    try:
        m = np.asarray(mask)
    except Exception:
        raise ShapeError(f"attn_mask must be a bool array, got {type(mask).__name__}") from None
    if m.dtype != bool:
        raise ShapeError(f"attn_mask has dtype {m.dtype}; it must be bool (True = attend)")
    try:
        if m.ndim > 4:
            raise ValueError
        np.broadcast_shapes(m.shape, full)
    except ValueError:
        raise ShapeError(f"attn_mask of shape {m.shape} does not broadcast to "
                         f"[B, Hq, Sq, Skv] = {full} (at most 4-D)") from None
    return m


def _check(qs, ks, vs, mask):
    if len(qs) != 4 or len(ks) != 4 or len(vs) != 4:
        raise ShapeError(f"q, k, v must be 4-D [B, H, S, D]; got {qs}, {ks}, {vs}")
    if ks != vs:
        raise ShapeError(f"k {ks} and v {vs} must have the same shape")
    if qs[0] != ks[0] or qs[3] != ks[3]:
        raise ShapeError(f"q {qs} and k {ks} must agree in batch (dim 0) and head_dim (dim 3)")
    if qs[1] % ks[1]:
        raise ShapeError(f"q has {qs[1]} heads, k has {ks[1]}: Hq must be a multiple of Hkv")
    return None if mask is None else check_mask(mask, (qs[0], qs[1], qs[2], ks[2]))


@strict_keywords
def attention(q, k, v, *, attn_mask=None, is_causal=None, scale=None, fmt=None,
              kv_fmt=None, device=None, backend=None, mode=None, cache=None, path=None,
              network=None, progress=None, region=None):
    """softmax(q k^T * scale + mask) v on the device -> Result (output float32 [B, Hq, Sq, D]).

    attn_mask: bool, broadcastable to [B, Hq, Sq, Skv], True = takes part (PyTorch's rule);
    is_causal (None: False): query i sees keys up to i + Skv - Sq. A fully masked query row
    gives zeros. scale: default 1/sqrt(D), applied to q before quantization. fmt (None:
    "mxint8"): q and P in the DIMC; kv_fmt: K/V in the arrays (default: fmt, or its 8-bit
    sibling for 4-bit formats). backend (None: "c") "c" | "numba"; mode (None: "functional")
    "functional" | "timing". In timing mode q, k, v may be shape tuples.
    path: None (the planner decides: "dimc" when K/V fit the arrays, else "vector"), "dimc" or
    "vector" (Q.K^T and P.V on the vector unit in fp32, K and V^T in SRAM); Result.plan["qk_on"].
    cache: a KVCache; then k, v are the Sq new tokens' keys and values [B, Hkv, Sq, D], appended
    to the cache (their writes counted in phase "append"), and the new tokens attend causally to
    their sequence's keys. device, backend, mode, fmt, kv_fmt and path are then the cache's:
    leave them None or give the cache's own values; is_causal None or True; attn_mask None;
    region None (the cache's region is its own).
    region: a chipemu.kernels.region.Region the attention is confined to (its chiplets, tiles
    and DIMC slots; None: the whole device, the same plan as the whole region).
    Every argument is checked, and the run estimated against the run budget
    (chipemu.emulator.runtime.budget), before any state exists or the cache changes.
    """
    if cache is not None:
        if region is not None:
            raise ConfigError(f"region={args.show(region)} with a cache: the cache keeps its K/V "
                              f"in the region it was made with; allowed: None")
        return _cached(cache, q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale,
                       fmt=fmt, kv_fmt=kv_fmt, device=device, backend=backend, mode=mode,
                       path=path, network=network, progress=progress)
    is_causal = False if is_causal is None else args.boolean("is_causal", is_causal)
    path = None if path is None else args.choice("path", path, _PATHS)
    scale = S.check_scale(scale)
    run = Run("attention", device, mode="functional" if mode is None else mode,
              backend="c" if backend is None else backend, network=network, progress=progress)
    dev, timing, backend = run.device, run.timing, run.backend
    region = resolve_region(region, dev)
    fa = dimc_format("mxint8" if fmt is None else fmt, "fmt", dev)
    fk = dimc_format(kv_fmt if kv_fmt is not None else default_kv_fmt(fa), "kv_fmt", dev)
    qs, qa = shape_of(q, "q", timing)
    ks, ka = shape_of(k, "k", timing)
    vs, va = shape_of(v, "v", timing)
    attn_mask = _check(qs, ks, vs, attn_mask)
    b, hq, sq, d = qs
    hkv, skv = ks[1], ks[2]
    scale = float(1.0 / np.sqrt(d) if scale is None else scale)
    # the keep mask and its block pattern are host arrays of B*Hq*Sq*Skv bytes (with the
    # planner's temporaries): refused before they exist
    budget.check(f"attention of q {qs}, k {ks}", host_bytes=D.keep_bytes(b, hq, sq, skv))
    keep = D.keep_units(attn_mask, is_causal, b, hq, hkv, sq, skv)
    bk = dev.tile.dimc.rows
    plan = plan_attention(b, hq, hkv, sq, skv, d, fa, dev,
                          mask_info=D.mask_info(keep, bk, -(-skv // bk)), kv_fmt=fk,
                          force_path=path, region=region)
    tiles = D.tile_tables(plan, keep)
    offs, sizes = S.offsets(plan, tiles, plan.blocks_per_tile)
    ids = sorted(tiles)
    per = plan.d_splits + plan.v_splits
    ev_kv = 2 * plan.blocks_per_tile * per
    mach = run.start(events=len(ids) * ev_kv + S.compute_events(plan, ids),
                     host_bytes=S.host_bytes(plan, dev, sizes, timing))
    q_u = None if timing else D.q_units(qa, scale, plan, backend)
    kv_u = None if timing else D.kv_slots(ka, va, plan, backend)
    bufs = S.alloc(mach, plan, sizes, timing)
    if not timing:
        mach.write(bufs["kv_host"], S.kv_bytes(plan, tiles, kv_u))
        S.write_queries(mach, plan, tiles, offs, bufs, q_u)
    p = D.params(plan, dev.n_tiles, bufs, tiles, offs)
    with run.phase("load"):
        run.launch(AT_KV, ids, p, events_per_tile=ev_kv, peers_per_tile=1,
                   stage_bytes_per_tile=64)
    S.run_compute(run, plan, p, ids)
    out = None if timing else S.gather(mach, plan, bufs["y"])
    r = run.finish(output=out, plan=plan.to_dict())
    S.add_metrics(r, plan)
    return r


def _cached(cache, q, k, v, *, attn_mask, is_causal, scale, fmt, kv_fmt, device, backend, mode,
            path, network, progress):
    """A decode step on `cache`: every keyword is the cache's or refused, before the step."""
    from chipemu.kernels.attention.cache import KVCache
    if not isinstance(cache, KVCache):
        raise ConfigError(f"cache={cache!r} ({type(cache).__name__}); allowed: None or a KVCache")
    if attn_mask is not None:
        raise ShapeError("attn_mask with a cache is not supported: the cache's lengths and "
                         "causality define the keys each new token sees")
    if is_causal is not None and not args.boolean("is_causal", is_causal):
        raise ConfigError("is_causal=False with a cache: the new tokens attend causally to "
                          "their sequence's keys; allowed: None or True")
    given = {"fmt": (fmt, cache.fmt), "kv_fmt": (kv_fmt, cache.kv_fmt),
             "backend": (backend, cache.backend), "path": (path, "dimc"),
             "mode": (mode, "timing" if cache.timing else "functional")}
    for name, (value, own) in given.items():
        canon = value
        if name in ("fmt", "kv_fmt") and value is not None:
            canon = dimc_format(value, name, cache.device)
        if value is not None and canon != own:
            raise ConfigError(f"{name}={value!r} with a cache: the cache's is {own!r}; "
                              f"allowed: None or {own!r}")
    if device is not None and as_device(device) != cache.device:
        raise ConfigError(f"device={device!r} with a cache: the cache runs on its own device "
                          f"{cache.device.name!r}; allowed: None or that device")
    return cache.step(q, k, v, scale=S.check_scale(scale), network=network, progress=progress)
