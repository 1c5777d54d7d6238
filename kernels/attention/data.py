"""Host-side data of attention: the keep mask per unit, block status and bias blocks, query rows,
K^T / V slots in the device layouts in the order the tiles fetch them, and the parameter table of
the tile kernels (kernels/attention/params.py). Vectorized NumPy where it matters.
"""
from __future__ import annotations

from itertools import chain

import numpy as np

from chipemu.emulator.numerics.formats import get_format

from chipemu.kernels.attention.params import ATTENTION
from chipemu.kernels.attention.plan import merge_script, zigzag
from chipemu.kernels.blocks import pad2, w_blocks, x_blocks

__all__ = ["keep_bytes", "keep_units", "mask_info", "q_units", "kv_slots", "tile_tables", "params"]

MINIT = np.float32(-1e30)      # the running max starts here, so a fully masked row stays finite


def keep_bytes(b, hq, sq, skv):
    """Host bytes of keep_units and the planner's passes over it (about 3 masks' worth)."""
    return 3 * b * hq * sq * skv + sq * skv


def keep_units(attn_mask, is_causal, b, hq, hkv, sq, skv):
    """bool [units, G*sq, skv]: True where a query row attends a key (rows head-major)."""
    g = hq // hkv
    keep = np.ones((b, hq, sq, skv), bool)
    if attn_mask is not None:
        keep &= np.broadcast_to(attn_mask, (b, hq, sq, skv))
    if is_causal:
        keep &= np.tril(np.ones((sq, skv), bool), k=skv - sq)
    return keep.reshape(b, hkv, g, sq, skv).reshape(b * hkv, g * sq, skv)


def _status(keep, bk, kb, mq):
    """uint8 [units, chunks, kb]: 0 nothing kept, 1 all kept (a whole block), 2 mixed."""
    units, nq, skv = keep.shape
    chunks = -(-nq // mq)
    st = np.zeros((units, chunks, kb), np.uint8)
    for c in range(chunks):
        rows = keep[:, c * mq:(c + 1) * mq]
        for j in range(kb):
            blk = rows[:, :, j * bk:(j + 1) * bk]
            anyk = blk.reshape(units, -1).any(axis=1)
            full = blk.reshape(units, -1).all(axis=1) & (blk.shape[2] == bk)
            st[:, c, j] = np.where(anyk, np.where(full, 1, 2), 0)
    return st


def _bias_block(keep, u, c, j, mq, bk):
    return keep[u, c * mq:(c + 1) * mq, j * bk:(j + 1) * bk]


def mask_info(keep, bk, kb):
    """The planner's mask_info callback: (status, max distinct bias blocks per tile)."""
    def info(mq, members, bpt, replicas):
        st = _status(keep, bk, kb, mq)
        per = {}
        for u, c, j in zip(*np.nonzero(st == 2)):
            blk = _bias_block(keep, u, c, j, mq, bk)
            key = (int(u), int(j) % members, zigzag(int(c), replicas)[0])
            per.setdefault(key, set()).add((blk.shape, blk.tobytes()))
        return st, max((len(v) for v in per.values()), default=0)
    return info


def q_units(q, scale, plan, backend):
    """Rows layout bytes uint8 [units, nq, ds, q_row_bytes] of q * scale (head-major rows);
    the vector path keeps q in fp32 (one part of d floats)."""
    b, hq, sq, d = q.shape
    qs = (np.asarray(q, np.float32) * np.float32(scale)).reshape(plan.units, plan.nq, d)
    if plan.path == "vector":
        return np.ascontiguousarray(qs).view(np.uint8).reshape(plan.units, plan.nq, 1, d * 4)
    out = np.empty((plan.units, plan.nq, plan.d_splits, plan.q_row_bytes), np.uint8)
    for u in range(plan.units):
        out[u] = x_blocks(pad2(qs[u], plan.nq, plan.dp), plan.fmt, plan.rows, backend=backend)
    return out


def kv_slots(k, v, plan, backend):
    """Weights layout bytes uint8 [units, kb, d_splits + v_splits, slot_bytes]: K^T splits then V."""
    R, C = plan.rows, plan.cols
    kp = plan.kb * plan.bk
    kk = np.asarray(k, np.float32).reshape(plan.units, plan.skv, plan.d)
    vv = np.asarray(v, np.float32).reshape(plan.units, plan.skv, plan.d)
    if plan.path == "vector":                 # per block: K [bk, d] then V^T [d, bk], fp32
        out = np.zeros((plan.units, plan.kb, 2, plan.bk * plan.d), np.float32)
        for u in range(plan.units):
            kpad, vpad = pad2(kk[u], kp, plan.d), pad2(vv[u], kp, plan.d)
            out[u, :, 0] = kpad.reshape(plan.kb, -1)
            out[u, :, 1] = vpad.reshape(plan.kb, plan.bk, plan.d).transpose(0, 2, 1).reshape(
                plan.kb, -1)
        return out.view(np.uint8)
    out = np.empty((plan.units, plan.kb, plan.d_splits + plan.v_splits, plan.slot_bytes), np.uint8)
    for u in range(plan.units):
        kt = w_blocks(pad2(kk[u].T, plan.dp, kp), plan.kv_fmt, R, C, backend=backend)
        vb = w_blocks(pad2(vv[u], kp, plan.v_splits * C), plan.kv_fmt, R, C, backend=backend)
        out[u, :, :plan.d_splits] = kt.transpose(1, 0, 2)
        out[u, :, plan.d_splits:] = vb
    return out


def tile_tables(plan, keep):
    """{tile: (unit, member, replica, records per round, bias blocks)}; a bias block is float32
    [mq, bk]: 0 where kept, -inf where masked or past the last key."""
    mq, bk = plan.mq, plan.bk
    tiles = {plan.tile_of(u, m, r): (u, m, r, [], {}) for r in range(plan.replicas)
             for u in range(plan.units) for m in range(plan.members)}
    for rep in range(plan.replicas):
        for rnd in range(plan.rounds):
            c = plan.chunk_of(rnd, rep)
            for u in range(plan.units):
                live = [c < plan.chunks and bool(plan.status[u, c, list(plan.k_run(m))].any())
                        for m in range(plan.members)]
                script, root_live = merge_script(live)
                for mem in range(plan.members):
                    _, _, _, recs, biases = tiles[plan.tile_of(u, mem, rep)]
                    codes = []
                    for j in plan.k_run(mem):
                        st = int(plan.status[u, c, j]) if c < plan.chunks else 0
                        if st == 2:
                            blk = _bias_block(keep, u, c, j, mq, bk)
                            key = (blk.shape, blk.tobytes())
                            if key not in biases:
                                arr = np.full((mq, bk), -np.inf, np.float32)
                                arr[:blk.shape[0], :blk.shape[1]] = np.where(blk, 0.0, -np.inf)
                                biases[key] = (len(biases), arr)
                            st = 2 + biases[key][0]
                        codes.append(st)
                    acts = [0, 0] * plan.levels
                    for lv, level in enumerate(script):
                        for recv, snd, act in level:
                            if snd == mem:
                                acts[2 * lv:2 * lv + 2] = [1, plan.tile_of(u, recv, rep)]
                            elif recv == mem:
                                acts[2 * lv:2 * lv + 2] = [2 if act == "merge" else 3,
                                                           plan.tile_of(u, snd, rep)]
                    recs.append(codes + acts + [1 if mem == 0 and root_live else 0])
    return tiles


def params(plan, n_tiles, bufs, tiles, offs):
    """The int64 parameter vector of at_kv / at_q / at_step (ATTENTION in params.py), step 0."""
    header = dict(
        step=0, stages=plan.stages, rounds=plan.rounds, chunk_rows=plan.mq, q_rows=plan.nq,
        rows=plan.rows, cols=plan.cols, block_keys=plan.bk, d_splits=plan.d_splits,
        v_splits=plan.v_splits, fmt=get_format(plan.fmt).code,
        kv_fmt=get_format(plan.kv_fmt).code, slot_bytes=plan.slot_bytes,
        q_row_bytes=plan.q_row_bytes, levels=plan.levels, replicas=plan.replicas,
        vector=1 if plan.path == "vector" else 0, slot_base=plan.slot_base, consts=1,
        kv_dram=1 if plan.kv_home == "dram" else 0,
        **{f"{name}_buf": bufs.get(name, -1) for name in
           ("w", "q", "s", "p", "part", "vec", "recv", "y", "bias", "const")},
        **{name: bufs.get(name, -1) for name in ("kv_host", "q_host", "bias_host", "const_host")})
    records = {}
    for tile in sorted(tiles):
        _, mem, rep, recs, biases = tiles[tile]
        o = offs[tile]
        fields = dict(active=1, member=mem, replica=rep, n_blocks=len(plan.k_run(mem)),
                      kv_host_off=o["kv"], q_host_off=o["q"], q_bytes=o["q_bytes"],
                      bias_host_off=o["bias"], bias_bytes=len(biases) * plan.mq * plan.bk * 4,
                      kv_dram_buf=o.get("dram_buf", -1), kv_dram_off=o.get("dram", 0))
        records[tile] = (fields, list(chain.from_iterable(recs)))      # rounds back to back
    return ATTENTION.build(n_tiles, header, records)
