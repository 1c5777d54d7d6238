"""`attention`: scaled dot-product attention on the emulated chiplet mesh (docs/attention.md).

    from chipemu.kernels import attention
    r = attention(q, k, v, is_causal=True)      # q [B, Hq, Sq, D], k, v [B, Hkv, Skv, D]
    r.output, r.phases["compute"], r.plan["blocks_skipped"]

Q.K^T and P.V run on the DIMC arrays (K^T and V written into them, counted in the load phase),
the online softmax on the vector unit with the project's exp and reciprocal; fully masked key
blocks are skipped and cost nothing. The NumPy reference is kernels/attention_ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator.errors import ShapeError
from chipemu.emulator.program import as_device, finish, machine_for

from . import attention_data as D
from .attention_plan import plan_attention
from .attention_tile import A_STEP, AT_LOAD, AT_STEP
from .matmul import _dimc_format, _shape_of
from .microbench_tiles import BARRIER_ALL

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
              kv_fmt=None, device=None, backend="c", mode="functional"):
    """softmax(q k^T * scale + mask) v on the device -> Result (output float32 [B, Hq, Sq, D]).

    attn_mask: bool, broadcastable to [B, Hq, Sq, Skv], True = takes part (PyTorch's rule);
    is_causal: query i sees keys up to i + Skv - Sq. A fully masked query row gives zeros.
    scale: default 1/sqrt(D), applied to q before quantization. fmt: q and P in the DIMC;
    kv_fmt: K/V in the arrays (default: fmt, or its 8-bit sibling for 4-bit formats).
    In timing mode q, k, v may be shape tuples.
    """
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
                          mask_info=D.mask_info(keep, bk, -(-skv // bk)), kv_fmt=fk)
    mach = machine_for(dev, mode=mode, backend=backend)
    tiles = D.tile_tables(plan, keep)
    offs, kv_parts, q_parts, b_parts = {}, [], [], []
    at = {"kv": 0, "q": 0, "bias": 0}
    qbytes = plan.rounds * plan.d_splits * plan.mq * plan.q_row_bytes
    if not timing:
        q_u = D.q_units(qa, scale, plan, backend)
        kv_u = D.kv_slots(ka, va, plan, backend)
    for tile in sorted(tiles):
        u, mem, rep, _, biases = tiles[tile]
        run = plan.k_run(mem)
        nkv = len(run) * (plan.d_splits + plan.v_splits) * plan.slot_bytes
        nb = len(biases) * plan.mq * plan.bk * 4
        offs[tile] = {"kv": at["kv"], "q": at["q"], "q_bytes": qbytes, "bias": at["bias"],
                      "bias_bytes": nb}
        at["kv"] += nkv
        at["q"] += qbytes
        at["bias"] += nb
        if not timing:
            kv_parts.append(kv_u[u, run.start:run.stop].reshape(-1))
            qb = np.zeros((plan.rounds, plan.d_splits, plan.mq, plan.q_row_bytes), np.uint8)
            for rnd in range(plan.rounds):
                c = rnd * plan.replicas + rep
                if c < plan.chunks:
                    r0, r1 = plan.chunk_rows(c)
                    qb[rnd, :, :r1 - r0] = q_u[u, r0:r1].transpose(1, 0, 2)
            q_parts.append(qb.reshape(-1))
            for _, arr in sorted(biases.values(), key=lambda t: t[0]):
                b_parts.append(arr.reshape(-1).view(np.uint8))
    const = np.stack([np.full(plan.mq, D.MINIT, np.float32), np.full(plan.mq, -1, np.float32),
                      np.full(plan.mq, np.finfo(np.float32).tiny, np.float32)])
    bufs = {}
    for name, parts, size in (("kv_host", kv_parts, at["kv"]), ("q_host", q_parts, at["q"]),
                              ("bias_host", b_parts, at["bias"])):
        if timing:
            bufs[name] = mach.alloc_host(name, nbytes=max(1, size))
        else:
            data = np.concatenate(parts) if parts else np.zeros(1, np.uint8)
            bufs[name] = mach.alloc_host(name, data if data.size else np.zeros(1, np.uint8))
    bufs["const_host"] = (mach.alloc_host("const", const) if not timing
                          else mach.alloc_host("const", nbytes=const.nbytes))
    mach.reserve_sram(sum(plan.sram.values()))
    for name, nbytes in plan.sram.items():
        if nbytes:
            bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs, tiles, offs)
    ids = sorted(tiles)
    per = plan.d_splits + plan.v_splits
    mach.launch(AT_LOAD, ids, p, events_per_tile=2 * plan.blocks_per_tile * per + 3,
                peers_per_tile=1, stage_bytes_per_tile=64)
    mach.launch(BARRIER_ALL, ids, [len(ids)] + ids, events_per_tile=1, peers_per_tile=len(ids),
                stage_bytes_per_tile=0)
    ev_step = plan.blocks_per_tile * (2 * per + 18) + 6 * plan.v_splits + 20
    part = (2 + plan.v_splits * plan.cols) * plan.mq * 4
    steps = plan.rounds * plan.stages
    for s in range(steps):
        p[A_STEP] = s
        mach.launch(AT_STEP, ids, p, events_per_tile=ev_step, peers_per_tile=1,
                    stage_bytes_per_tile=part + 64)
    out = None if timing else _gather(mach, plan, bufs["y"], tiles)
    r = finish(mach, dev, kernel="attention", output=out, plan=plan.to_dict(),
               phases={"load": [0, 1], "compute": list(range(2, 2 + steps))})
    comp = r.phase_list[1]
    macs = int((plan.status > 0).sum()) * plan.bk * plan.mq * plan.dp * 2
    r.metrics.update(compute_cycles=comp.cycles, compute_energy_pj=comp.energy_fj / 1000.0,
                     blocks_computed=int((plan.status > 0).sum()),
                     blocks_skipped=int((plan.status == 0).sum()), dimc_macs_upper=macs,
                     energy_per_query_row_pj=comp.energy_fj / 1000.0 / (plan.units * plan.nq))
    return r


def _gather(mach, plan, ybuf, tiles):
    C, vs = plan.cols, plan.v_splits
    out = np.zeros((plan.units, plan.nq, vs * C), np.float32)
    for c in range(plan.chunks):
        rep, rnd = c % plan.replicas, c // plan.replicas
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
