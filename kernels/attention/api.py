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
from chipemu.kernels.scaffold import as_device, finish, machine_for

from chipemu.kernels.attention import data as D
from chipemu.kernels.attention.plan import plan_attention
from chipemu.kernels.attention.tile import A_STEP, AT_KV, AT_Q, AT_STEP
from chipemu.kernels.matmul.api import _dimc_format, _shape_of
from chipemu.kernels.barrier import BARRIER_ALL

__all__ = ["attention", "default_kv_fmt"]

_EIGHT_BIT = {"mxint4": "mxint8", "bfp12": "bfp16"}


def default_kv_fmt(fmt: str) -> str:
    """K/V arrays must be square (keys as rows of V and columns of K^T): 4-bit formats keep
    their K/V in the 8-bit sibling (mxint4 -> mxint8, bfp12 -> bfp16)."""
    return _EIGHT_BIT.get(fmt, fmt)


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
              kv_fmt=None, device=None, backend="c", mode="functional", cache=None, path=None):
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
        from chipemu.kernels.attention.cache import cache_attention
        d = q[-1] if isinstance(q, tuple) else np.shape(q)[-1]
        return cache_attention(cache, q, k, v, float(1.0 / np.sqrt(d) if scale is None
                                                     else scale))
    if path not in (None, "dimc", "vector"):
        raise ConfigError(f"path={path!r} is not one of None, 'dimc', 'vector'")
    dev = as_device(device)
    timing = mode == "timing"
    fa = _dimc_format(fmt, "fmt", dev)
    fk = _dimc_format(kv_fmt or default_kv_fmt(fa), "kv_fmt", dev)
    qs, qa = _shape_of(q, "q", timing)
    ks, ka = _shape_of(k, "k", timing)
    vs, va = _shape_of(v, "v", timing)
    _check(qs, ks, vs, attn_mask)
    b, hq, sq, d = qs
    hkv, skv = ks[1], ks[2]
    scale = float(1.0 / np.sqrt(d) if scale is None else scale)
    keep = D.keep_units(attn_mask, is_causal, b, hq, hkv, sq, skv)
    bk = dev.tile.dimc.rows
    plan = plan_attention(b, hq, hkv, sq, skv, d, fa, dev,
                          mask_info=D.mask_info(keep, bk, -(-skv // bk)), kv_fmt=fk,
                          force_path=path)
    mach = machine_for(dev, mode=mode, backend=backend)
    tiles = D.tile_tables(plan, keep)
    q_u = None if timing else D.q_units(qa, scale, plan, backend)
    kv_u = None if timing else D.kv_slots(ka, va, plan, backend)
    offs, sizes = _offsets(plan, tiles, plan.blocks_per_tile)
    bufs = _alloc(mach, plan, sizes, timing)
    if not timing:
        mach.write(bufs["kv_host"], _kv_bytes(plan, tiles, kv_u))
        _write_queries(mach, plan, tiles, offs, bufs, q_u)
    p = D.params(plan, dev.n_tiles, bufs, tiles, offs)
    ids = sorted(tiles)
    per = plan.d_splits + plan.v_splits
    mach.launch(AT_KV, ids, p, events_per_tile=2 * plan.blocks_per_tile * per,
                peers_per_tile=1, stage_bytes_per_tile=64)
    steps = run_compute(mach, plan, p, ids)
    out = None if timing else gather(mach, plan, bufs["y"])
    r = finish(mach, dev, kernel="attention", output=out, plan=plan.to_dict(),
               phases={"load": [0, 1, 2], "compute": steps})
    add_metrics(r, plan)
    return r


def _offsets(plan, tiles, bpt):
    """Per tile, its byte offsets in the host buffers (regions sized for the plan's worst case)."""
    per = plan.d_splits + plan.v_splits
    kv_t = bpt * per * plan.slot_bytes
    q_t = plan.rounds * plan.d_splits * plan.mq * plan.q_row_bytes
    b_t = max(1, plan.n_bias) * plan.mq * plan.bk * 4
    offs = {}
    for i, tile in enumerate(sorted(tiles)):
        offs[tile] = {"kv": i * kv_t, "q": i * q_t, "q_bytes": q_t, "bias": i * b_t,
                      "bias_bytes": 0}
    n = len(tiles)
    return offs, {"kv_host": n * kv_t, "q_host": n * q_t, "bias_host": n * b_t}


def _alloc(mach, plan, sizes, timing):
    bufs = {}
    for name, size in sizes.items():
        bufs[name] = (mach.alloc_host(name, nbytes=size) if timing
                      else mach.alloc_host(name, np.zeros(size, np.uint8)))
    const = np.stack([np.full(plan.mq, D.MINIT, np.float32), np.full(plan.mq, -1, np.float32),
                      np.full(plan.mq, np.finfo(np.float32).tiny, np.float32)])
    bufs["const_host"] = (mach.alloc_host("const", nbytes=const.nbytes) if timing
                          else mach.alloc_host("const", const))
    mach.reserve_sram(sum(plan.sram.values()))
    for name, nbytes in plan.sram.items():
        if nbytes:
            bufs[name] = mach.alloc_sram(name, nbytes)
    return bufs


def _kv_bytes(plan, tiles, kv_u):
    per = plan.d_splits + plan.v_splits
    out = np.zeros((len(tiles), plan.blocks_per_tile, per, plan.slot_bytes), np.uint8)
    for i, tile in enumerate(sorted(tiles)):
        u, mem = tiles[tile][0], tiles[tile][1]
        run = plan.k_run(mem)
        out[i, :len(run)] = kv_u[u, run.start:run.stop:run.step]
    return out.reshape(-1)


def _write_queries(mach, plan, tiles, offs, bufs, q_u):
    """Each tile's query rows ([round][d split][mq][row bytes]) and its bias blocks."""
    for tile in sorted(tiles):
        u, _, rep, _, biases = tiles[tile]
        qb = np.zeros((plan.rounds, plan.d_splits, plan.mq, plan.q_row_bytes), np.uint8)
        for rnd in range(plan.rounds):
            c = plan.chunk_of(rnd, rep)
            if c < plan.chunks:
                r0, r1 = plan.chunk_rows(c)
                qb[rnd, :, :r1 - r0] = q_u[u, r0:r1].transpose(1, 0, 2)
        mach.write(bufs["q_host"], qb, offset=offs[tile]["q"])
        arrs = [a for _, a in sorted(biases.values(), key=lambda t: t[0])]
        if arrs:
            mach.write(bufs["bias_host"], np.stack(arrs), offset=offs[tile]["bias"])


def run_compute(mach, plan, p, ids):
    """at_q (query rows, bias, constants), a barrier, then the compute supersteps; returns the
    compute phase's superstep numbers. The bias bytes per tile are set in p by the caller."""
    mach.launch(AT_Q, ids, p, events_per_tile=3, peers_per_tile=1, stage_bytes_per_tile=64)
    mach.launch(BARRIER_ALL, ids, [len(ids)] + ids, events_per_tile=1, peers_per_tile=len(ids),
                stage_bytes_per_tile=0)
    per = plan.d_splits + plan.v_splits
    ev_step = plan.blocks_per_tile * (2 * per + 18) + 6 * plan.v_splits + 20
    part = (2 + plan.v_splits * plan.cols) * plan.mq * 4
    first = mach.step
    for s in range(plan.rounds * plan.stages):
        p[A_STEP] = s
        mach.launch(AT_STEP, ids, p, events_per_tile=ev_step, peers_per_tile=1,
                    stage_bytes_per_tile=part + 64)
    return list(range(first, mach.step))


def add_metrics(r, plan):
    comp = r.phase_list[-1]
    r.metrics.update(compute_cycles=comp.cycles, compute_energy_pj=comp.energy_fj / 1000.0,
                     blocks_computed=int((plan.status > 0).sum()),
                     blocks_skipped=int((plan.status == 0).sum()),
                     energy_per_token_pj=comp.energy_fj / 1000.0 / (plan.b * plan.sq),
                     tiles_used=plan.span * plan.replicas)


def gather(mach, plan, ybuf):
    C, vs = plan.cols, plan.v_splits
    out = np.zeros((plan.units, plan.nq, vs * C), np.float32)
    for c in range(plan.chunks):
        rep, rnd = plan.replica_of(c), c // plan.replicas
        r0, r1 = plan.chunk_rows(c)
        for u in range(plan.units):
            tile = plan.tile_of(u, 0, rep)
            for t in range(vs):
                off = ((rnd * vs + t) * plan.mq) * C * 4
                out[u, r0:r1, t * C:(t + 1) * C] = mach.read(
                    ybuf, tile=tile, offset=off, nbytes=(r1 - r0) * C * 4,
                    dtype=np.float32).reshape(r1 - r0, C)
    g = plan.group
    out = out[:, :, :plan.d].reshape(plan.b, plan.hkv, g, plan.sq, plan.d)
    return out.reshape(plan.b, plan.hq, plan.sq, plan.d)
