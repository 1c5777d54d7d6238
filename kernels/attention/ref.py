"""NumPy reference of attention: the tile kernels' arithmetic replayed in the plan's order.

    ref = attention_reference(q, k, v, plan, attn_mask=None, is_causal=False, scale=None)

Per (batch, KV head) unit and chunk of query rows, per member in order of its key blocks
(skipping the plan's fully masked blocks), an online softmax exactly as the vector unit runs it
(float32, no contraction, canonical NaN; exp and reciprocal from emulator/reference/vecmath.py;
row max and row sum left to right), the DIMC MVMs from emulator/reference/dimc.py, then the
plan's merge tree and the root's normalization. Never imports Numba or the native module.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator.numerics import layout
from chipemu.emulator.reference.dimc import mvm
from chipemu.emulator.reference.vecmath import exp as vexp
from chipemu.emulator.reference.vecmath import reciprocal as vrecip

from chipemu.kernels.attention.data import MINIT, keep_units, mask_info, tile_tables
from chipemu.kernels.attention.plan import merge_script, plan_attention
from chipemu.kernels.blocks import pad2
from chipemu.kernels.region import Region

__all__ = ["attention_reference"]

_QNAN = np.uint32(0x7FC00000).view(np.float32)


def _c(x):
    x = np.asarray(x, np.float32)
    return np.where(np.isnan(x), _QNAN, x).astype(np.float32)


def _add(a, b):
    with np.errstate(all="ignore"):
        return _c(a + b)


def _mul(a, b):
    with np.errstate(all="ignore"):
        return _c(a * b)


def _max(a, b):
    """The vector unit's maximum: NaN if either is NaN, +0 over -0, else the larger."""
    out = np.where(a > b, a, b)
    out = np.where((a == 0) & (b == 0), np.where(np.signbit(a) & np.signbit(b), a, np.abs(a)), out)
    return _c(np.where(np.isnan(a) | np.isnan(b), np.nan, out))


def _row_max(s):
    acc = s[:, 0].copy()
    for i in range(1, s.shape[1]):
        acc = _max(acc, s[:, i])
    return acc


def _row_sum(s):
    acc = s[:, 0].copy()
    for i in range(1, s.shape[1]):
        acc = _add(acc, s[:, i])
    return acc


def _vexp(x):
    return vexp(np.asarray(x, np.float32))


def attention_reference(q, k, v, plan, *, attn_mask=None, is_causal=False, scale=None,
                        device=None):
    """float32 [B, Hq, Sq, D]: what the device computes under `plan` for the same mask, causal
    flag and scale. plan: an AttentionPlan, or Result.plan (a dict) with the Result's device."""
    q = np.asarray(q, np.float32)
    b, hq, sq, d = q.shape
    scale = np.float32(1.0 / np.sqrt(d) if scale is None else scale)
    if isinstance(plan, dict):
        keep = keep_units(attn_mask, is_causal, b, hq, plan["hkv"], sq, plan["skv"])
        plan = plan_attention(b, hq, plan["hkv"], sq, plan["skv"], d, plan["fmt"], device,
                              mask_info=mask_info(keep, plan["bk"], plan["kb"]), mq=plan["mq"],
                              kv_fmt=plan["kv_fmt"], force_path=plan["path"],
                              region=_region(plan), kv_home=plan.get("kv_home", "dimc"))
    p = plan
    keep = keep_units(attn_mask, is_causal, b, hq, p.hkv, sq, p.skv)
    tiles = tile_tables(p, keep)
    R, C, bk = p.rows, p.cols, p.bk
    qs = (q * scale).reshape(p.units, p.nq, d)
    kk = np.asarray(k, np.float32).reshape(p.units, p.skv, d)
    vv = np.asarray(v, np.float32).reshape(p.units, p.skv, d)
    kp = p.kb * bk
    out = np.zeros((p.units, p.nq, p.v_splits * C), np.float32)
    for u in range(p.units):
        qp = pad2(qs[u], p.nq, p.dp)
        qx = qp if p.path == "vector" else [
            layout.quantize_rows(qp[:, s * R:(s + 1) * R], p.fmt, backend="numpy")
            for s in range(p.d_splits)]
        kt = pad2(kk[u].T, p.dp, kp)
        vp = pad2(vv[u], kp, p.v_splits * C)
        for c in range(p.chunks):
            r0, r1 = p.chunk_rows(c)
            rep = p.replica_of(c)
            parts, live = [], []
            for mem in range(p.members):
                rec = tiles[p.tile_of(u, mem, rep)]
                _, _, _, recs, biases = rec
                codes = recs[c // p.replicas][:len(p.k_run(mem))]
                bias = {i: arr for i, arr in biases.values()}
                part = None
                for j, code in zip(p.k_run(mem), codes):
                    if code == 0:
                        continue
                    part = _block(part, qx, kt, vp, j, code, bias, r0, r1, p)
                parts.append(part)
                live.append(part is not None)
            script, root_live = merge_script(live)
            for level in script:
                for recv, snd, act in level:
                    parts[recv] = parts[snd] if act == "take" else _merge(parts[recv], parts[snd])
            if root_live:
                m, l, o = parts[0]
                rl = vrecip(_max(l, np.full_like(l, np.finfo(np.float32).tiny)))
                out[u, r0:r1] = _mul(o, rl[:, None])
    g = p.group
    out = out[:, :, :d].reshape(b, p.hkv, g, sq, d)
    return out.reshape(b, hq, sq, d)


def _region(plan: dict):
    """The Region a Result.plan was made in."""
    return Region(plan["chiplet_ids"], plan["tile_ids"],
                  (plan["slot_base"], plan["slot_base"] + plan["slots"]))


def _dot(a, b, y_old=None):
    """The vector unit's a . b^T: per (i, j), s = 0; s = s + a[i, k] * b[j, k] for k in order
    (float32, product and sum each rounded), then y_old + s; canonical NaN."""
    s = np.zeros((a.shape[0], b.shape[0]), np.float32)
    with np.errstate(all="ignore"):
        for k in range(a.shape[1]):
            s = s + (a[:, k, None] * b[None, :, k]).astype(np.float32)
        y = s if y_old is None else np.asarray(y_old, np.float32) + s
    return _c(y)


def _block(part, qx, kt, vp, j, code, bias, r0, r1, p):
    R, C, bk = p.rows, p.cols, p.bk
    keys = slice(j * bk, (j + 1) * bk)
    vector = p.path == "vector"
    s = _dot(qx[r0:r1], kt[:, keys].T) if vector else None
    for sd in range(0 if vector else p.d_splits):
        wc, ws = _w(kt[sd * R:(sd + 1) * R, keys], p.kv_fmt)
        xc, xs = qx[sd]
        s = mvm(xc[r0:r1], xs[r0:r1], p.fmt, wc, ws, p.kv_fmt, y_old=s)
    if code >= 2:
        s = _add(s, bias[code - 2][:r1 - r0])
    mb = _row_max(s)
    m_old = np.full(r1 - r0, MINIT, np.float32) if part is None else part[0]
    mn = _max(m_old, mb)
    ng = _mul(mn, np.float32(-1))
    al = None if part is None else _vexp(_add(part[0], ng))
    pr = _vexp(_add(s, ng[:, None]))
    lb = _row_sum(pr)
    l = lb if part is None else _add(_mul(part[1], al), lb)
    if vector:
        o_old = None if part is None else _mul(part[2], al[:, None])
        return mn, l, _dot(pr, vp[keys].T, o_old)
    xc, xs = layout.quantize_rows(pr, p.fmt, backend="numpy")
    o_new = []
    for t in range(p.v_splits):
        wc, ws = _w(vp[keys, t * C:(t + 1) * C], p.kv_fmt)
        o_old = None if part is None else _mul(part[2][:, t * C:(t + 1) * C], al[:, None])
        o_new.append(mvm(xc, xs, p.fmt, wc, ws, p.kv_fmt, y_old=o_old))
    return mn, l, np.concatenate(o_new, axis=1)


def _w(block, fmt):
    from chipemu.emulator.numerics.formats import KIND_INT_TENSOR, get_format, quantize
    s = get_format(fmt)
    if s.kind == KIND_INT_TENSOR:
        qt = quantize(block, s, backend="numpy")
        return qt.codes, np.float32(qt.scales)
    return layout.quantize_weights(block, s, backend="numpy")


def _merge(a, b):
    ma, la, oa = a
    mb, lb, ob = b
    mn = _max(ma, mb)
    ng = _mul(mn, np.float32(-1))
    aa, ab = _vexp(_add(ma, ng)), _vexp(_add(mb, ng))
    l = _add(_mul(la, aa), _mul(lb, ab))
    o = _add(_mul(oa, aa[:, None]), _mul(ob, ab[:, None]))
    return mn, l, o
