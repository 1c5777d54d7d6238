"""Command-line and demo entry points of attention: random data of a given shape, with an
optional causal mask and missing-data spans; and one decode step with a KV cache."""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError

from chipemu.kernels.attention.api import attention
from chipemu.kernels.attention.cache import KVCache
from chipemu.kernels.scaffold import check_data, check_mode, strict_keywords

__all__ = ["run_attention", "decode_step"]


def missing_spans(b, skv, fraction, seed=0, span=48):
    """bool [b, 1, 1, skv]: False over random runs of about `span` keys covering ~fraction of the
    keys of each sequence (missing sensor data, dropped frames)."""
    fraction = args.real("mask_missing", fraction, 0.0, 1.0, error=ShapeError)
    if fraction >= 1:
        raise ShapeError(f"mask_missing={fraction!r} must be in [0, 1)")
    rng = np.random.default_rng(seed)
    keep = np.ones((b, 1, 1, skv), bool)
    for i in range(b):
        while (~keep[i]).mean() < fraction:
            a = int(rng.integers(0, skv))
            keep[i, ..., a:a + span] = False
    return keep


@strict_keywords
def run_attention(device=None, *, backend="c", mode="functional", progress=None, batch=1, heads=8,
                  kv_heads=None, seq=1024, kv_len=None, head_dim=128, causal=False,
                  mask_missing=0.0, fmt="mxint8", seed=0):
    """Attention on random N(0,1) q, k, v; functional mode adds the error vs float64."""
    hkv = heads if kv_heads is None else kv_heads
    skv = seq if kv_len is None else kv_len
    batch, heads, hkv, seq, skv, head_dim = (
        args.integer(name, v, 1, error=ShapeError) for name, v in (
            ("batch", batch), ("heads", heads), ("kv_heads", hkv), ("seq", seq),
            ("kv_len", skv), ("head_dim", head_dim)))
    causal, seed = args.boolean("causal", causal), args.integer("seed", seed, 0)
    frac = args.real("mask_missing", mask_missing, 0.0, 1.0, error=ShapeError)
    shapes = ((batch, heads, seq, head_dim), (batch, hkv, skv, head_dim))
    check_mode(mode)
    # the mask; in functional mode q, k, v, the output and the float64 reference's scores too
    scores = batch * heads * seq * skv
    check_data(f"run_attention batch={batch}, heads={heads}, seq={seq}, kv_len={skv}",
               (batch, skv), *(shapes + shapes[1:] + shapes[:1] if mode == "functional" else ()),
               extra_bytes=16 * scores if mode == "functional" else 0)
    mask = missing_spans(batch, skv, frac, seed) if frac else None
    if check_mode(mode) == "timing":
        return attention(shapes[0], shapes[1], shapes[1], attn_mask=mask, is_causal=causal,
                         fmt=fmt, device=device, backend=backend, mode="timing",
                         progress=progress)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(shapes[0], dtype=np.float32)
    k = rng.standard_normal(shapes[1], dtype=np.float32)
    v = rng.standard_normal(shapes[1], dtype=np.float32)
    r = attention(q, k, v, attn_mask=mask, is_causal=causal, fmt=fmt, device=device,
                  backend=backend, progress=progress)
    r.metrics["max_abs_error_vs_float64"] = float(np.abs(r.output - _exact(q, k, v, mask,
                                                                          causal)).max())
    return r


def _exact(q, k, v, mask, causal):
    g = q.shape[1] // k.shape[1]
    kk, vv = np.repeat(k, g, 1).astype(np.float64), np.repeat(v, g, 1).astype(np.float64)
    s = np.einsum("bhqd,bhkd->bhqk", q.astype(np.float64), kk) / np.sqrt(q.shape[-1])
    sq, skv = q.shape[2], k.shape[2]
    keep = np.ones(s.shape, bool)
    if mask is not None:
        keep &= np.broadcast_to(mask, s.shape)
    if causal:
        keep &= np.tril(np.ones((sq, skv), bool), k=skv - sq)
    s = np.where(keep, s, -np.inf)
    m = s.max(-1, keepdims=True)
    p = np.where(keep, np.exp(s - np.where(np.isfinite(m), m, 0)), 0)
    den = p.sum(-1, keepdims=True)
    return np.einsum("bhqk,bhkd->bhqd", p / np.where(den > 0, den, 1), vv)


@strict_keywords
def decode_step(device="corsair", *, batch=16, heads=32, kv_heads=8, kv_len=4096, head_dim=128,
                backend="c", mode="timing", seed=0):
    """A KV cache of kv_len - 1 keys per sequence, then one decode step: returns (fill Result,
    step Result); the step's metrics hold the energy per token."""
    kv_len = args.integer("kv_len", kv_len, 2, error=ShapeError, why="kv_len - 1 cached keys")
    seed = args.integer("seed", seed, 0)
    shape = (batch, kv_heads, kv_len - 1, head_dim)
    new = (batch, kv_heads, 1, head_dim)
    if check_mode(mode) == "timing":
        cache = KVCache(shape, shape, max_len=kv_len, heads=heads, device=device,
                        backend=backend, mode="timing")
        return cache.fill, attention((batch, heads, 1, head_dim), new, new, cache=cache)
    rng = np.random.default_rng(seed)
    cache = KVCache(rng.standard_normal(shape, dtype=np.float32),
                    rng.standard_normal(shape, dtype=np.float32), max_len=kv_len, heads=heads,
                    device=device, backend=backend)
    q = rng.standard_normal((batch, heads, 1, head_dim), dtype=np.float32)
    return cache.fill, attention(q, rng.standard_normal(new, dtype=np.float32),
                                 rng.standard_normal(new, dtype=np.float32), cache=cache)
