"""The model in NumPy float32 with no quantization: the reference a user trusts.

Same weights (Hugging Face names), same feeding as CardModel.generate (one token per step, a
sequence in its prompt takes its next prompt token), greedy. Float32 throughout, RoPE tables
from float64 rounded to float32, softmax with the max subtracted; no device, no formats.
"""
from __future__ import annotations

import numpy as np

from chipemu.llm.model import Generation, feed

__all__ = ["reference_generate"]


def _norm(x, g, eps):
    return (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(eps)) * g).astype(
        np.float32)


def _rope(x, pos, theta):
    d = x.shape[-1]
    inv = theta ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    ang = pos * inv
    c, s = (np.concatenate([f(ang), f(ang)]).astype(np.float32) for f in (np.cos, np.sin))
    rot = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], -1)
    return (x * c + rot * s).astype(np.float32)


def reference_generate(cfg, weights, prompts, new_tokens: int) -> Generation:
    """Greedy generation in float32 -> Generation (tokens, logits per step; no results)."""
    batch, steps, lens = feed(prompts, new_tokens)
    w = {k: np.asarray(v, np.float32) for k, v in weights.items()}
    hq, hkv, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    g = hq // hkv
    emb = w["model.embed_tokens.weight"]
    head = emb if cfg.tie_word_embeddings else w["lm_head.weight"]
    keys = [[] for _ in range(cfg.num_hidden_layers)]
    vals = [[] for _ in range(cfg.num_hidden_layers)]
    out = np.zeros((batch, new_tokens), np.int64)
    gen = Generation(out)
    last = np.array([p[0] for p in prompts], np.int64)
    for t in range(steps):
        ids = np.array([prompts[b][t] if t < lens[b] else last[b] for b in range(batch)])
        x = emb[ids]
        for i in range(cfg.num_hidden_layers):
            pre = f"model.layers.{i}."
            W = lambda n: w[pre + n + ".weight"]
            h = _norm(x, W("input_layernorm"), cfg.rms_norm_eps)
            q = _rope((h @ W("self_attn.q_proj").T).reshape(batch, hq, d), t, cfg.rope_theta)
            k = _rope((h @ W("self_attn.k_proj").T).reshape(batch, hkv, d), t, cfg.rope_theta)
            keys[i].append(k)
            vals[i].append((h @ W("self_attn.v_proj").T).reshape(batch, hkv, d))
            K, V = np.stack(keys[i], 2), np.stack(vals[i], 2)       # [B, Hkv, t+1, D]
            qg = q.reshape(batch, hkv, g, d)
            s = np.einsum("bhgd,bhld->bhgl", qg, K) / np.float32(np.sqrt(d))
            p = np.exp(s - s.max(-1, keepdims=True))
            a = np.einsum("bhgl,bhld->bhgd", p / p.sum(-1, keepdims=True), V)
            x = (x + a.reshape(batch, hq * d) @ W("self_attn.o_proj").T).astype(np.float32)
            h2 = _norm(x, W("post_attention_layernorm"), cfg.rms_norm_eps)
            u = h2 @ W("mlp.gate_proj").T
            y = (u / (1 + np.exp(-u))) * (h2 @ W("mlp.up_proj").T)
            x = (x + y @ W("mlp.down_proj").T).astype(np.float32)
        logits = (_norm(x, w["model.norm.weight"], cfg.rms_norm_eps) @ head.T).astype(np.float32)
        nxt = np.argmax(logits, axis=1)
        gen.logits.append(logits)
        for b in range(batch):
            k = t - (lens[b] - 1)
            if 0 <= k < new_tokens:
                out[b, k] = nxt[b]
        last = nxt
    return gen
